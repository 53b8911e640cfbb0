#include "api/openapi30.h"

#include <gtest/gtest.h>

#include <functional>

#include "api/openapi.h"

namespace tb::api {
namespace {

json::value Down(std::string_view text) { return DowngradeToOpenApi30(json::parse(text)); }

TEST(OpenApi30, RewritesTheJsonSchemaFeaturesOf31) {
    auto v = Down(R"({
      "openapi": "3.1.0",
      "info": {"title": "t", "version": "1", "summary": "s",
               "license": {"name": "MIT", "identifier": "MIT"}},
      "webhooks": {}, "jsonSchemaDialect": "x",
      "paths": {},
      "components": {"schemas": {
        "A": {"type": ["string", "null"], "examples": ["a", "b"]},
        "B": {"oneOf": [{"$ref": "#/components/schemas/A"}, {"type": "null"}], "description": "d"},
        "C": {"const": true, "exclusiveMinimum": 0},
        "D": {"$ref": "#/components/schemas/A", "description": "only a description"},
        "E": {"type": ["string", "integer"]},
        "G": {"type": ["object", "boolean", "null"]},
        "F": {"type": "object", "properties": {"type": {"type": "string"}},
              "example": {"type": ["kept", "null"]}}
      }}
    })");
    const auto& s = v.at("components").at("schemas");
    EXPECT_EQ(v.at("openapi"), "3.0.3");
    EXPECT_FALSE(v.as_object().contains("webhooks"));
    EXPECT_FALSE(v.as_object().contains("jsonSchemaDialect"));
    EXPECT_FALSE(v.at("info").as_object().contains("summary"));
    EXPECT_EQ(v.at("info").at("license").at("url"), "https://spdx.org/licenses/MIT.html");
    EXPECT_FALSE(v.at("info").at("license").as_object().contains("identifier"));
    EXPECT_EQ(s.at("A"), json::parse(R"({"type": "string", "example": "a", "nullable": true})"));
    // 3.0 reads nullable only beside a type: the referenced schema's.
    EXPECT_EQ(s.at("B"),
              json::parse(R"({"type": "string", "allOf": [{"$ref": "#/components/schemas/A"}],
                                          "description": "d", "nullable": true})"));
    EXPECT_EQ(s.at("C"),
              json::parse(R"({"enum": [true], "minimum": 0, "exclusiveMinimum": true})"));
    EXPECT_EQ(s.at("D"), json::parse(R"({"description": "only a description",
                                          "allOf": [{"$ref": "#/components/schemas/A"}]})"));
    EXPECT_EQ(s.at("E"), json::parse(R"({"anyOf": [{"type": "string"}, {"type": "integer"}]})"));
    EXPECT_EQ(s.at("G"), json::parse(R"({"anyOf": [{"type": "object", "nullable": true},
                                                   {"type": "boolean", "nullable": true}]})"));
    // A property named "type" is a schema, and example values are data: both kept.
    EXPECT_EQ(s.at("F").at("properties").at("type"), json::parse(R"({"type": "string"})"));
    EXPECT_EQ(s.at("F").at("example"), json::parse(R"({"type": ["kept", "null"]})"));
}

// The served document: nothing of 3.1 is left in it.
TEST(OpenApi30, TheDocumentHasNo31Constructs) {
    json::value v = json::parse(OpenApi30Json());
    EXPECT_EQ(v.at("openapi"), "3.0.3");
    EXPECT_EQ(v.at("paths").as_object().size(), OpenApiDocument().at("paths").as_object().size());
    std::vector<std::string> found;
    std::function<void(const json::value&, const std::string&)> walk = [&](const json::value& x,
                                                                           const std::string& at) {
        if (x.is_object()) {
            for (const auto& [k, child] : x.get_object()) {
                if (k == "example" || k == "examples") continue;
                if (k == "const" || (k == "type" && !child.is_string() && !child.is_object()))
                    found.push_back(at + "/" + std::string(k));
                walk(child, at + "/" + std::string(k));
            }
        } else if (x.is_array()) {
            for (const auto& child : x.get_array()) walk(child, at + "/*");
        }
    };
    walk(v, "");
    EXPECT_TRUE(found.empty()) << found.front();
}

}  // namespace
}  // namespace tb::api
