#include "common/json.h"

#include <algorithm>
#include <boost/json/basic_parser_impl.hpp>
#include <charconv>
#include <cmath>

#include "common/strings.h"

namespace tb {

namespace {

// Boost.JSON's own value builder (json::parser), but for doubles: Boost 1.81 converts decimal
// text to a double without correct rounding, and a tenth of the doubles in ±1e6 written
// shortest (std::to_chars) read back one unit in the last place off (json_fuzz found it:
// a document would not read back the number its client wrote). std::from_chars rounds
// correctly; Boost's value stays for what it cannot read (past the double range: an infinity,
// which ParseJson then refuses).
struct PreciseNumbers {
    // The names Boost's basic_parser asks of its handler.
    // NOLINTBEGIN(readability-identifier-naming)
    static constexpr size_t max_object_size = json::object::max_size();
    static constexpr size_t max_array_size = json::array::max_size();
    static constexpr size_t max_key_size = json::string::max_size();
    static constexpr size_t max_string_size = json::string::max_size();
    // NOLINTEND(readability-identifier-naming)
    using ec_t = boost::system::error_code;
    using sv = json::string_view;

    json::value_stack st;
    std::string number;  // the parts of a number split across writes (none with one write)

    bool on_document_begin(ec_t&) { return true; }
    bool on_document_end(ec_t&) { return true; }
    bool on_object_begin(ec_t&) { return true; }
    bool on_object_end(size_t n, ec_t&) { return st.push_object(n), true; }
    bool on_array_begin(ec_t&) { return true; }
    bool on_array_end(size_t n, ec_t&) { return st.push_array(n), true; }
    bool on_key_part(sv s, size_t, ec_t&) { return st.push_chars(s), true; }
    bool on_key(sv s, size_t, ec_t&) { return st.push_key(s), true; }
    bool on_string_part(sv s, size_t, ec_t&) { return st.push_chars(s), true; }
    bool on_string(sv s, size_t, ec_t&) { return st.push_string(s), true; }
    bool on_number_part(sv s, ec_t&) { return number.append(s.data(), s.size()), true; }
    bool on_int64(int64_t i, sv, ec_t&) { return number.clear(), st.push_int64(i), true; }
    bool on_uint64(uint64_t u, sv, ec_t&) { return number.clear(), st.push_uint64(u), true; }
    bool on_double(double d, sv s, ec_t&) {
        std::string_view text(s.data(), s.size());
        if (!number.empty()) text = number.append(s.data(), s.size());
        double exact = 0;
        auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), exact);
        if (err == std::errc() && end == text.data() + text.size()) d = exact;
        number.clear();
        st.push_double(d);
        return true;
    }
    bool on_bool(bool b, ec_t&) { return st.push_bool(b), true; }
    bool on_null(ec_t&) { return st.push_null(), true; }
    bool on_comment_part(sv, ec_t&) { return true; }
    bool on_comment(sv, ec_t&) { return true; }
};

Result<json::value> Parse(std::string_view text, const JsonLimits& limits,
                          json::storage_ptr storage = {}) {
    json::parse_options opts;
    opts.max_depth = limits.max_depth;
    boost::system::error_code ec;
    json::basic_parser<PreciseNumbers> parser(opts);
    parser.handler().st.reset(std::move(storage));
    const size_t used = parser.write_some(false, text.data(), text.size(), ec);
    if (!ec && used < text.size()) ec = json::error::extra_data;
    json::value v = ec ? json::value() : parser.handler().st.release();
    if (ec) {
        if (ec == json::error::too_deep) {
            return Error::BadRequest("JSON nesting is too deep")
                .WithDetail("max_depth", static_cast<int64_t>(limits.max_depth));
        }
        return Error::BadRequest("Malformed JSON");
    }
    return v;
}

// Boost.JSON reads a number past the double range as an infinity without an error.
bool FindNonFinite(const json::value& v, std::string& path) {
    auto descend = [&path](std::string_view step, const json::value& child) {
        size_t mark = path.size();
        if (!path.empty()) path += '.';
        path += step;
        if (FindNonFinite(child, path)) return true;
        path.resize(mark);
        return false;
    };
    switch (v.kind()) {
        case json::kind::double_:
            return !std::isfinite(v.get_double());
        case json::kind::object:
            for (const auto& kv : v.get_object())
                if (descend(kv.key(), kv.value())) return true;
            return false;
        case json::kind::array: {
            const auto& a = v.get_array();
            for (size_t i = 0; i < a.size(); ++i)
                if (descend(std::to_string(i), a[i])) return true;
            return false;
        }
        default:
            return false;
    }
}

void NullNonFinite(json::value& v) {
    switch (v.kind()) {
        case json::kind::double_:
            if (!std::isfinite(v.get_double())) v = nullptr;
            return;
        case json::kind::object:
            for (auto& kv : v.get_object()) NullNonFinite(kv.value());
            return;
        case json::kind::array:
            for (auto& item : v.get_array()) NullNonFinite(item);
            return;
        default:
            return;
    }
}

}  // namespace

std::string NullNonFiniteTokens(std::string_view text) {
    static constexpr std::string_view kTokens[] = {"-Infinity", "Infinity", "-inf", "inf",
                                                   "-nan",      "nan",      "NaN"};
    std::string out;
    out.reserve(text.size());
    bool in_string = false;
    for (size_t i = 0; i < text.size();) {
        char c = text[i];
        if (in_string) {
            out += c;
            if (c == '\\' && i + 1 < text.size()) {
                out += text[i + 1];
                i += 2;
                continue;
            }
            if (c == '"') in_string = false;
            ++i;
            continue;
        }
        if (c == '"') in_string = true;
        bool replaced = false;
        for (std::string_view token : kTokens) {
            if (text.substr(i, token.size()) == token) {
                out += "null";
                i += token.size();
                replaced = true;
                break;
            }
        }
        if (replaced) continue;
        out += c;
        ++i;
    }
    return out;
}

namespace {

// Counts the members of every object of a parsed value.
size_t CountKeys(const json::value& v) {
    size_t n = 0;
    if (v.is_object()) {
        for (const auto& kv : v.get_object()) n += 1 + CountKeys(kv.value());
    } else if (v.is_array()) {
        for (const auto& item : v.get_array()) n += CountKeys(item);
    }
    return n;
}

// Counts the keys written in a JSON text: the strings followed by ':' (in JSON only a key is).
size_t CountKeysInText(std::string_view text) {
    size_t n = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '"') continue;
        for (++i; i < text.size() && text[i] != '"'; ++i)
            if (text[i] == '\\') ++i;  // an escaped character, '"' included
        size_t j = i + 1;
        while (j < text.size() &&
               (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r'))
            ++j;
        if (j < text.size() && text[j] == ':') ++n;
    }
    return n;
}

}  // namespace

bool HasDuplicateKeys(std::string_view text, const json::value& parsed) {
    return CountKeysInText(text) != CountKeys(parsed);
}

std::optional<std::string> NonFinitePath(const json::value& v) {
    std::string path;
    if (FindNonFinite(v, path)) return path;
    return std::nullopt;
}

json::storage_ptr JsonArena() { return json::make_shared_resource<json::monotonic_resource>(); }

Result<json::value> ParseJson(std::string_view text, const JsonLimits& limits,
                              json::storage_ptr storage) {
    TB_ASSIGN_OR_RETURN(json::value v, Parse(text, limits, std::move(storage)));
    if (auto path = NonFinitePath(v)) {
        std::string where = path->empty() ? std::string("The number") : *path;
        return Error::Validation(*path, where + " is outside the range of a finite number");
    }
    return v;
}

Result<json::value> ParseStoredJson(std::string_view text, const JsonLimits& limits) {
    auto v = Parse(text, limits);
    if (!v.ok()) v = Parse(NullNonFiniteTokens(text), limits);
    if (!v.ok()) return v;
    NullNonFinite(*v);
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

const json::value* ValueAt(const json::value& root, std::string_view path) {
    const json::value* at = &root;
    while (!path.empty()) {
        size_t dot = path.find('.');
        std::string_view step = path.substr(0, dot);
        path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
        if (at->is_object()) {
            at = at->get_object().if_contains(step);
        } else if (at->is_array()) {
            size_t i = 0;
            auto [p, ec] = std::from_chars(step.data(), step.data() + step.size(), i);
            if (ec != std::errc() || p != step.data() + step.size()) return nullptr;
            at = at->get_array().if_contains(i);
        } else {
            return nullptr;
        }
        if (!at) return nullptr;
    }
    return at;
}

void WithValueShown(Error& error, const json::value& v) {
    const auto* field = error.details.if_contains("field");
    std::string path = field && field->is_string() ? ToLower(field->get_string()) : "";
    for (std::string_view word : {"password", "token", "secret", "key", "code"})
        if (path.find(word) != std::string::npos) return;
    bool scalar = (v.is_string() && v.get_string().size() <= 256) || v.is_bool() || v.is_int64() ||
                  v.is_uint64() || v.is_null() || (v.is_double() && std::isfinite(v.get_double()));
    if (scalar) error.details["value"] = v;
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
            if (!std::isfinite(d)) {
                out += "null";
                return;
            }
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

void AppendJson(std::string& out, const json::value& value) { Write(value, out); }

}  // namespace tb
