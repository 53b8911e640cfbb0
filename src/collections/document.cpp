#include "collections/document.h"

#include "common/clock.h"

namespace tb::collections {

namespace {

constexpr std::string_view kIgnored[] = {"_id",        "_created",   "_changed",
                                         "_createdby", "_changedby", "_version"};

// base.key ("key" at the root); `key` may itself be a dotted path below base.
std::string Join(std::string_view base, std::string_view key) {
    if (base.empty()) return std::string(key);
    if (key.empty()) return std::string(base);
    std::string out(base);
    out += '.';
    out += key;
    return out;
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

// A key or string value at any depth of a value that cannot be stored: its path below that
// value ("" for the value itself) and why. The path is made only for the one that fails: a
// batch of 1,000 documents has some 10,000 keys that are fine.
struct Unstorable {
    std::string path;
    std::string_view why;
};

std::optional<Unstorable> FindUnstorable(const json::value& v) {
    if (v.is_string()) {
        if (HasNul(v.get_string()))
            return Unstorable{"", "Strings must not contain NUL characters"};
    } else if (v.is_object()) {
        for (const auto& kv : v.get_object()) {
            if (auto problem = KeyProblem(kv.key()); !problem.empty())
                return Unstorable{std::string(kv.key()), problem};
            if (auto found = FindUnstorable(kv.value())) {
                found->path = Join(kv.key(), found->path);
                return found;
            }
        }
    } else if (v.is_array()) {
        const auto& a = v.get_array();
        for (size_t i = 0; i < a.size(); ++i) {
            if (auto found = FindUnstorable(a[i])) {
                found->path = Join(std::to_string(i), found->path);
                return found;
            }
        }
    }
    return std::nullopt;
}

}  // namespace

Result<ClientBody> TakeClientBody(json::object body, const std::string& at) {
    // In the body's own memory resource (a request's arena): its values move, not copy.
    ClientBody out{json::object(body.storage()), {}};
    out.data.reserve(body.size());
    for (auto& kv : body) {
        std::string_view key = kv.key();
        auto path = [&] { return Join(at, key); };
        if (!key.empty() && key[0] == '_') {
            if (key == "_org") {
                if (kv.value().is_null()) {
                    out.org = std::optional<std::string>{};
                } else if (kv.value().is_string() && !kv.value().get_string().empty() &&
                           kv.value().get_string().size() <= 64) {
                    out.org = std::optional<std::string>(std::string(kv.value().get_string()));
                } else {
                    return Error::Validation(path(), "_org is an organization id or null");
                }
                continue;
            }
            if (std::find(std::begin(kIgnored), std::end(kIgnored), key) != std::end(kIgnored))
                continue;
            return Error::Validation(path(),
                                     "Fields starting with _ are reserved: " + std::string(key));
        }
        if (auto problem = KeyProblem(key); !problem.empty())
            return Error::Validation(path(), std::string(problem));
        if (auto found = FindUnstorable(kv.value()))
            return Error::Validation(Join(path(), found->path), std::string(found->why));
        out.data.emplace(key, std::move(kv.value()));
    }
    return out;
}

Result<std::string> RenderDocument(const json::object& data, const SystemFields& s,
                                   const DocumentLimits& limits, const std::string& at) {
    // Appended in place, with room for a small document reserved: a batch renders a thousand.
    std::string out;
    out.reserve(384);
    out += "{\"_id\":";
    AppendJsonString(out, s.id);
    for (const auto& kv : data) {
        out += ',';
        AppendJsonString(out, kv.key());
        out += ':';
        AppendJson(out, kv.value());
    }
    auto user = [&out](const std::string& id) {
        if (id.empty()) {
            out += "null";
        } else {
            AppendJsonString(out, id);
        }
    };
    out += ",\"_created\":\"";
    AppendRfc3339(out, FromUnixMillis(s.created_at));
    out += "\",\"_changed\":\"";
    AppendRfc3339(out, FromUnixMillis(s.changed_at));
    out += "\",\"_createdby\":";
    user(s.created_by);
    out += ",\"_changedby\":";
    user(s.changed_by);
    out += ",\"_version\":";
    out += std::to_string(s.version);
    out += ",\"_org\":";
    if (s.org) {
        AppendJsonString(out, *s.org);
    } else {
        out += "null";
    }
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
