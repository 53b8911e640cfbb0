#include "collections/schema.h"

#include <gtest/gtest.h>

namespace tb::collections {
namespace {

std::shared_ptr<const Schema> Compile(std::string_view text) {
    auto s = Schema::Compile(ParseJson(text).value());
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    return s.ok() ? *s : nullptr;
}

// The failing path of a document, or "ok".
std::string Check(const Schema& s, std::string_view doc) {
    auto st = s.Validate(ParseJson(doc).value().as_object());
    if (st.ok()) return "ok";
    EXPECT_EQ(st.error().code, ErrorCode::kValidation);
    return std::string(st.error().details.at("field").as_string());
}

TEST(Schema, RejectsUnknownKeywordsAndBadValuesNamingThePath) {
    struct Case {
        const char* schema;
        const char* field;
    } cases[] = {
        {R"({"foo": 1})", "schema.foo"},
        // Issue #29: property names documents may not hold.
        {R"({"properties": {"a.b": {"type": "string"}}})", "schema.properties.a.b"},
        {R"({"properties": {"x": {"properties": {"$set": {}}}}})",
         "schema.properties.x.properties.$set"},
        {R"({"properties": {"a": {"minLenght": 1}}})", "schema.properties.a.minLenght"},
        {R"({"type": "text"})", "schema.type"},
        {R"({"type": ["string", 3]})", "schema.type"},
        {R"({"pattern": "(unclosed"})", "schema.pattern"},
        {R"({"minLength": -1})", "schema.minLength"},
        {R"({"enum": []})", "schema.enum"},
        {R"({"required": "a"})", "schema.required"},
        {R"({"format": "uri"})", "schema.format"},
        {R"({"items": 5})", "schema.items"},
        {R"("string")", "schema"},
    };
    for (const auto& c : cases) {
        auto r = Schema::Compile(ParseJson(c.schema).value());
        ASSERT_FALSE(r.ok()) << c.schema;
        EXPECT_EQ(r.error().details.at("field").as_string(), c.field) << c.schema;
    }
    EXPECT_TRUE(
        Schema::Compile(ParseJson(R"({"title": "t", "$schema": "x", "default": 1})").value()).ok());
}

TEST(Schema, ChecksTypesRequiredAndNestedPaths) {
    auto s = Compile(R"({
        "type": "object",
        "required": ["title"],
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": 5},
            "n": {"type": "integer", "minimum": 0, "maximum": 10},
            "price": {"type": ["number", "null"]},
            "address": {"type": "object", "properties": {"city": {"type": "string"}},
                        "additionalProperties": false},
            "items": {"type": "array", "items": {"type": "object",
                      "properties": {"sku": {"pattern": "^[A-Z]{3}$"}}}},
            "kind": {"enum": ["a", "b", 3]},
            "email": {"format": "email"},
            "at": {"format": "date-time"}
        }})");
    EXPECT_EQ(Check(*s, R"({"title": "ok"})"), "ok");
    EXPECT_EQ(Check(*s, R"({})"), "title");
    EXPECT_EQ(Check(*s, R"({"title": ""})"), "title");
    EXPECT_EQ(Check(*s, R"({"title": "abcdef"})"), "title");
    EXPECT_EQ(Check(*s, R"({"title": "ééééé"})"), "ok");  // code points, not bytes
    EXPECT_EQ(Check(*s, R"({"title": 5})"), "title");
    EXPECT_EQ(Check(*s, R"({"title": "t", "n": 1.5})"), "n");
    EXPECT_EQ(Check(*s, R"({"title": "t", "n": 2.0})"), "ok");
    EXPECT_EQ(Check(*s, R"({"title": "t", "n": -1})"), "n");
    EXPECT_EQ(Check(*s, R"({"title": "t", "n": 11})"), "n");
    EXPECT_EQ(Check(*s, R"({"title": "t", "price": null})"), "ok");
    EXPECT_EQ(Check(*s, R"({"title": "t", "price": "1"})"), "price");
    EXPECT_EQ(Check(*s, R"({"title": "t", "address": {"city": 1}})"), "address.city");
    EXPECT_EQ(Check(*s, R"({"title": "t", "address": {"zip": "x"}})"), "address.zip");
    EXPECT_EQ(Check(*s, R"({"title": "t", "items": [{"sku": "ABC"}, {"sku": "abc"}]})"),
              "items.1.sku");
    EXPECT_EQ(Check(*s, R"({"title": "t", "kind": 3})"), "ok");
    EXPECT_EQ(Check(*s, R"({"title": "t", "kind": "c"})"), "kind");
    EXPECT_EQ(Check(*s, R"({"title": "t", "email": "a@b.co"})"), "ok");
    EXPECT_EQ(Check(*s, R"({"title": "t", "email": "nope"})"), "email");
    EXPECT_EQ(Check(*s, R"({"title": "t", "at": "2026-01-02T03:04:05Z"})"), "ok");
    EXPECT_EQ(Check(*s, R"({"title": "t", "at": "yesterday"})"), "at");
}

TEST(Schema, IgnoresSystemFieldsAndHonoursAdditionalProperties) {
    auto closed = Compile(R"({"properties": {"a": {}}, "additionalProperties": false})");
    EXPECT_EQ(Check(*closed, R"({"a": 1, "_org": "x", "_id": "y"})"), "ok");
    EXPECT_EQ(Check(*closed, R"({"a": 1, "b": 2})"), "b");
    auto typed = Compile(R"({"additionalProperties": {"type": "integer"}})");
    EXPECT_EQ(Check(*typed, R"({"a": 1, "b": 2})"), "ok");
    EXPECT_EQ(Check(*typed, R"({"a": 1, "b": "2"})"), "b");
}

}  // namespace
}  // namespace tb::collections
