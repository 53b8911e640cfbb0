#include "api/openapi30.h"

#include "api/openapi.h"

namespace tb::api {

namespace {

bool IsNullSchema(const json::value& v) {
    if (!v.is_object()) return false;
    const auto& o = v.get_object();
    const auto* type = o.if_contains("type");
    return o.size() == 1 && type && type->is_string() && type->get_string() == "null";
}

json::value Schemaish(const json::value& v, const json::value& root);

// The one type of the schema a local $ref names (following $refs), or null.
const json::value* TypeOfRef(const json::value& branch, const json::value& root, int depth = 0) {
    const auto* ref = branch.is_object() ? branch.get_object().if_contains("$ref") : nullptr;
    if (!ref || !ref->is_string() || depth > 8) return nullptr;
    std::string_view pointer = ref->get_string();
    if (!pointer.starts_with("#/")) return nullptr;
    boost::system::error_code ec;
    const json::value* target = root.find_pointer(pointer.substr(1), ec);
    if (!target || !target->is_object()) return nullptr;
    const auto* type = target->get_object().if_contains("type");
    if (type && type->is_string()) return type;
    if (type && type->is_array()) {
        for (const auto& t : type->get_array())
            if (t.is_string() && t.get_string() != "null") return &t;
    }
    return TypeOfRef(*target, root, depth + 1);
}

// One JSON Schema (or any object of the document): its own keywords first, then its members.
json::object DowngradeObject(const json::object& in, const json::value& root) {
    json::object out;
    bool nullable = false;
    for (const auto& [key, value] : in) {
        if (key == "example" || (key == "examples" && value.is_object())) {
            out[key] = value;  // example values are data, not schemas
        } else if (key == "type" && value.is_array()) {
            json::array types;
            for (const auto& t : value.get_array()) {
                if (t.is_string() && t.get_string() == "null") {
                    nullable = true;
                } else {
                    types.push_back(t);
                }
            }
            if (types.size() == 1) {
                out["type"] = types[0];
            } else if (types.size() > 1) {
                // 3.0 reads `nullable` only beside a `type`: each branch carries its own.
                json::array any;
                for (const auto& t : types) {
                    json::object branch{{"type", t}};
                    if (nullable) branch["nullable"] = true;
                    any.push_back(std::move(branch));
                }
                out["anyOf"] = std::move(any);
                nullable = false;
            }
        } else if ((key == "oneOf" || key == "anyOf") && value.is_array()) {
            json::array branches;
            for (const auto& b : value.get_array()) {
                if (IsNullSchema(b)) {
                    nullable = true;
                } else {
                    branches.push_back(Schemaish(b, root));
                }
            }
            if (branches.size() == 1) {
                // 3.0 reads `nullable` only beside a `type`: the referenced schema's.
                if (nullable && !in.contains("type")) {
                    if (const json::value* type = TypeOfRef(branches[0], root)) out["type"] = *type;
                }
                out["allOf"] = std::move(branches);
            } else {
                out[key] = std::move(branches);
            }
        } else if (key == "const") {
            out["enum"] = json::array{value};
        } else if (key == "examples" && value.is_array()) {
            if (!value.get_array().empty()) out["example"] = value.get_array().front();
        } else if ((key == "exclusiveMinimum" || key == "exclusiveMaximum") && value.is_number()) {
            out[key == "exclusiveMinimum" ? "minimum" : "maximum"] = value;
            out[key] = true;
        } else {
            out[key] = Schemaish(value, root);
        }
    }
    if (nullable) out["nullable"] = true;
    // A $ref with siblings: 3.0 ignores the siblings, so the reference goes inside allOf.
    if (const auto* ref = out.if_contains("$ref"); ref && out.size() > 1) {
        json::object wrapped;
        for (const auto& [key, value] : out)
            if (key != "$ref" && key != "description") wrapped[key] = value;
        if (const auto* d = out.if_contains("description")) wrapped["description"] = *d;
        json::array all{json::object{{"$ref", *ref}}};
        if (auto* existing = wrapped.if_contains("allOf"); existing && existing->is_array())
            for (const auto& b : existing->get_array()) all.push_back(b);
        wrapped["allOf"] = std::move(all);
        return wrapped;
    }
    return out;
}

json::value Schemaish(const json::value& v, const json::value& root) {
    if (v.is_object()) return DowngradeObject(v.get_object(), root);
    if (v.is_array()) {
        json::array a;
        for (const auto& item : v.get_array()) a.push_back(Schemaish(item, root));
        return a;
    }
    return v;
}

}  // namespace

json::value DowngradeToOpenApi30(const json::value& v31) {
    if (!v31.is_object()) return v31;
    json::object out;
    for (const auto& [key, value] : v31.get_object()) {
        if (key == "openapi") {
            out[key] = "3.0.3";
        } else if (key == "webhooks" || key == "jsonSchemaDialect") {
            continue;
        } else if (key == "info" && value.is_object()) {
            json::object info = value.get_object();
            info.erase("summary");
            if (auto* license = info.if_contains("license"); license && license->is_object()) {
                auto& l = license->as_object();
                if (const auto* id = l.if_contains("identifier"); id && id->is_string()) {
                    if (!l.contains("url"))
                        l["url"] =
                            "https://spdx.org/licenses/" + std::string(id->get_string()) + ".html";
                    l.erase("identifier");
                }
            }
            out[key] = std::move(info);
        } else if (key == "paths" || key == "components") {
            out[key] = Schemaish(value, v31);
        } else {
            out[key] = value;
        }
    }
    return out;
}

const std::string& OpenApi30Json() {
    static const std::string kJson = WriteJson(DowngradeToOpenApi30(OpenApiDocument()));
    return kJson;
}

}  // namespace tb::api
