#include "storage/postgres/pg_dialect.h"

#include "common/strings.h"

namespace tb::storage {

namespace {

class Postgres final : public Dialect {
  public:
    std::string_view Name() const override { return "postgres"; }
    // Several nodes may start at once; the first to take this lock migrates, the others wait
    // and then find the versions recorded. Released at the end of the transaction.
    std::string_view MigrationLockStatement() const override {
        return "SELECT pg_advisory_xact_lock(727376)";
    }
    std::string_view BinaryCollation() const override { return "COLLATE \"C\""; }
    std::string_view SkipLocked() const override { return " FOR UPDATE SKIP LOCKED"; }
    std::string_view ShareRowLock() const override { return " FOR KEY SHARE"; }
    std::string_view ExclusiveRowLock() const override { return " FOR UPDATE"; }

    std::string DocIs(const DocPath& path, JsonKind kind) const override {
        std::string x = Value(path);
        switch (kind) {
            case JsonKind::kMissing:
                return x + " IS NULL";
            case JsonKind::kNull:
                return "COALESCE(jsonb_typeof(" + x + ") = 'null', FALSE)";
            case JsonKind::kTrue:
                return "COALESCE(" + x + " = 'true'::jsonb, FALSE)";
            case JsonKind::kFalse:
                return "COALESCE(" + x + " = 'false'::jsonb, FALSE)";
            case JsonKind::kNumber:
                return "COALESCE(jsonb_typeof(" + x + ") = 'number', FALSE)";
            case JsonKind::kString:
                return "COALESCE(jsonb_typeof(" + x + ") = 'string', FALSE)";
            case JsonKind::kArray:
                return "COALESCE(jsonb_typeof(" + x + ") = 'array', FALSE)";
        }
        return "FALSE";
    }
    std::string DocNumberCompare(const DocPath& path, std::string_view op) const override {
        // jsonb numbers compare numerically; the caller's type test keeps other types out.
        return Value(path) + " " + std::string(op) + " to_jsonb(CAST(? AS numeric))";
    }
    std::string DocTextCompare(const DocPath& path, std::string_view op) const override {
        if (op == "=") return Value(path) + " = to_jsonb(CAST(? AS text))";  // index-friendly
        return "(" + Value(path) + " #>> '{}') COLLATE \"C\" " + std::string(op) +
               " CAST(? AS text) COLLATE \"C\"";
    }
    std::string DocTextContains(const DocPath& path) const override {
        // lower() under the C collation folds ASCII letters only, as on SQLite.
        return "strpos(lower((" + Value(path) +
               " #>> '{}') COLLATE \"C\"), lower(CAST(? AS text) "
               "COLLATE \"C\")) > 0";
    }
    std::string DocTextStartsWith(const DocPath& path) const override {
        return "starts_with(" + Value(path) + " #>> '{}', CAST(? AS text))";
    }
    std::string DocAnyTextContains() const override {
        // strict: `$.**` visits every value once (lax mode would unwrap arrays twice).
        // Not the system fields (top-level names starting with '_': ids and times the
        // client did not write).
        return "EXISTS (SELECT 1 FROM jsonb_path_query(d.data - ARRAY['_id', '_created', "
               "'_changed', '_createdby', '_changedby', '_version', '_org'], 'strict $.**') AS "
               "jt(v) WHERE "
               "jsonb_typeof(jt.v) = 'string' AND strpos(lower((jt.v #>> '{}') COLLATE \"C\"), "
               "lower(CAST(? AS text) COLLATE \"C\")) > 0)";
    }
    std::string DocArrayLength(const DocPath& path) const override {
        std::string x = Value(path);
        return "jsonb_array_length(CASE WHEN jsonb_typeof(" + x + ") = 'array' THEN " + x +
               " END) = ?";
    }

    std::string DocTextRegex(const DocPath& path) const override {
        // The canonical pattern reads the same in PostgreSQL's ARE engine as in RE2.
        return "((" + Value(path) + " #>> '{}') ~ CAST(? AS text))";
    }
    std::string DocElemMatch(const DocPath& path, int level,
                             const std::string& condition) const override {
        std::string x = Value(path);
        return "EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(" + x +
               ") = 'array' THEN " + x + " END) AS je" + std::to_string(level) + "(v) WHERE " +
               condition + ")";
    }
    DocSortColumns DocSortKey(const DocPath& path) const override { return SortKeyOf(Value(path)); }
    DocSortColumns DocIndexKey(const DocPath& path) const override {
        return SortKeyOf(Value(path, "data"));
    }
    std::string_view IndexConcurrently() const override { return "CONCURRENTLY"; }
    std::string_view DocumentIndexNames() const override {
        return "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND "
               "tablename = 'documents'";
    }

  private:
    static DocSortColumns SortKeyOf(const std::string& x) {
        std::string type = "jsonb_typeof(" + x + ")";
        return {"(CASE " + type +
                    " WHEN 'number' THEN 1 WHEN 'string' THEN 2 WHEN 'boolean' THEN (CASE "
                    "WHEN " +
                    x +
                    " = 'true'::jsonb THEN 4 ELSE 3 END) WHEN 'object' THEN 5 WHEN 'array' "
                    "THEN 6 ELSE 0 END)",
                "(CASE WHEN " + type + " = 'number' THEN CAST(" + x + " AS numeric) ELSE 0 END)",
                "(CASE WHEN " + type + " = 'string' THEN " + x + " #>> '{}' ELSE '' END)"};
    }

    // (d.data #> '{a,b}') (segments are validated identifiers: nothing to escape).
    // Inside an $elemMatch, from the element (jsonb_array_elements' value) instead.
    static std::string Value(const DocPath& path, const std::string& data = "d.data") {
        bool element = !path.empty() && path.front().starts_with('#');
        std::string root = element ? "je" + path.front().substr(1) + ".v" : data;
        if (element && path.size() == 1) return root;
        std::string out = "(" + root + " #> '{";
        for (size_t i = element ? 1 : 0; i < path.size(); ++i)
            out += (i > (element ? 1u : 0u) ? "," : "") + path[i];
        return out + "}')";
    }
};

}  // namespace

const Dialect& PostgresDialect() {
    static const Postgres dialect;
    return dialect;
}

}  // namespace tb::storage
