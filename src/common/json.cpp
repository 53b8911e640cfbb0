#include "common/json.h"

#include <algorithm>
#include <charconv>

namespace tb {

Result<json::value> ParseJson(std::string_view text, const JsonLimits& limits) {
    json::parse_options opts;
    opts.max_depth = limits.max_depth;
    boost::system::error_code ec;
    json::value v = json::parse(text, ec, {}, opts);
    if (ec) {
        if (ec == json::error::too_deep) {
            return Error::BadRequest("JSON nesting is too deep")
                .WithDetail("max_depth", static_cast<int64_t>(limits.max_depth));
        }
        return Error::BadRequest("Malformed JSON");
    }
    return v;
}

Result<json::object*> RequireObject(json::value& body) {
    if (!body.is_object()) return Error::Validation("", "The request body must be a JSON object");
    return &body.as_object();
}

namespace {
// A text field as stored: NUL cannot live in a PostgreSQL text value, so it is refused on
// both backends rather than silently cut short.
Result<std::string> Text(std::string_view field, const json::string& value) {
    if (std::string_view(value).find('\0') != std::string_view::npos)
        return Error::Validation(std::string(field),
                                 std::string(field) + " must not contain NUL characters");
    return std::string(value);
}
}  // namespace

Result<std::string> OptionalString(const json::object& obj, std::string_view field,
                                   std::string fallback) {
    auto it = obj.find(field);
    if (it == obj.end() || it->value().is_null()) return fallback;
    if (!it->value().is_string()) {
        return Error::Validation(std::string(field), std::string(field) + " must be a string");
    }
    return Text(field, it->value().as_string());
}

Result<std::string> RequiredString(const json::object& obj, std::string_view field) {
    auto it = obj.find(field);
    if (it == obj.end() || it->value().is_null()) {
        return Error::Validation(std::string(field), std::string(field) + " is required");
    }
    if (!it->value().is_string()) {
        return Error::Validation(std::string(field), std::string(field) + " must be a string");
    }
    return Text(field, it->value().as_string());
}

Result<bool> OptionalBool(const json::object& obj, std::string_view field, bool fallback) {
    auto it = obj.find(field);
    if (it == obj.end() || it->value().is_null()) return fallback;
    if (!it->value().is_bool()) {
        return Error::Validation(std::string(field), std::string(field) + " must be a boolean");
    }
    return it->value().as_bool();
}

Result<std::optional<std::string>> MaybeString(const json::object& obj, std::string_view field) {
    auto it = obj.find(field);
    if (it == obj.end() || it->value().is_null()) return std::optional<std::string>{};
    if (!it->value().is_string())
        return Error::Validation(std::string(field), std::string(field) + " must be a string");
    TB_ASSIGN_OR_RETURN(std::string text, Text(field, it->value().as_string()));
    return std::optional<std::string>(std::move(text));
}

Result<std::optional<bool>> MaybeBool(const json::object& obj, std::string_view field) {
    auto it = obj.find(field);
    if (it == obj.end() || it->value().is_null()) return std::optional<bool>{};
    if (!it->value().is_bool())
        return Error::Validation(std::string(field), std::string(field) + " must be a boolean");
    return std::optional<bool>(it->value().as_bool());
}

Status RejectUnknownFields(const json::object& obj,
                           std::initializer_list<std::string_view> allowed) {
    for (const auto& kv : obj) {
        if (std::find(allowed.begin(), allowed.end(), kv.key()) == allowed.end()) {
            return Error::Validation(std::string(kv.key()),
                                     "Unknown field: " + std::string(kv.key()));
        }
    }
    return {};
}

void AppendJsonString(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    size_t run = 0;  // start of the bytes not yet copied
    for (size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(s.data() + run, i - run);
        run = i + 1;
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                out += "\\u00";
                out += kHex[c >> 4];
                out += kHex[c & 0xF];
        }
    }
    out.append(s.data() + run, s.size() - run);
    out += '"';
}

namespace {
void Write(const json::value& v, std::string& out) {
    switch (v.kind()) {
        case json::kind::object: {
            out += '{';
            bool first = true;
            for (const auto& kv : v.get_object()) {
                if (!first) out += ',';
                first = false;
                AppendJsonString(out, kv.key());
                out += ':';
                Write(kv.value(), out);
            }
            out += '}';
            return;
        }
        case json::kind::array: {
            out += '[';
            bool first = true;
            for (const auto& item : v.get_array()) {
                if (!first) out += ',';
                first = false;
                Write(item, out);
            }
            out += ']';
            return;
        }
        case json::kind::double_: {
            double d = v.get_double();
            char buf[32];
            auto r = std::to_chars(buf, buf + sizeof buf, d);
            out.append(buf, r.ptr);
            return;
        }
        case json::kind::string:
            AppendJsonString(out, v.get_string());
            return;
        case json::kind::int64: {
            char buf[24];
            auto r = std::to_chars(buf, buf + sizeof buf, v.get_int64());
            out.append(buf, r.ptr);
            return;
        }
        case json::kind::bool_:
            out += v.get_bool() ? "true" : "false";
            return;
        case json::kind::null:
            out += "null";
            return;
        default:  // uint64
            out += json::serialize(v);
    }
}
}  // namespace

std::string WriteJson(const json::value& value) {
    std::string out;
    Write(value, out);
    return out;
}

}  // namespace tb
