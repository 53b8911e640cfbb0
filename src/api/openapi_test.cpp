#include "api/openapi.h"

#include <gtest/gtest.h>

#include <set>

#include "api/routes.h"

namespace tb::api {
namespace {

TEST(YamlToJson, TypesPlainScalarsAndKeepsQuotedOnesText) {
    auto v = YamlToJson(
        "a: 1\nb: 1.5\nc: true\nd: null\ne: '1'\nf: \"true\"\ng: text\nh: [x, 2]\ni: 1.0.1\n");
    ASSERT_TRUE(v.ok()) << v.error().internal;
    const auto& o = v->as_object();
    EXPECT_EQ(o.at("a").as_int64(), 1);
    EXPECT_DOUBLE_EQ(o.at("b").as_double(), 1.5);
    EXPECT_EQ(o.at("c").as_bool(), true);
    EXPECT_TRUE(o.at("d").is_null());
    EXPECT_EQ(o.at("e").as_string(), "1");
    EXPECT_EQ(o.at("f").as_string(), "true");
    EXPECT_EQ(o.at("g").as_string(), "text");
    EXPECT_EQ(o.at("h").as_array().at(1).as_int64(), 2);
    EXPECT_EQ(o.at("i").as_string(), "1.0.1");
    EXPECT_FALSE(YamlToJson("a: [unclosed").ok());
}

// A document describes exactly its routes of the server (issue #8): a route missing from
// the document, or a documented operation the server lacks, fails here.
void ExpectDocumentsExactly(const json::value& doc, const std::vector<std::string>& operations) {
    ASSERT_TRUE(doc.is_object());
    EXPECT_EQ(doc.at("openapi").as_string().subview().substr(0, 4), "3.1.");
    std::set<std::string> documented;
    std::set<std::string> operation_ids;
    for (const auto& [path, item] : doc.at("paths").as_object()) {
        for (const auto& [method, op] : item.as_object()) {
            static const std::set<std::string> kMethods = {"get", "post", "put", "patch", "delete"};
            if (!kMethods.count(std::string(method))) continue;
            std::string upper(method);
            for (char& c : upper)
                c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            documented.insert(upper + " " + std::string(path));
            ASSERT_TRUE(op.is_object());
            const auto* id = op.as_object().if_contains("operationId");
            ASSERT_TRUE(id && id->is_string()) << upper << " " << path << " lacks an operationId";
            EXPECT_TRUE(operation_ids.insert(std::string(id->as_string())).second)
                << "duplicate operationId " << id->as_string();
            EXPECT_TRUE(op.as_object().contains("responses")) << upper << " " << path;
        }
    }
    std::set<std::string> served;
    for (auto& op : operations) served.insert(op);
    for (const auto& op : served) EXPECT_TRUE(documented.count(op)) << "not documented: " << op;
    for (const auto& op : documented) EXPECT_TRUE(served.count(op)) << "not served: " << op;
}

TEST(OpenApi, DocumentsExactlyTheRouteTable) {
    ExpectDocumentsExactly(OpenApiDocument(), Operations());
}

TEST(OpenApi, CompatDocumentDocumentsExactlyTheDialectRoutes) {
    ExpectDocumentsExactly(CompatOpenApiDocument(), CompatOperations());
}

TEST(OpenApi, ServesTheSameDocumentAsJson) {
    auto parsed = ParseJson(OpenApiJson(), {.max_depth = 256});
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, OpenApiDocument());
    auto compat = ParseJson(CompatOpenApiJson(), {.max_depth = 256});
    ASSERT_TRUE(compat.ok());
    EXPECT_EQ(*compat, CompatOpenApiDocument());
}

}  // namespace
}  // namespace tb::api
