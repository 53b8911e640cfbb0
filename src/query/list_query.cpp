#include "query/list_query.h"

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/parse_query.hpp>
#include <charconv>

#include "common/clock.h"
#include "common/encoding.h"
#include "common/json.h"
#include "common/strings.h"

namespace tb::query {

namespace {

namespace json = boost::json;

struct OpName {
    std::string_view name;
    Op op;
};
constexpr OpName kOps[] = {
    {"eq", Op::kEq},
    {"ne", Op::kNe},
    {"gt", Op::kGt},
    {"gte", Op::kGte},
    {"lt", Op::kLt},
    {"lte", Op::kLte},
    {"in", Op::kIn},
    {"nin", Op::kNin},
    {"contains", Op::kContains},
    {"startswith", Op::kStartsWith},
    {"exists", Op::kExists},
};

std::string_view NameOf(Op op) {
    for (const auto& o : kOps)
        if (o.op == op) return o.name;
    return "?";
}

// Parameter names are echoed in errors: keep them short and printable.
std::string Shown(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return out;
}

bool IsUtf8Text(std::string_view s) {
    return s.find('\0') == std::string_view::npos && IsValidUtf8(s);
}

// details.field is the parameter, or "query" for one without a name (`=x`): a refusal always
// names where it is (list_query_fuzz holds it).
Error Bad(std::string_view param, std::string message) {
    return Error::BadRequest(std::move(message), param.empty() ? "query" : Shown(param));
}

bool IsName(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    if (!(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
}

Result<int64_t> Integer(std::string_view param, std::string_view text, int64_t min, int64_t max) {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || p != text.data() + text.size() || n < min || n > max) {
        return Bad(param, std::string(param) + " must be an integer from " + std::to_string(min) +
                              " to " + std::to_string(max));
    }
    return n;
}

Result<bool> Boolean(std::string_view param, std::string_view text) {
    if (text == "true") return true;
    if (text == "false") return false;
    return Bad(param, std::string(param) + " must be true or false");
}

// One value of a filter, typed by its field. "null" is null for every type (API.md §1.2).
Result<Literal> Value(std::string_view param, const Field& f, std::string_view text,
                      const Limits& limits) {
    if (text.size() > limits.max_value_bytes)
        return Bad(param, "Filter value too long (at most " +
                              std::to_string(limits.max_value_bytes) + " bytes)");
    if (text.find('\0') != std::string_view::npos || !IsValidUtf8(text))
        return Bad(param, "Filter values must be UTF-8 text without NUL characters");
    if (text == "null") return Literal{};
    switch (f.type) {
        case Type::kId:
        case Type::kText:
            return Literal{std::string(text)};
        case Type::kInt: {
            int64_t n = 0;
            auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
            if (ec != std::errc() || p != text.data() + text.size())
                return Bad(param, f.name + " must be an integer");
            return Literal{n};
        }
        case Type::kBool: {
            TB_ASSIGN_OR_RETURN(bool b, Boolean(param, text));
            return Literal{int64_t{b ? 1 : 0}};
        }
        case Type::kTime: {
            auto t = ParseRfc3339(text);
            if (!t) return Bad(param, f.name + " must be an RFC 3339 time");
            return Literal{ToUnixMillis(*t)};
        }
    }
    return Bad(param, "Bad value");
}

Result<Condition> ParseCondition(std::string_view key, std::string_view value,
                                 const Resource& resource, const Limits& limits) {
    std::string_view name = key;
    std::string_view op_text = "eq";
    if (size_t open = key.find('['); open != std::string_view::npos) {
        if (!key.ends_with(']')) return Bad(key, "Malformed filter: " + Shown(key));
        name = key.substr(0, open);
        op_text = key.substr(open + 1, key.size() - open - 2);
    }
    if (!IsName(name)) return Bad(key, "Unknown query parameter: " + Shown(key));
    const Field* field = resource.Find(name);
    if (!field) return Bad(key, "Unknown field: " + Shown(name));
    auto op = std::find_if(std::begin(kOps), std::end(kOps),
                           [&](const OpName& o) { return o.name == op_text; });
    if (op == std::end(kOps)) return Bad(key, "Unknown filter operator: " + Shown(op_text));

    Condition c{field, op->op, {}};
    switch (c.op) {
        case Op::kExists: {
            TB_ASSIGN_OR_RETURN(bool b, Boolean(key, value));
            c.values.push_back(int64_t{b ? 1 : 0});
            break;
        }
        case Op::kIn:
        case Op::kNin: {
            std::vector<std::string> items = SplitTrimmed(value, ',');
            if (items.empty()) return Bad(key, Shown(key) + " needs a comma-separated list");
            if (items.size() > limits.max_in_values)
                return Bad(key, "At most " + std::to_string(limits.max_in_values) + " values");
            for (const auto& item : items) {
                TB_ASSIGN_OR_RETURN(Literal v, Value(key, *field, item, limits));
                c.values.push_back(std::move(v));
            }
            break;
        }
        case Op::kContains:
        case Op::kStartsWith:
            if (field->type != Type::kText && field->type != Type::kId)
                return Bad(key, std::string(NameOf(c.op)) + " applies to text fields only");
            if (value.size() > limits.max_value_bytes) return Bad(key, "Filter value too long");
            if (value.find('\0') != std::string_view::npos || !IsValidUtf8(value))
                return Bad(key, "Filter values must be UTF-8 text without NUL characters");
            c.values.push_back(std::string(value));  // "null" here is the text "null"
            break;
        default: {
            TB_ASSIGN_OR_RETURN(Literal v, Value(key, *field, value, limits));
            if (std::holds_alternative<std::monostate>(v) && c.op != Op::kEq && c.op != Op::kNe)
                return Bad(key, Shown(key) + " cannot compare with null");
            c.values.push_back(std::move(v));
        }
    }
    return c;
}

bool IsPath(std::string_view path) {
    size_t depth = 0;
    for (std::string_view rest = path;;) {
        size_t dot = rest.find('.');
        if (!IsName(rest.substr(0, dot)) || ++depth > 8) return false;
        if (dot == std::string_view::npos) return true;
        rest.remove_prefix(dot + 1);
    }
}

// One key of a sort: a declared field, or a document path where the resource has them.
Result<SortKey> SortKeyNamed(std::string_view param, std::string_view name, bool descending,
                             const Resource& resource) {
    SortKey k;
    k.descending = descending;
    k.field = IsName(name) ? resource.Find(name) : nullptr;
    if (!k.field) {
        if (!resource.open_filters || !IsPath(name))
            return Bad(param, "Unknown sort field: " + Shown(name));
        for (std::string_view rest = name;;) {
            size_t dot = rest.find('.');
            k.path.emplace_back(rest.substr(0, dot));
            if (dot == std::string_view::npos) break;
            rest.remove_prefix(dot + 1);
        }
    }
    return k;
}

Status AddSortKey(std::string_view param, std::vector<SortKey>& keys, SortKey k,
                  const Limits& limits) {
    for (const auto& prev : keys)
        if (prev.Name() == k.Name()) return Bad(param, "Repeated sort field: " + Shown(k.Name()));
    keys.push_back(std::move(k));
    if (keys.size() > limits.max_sort_keys)
        return Bad(param, "At most " + std::to_string(limits.max_sort_keys) + " sort fields");
    return {};
}

Result<std::vector<SortKey>> ParseSort(std::string_view value, const Resource& resource,
                                       const Limits& limits) {
    std::vector<SortKey> keys;
    for (const std::string& item : SplitTrimmed(value, ',')) {
        std::string_view name = item;
        bool descending = false;
        if (name.starts_with('-')) {
            descending = true;
            name.remove_prefix(1);
        } else if (name.starts_with('+')) {
            name.remove_prefix(1);
        }
        TB_ASSIGN_OR_RETURN(SortKey k, SortKeyNamed("sort", name, descending, resource));
        TB_RETURN_IF_ERROR(AddSortKey("sort", keys, std::move(k), limits));
    }
    if (keys.empty()) return Bad("sort", "sort needs at least one field");
    return keys;
}

Result<std::vector<std::string>> ParseFields(std::string_view value, const Resource& resource) {
    std::vector<std::string> out;
    for (std::string& name : SplitTrimmed(value, ',')) {
        const Field* declared =
            resource.open_projection || !IsName(name) ? nullptr : resource.Find(name);
        bool known = resource.open_projection ? IsPath(name) : declared != nullptr;
        if (!known) return Bad("fields", "Unknown field: " + Shown(name));
        if (declared) name = declared->name;  // an alias projects its field
        if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
    }
    if (out.empty()) return Bad("fields", "fields needs at least one field");
    return out;
}

// What `h` sets; each part conflicts with the parameter that sets the same thing.
struct Hints {
    std::optional<std::vector<SortKey>> sort;
    std::optional<int64_t> max, skip;
    std::optional<std::vector<std::string>> fields;
};

Result<int64_t> HintInteger(const json::value& v, std::string_view name, int64_t min, int64_t max) {
    if (v.is_int64() && v.as_int64() >= min && v.as_int64() <= max) return v.as_int64();
    if (v.is_uint64() && v.as_uint64() <= static_cast<uint64_t>(max) && min <= 0)
        return static_cast<int64_t>(v.as_uint64());
    return Bad("h", "h." + std::string(name) + " must be an integer from " + std::to_string(min) +
                        " to " + std::to_string(max));
}

Result<Hints> ParseHints(std::string_view text, const Resource& resource, const Limits& limits) {
    if (text.size() > 4096) return Bad("h", "h is too long (at most 4096 bytes)");
    auto parsed = ParseJson(text);
    if (!parsed.ok() || !parsed->is_object()) return Bad("h", "h must be a JSON object");
    const json::value& v = *parsed;
    Hints out;
    for (const auto& [key, value] : v.as_object()) {
        if (key == "$orderby") {
            if (!value.is_object() || value.as_object().empty())
                return Bad("h", "h.$orderby must be an object of fields and 1 or -1");
            std::vector<SortKey> keys;
            for (const auto& [name, dir] : value.as_object()) {
                bool asc = dir.is_int64() && dir.as_int64() == 1;
                bool desc = dir.is_int64() && dir.as_int64() == -1;
                if (!asc && !desc)
                    return Bad("h", "h.$orderby." + std::string(name) + " must be 1 or -1");
                TB_ASSIGN_OR_RETURN(SortKey k, SortKeyNamed("h", name, desc, resource));
                TB_RETURN_IF_ERROR(AddSortKey("h", keys, std::move(k), limits));
            }
            out.sort = std::move(keys);
        } else if (key == "$max") {
            TB_ASSIGN_OR_RETURN(out.max, HintInteger(value, key, 1, limits.max_per_page));
        } else if (key == "$skip") {
            TB_ASSIGN_OR_RETURN(out.skip, HintInteger(value, key, 0, limits.max_page));
        } else if (key == "$fields") {
            if (!value.is_object() || value.as_object().empty())
                return Bad("h", "h.$fields must be an object of fields and 1");
            std::string names;
            for (const auto& [name, on] : value.as_object()) {
                if (!(on.is_int64() && on.as_int64() == 1) && !(on.is_bool() && on.as_bool()))
                    return Bad("h", "h.$fields." + std::string(name) +
                                        " must be 1: name the fields to return");
                names += names.empty() ? "" : ",";
                names += name;
            }
            out.fields = std::vector<std::string>{};
            TB_ASSIGN_OR_RETURN(*out.fields, ParseFields(names, resource));
        } else {
            return Bad("h",
                       "Unknown hint: " + Shown(key) + " (use $orderby, $max, $skip, $fields)");
        }
    }
    return out;
}

json::value ToJson(const Literal& v) {
    if (const auto* i = std::get_if<int64_t>(&v)) return *i;
    if (const auto* d = std::get_if<double>(&v)) return *d;
    if (const auto* s = std::get_if<std::string>(&v)) return json::string(*s);
    return nullptr;
}

// Clients send characters RFC 3986 does not allow in a query as they are (brackets above
// all: `n[gt]=5`, which browsers and fetch leave unencoded); escape them so that the strict
// Boost.URL parser reads the query the way the client meant it.
std::string Lenient(std::string_view raw) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    auto is_hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
    std::string out;
    out.reserve(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(raw[i]);
        bool allowed =
            std::isalnum(c) || std::string_view("-._~!$&'()*+,;=:@/?").find(static_cast<char>(c)) !=
                                   std::string_view::npos;
        if (c == '%' && i + 2 < raw.size() && is_hex(raw[i + 1]) && is_hex(raw[i + 2]))
            allowed = true;
        if (allowed) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

}  // namespace

std::string SortKey::Name() const {
    if (field) return field->name;
    std::string out;
    for (const auto& seg : path) out += (out.empty() ? "" : ".") + seg;
    return out;
}

const Field* Resource::Find(std::string_view name) const {
    for (const auto& f : fields)
        if (f.name == name) return &f;
    for (const auto& [alias, field] : aliases)
        if (alias == name) return Find(field);
    return nullptr;
}

std::string ListQuery::Fingerprint(const Resource& resource) const {
    // Names, operators and values in order, each length-prefixed so that no two queries
    // share a text.
    std::string out = resource.name;
    auto add = [&out](std::string_view s) {
        out += std::to_string(s.size());
        out += ':';
        out += s;
    };
    for (const auto& k : sort) add((k.descending ? "-" : "+") + k.Name());
    out += '|';
    for (const auto& c : conditions) {
        add(c.field->name);
        add(NameOf(c.op));
        for (const auto& v : c.values) add(json::serialize(ToJson(v)));
    }
    out += '|';
    for (const auto& [k, v] : path_filters) {
        add(k);
        add(v);
    }
    out += '|';
    for (const auto& [k, v] : extra) {  // e.g. a document query's q=
        add(k);
        add(v);
    }
    if (text_search) add("filter=" + *text_search);
    return Sha256Hex(out).substr(0, 32);
}

std::string CursorCodec::Encode(const Resource& resource, const ListQuery& query,
                                const std::vector<Literal>& keys) const {
    json::array values;
    for (const auto& k : keys) values.push_back(ToJson(k));
    std::string payload =
        json::serialize(json::array{json::string(query.Fingerprint(resource)), values});
    auto bytes = [](std::string_view s) {
        return std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    };
    std::string body = Base64UrlEncode(bytes(payload));
    std::string tag = HmacSha256(secret_, body).substr(0, 16);
    return body + "." + Base64UrlEncode(bytes(tag));
}

Result<std::vector<Literal>> CursorCodec::Decode(std::string_view cursor, const Resource& resource,
                                                 const ListQuery& query) const {
    Error bad = Bad("after", "Invalid cursor");
    size_t dot = cursor.find('.');
    if (cursor.size() > 4096 || dot == std::string_view::npos) return bad;
    std::string_view body = cursor.substr(0, dot);
    auto tag = Base64UrlDecode(cursor.substr(dot + 1));
    if (!tag || !ConstantTimeEquals(*tag, HmacSha256(secret_, body).substr(0, 16))) return bad;
    auto payload = Base64UrlDecode(body);
    if (!payload) return bad;
    // ParseJson: a double key must read back exactly as the cursor wrote it, or the next
    // page would start one row off.
    auto parsed = ParseJson(*payload);
    if (!parsed.ok() || !parsed->is_array() || parsed->as_array().size() != 2) return bad;
    const auto& a = parsed->as_array();
    if (!a[0].is_string() || a[0].as_string() != query.Fingerprint(resource))
        return Bad("after", "Cursor does not match this query's sort and filters");
    size_t width = 1;
    for (const auto& k : query.sort) width += k.Width();
    if (!a[1].is_array() || a[1].as_array().size() != width) return bad;
    std::vector<Literal> keys;
    for (const auto& item : a[1].as_array()) {
        if (item.is_int64()) {
            keys.emplace_back(item.as_int64());
        } else if (item.is_double()) {
            keys.emplace_back(item.as_double());
        } else if (item.is_string()) {
            keys.emplace_back(std::string(item.as_string()));
        } else if (item.is_null()) {
            keys.emplace_back();
        } else {
            return bad;
        }
    }
    if (!std::holds_alternative<std::string>(keys.back())) return bad;  // the id
    return keys;
}

Result<ListQuery> ParseList(std::string_view query_string, const Resource& resource,
                            const CursorCodec& cursors, const Limits& limits) {
    ListQuery q;
    if (query_string.empty()) return q;
    std::string lenient = Lenient(query_string);
    auto params = boost::urls::parse_query(lenient);
    if (!params) return Error::BadRequest("Malformed query string", "query");
    bool seen_page = false, seen_per_page = false, seen_sort = false, seen_fields = false,
         seen_count = false;
    std::optional<std::string> after, hints;
    auto once = [](bool& seen, std::string_view key) -> Status {
        if (seen) return Bad(key, "Repeated query parameter: " + std::string(key));
        seen = true;
        return {};
    };
    for (auto param : *params) {
        std::string key = param.key.decode();
        std::string value = param.has_value ? param.value.decode() : std::string();
        // Every parameter is text: names and values are echoed in errors and bound in SQL
        // (PostgreSQL refuses invalid UTF-8 and NUL in text), so they must be UTF-8 without NUL.
        if (!IsUtf8Text(key) || !IsUtf8Text(value))
            return Bad(key, "Query parameters must be UTF-8 text without NUL characters");
        if (key == "page") {
            TB_RETURN_IF_ERROR(once(seen_page, key));
            TB_ASSIGN_OR_RETURN(q.page, Integer(key, value, 1, limits.max_page));
        } else if (key == "per_page") {
            TB_RETURN_IF_ERROR(once(seen_per_page, key));
            TB_ASSIGN_OR_RETURN(q.per_page, Integer(key, value, 1, limits.max_per_page));
        } else if (key == "after") {
            if (after) return Bad(key, "Repeated query parameter: after");
            after = value;
        } else if (key == "count") {
            TB_RETURN_IF_ERROR(once(seen_count, key));
            TB_ASSIGN_OR_RETURN(q.count, Boolean(key, value));
        } else if (key == "sort") {
            TB_RETURN_IF_ERROR(once(seen_sort, key));
            TB_ASSIGN_OR_RETURN(q.sort, ParseSort(value, resource, limits));
        } else if (key == "h" && resource.hints) {
            if (hints) return Bad(key, "Repeated query parameter: h");
            hints = value;
        } else if (key == "fields") {
            TB_RETURN_IF_ERROR(once(seen_fields, key));
            TB_ASSIGN_OR_RETURN(q.fields, ParseFields(value, resource));
        } else if (std::find(resource.extra_params.begin(), resource.extra_params.end(), key) !=
                   resource.extra_params.end()) {
            if (q.extra.contains(key)) return Bad(key, "Repeated query parameter: " + Shown(key));
            q.extra.emplace(key, value);
        } else if (key == "q") {
            return Bad(key, "q= applies to documents only");
        } else {
            if (q.conditions.size() + q.path_filters.size() >= limits.max_conditions)
                return Bad(key, "At most " + std::to_string(limits.max_conditions) + " filters");
            if (resource.open_filters && !resource.Find(key.substr(0, key.find('[')))) {
                q.path_filters.emplace_back(std::string(key), std::string(value));
                continue;
            }
            TB_ASSIGN_OR_RETURN(Condition c, ParseCondition(key, value, resource, limits));
            q.conditions.push_back(std::move(c));
        }
    }
    if (hints) {
        TB_ASSIGN_OR_RETURN(Hints h, ParseHints(*hints, resource, limits));
        auto conflict = [](std::string_view hint, std::string_view param) {
            return Bad("h", "h." + std::string(hint) + " and " + std::string(param) +
                                " cannot be combined");
        };
        if (h.sort) {
            if (seen_sort) return conflict("$orderby", "sort");
            q.sort = std::move(*h.sort);
        }
        if (h.max) {
            if (seen_per_page) return conflict("$max", "per_page");
            q.per_page = *h.max;
        }
        if (h.skip) {
            if (seen_page) return conflict("$skip", "page");
            if (after) return conflict("$skip", "after");
            q.skip = h.skip;
        }
        if (h.fields) {
            if (seen_fields) return conflict("$fields", "fields");
            q.fields = std::move(*h.fields);
        }
        // Part of the query's identity, as sort is: a cursor is bound to its hints.
        q.extra.emplace("h", *hints);
    }
    if (q.skip && *q.skip > limits.max_offset) {
        return Bad("h", "h.$skip may skip at most " + std::to_string(limits.max_offset) +
                            " rows: page deeper with a cursor (after=)");
    }
    if ((q.page - 1) * q.per_page > limits.max_offset) {
        return Bad("page", "page may skip at most " + std::to_string(limits.max_offset) +
                               " rows (page × per_page): page deeper with a cursor (after=)");
    }
    if (after) {
        if (seen_page) return Bad("after", "page and after cannot be combined");
        q.cursor_mode = true;
        if (!seen_count) q.count = false;
        if (!after->empty()) {
            TB_ASSIGN_OR_RETURN(q.after, cursors.Decode(*after, resource, q));
        }
    }
    return q;
}

}  // namespace tb::query
