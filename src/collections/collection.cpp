#include "collections/collection.h"

namespace tb::collections {

namespace {

constexpr std::array<std::pair<std::string_view, Rule>, 5> kRuleNames = {{
    {"public", Rule::kPublic},
    {"member", Rule::kMember},
    {"owner", Rule::kOwner},
    {"org", Rule::kOrg},
    {"admin", Rule::kAdmin},
}};

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return IsLower(c) || (c >= 'A' && c <= 'Z'); }

bool IsSegment(std::string_view s) {
    if (s.empty() || !(IsAlpha(s[0]) || s[0] == '_')) return false;
    for (char c : s) {
        if (!(IsAlpha(c) || IsDigit(c) || c == '_')) return false;
    }
    return true;
}

}  // namespace

std::string_view RuleName(Rule rule) {
    for (const auto& [name, r] : kRuleNames) {
        if (r == rule) return name;
    }
    return "member";
}

Status CheckCollectionName(std::string_view name) {
    bool ok = !name.empty() && name.size() <= 63 && IsLower(name[0]);
    for (char c : name) ok = ok && (IsLower(c) || IsDigit(c) || c == '_' || c == '-');
    if (!ok) {
        return Error::Validation("name", "Collection names match [a-z][a-z0-9_-]{0,62}");
    }
    return {};
}

bool IsFieldPath(std::string_view path, size_t max_depth) {
    size_t depth = 0;
    while (true) {
        size_t dot = path.find('.');
        if (!IsSegment(path.substr(0, dot))) return false;
        if (++depth > max_depth) return false;
        if (dot == std::string_view::npos) return true;
        path.remove_prefix(dot + 1);
    }
}

Result<Rules> ParseRules(const json::value& value) {
    Rules rules;
    if (value.is_null()) return rules;
    if (!value.is_object()) return Error::Validation("rules", "rules must be an object");
    for (const auto& kv : value.get_object()) {
        std::string field = "rules." + std::string(kv.key());
        size_t op = 0;
        while (op < kOperationNames.size() && kOperationNames[op] != kv.key()) ++op;
        if (op == kOperationNames.size())
            return Error::Validation(field, "Rules are list, read, create, update and delete");
        if (!kv.value().is_string())
            return Error::Validation(field, "A rule is public, member, owner, org or admin");
        std::string_view name = kv.value().get_string();
        auto it = std::find_if(kRuleNames.begin(), kRuleNames.end(),
                               [&](const auto& p) { return p.first == name; });
        if (it == kRuleNames.end())
            return Error::Validation(field, "A rule is public, member, owner, org or admin");
        rules.by_operation[op] = it->second;
    }
    return rules;
}

Result<std::vector<IndexSpec>> ParseIndexes(const json::value& value) {
    std::vector<IndexSpec> out;
    if (value.is_null()) return out;
    if (!value.is_array()) return Error::Validation("indexes", "indexes must be an array");
    const auto& items = value.get_array();
    if (items.size() > 16) return Error::Validation("indexes", "At most 16 indexes");
    for (size_t i = 0; i < items.size(); ++i) {
        std::string at = "indexes." + std::to_string(i);
        if (!items[i].is_object()) return Error::Validation(at, "An index is an object");
        const auto& o = items[i].get_object();
        for (const auto& kv : o) {
            if (kv.key() != "fields" && kv.key() != "unique")
                return Error::Validation(at + "." + std::string(kv.key()),
                                         "Unknown field: " + std::string(kv.key()));
        }
        IndexSpec spec;
        const json::value* fields = o.if_contains("fields");
        if (!fields || !fields->is_array() || fields->get_array().empty() ||
            fields->get_array().size() > 8) {
            return Error::Validation(at + ".fields", "fields is a list of 1 to 8 field paths");
        }
        for (size_t f = 0; f < fields->get_array().size(); ++f) {
            const auto& entry = fields->get_array()[f];
            std::string field_at = at + ".fields." + std::to_string(f);
            if (!entry.is_string()) return Error::Validation(field_at, "A field path is a string");
            std::string_view path = entry.get_string();
            IndexKey key;
            if (!path.empty() && path[0] == '-') {
                key.descending = true;
                path.remove_prefix(1);
            }
            if (!IsFieldPath(path))
                return Error::Validation(field_at, "Not a field path: " + std::string(path));
            key.path = std::string(path);
            spec.fields.push_back(std::move(key));
        }
        if (const json::value* unique = o.if_contains("unique"); unique && !unique->is_null()) {
            if (!unique->is_bool()) return Error::Validation(at + ".unique", "unique is a boolean");
            spec.unique = unique->get_bool();
        }
        out.push_back(std::move(spec));
    }
    return out;
}

json::object RulesJson(const Rules& rules) {
    json::object o;
    for (size_t i = 0; i < kOperationNames.size(); ++i)
        o[kOperationNames[i]] = RuleName(rules.by_operation[i]);
    return o;
}

json::array IndexesJson(const std::vector<IndexSpec>& indexes) {
    json::array out;
    for (const auto& spec : indexes) {
        json::array fields;
        for (const auto& key : spec.fields)
            fields.emplace_back((key.descending ? "-" : "") + key.path);
        out.push_back(json::object{{"fields", std::move(fields)}, {"unique", spec.unique}});
    }
    return out;
}

}  // namespace tb::collections
