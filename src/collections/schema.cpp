#include "collections/schema.h"

#include <re2/re2.h>

#include <map>
#include <optional>

#include "common/clock.h"
#include "common/email.h"
#include "common/strings.h"

namespace tb::collections {

namespace {

enum TypeBit : unsigned {
    kObject = 1,
    kArray = 2,
    kString = 4,
    kNumber = 8,
    kInteger = 16,
    kBoolean = 32,
    kNull = 64,
};

std::optional<unsigned> TypeBitOf(std::string_view name) {
    static const std::map<std::string_view, unsigned> kTypes = {
        {"object", kObject},   {"array", kArray},     {"string", kString}, {"number", kNumber},
        {"integer", kInteger}, {"boolean", kBoolean}, {"null", kNull}};
    auto it = kTypes.find(name);
    if (it == kTypes.end()) return std::nullopt;
    return it->second;
}

std::string Join(const std::string& base, std::string_view key) {
    return base.empty() ? std::string(key) : base + "." + std::string(key);
}

bool IsNumber(const json::value& v) { return v.is_int64() || v.is_uint64() || v.is_double(); }

double AsNumber(const json::value& v) {
    if (v.is_int64()) return static_cast<double>(v.get_int64());
    if (v.is_uint64()) return static_cast<double>(v.get_uint64());
    return v.get_double();
}

bool IsInteger(const json::value& v) {
    if (v.is_int64() || v.is_uint64()) return true;
    return v.is_double() && std::isfinite(v.get_double()) &&
           v.get_double() == std::floor(v.get_double());
}

}  // namespace

struct Schema::Node {
    unsigned types = 0;  // 0: any
    std::map<std::string, std::unique_ptr<Node>, std::less<>> properties;
    std::vector<std::string> required;
    std::optional<json::array> enumeration;
    std::optional<double> minimum, maximum;
    std::optional<int64_t> min_length, max_length;
    std::shared_ptr<RE2> pattern;
    std::unique_ptr<Node> items;
    bool additional_allowed = true;
    std::unique_ptr<Node> additional;  // a schema for additional properties
    std::string format;                // "", "email", "date-time"

    static Result<std::unique_ptr<Node>> Compile(const json::value& v, const std::string& at,
                                                 int depth);
    Status Check(const json::value& v, const std::string& path) const;
};

Result<std::unique_ptr<Schema::Node>> Schema::Node::Compile(const json::value& v,
                                                            const std::string& at, int depth) {
    if (depth > 32) return Error::Validation(at, "Schema nesting is too deep");
    if (v.is_bool()) {  // true: anything; false: nothing (as additionalProperties: false)
        auto node = std::make_unique<Node>();
        if (!v.get_bool()) node->types = 0x80;  // no type matches
        return node;
    }
    if (!v.is_object()) return Error::Validation(at, "A schema is an object");
    auto node = std::make_unique<Node>();
    for (const auto& kv : v.get_object()) {
        std::string_view key = kv.key();
        const json::value& val = kv.value();
        std::string here = at + "." + std::string(key);
        auto non_negative = [&](std::optional<int64_t>& out) -> Status {
            if (!val.is_int64() || val.get_int64() < 0)
                return Error::Validation(here, std::string(key) + " is a non-negative integer");
            out = val.get_int64();
            return {};
        };
        if (key == "type") {
            json::array names;
            if (val.is_string()) {
                names.push_back(val);
            } else if (val.is_array()) {
                names = val.get_array();
            } else {
                return Error::Validation(here, "type is a type name or a list of them");
            }
            for (const auto& n : names) {
                auto bit = n.is_string() ? TypeBitOf(n.get_string()) : std::nullopt;
                if (!bit) return Error::Validation(here, "Unknown type");
                node->types |= *bit;
            }
        } else if (key == "properties") {
            if (!val.is_object()) return Error::Validation(here, "properties is an object");
            for (const auto& p : val.get_object()) {
                // The names documents may hold (collections/document.h): no '.', no leading $.
                std::string_view name = p.key();
                if (name.find('.') != std::string_view::npos || name.starts_with('$'))
                    return Error::Validation(here + "." + std::string(name),
                                             "Property names must not contain '.' or start "
                                             "with '$'");
                TB_ASSIGN_OR_RETURN(
                    auto child, Compile(p.value(), here + "." + std::string(p.key()), depth + 1));
                node->properties.emplace(std::string(p.key()), std::move(child));
            }
        } else if (key == "required") {
            if (!val.is_array()) return Error::Validation(here, "required is a list of names");
            for (const auto& n : val.get_array()) {
                if (!n.is_string()) return Error::Validation(here, "required is a list of names");
                node->required.emplace_back(n.get_string());
            }
        } else if (key == "enum") {
            if (!val.is_array() || val.get_array().empty())
                return Error::Validation(here, "enum is a non-empty list");
            node->enumeration = val.get_array();
        } else if (key == "minimum" || key == "maximum") {
            if (!IsNumber(val)) return Error::Validation(here, std::string(key) + " is a number");
            (key == "minimum" ? node->minimum : node->maximum) = AsNumber(val);
        } else if (key == "minLength") {
            TB_RETURN_IF_ERROR(non_negative(node->min_length));
        } else if (key == "maxLength") {
            TB_RETURN_IF_ERROR(non_negative(node->max_length));
        } else if (key == "pattern") {
            if (!val.is_string()) return Error::Validation(here, "pattern is a string");
            RE2::Options options;
            options.set_log_errors(false);
            auto re = std::make_shared<RE2>(std::string(val.get_string()), options);
            if (!re->ok()) return Error::Validation(here, "Invalid pattern: " + re->error());
            node->pattern = std::move(re);
        } else if (key == "items") {
            TB_ASSIGN_OR_RETURN(node->items, Compile(val, here, depth + 1));
        } else if (key == "additionalProperties") {
            if (val.is_bool()) {
                node->additional_allowed = val.get_bool();
            } else {
                TB_ASSIGN_OR_RETURN(node->additional, Compile(val, here, depth + 1));
            }
        } else if (key == "format") {
            if (!val.is_string() ||
                (val.get_string() != "email" && val.get_string() != "date-time"))
                return Error::Validation(here, "format is email or date-time");
            node->format = std::string(val.get_string());
        } else if (key == "title" || key == "description" || key == "default" ||
                   key == "examples" || key == "$schema" || key == "$comment") {
            // Annotations: no effect on validation.
        } else {
            return Error::Validation(here, "Unsupported schema keyword: " + std::string(key));
        }
    }
    return node;
}

Status Schema::Node::Check(const json::value& v, const std::string& path) const {
    auto fail = [&](std::string message) {
        Error e = Error::Validation(path, std::move(message));
        WithValueShown(e, v);
        return e;
    };
    if (types) {
        unsigned have = 0;
        switch (v.kind()) {
            case json::kind::object:
                have = kObject;
                break;
            case json::kind::array:
                have = kArray;
                break;
            case json::kind::string:
                have = kString;
                break;
            case json::kind::bool_:
                have = kBoolean;
                break;
            case json::kind::null:
                have = kNull;
                break;
            default:
                have = kNumber | (IsInteger(v) ? kInteger : 0u);
        }
        if (!(types & have)) {
            if (types == 0x80) return fail("No value is allowed here");
            return fail("Wrong type");
        }
    }
    if (enumeration &&
        std::find(enumeration->begin(), enumeration->end(), v) == enumeration->end()) {
        return fail("Not one of the allowed values");
    }
    if (IsNumber(v)) {
        double d = AsNumber(v);
        if (minimum && d < *minimum)
            return fail("Must be at least " + WriteJson(json::value(*minimum)));
        if (maximum && d > *maximum)
            return fail("Must be at most " + WriteJson(json::value(*maximum)));
    }
    if (v.is_string()) {
        std::string_view s = v.get_string();
        auto length = static_cast<int64_t>(Utf8Length(s));
        if (min_length && length < *min_length)
            return fail("Must be at least " + std::to_string(*min_length) + " characters");
        if (max_length && length > *max_length)
            return fail("Must be at most " + std::to_string(*max_length) + " characters");
        if (pattern && !RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), *pattern))
            return fail("Does not match the pattern");
        if (format == "email" && !NormalizeEmail(s).ok()) return fail("Not an email address");
        if (format == "date-time" && !ParseRfc3339(s)) return fail("Not an RFC 3339 date-time");
    }
    if (v.is_object()) {
        const auto& o = v.get_object();
        for (const auto& name : required) {
            if (!o.contains(name))
                return Error::Validation(Join(path, name), name + " is required");
        }
        for (const auto& kv : o) {
            std::string child = Join(path, kv.key());
            auto it = properties.find(kv.key());
            if (it != properties.end()) {
                TB_RETURN_IF_ERROR(it->second->Check(kv.value(), child));
            } else if (!additional_allowed) {
                return Error::Validation(child, "Unknown field: " + std::string(kv.key()));
            } else if (additional) {
                TB_RETURN_IF_ERROR(additional->Check(kv.value(), child));
            }
        }
    }
    if (v.is_array() && items) {
        const auto& a = v.get_array();
        for (size_t i = 0; i < a.size(); ++i)
            TB_RETURN_IF_ERROR(items->Check(a[i], Join(path, std::to_string(i))));
    }
    return {};
}

Schema::~Schema() = default;

Result<std::shared_ptr<const Schema>> Schema::Compile(const json::value& value) {
    auto schema = std::make_shared<Schema>();
    TB_ASSIGN_OR_RETURN(schema->root_, Node::Compile(value, "schema", 0));
    return std::shared_ptr<const Schema>(std::move(schema));
}

Status Schema::Validate(const json::object& document) const {
    json::object data;
    for (const auto& kv : document) {
        if (kv.key().empty() || kv.key()[0] != '_') data.emplace(kv.key(), kv.value());
    }
    return root_->Check(data, "");
}

}  // namespace tb::collections
