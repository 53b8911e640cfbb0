#include "collections/document.h"

#include <gtest/gtest.h>

#include "collections/collection.h"

namespace tb::collections {
namespace {

json::value J(std::string_view text) { return ParseJson(text).value(); }

TEST(MergePatch, FollowsRfc7396) {
    // The examples of RFC 7396, appendix A.
    struct Case {
        const char* target;
        const char* patch;
        const char* result;
    } cases[] = {
        {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
        {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
        {R"({"a":"b"})", R"({"a":null})", R"({})"},
        {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
        {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
        {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
        {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
        {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
        {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
        {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
        {R"({"a":"foo"})", "null", "null"},
        {R"({"a":"foo"})", R"("bar")", R"("bar")"},
        {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
        {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
        {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
    };
    for (const auto& c : cases)
        EXPECT_EQ(MergePatch(J(c.target), J(c.patch)), J(c.result)) << c.patch;
}

TEST(TakeClientBody, DropsSystemFieldsTakesOrgAndRejectsOtherUnderscores) {
    auto ok = TakeClientBody(
        J(R"({"a":1,"_id":"x","_version":9,"_created":"t","_org":"o1"})").as_object());
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(json::value(ok->data), J(R"({"a":1})"));
    ASSERT_TRUE(ok->org.has_value());
    EXPECT_EQ(**ok->org, "o1");
    auto cleared = TakeClientBody(J(R"({"_org":null})").as_object());
    ASSERT_TRUE(cleared.ok());
    ASSERT_TRUE(cleared->org.has_value());
    EXPECT_FALSE(cleared->org->has_value());
    EXPECT_FALSE(TakeClientBody(J(R"({"a":1})").as_object())->org.has_value());

    auto bad = TakeClientBody(J(R"({"_secret":1})").as_object(), "3");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().details.at("field").as_string(), "3._secret");
    auto nul = TakeClientBody(J(R"({"a":{"b":["x","y\u0000"]}})").as_object());
    ASSERT_FALSE(nul.ok());
    EXPECT_EQ(nul.error().details.at("field").as_string(), "a.b.1");
    EXPECT_FALSE(TakeClientBody(J(R"({"_org":5})").as_object()).ok());
}

// Issue #29: "a.b" made dotted query paths ambiguous, "$set" confused MongoDB-style clients.
TEST(TakeClientBody, RefusesDotsAndLeadingDollarsInFieldNamesAtAnyDepth) {
    for (auto [doc, path] : std::initializer_list<std::pair<const char*, const char*>>{
             {R"({"a.b": 1})", "a.b"},
             {R"({"$set": {"x": 1}})", "$set"},
             {R"({"ok": {"deep": {"$inc": 1}}})", "ok.deep.$inc"},
             {R"({"list": [{"fine": 1}, {"x.y": 2}]})", "list.1.x.y"}}) {
        auto r = TakeClientBody(J(doc).as_object());
        ASSERT_FALSE(r.ok()) << doc;
        EXPECT_EQ(r.error().code, ErrorCode::kValidation);
        EXPECT_EQ(r.error().details.at("field"), path) << doc;
    }
    EXPECT_TRUE(
        TakeClientBody(J(R"({"price$": 1, "a_b": {"c-d": "x.y", "s": "$5"}})").as_object()).ok());
}

// A request's body is parsed into one arena (http/pipeline.cpp): its fields move into the
// document instead of being copied, value by value, into the default allocator.
TEST(TakeClientBody, KeepsTheBodysMemoryResource) {
    auto parsed = ParseJson(R"({"a":{"b":[1,"two"]},"c":"three"})", {}, JsonArena());
    ASSERT_TRUE(parsed.ok());
    const json::storage_ptr arena = parsed->storage();
    EXPECT_NE(arena.get(), json::storage_ptr().get());
    auto taken = TakeClientBody(std::move(parsed->as_object()));
    ASSERT_TRUE(taken.ok());
    EXPECT_EQ(taken->data.storage().get(), arena.get());
    EXPECT_EQ(taken->data.at("a").storage().get(), arena.get());
    EXPECT_EQ(json::value(taken->data), J(R"({"a":{"b":[1,"two"]},"c":"three"})"));
}

TEST(RenderDocument, PutsIdFirstKeepsNumbersAsWrittenAndEnforcesTheSize) {
    const SystemFields sys{"id1", 0, 0, "u1", "", 2, std::nullopt};
    auto text = RenderDocument(J(R"({"n":1.5,"m":0.1,"k":3,"s":"é"})").as_object(), sys, {});
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(*text,
              R"({"_id":"id1","n":1.5,"m":0.1,"k":3,"s":"é","_created":"1970-01-01T00:00:00.000Z",)"
              R"("_changed":"1970-01-01T00:00:00.000Z","_createdby":"u1","_changedby":null,)"
              R"("_version":2,"_org":null})");
    EXPECT_EQ(ClientFields(ParseJson(*text).value().as_object()),
              J(R"({"n":1.5,"m":0.1,"k":3,"s":"é"})").as_object());
    const SystemFields owned{"id2", 5, 6, "u\"1", "u2", 3, "o\\1"};
    EXPECT_EQ(*RenderDocument(J(R"({"q":"a\"b"})").as_object(), owned, {}),
              R"({"_id":"id2","q":"a\"b","_created":"1970-01-01T00:00:00.005Z",)"
              R"("_changed":"1970-01-01T00:00:00.006Z","_createdby":"u\"1","_changedby":"u2",)"
              R"("_version":3,"_org":"o\\1"})");
    auto big = RenderDocument(J(R"({"s":"0123456789"})").as_object(), sys, {.max_bytes = 100});
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.error().code, ErrorCode::kPayloadTooLarge);
}

TEST(CollectionDefinition, NamesPathsRulesAndIndexes) {
    for (const char* good : {"a", "books", "a_b-c9",
                             "x123456789012345678901234567890123456789012345678901234567890ab"})
        EXPECT_TRUE(CheckCollectionName(good).ok()) << good;
    for (const char* bad : {"", "A", "1a", "a b", "a.b", "é", "-a",
                            "x1234567890123456789012345678901234567890123456789012345678901abc"})
        EXPECT_FALSE(CheckCollectionName(bad).ok()) << bad;
    EXPECT_TRUE(IsFieldPath("a.b_c.D9"));
    for (const char* bad : {"", "a..b", "1a", "a-b", ".a", "a.", "a.b.c.d.e.f.g.h.i"})
        EXPECT_FALSE(IsFieldPath(bad)) << bad;

    auto rules = ParseRules(J(R"({"read":"public","delete":"admin"})"));
    ASSERT_TRUE(rules.ok());
    EXPECT_EQ(
        json::value(RulesJson(*rules)),
        J(R"({"list":"member","read":"public","create":"member","update":"member","delete":"admin"})"));
    EXPECT_EQ(ParseRules(J(R"({"write":"member"})")).error().details.at("field").as_string(),
              "rules.write");
    EXPECT_EQ(ParseRules(J(R"({"read":"everyone"})")).error().details.at("field").as_string(),
              "rules.read");

    auto indexes = ParseIndexes(J(R"([{"fields":["tag","-n"],"unique":true}])"));
    ASSERT_TRUE(indexes.ok());
    EXPECT_EQ(json::value(IndexesJson(*indexes)), J(R"([{"fields":["tag","-n"],"unique":true}])"));
    EXPECT_EQ(
        ParseIndexes(J(R"([{"fields":["a","b..c"]}])")).error().details.at("field").as_string(),
        "indexes.0.fields.1");
    EXPECT_EQ(ParseIndexes(J(R"([{"fields":["a"],"sparse":true}])"))
                  .error()
                  .details.at("field")
                  .as_string(),
              "indexes.0.sparse");
    EXPECT_FALSE(ParseIndexes(J(R"([{"fields":[]}])")).ok());
}

}  // namespace
}  // namespace tb::collections
