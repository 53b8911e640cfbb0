#include "storage/sqlite/sqlite_dialect.h"

#include "common/strings.h"

namespace tb::storage {

namespace {

class Sqlite final : public Dialect {
  public:
    std::string_view Name() const override { return "sqlite"; }
    std::string_view MigrationLockStatement() const override { return {}; }
    std::string_view BinaryCollation() const override { return "COLLATE BINARY"; }
    std::string_view SkipLocked() const override { return ""; }
    std::string_view ShareRowLock() const override { return ""; }
    std::string_view ExclusiveRowLock() const override { return ""; }

    std::string DocIs(const DocPath& path, JsonKind kind) const override {
        std::string type = "json_type(d.body, " + JsonPath(path) + ")";
        switch (kind) {
            case JsonKind::kMissing:
                return type + " IS NULL";
            case JsonKind::kNull:
                return "IFNULL(" + type + " = 'null', 0)";
            case JsonKind::kTrue:
                return "IFNULL(" + type + " = 'true', 0)";
            case JsonKind::kFalse:
                return "IFNULL(" + type + " = 'false', 0)";
            case JsonKind::kNumber:
                return "IFNULL(" + type + " IN ('integer', 'real'), 0)";
            case JsonKind::kString:
                return "IFNULL(" + type + " = 'text', 0)";
            case JsonKind::kArray:
                return "IFNULL(" + type + " = 'array', 0)";
        }
        return "0";
    }
    std::string DocNumberCompare(const DocPath& path, std::string_view op) const override {
        return Value(path) + " " + std::string(op) + " ?";
    }
    std::string DocTextCompare(const DocPath& path, std::string_view op) const override {
        return Value(path) + " " + std::string(op) + " ?";
    }
    std::string DocTextContains(const DocPath& path) const override {
        // SQLite's lower() folds ASCII letters only: the documented semantics.
        return "instr(lower(" + Value(path) + "), lower(?)) > 0";
    }
    std::string DocTextStartsWith(const DocPath& path) const override {
        return "instr(" + Value(path) + ", ?) = 1";
    }
    std::string DocAnyTextContains() const override {
        // Not the system fields (top-level names starting with '_': ids and times the
        // client did not write).
        return "EXISTS (SELECT 1 FROM json_tree(d.body) AS jt WHERE jt.type = 'text' AND "
               "NOT (jt.path = '$' AND substr(jt.key, 1, 1) = '_') AND "
               "instr(lower(jt.atom), lower(?)) > 0)";
    }
    std::string DocArrayLength(const DocPath& path) const override {
        return "json_array_length(d.body, " + JsonPath(path) + ") = ?";
    }

    std::string DocTextRegex(const DocPath& path) const override {
        return "tb_regexp(" + Value(path) + ", ?)";
    }
    std::string DocElemMatch(const DocPath& path, int level,
                             const std::string& condition) const override {
        return "(" + DocIs(path, JsonKind::kArray) +
               " AND EXISTS (SELECT 1 FROM json_each(d.body, " + JsonPath(path) + ") AS je" +
               std::to_string(level) + " WHERE " + condition + "))";
    }
    DocSortColumns DocSortKey(const DocPath& path) const override {
        return SortKeyOn("d.body", path);
    }
    DocSortColumns DocIndexKey(const DocPath& path) const override {
        return SortKeyOn("body", path);
    }
    std::string_view IndexConcurrently() const override { return ""; }
    std::string_view DocumentIndexNames() const override {
        return "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'documents'";
    }

  private:
    // Built on every list request that sorts or filters on a document path: one allocation
    // per string (Concat) rather than one per `+`.
    static DocSortColumns SortKeyOn(std::string_view body, const DocPath& path) {
        const std::string json_path = JsonPath(path);
        const std::string type = Concat({"json_type(", body, ", ", json_path, ")"});
        const std::string value = Concat({"json_extract(", body, ", ", json_path, ")"});
        return {
            Concat({"(CASE ", type,
                    " WHEN 'integer' THEN 1 WHEN 'real' THEN 1 WHEN 'text' THEN 2 WHEN 'false' "
                    "THEN 3 WHEN 'true' THEN 4 WHEN 'object' THEN 5 WHEN 'array' THEN 6 ELSE 0 "
                    "END)"}),
            Concat({"(CASE WHEN ", type, " IN ('integer', 'real') THEN ", value, " ELSE 0 END)"}),
            Concat({"(CASE WHEN ", type, " = 'text' THEN ", value, " ELSE '' END)"})};
    }

    // '$.a.b' (segments are validated identifiers: nothing to escape); inside an $elemMatch,
    // the element's own path (json_each's fullkey, e.g. '$.tags[3]') and the rest.
    static std::string JsonPath(const DocPath& path) {
        bool element = !path.empty() && path.front().starts_with('#');
        std::string rest;
        for (size_t i = element ? 1 : 0; i < path.size(); ++i) {
            rest += '.';
            rest += path[i];
        }
        if (!element) return Concat({"'$", rest, "'"});
        std::string key = Concat({"je", std::string_view(path.front()).substr(1), ".fullkey"});
        return rest.empty() ? key : Concat({"(", key, " || '", rest, "')"});
    }
    static std::string Value(const DocPath& path) {
        return Concat({"json_extract(d.body, ", JsonPath(path), ")"});
    }
};

}  // namespace

const Dialect& SqliteDialect() {
    static const Sqlite dialect;
    return dialect;
}

}  // namespace tb::storage
