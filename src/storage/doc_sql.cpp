#include "storage/doc_sql.h"

#include "common/strings.h"

namespace tb::storage {

namespace {

using query::DocFilter;
using query::DocOp;
using query::Scalar;
using Kind = Dialect::JsonKind;

constexpr const char* kFalse = "1 = 0";
constexpr const char* kTrue = "1 = 1";

class Compiler {
  public:
    Compiler(const Dialect& d, Params& params) : d_(d), params_(params) {}

    std::string Node(const DocFilter& f) {
        switch (f.kind) {
            case DocFilter::Kind::kAnd:
                return Join(f.children, " AND ", kTrue);
            case DocFilter::Kind::kOr:
                return Join(f.children, " OR ", kFalse);
            case DocFilter::Kind::kNot:
                return Not(Node(f.children.front()));
            case DocFilter::Kind::kLeaf:
                return Leaf(f);
        }
        return kFalse;
    }

  private:
    std::string Join(const std::vector<DocFilter>& children, const char* sep, const char* empty) {
        if (children.empty()) return empty;
        // One child needs no parentheses: nesting is what SQLite's parser stack limits.
        if (children.size() == 1) return Node(children.front());
        std::string out = "(";
        for (size_t i = 0; i < children.size(); ++i) {
            if (i) out += sep;
            out += Node(children[i]);
        }
        return out + ")";
    }

    // NULL-safe negation: a term that is unknown for a row counts as false before NOT.
    static std::string Not(const std::string& term) { return "NOT COALESCE(" + term + ", 1 = 0)"; }

    void Bind(const Scalar& s) {
        if (const auto* i = std::get_if<int64_t>(&s)) {
            params_.emplace_back(*i);
        } else if (const auto* d = std::get_if<double>(&s)) {
            params_.emplace_back(*d);
        } else if (const auto* t = std::get_if<std::string>(&s)) {
            params_.emplace_back(*t);
        } else {
            params_.emplace_back();
        }
    }

    static bool IsNumber(const Scalar& s) {
        return std::holds_alternative<int64_t>(s) || std::holds_alternative<double>(s);
    }

    std::string Equals(const Dialect::DocPath& path, const Scalar& s) {
        if (std::holds_alternative<std::monostate>(s))
            return "(" + d_.DocIs(path, Kind::kMissing) + " OR " + d_.DocIs(path, Kind::kNull) +
                   ")";
        if (const auto* b = std::get_if<bool>(&s))
            return d_.DocIs(path, *b ? Kind::kTrue : Kind::kFalse);
        return Compare(path, s, "=");
    }

    // Ordering within one JSON type (numbers, strings, booleans false < true). Numbers and
    // strings are compared on the sort key columns (Dialect::DocSortKey), so that a collection
    // index, built on the same columns, serves filters as well as sorts.
    std::string Compare(const Dialect::DocPath& path, const Scalar& s, std::string_view op) {
        if (IsNumber(s) || std::holds_alternative<std::string>(s)) {
            auto key = d_.DocSortKey(path);
            std::string sql = IsNumber(s)
                                  ? Concat({"(", key.rank, " = 1 AND ", key.number, " ", op, " ?)"})
                                  : Concat({"(", key.rank, " = 2 AND ", key.number, " = 0 AND ",
                                            key.text, " ", d_.BinaryCollation(), " ", op, " ?)"});
            Bind(s);
            return sql;
        }
        bool operand = std::get<bool>(s);
        std::string t = d_.DocIs(path, Kind::kTrue), f = d_.DocIs(path, Kind::kFalse);
        std::string both = "(" + t + " OR " + f + ")";
        if (op == "=") return operand ? t : f;
        if (op == ">") return operand ? kFalse : t;
        if (op == ">=") return operand ? t : both;
        if (op == "<") return operand ? f : kFalse;
        return operand ? both : f;  // "<="
    }

    // `(<the value at path is of this kind> AND <term>)`, the term's one `?` bound to `v`.
    std::string OfKind(const Dialect::DocPath& path, Kind kind, const std::string& term,
                       const Scalar& v) {
        std::string sql = "(" + d_.DocIs(path, kind) + " AND " + term + ")";
        Bind(v);
        return sql;
    }

    std::string Leaf(const DocFilter& f) {
        const auto& path = f.path;
        const Scalar& v = f.operands.empty() ? Scalar{} : f.operands.front();
        switch (f.op) {
            case DocOp::kEq:
                return Equals(path, v);
            case DocOp::kNe:
                return Not(Equals(path, v));
            case DocOp::kGt:
                return Compare(path, v, ">");
            case DocOp::kGte:
                return Compare(path, v, ">=");
            case DocOp::kLt:
                return Compare(path, v, "<");
            case DocOp::kLte:
                return Compare(path, v, "<=");
            case DocOp::kIn:
            case DocOp::kNin: {
                std::string any = f.operands.empty() ? kFalse : "(";
                for (size_t i = 0; i < f.operands.size(); ++i) {
                    if (i) any += " OR ";
                    any += Equals(path, f.operands[i]);
                }
                if (!f.operands.empty()) any += ")";
                return f.op == DocOp::kIn ? any : Not(any);
            }
            case DocOp::kExists: {
                std::string missing = d_.DocIs(path, Kind::kMissing);
                return std::get<bool>(v) ? "NOT (" + missing + ")" : missing;
            }
            case DocOp::kContains:
                return OfKind(path, Kind::kString, d_.DocTextContains(path), v);
            case DocOp::kStartsWith:
                return OfKind(path, Kind::kString, d_.DocTextStartsWith(path), v);
            case DocOp::kRegex:
                return OfKind(path, Kind::kString, d_.DocTextRegex(path), v);
            case DocOp::kElemMatch: {
                ++level_;
                std::string condition = Node(f.children.front());
                --level_;
                return d_.DocElemMatch(path, level_ + 1, condition);
            }
            case DocOp::kSize:
                return OfKind(path, Kind::kArray, d_.DocArrayLength(path), v);
            case DocOp::kAnyTextContains:
                Bind(v);
                return d_.DocAnyTextContains();
        }
        return kFalse;
    }

    const Dialect& d_;
    Params& params_;
    int level_ = 0;  // enclosing $elemMatch conditions (the parser numbered them alike)
};

}  // namespace

std::string CompileDocFilter(const Dialect& dialect, const query::DocFilter& filter,
                             Params& params) {
    Compiler c(dialect, params);
    return c.Node(filter);
}

namespace {

bool IsUuidText(const std::string& id) {
    if (id.size() != 36) return false;
    for (size_t i = 0; i < id.size(); ++i) {
        char c = id[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

}  // namespace

std::optional<std::string> CollectionTerm(const std::string& collection_id) {
    if (!IsUuidText(collection_id)) return std::nullopt;
    return "d.collection_id = '" + collection_id + "'";
}

std::string CreateDocIndex(const Dialect& dialect, const std::string& name,
                           const std::string& collection_id, const std::vector<DocIndexKey>& keys,
                           bool unique) {
    std::string columns;
    auto add = [&](const std::string& expr, bool descending) {
        columns += columns.empty() ? "" : ", ";
        columns += expr;
        columns += descending ? " DESC" : " ASC";
    };
    // A unique index holds numbers and strings only: two documents without the field (or with
    // null, a boolean, an object) do not collide.
    std::string only_values;
    // The tenant first, though the collection fixes it: every statement names it, and as an
    // index column it is matched there instead of read from each row (a count is then
    // answered from the index alone).
    add("tenant_id", false);
    for (const auto& k : keys) {
        auto c = dialect.DocIndexKey(k.path);
        add(c.rank, k.descending);
        add(c.number, k.descending);
        add(c.text + " " + std::string(dialect.BinaryCollation()), k.descending);
        only_values += " AND " + c.rank + " IN (1, 2)";
    }
    if (!unique) add("id", false);
    std::string concurrently(dialect.IndexConcurrently());
    // The id is checked: it is written into the text, as a partial index needs.
    std::string id = IsUuidText(collection_id) ? collection_id : "";
    return std::string("CREATE ") + (unique ? "UNIQUE " : "") + "INDEX " +
           (concurrently.empty() ? "" : concurrently + " ") + "IF NOT EXISTS " + name +
           " ON documents (" + columns + ") WHERE collection_id = '" + id + "'" +
           (unique ? only_values : "");
}

std::string DropDocIndex(const Dialect& dialect, const std::string& name) {
    std::string concurrently(dialect.IndexConcurrently());
    return "DROP INDEX " + (concurrently.empty() ? "" : concurrently + " ") + "IF EXISTS " + name;
}

}  // namespace tb::storage
