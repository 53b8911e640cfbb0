#include "query/doc_filter.h"

#include "common/strings.h"
#include "query/doc_regex.h"

namespace tb::query {

namespace {

Error Bad(const std::string& path, std::string message) {
    return Error::BadRequest(std::move(message), "q").WithDetail("path", json::value(path));
}

std::string Join(const std::string& base, std::string_view key) {
    return base.empty() ? std::string(key) : base + "." + std::string(key);
}

bool IsSegment(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    auto alpha = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    };
    if (!alpha(s[0])) return false;
    for (char c : s) {
        if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
    }
    return true;
}

// The JSON nesting depth of a value (a scalar is 0, an empty object 1).
size_t Depth(const json::value& v) {
    size_t inner = 0;
    if (v.is_object()) {
        for (const auto& kv : v.get_object()) inner = std::max(inner, Depth(kv.value()));
        return inner + 1;
    }
    if (v.is_array()) {
        for (const auto& item : v.get_array()) inner = std::max(inner, Depth(item));
        return inner + 1;
    }
    return 0;
}

// The position where the depth limit is first passed, for the error's details.path.
std::string TooDeepAt(const json::value& v, size_t budget, const std::string& at) {
    if (budget == 0) return at;  // this value is the level past the limit
    if (v.is_object()) {
        for (const auto& kv : v.get_object()) {
            if (Depth(kv.value()) + 1 > budget)
                return TooDeepAt(kv.value(), budget - 1, Join(at, kv.key()));
        }
    } else if (v.is_array()) {
        const auto& a = v.get_array();
        for (size_t i = 0; i < a.size(); ++i) {
            if (Depth(a[i]) + 1 > budget)
                return TooDeepAt(a[i], budget - 1, Join(at, std::to_string(i)));
        }
    }
    return at;
}

// One condition on one path.
DocFilter LeafOf(const std::vector<std::string>& path, DocOp op, std::vector<Scalar> operands) {
    DocFilter leaf;
    leaf.kind = DocFilter::Kind::kLeaf;
    leaf.path = path;
    leaf.op = op;
    leaf.operands = std::move(operands);
    return leaf;
}

class Parser {
  public:
    explicit Parser(const DocFilterLimits& limits) : limits_(limits) {}

    // A query object: field conditions and $and/$or/$not, ANDed.
    Result<DocFilter> Query(const json::value& v, const std::string& at) {
        if (!v.is_object()) return Bad(at, "A query is a JSON object");
        DocFilter all;
        all.kind = DocFilter::Kind::kAnd;
        for (const auto& kv : v.get_object()) {
            std::string_view key = kv.key();
            std::string here = Join(at, key);
            if (key == "$and" || key == "$or") {
                if (!kv.value().is_array() || kv.value().get_array().empty())
                    return Bad(here, std::string(key) + " takes a non-empty list of queries");
                DocFilter group;
                group.kind = key == "$and" ? DocFilter::Kind::kAnd : DocFilter::Kind::kOr;
                const auto& items = kv.value().get_array();
                for (size_t i = 0; i < items.size(); ++i) {
                    TB_ASSIGN_OR_RETURN(DocFilter child,
                                        Query(items[i], Join(here, std::to_string(i))));
                    group.children.push_back(std::move(child));
                }
                all.children.push_back(std::move(group));
            } else if (key == "$not") {
                TB_ASSIGN_OR_RETURN(DocFilter child, Query(kv.value(), here));
                all.children.push_back(Not(std::move(child)));
            } else if (!key.empty() && key[0] == '$') {
                return Bad(here, "Unknown operator: " + std::string(key));
            } else {
                TB_ASSIGN_OR_RETURN(auto path, Path(key, here));
                TB_ASSIGN_OR_RETURN(DocFilter cond, Field(path, kv.value(), here));
                all.children.push_back(std::move(cond));
            }
        }
        return all;
    }

  private:
    static DocFilter Not(DocFilter child) {
        DocFilter n;
        n.kind = DocFilter::Kind::kNot;
        n.children.push_back(std::move(child));
        return n;
    }

    Result<std::vector<std::string>> Path(std::string_view key, const std::string& at) const {
        std::vector<std::string> out;
        if (!elem_roots_.empty()) out.push_back(elem_roots_.back());
        std::string_view rest = key;
        while (true) {
            size_t dot = rest.find('.');
            std::string_view seg = rest.substr(0, dot);
            if (!IsSegment(seg)) return Bad(at, "Not a field path: " + std::string(key));
            out.emplace_back(seg);
            if (out.size() > limits_.max_path_depth + (elem_roots_.empty() ? 0 : 1))
                return Bad(at, "A field path has at most " +
                                   std::to_string(limits_.max_path_depth) + " segments");
            if (dot == std::string_view::npos) return out;
            rest.remove_prefix(dot + 1);
        }
    }

    Result<Scalar> ScalarOf(const json::value& v, const std::string& at) const {
        switch (v.kind()) {
            case json::kind::null:
                return Scalar{};
            case json::kind::bool_:
                return Scalar{v.get_bool()};
            case json::kind::int64:
                return Scalar{v.get_int64()};
            case json::kind::uint64:
                return Scalar{static_cast<double>(v.get_uint64())};
            case json::kind::double_:
                return Scalar{v.get_double()};
            case json::kind::string: {
                std::string s(v.get_string());
                if (s.find('\0') != std::string::npos) return Bad(at, "NUL in a string");
                if (s.size() > 1024) return Bad(at, "A string operand has at most 1024 bytes");
                return Scalar{std::move(s)};
            }
            default:
                return Bad(at, "Objects and arrays cannot be compared; use dotted paths");
        }
    }

    Result<DocFilter> Leaf(const std::vector<std::string>& path, DocOp op,
                           std::vector<Scalar> operands, const std::string& at) {
        if (++leaves_ > limits_.max_leaves)
            return Bad(at, "At most " + std::to_string(limits_.max_leaves) + " conditions");
        return LeafOf(path, op, std::move(operands));
    }

    // The condition on one field: a scalar (equality) or an operator object.
    Result<DocFilter> Field(const std::vector<std::string>& path, const json::value& v,
                            const std::string& at) {
        if (!v.is_object()) {
            TB_ASSIGN_OR_RETURN(Scalar s, ScalarOf(v, at));
            return Leaf(path, DocOp::kEq, {std::move(s)}, at);
        }
        const auto& ops = v.get_object();
        if (ops.empty()) return Bad(at, "An operator object needs at least one operator");
        DocFilter all;
        all.kind = DocFilter::Kind::kAnd;
        for (const auto& kv : ops) {
            std::string_view name = kv.key();
            std::string here = Join(at, name);
            const json::value& operand = kv.value();
            if (name.empty() || name[0] != '$')
                return Bad(here, "Objects cannot be compared; use a dotted path or an operator");
            static const std::pair<std::string_view, DocOp> kOrdered[] = {
                {"$eq", DocOp::kEq},   {"$ne", DocOp::kNe}, {"$gt", DocOp::kGt},
                {"$gte", DocOp::kGte}, {"$lt", DocOp::kLt}, {"$lte", DocOp::kLte}};
            auto simple = std::find_if(std::begin(kOrdered), std::end(kOrdered),
                                       [&](const auto& p) { return p.first == name; });
            if (simple != std::end(kOrdered)) {
                TB_ASSIGN_OR_RETURN(Scalar s, ScalarOf(operand, here));
                bool ordering = simple->second != DocOp::kEq && simple->second != DocOp::kNe;
                if (ordering && std::holds_alternative<std::monostate>(s))
                    return Bad(here, "null cannot be ordered");
                TB_ASSIGN_OR_RETURN(DocFilter leaf,
                                    Leaf(path, simple->second, {std::move(s)}, here));
                all.children.push_back(std::move(leaf));
            } else if (name == "$in" || name == "$nin") {
                if (!operand.is_array()) return Bad(here, std::string(name) + " takes a list");
                const auto& items = operand.get_array();
                if (items.size() > limits_.max_in_values)
                    return Bad(here,
                               "At most " + std::to_string(limits_.max_in_values) + " values");
                std::vector<Scalar> set;
                for (size_t i = 0; i < items.size(); ++i) {
                    TB_ASSIGN_OR_RETURN(Scalar s,
                                        ScalarOf(items[i], Join(here, std::to_string(i))));
                    set.push_back(std::move(s));
                }
                TB_ASSIGN_OR_RETURN(
                    DocFilter leaf,
                    Leaf(path, name == "$in" ? DocOp::kIn : DocOp::kNin, std::move(set), here));
                all.children.push_back(std::move(leaf));
            } else if (name == "$exists") {
                if (!operand.is_bool()) return Bad(here, "$exists takes true or false");
                TB_ASSIGN_OR_RETURN(DocFilter leaf,
                                    Leaf(path, DocOp::kExists, {Scalar{operand.get_bool()}}, here));
                all.children.push_back(std::move(leaf));
            } else if (name == "$contains" || name == "$startswith") {
                if (!operand.is_string()) return Bad(here, std::string(name) + " takes a string");
                TB_ASSIGN_OR_RETURN(Scalar s, ScalarOf(operand, here));
                TB_ASSIGN_OR_RETURN(
                    DocFilter leaf,
                    Leaf(path, name == "$contains" ? DocOp::kContains : DocOp::kStartsWith,
                         {std::move(s)}, here));
                all.children.push_back(std::move(leaf));
            } else if (name == "$size") {
                if (!operand.is_int64() || operand.get_int64() < 0)
                    return Bad(here, "$size takes a non-negative integer");
                TB_ASSIGN_OR_RETURN(DocFilter leaf,
                                    Leaf(path, DocOp::kSize, {Scalar{operand.get_int64()}}, here));
                all.children.push_back(std::move(leaf));
            } else if (name == "$not") {
                if (!operand.is_object() || operand.get_object().empty())
                    return Bad(here, "$not takes an operator object");
                TB_ASSIGN_OR_RETURN(DocFilter inner, Field(path, operand, here));
                all.children.push_back(Not(std::move(inner)));
            } else if (name == "$regex") {
                if (!operand.is_string()) return Bad(here, "$regex takes a string");
                auto pattern = CanonicalRegex(operand.get_string());
                if (!pattern.ok()) return Bad(here, pattern.error().message);
                TB_ASSIGN_OR_RETURN(DocFilter leaf,
                                    Leaf(path, DocOp::kRegex, {Scalar{std::move(*pattern)}}, here));
                all.children.push_back(std::move(leaf));
            } else if (name == "$elemMatch") {
                TB_ASSIGN_OR_RETURN(DocFilter leaf, ElemMatch(path, operand, here));
                all.children.push_back(std::move(leaf));
            } else {
                return Bad(here, "Unknown operator: " + std::string(name));
            }
        }
        if (all.children.size() == 1) return std::move(all.children.front());
        return all;
    }

    // {"$elemMatch": {"$gt": 1}} (operators on the element) or {"$elemMatch": {"k": 1}} (a
    // query on its fields), told apart by the first key as MongoDB does.
    Result<DocFilter> ElemMatch(const std::vector<std::string>& path, const json::value& operand,
                                const std::string& at) {
        if (!operand.is_object() || operand.get_object().empty())
            return Bad(at, "$elemMatch takes a non-empty query or operator object");
        if (++elem_level_ > 4) return Bad(at, "$elemMatch nests at most 4 deep");
        std::string element = "#" + std::to_string(elem_level_);
        std::string_view first = operand.get_object().begin()->key();
        bool operators =
            first.starts_with('$') && first != "$and" && first != "$or" && first != "$not";
        Result<DocFilter> cond = Error::Internal("unset");
        if (operators) {
            cond = Field({element}, operand, at);
        } else {
            elem_roots_.push_back(element);
            cond = Query(operand, at);
            elem_roots_.pop_back();
        }
        --elem_level_;
        if (!cond.ok()) return std::move(cond).error();
        TB_ASSIGN_OR_RETURN(DocFilter leaf, Leaf(path, DocOp::kElemMatch, {}, at));
        leaf.children.push_back(std::move(*cond));
        return leaf;
    }

    const DocFilterLimits& limits_;
    size_t leaves_ = 0;
    int elem_level_ = 0;
    std::vector<std::string> elem_roots_;  // the element a query's paths start from
};

}  // namespace

Result<DocFilter> ParseDocFilter(std::string_view text, const DocFilterLimits& limits) {
    auto parsed = ParseJson(text, {.max_depth = 256});
    if (!parsed.ok() && parsed.error().code == ErrorCode::kValidation) {
        // A number past the double range (ParseJson names its path).
        const auto* field = parsed.error().details.if_contains("field");
        std::string path = field && field->is_string() ? std::string(field->as_string()) : "";
        return Bad(path, "q holds a number outside the range of a finite number");
    }
    if (!parsed.ok()) return Error::BadRequest("q is not valid JSON", "q");
    return DocFilterFromJson(*parsed, limits);
}

Result<DocFilter> DocFilterFromJson(const json::value& q, const DocFilterLimits& limits) {
    if (!q.is_object()) return Bad("", "q is a JSON object");
    if (Depth(q) > limits.max_depth) {
        return Bad(TooDeepAt(q, limits.max_depth, ""),
                   "q is nested deeper than " + std::to_string(limits.max_depth) + " levels");
    }
    Parser parser(limits);
    return parser.Query(q, "");
}

namespace {

// The values a parameter's text stands for (API.md §1.2 "type-flexibly"). Numeric text past
// the double range (1e400) -> BAD_REQUEST naming the parameter.
Result<std::vector<Scalar>> Candidates(const std::string& key, std::string_view text) {
    if (text == "null") return std::vector<Scalar>{Scalar{}};
    if (text == "true" || text == "false")
        return std::vector<Scalar>{Scalar{text == "true"}, Scalar{std::string(text)}};
    auto number = ParseJson(text, {.max_depth = 1});
    if (!number.ok() && number.error().code == ErrorCode::kValidation)
        return Error::BadRequest(key + " is outside the range of a finite number", key);
    if (number.ok() && (number->is_int64() || number->is_uint64() || number->is_double()) &&
        !text.empty() && text.front() != ' ' && text.back() != ' ') {
        Scalar n = number->is_int64()    ? Scalar{number->get_int64()}
                   : number->is_uint64() ? Scalar{static_cast<double>(number->get_uint64())}
                                         : Scalar{number->get_double()};
        return std::vector<Scalar>{n, Scalar{std::string(text)}};
    }
    return std::vector<Scalar>{Scalar{std::string(text)}};
}

DocFilter AnyOf(std::vector<DocFilter> children) {
    if (children.size() == 1) return std::move(children.front());
    DocFilter any;
    any.kind = DocFilter::Kind::kOr;
    any.children = std::move(children);
    return any;
}

DocFilter Negate(DocFilter child) {
    DocFilter n;
    n.kind = DocFilter::Kind::kNot;
    n.children.push_back(std::move(child));
    return n;
}

}  // namespace

Result<DocFilter> DocFilterFromParams(
    const std::vector<std::pair<std::string, std::string>>& params, const DocFilterLimits& limits) {
    DocFilter all;
    all.kind = DocFilter::Kind::kAnd;
    for (const auto& param : params) {
        // Named references, not a structured binding: clang 14 (clang-tidy) cannot capture one.
        const std::string& key = param.first;
        const std::string& value = param.second;
        auto bad = [&key](std::string message) {
            return Error::BadRequest(std::move(message), key);
        };
        // Names are echoed in errors, and every response is UTF-8.
        if (key.find('\0') != std::string::npos || !IsValidUtf8(key))
            return Error::BadRequest("Query parameter names must be UTF-8 text without NUL",
                                     "query");
        std::string_view name = key;
        std::string_view op = "eq";
        if (size_t open = name.find('['); open != std::string_view::npos) {
            if (!name.ends_with("]")) return bad("Malformed filter: " + key);
            op = name.substr(open + 1, name.size() - open - 2);
            name = name.substr(0, open);
        }
        std::vector<std::string> path;
        for (std::string_view rest = name;;) {
            size_t dot = rest.find('.');
            if (!IsSegment(rest.substr(0, dot)) || path.size() >= limits.max_path_depth)
                return bad("Unknown query parameter: " + key);
            path.emplace_back(rest.substr(0, dot));
            if (dot == std::string_view::npos) break;
            rest.remove_prefix(dot + 1);
        }
        if (value.size() > 1024) return bad("A filter value has at most 1024 bytes");
        if (value.find('\0') != std::string::npos || !IsValidUtf8(value))
            return bad("Filter values must be UTF-8 text without NUL characters");
        static const std::pair<std::string_view, DocOp> kOps[] = {
            {"eq", DocOp::kEq},
            {"ne", DocOp::kNe},
            {"gt", DocOp::kGt},
            {"gte", DocOp::kGte},
            {"lt", DocOp::kLt},
            {"lte", DocOp::kLte},
            {"in", DocOp::kIn},
            {"nin", DocOp::kNin},
            {"contains", DocOp::kContains},
            {"startswith", DocOp::kStartsWith},
            {"exists", DocOp::kExists}};
        auto found = std::find_if(std::begin(kOps), std::end(kOps),
                                  [&](const auto& p) { return p.first == op; });
        if (found == std::end(kOps)) return bad("Unknown filter operator: " + std::string(op));
        switch (found->second) {
            case DocOp::kEq:
            case DocOp::kNe: {
                std::vector<DocFilter> any;
                TB_ASSIGN_OR_RETURN(auto candidates, Candidates(key, value));
                any.reserve(candidates.size());
                for (auto& c : candidates) any.push_back(LeafOf(path, DocOp::kEq, {c}));
                DocFilter eq = AnyOf(std::move(any));
                all.children.push_back(found->second == DocOp::kEq ? std::move(eq)
                                                                   : Negate(std::move(eq)));
                break;
            }
            case DocOp::kGt:
            case DocOp::kGte:
            case DocOp::kLt:
            case DocOp::kLte: {
                if (value == "null") return bad("null cannot be ordered");
                std::vector<DocFilter> any;
                TB_ASSIGN_OR_RETURN(auto candidates, Candidates(key, value));
                any.reserve(candidates.size());
                for (auto& c : candidates) any.push_back(LeafOf(path, found->second, {c}));
                all.children.push_back(AnyOf(std::move(any)));
                break;
            }
            case DocOp::kIn:
            case DocOp::kNin: {
                std::vector<Scalar> set;
                size_t start = 0;
                while (start <= value.size()) {
                    size_t comma = value.find(',', start);
                    std::string item = value.substr(
                        start, comma == std::string::npos ? std::string::npos : comma - start);
                    TB_ASSIGN_OR_RETURN(auto candidates, Candidates(key, item));
                    for (auto& c : candidates) set.push_back(std::move(c));
                    if (comma == std::string::npos) break;
                    start = comma + 1;
                }
                if (set.size() > 2 * limits.max_in_values)
                    return bad("At most " + std::to_string(limits.max_in_values) + " values");
                all.children.push_back(LeafOf(path, found->second, std::move(set)));
                break;
            }
            case DocOp::kContains:
            case DocOp::kStartsWith:
                all.children.push_back(LeafOf(path, found->second, {Scalar{value}}));
                break;
            case DocOp::kExists: {
                if (value != "true" && value != "false") return bad(key + " takes true or false");
                all.children.push_back(LeafOf(path, DocOp::kExists, {Scalar{value == "true"}}));
                break;
            }
            default:
                return bad("Unknown filter operator: " + std::string(op));
        }
    }
    return all;
}

Result<DocFilter> TextSearchFilter(std::string text, std::string_view field) {
    // Not UTF-8, the text would match inside a character on one store and not on the other
    // (the HTTP layer refuses such a parameter already; found by the doc_filter fuzz target).
    if (text.empty() || text.size() > 1024 || text.find('\0') != std::string::npos ||
        !IsValidUtf8(text))
        return Error::BadRequest(std::string(field) + " must be 1 to 1024 bytes of UTF-8 text",
                                 std::string(field));
    DocFilter f;
    f.kind = DocFilter::Kind::kLeaf;
    f.op = DocOp::kAnyTextContains;
    f.operands.emplace_back(std::move(text));
    return f;
}

}  // namespace tb::query
