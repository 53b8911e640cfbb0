#include "collections/document.h"

#include "common/clock.h"

namespace tb::collections {

namespace {

constexpr std::string_view kIgnored[] = {"_id",        "_created",   "_changed",
                                         "_createdby", "_changedby", "_version"};

std::string Join(const std::string& base, std::string_view key) {
    return base.empty() ? std::string(key) : base + "." + std::string(key);
}

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

// A field name a document may hold: no NUL; no '.', which would make a dotted query path
// ambiguous ("a.b" the key or b inside a); no leading '$', which MongoDB-style clients and
// our own q= read as an operator (issue #29). "" otherwise: why not.
std::string_view KeyProblem(std::string_view key) {
    if (HasNul(key)) return "Keys must not contain NUL";
    if (key.find('.') != std::string_view::npos) return "Field names must not contain '.'";
    if (!key.empty() && key.front() == '$') return "Field names must not start with '$'";
    return {};
}

// Every key and string value at any depth → 422 at its path when it cannot be stored.
Status CheckKeysAndStrings(const json::value& v, const std::string& path) {
    if (v.is_string()) {
        if (HasNul(v.get_string()))
            return Error::Validation(path, "Strings must not contain NUL characters");
    } else if (v.is_object()) {
        for (const auto& kv : v.get_object()) {
            std::string child = Join(path, kv.key());
            if (auto problem = KeyProblem(kv.key()); !problem.empty())
                return Error::Validation(child, std::string(problem));
            TB_RETURN_IF_ERROR(CheckKeysAndStrings(kv.value(), child));
        }
    } else if (v.is_array()) {
        const auto& a = v.get_array();
        for (size_t i = 0; i < a.size(); ++i)
            TB_RETURN_IF_ERROR(CheckKeysAndStrings(a[i], Join(path, std::to_string(i))));
    }
    return {};
}

}  // namespace

Result<ClientBody> TakeClientBody(json::object body, const std::string& at) {
    ClientBody out;
    for (auto& kv : body) {
        std::string_view key = kv.key();
        std::string path = Join(at, key);
        if (!key.empty() && key[0] == '_') {
            if (key == "_org") {
                if (kv.value().is_null()) {
                    out.org = std::optional<std::string>{};
                } else if (kv.value().is_string() && !kv.value().get_string().empty() &&
                           kv.value().get_string().size() <= 64) {
                    out.org = std::optional<std::string>(std::string(kv.value().get_string()));
                } else {
                    return Error::Validation(path, "_org is an organization id or null");
                }
                continue;
            }
            if (std::find(std::begin(kIgnored), std::end(kIgnored), key) != std::end(kIgnored))
                continue;
            return Error::Validation(path,
                                     "Fields starting with _ are reserved: " + std::string(key));
        }
        if (auto problem = KeyProblem(key); !problem.empty())
            return Error::Validation(path, std::string(problem));
        TB_RETURN_IF_ERROR(CheckKeysAndStrings(kv.value(), path));
        out.data.emplace(key, std::move(kv.value()));
    }
    return out;
}

Result<std::string> RenderDocument(const json::object& data, const SystemFields& s,
                                   const DocumentLimits& limits, const std::string& at) {
    std::string out = "{\"_id\":" + json::serialize(json::value(s.id));
    for (const auto& kv : data) {
        out += ',';
        out += json::serialize(json::string_view(kv.key()));
        out += ':';
        out += WriteJson(kv.value());
    }
    auto user = [](const std::string& id) {
        return id.empty() ? std::string("null") : json::serialize(json::value(id));
    };
    out += ",\"_created\":\"" + FormatRfc3339(FromUnixMillis(s.created_at)) + "\"";
    out += ",\"_changed\":\"" + FormatRfc3339(FromUnixMillis(s.changed_at)) + "\"";
    out += ",\"_createdby\":" + user(s.created_by);
    out += ",\"_changedby\":" + user(s.changed_by);
    out += ",\"_version\":" + std::to_string(s.version);
    out += ",\"_org\":" + (s.org ? json::serialize(json::value(*s.org)) : std::string("null"));
    out += '}';
    if (out.size() > limits.max_bytes) {
        Error e;
        e.code = ErrorCode::kPayloadTooLarge;
        e.message = "A document may be at most " + std::to_string(limits.max_bytes) + " bytes";
        if (!at.empty()) e = std::move(e).WithDetail("field", json::value(at));
        return e;
    }
    return out;
}

json::object ClientFields(const json::object& stored) {
    json::object out;
    for (const auto& kv : stored) {
        if (kv.key().empty() || kv.key()[0] != '_') out.emplace(kv.key(), kv.value());
    }
    return out;
}

json::value MergePatch(json::value target, const json::value& patch) {
    if (!patch.is_object()) return patch;
    if (!target.is_object()) target = json::object{};
    json::object& t = target.as_object();
    for (const auto& kv : patch.get_object()) {
        if (kv.value().is_null()) {
            t.erase(kv.key());
        } else {
            json::value current = t.contains(kv.key()) ? t.at(kv.key()) : json::value(nullptr);
            t[kv.key()] = MergePatch(std::move(current), kv.value());
        }
    }
    return target;
}

}  // namespace tb::collections
