#include "query/list_query.h"

#include <gtest/gtest.h>

namespace tb::query {
namespace {

Resource People() {
    return Resource{"people",
                    "p.id",
                    {{"id", "p.id", Type::kId},
                     {"name", "p.name", Type::kText},
                     {"age", "p.age", Type::kInt, true},
                     {"active", "p.active", Type::kBool},
                     {"created_at", "p.created_at", Type::kTime}},
                    {"purge"}};
}

const CursorCodec kCodec("test-secret");

Result<ListQuery> Parse(std::string_view qs) {
    static const Resource r = People();
    return ParseList(qs, r, kCodec);
}

std::string FieldOf(const Result<ListQuery>& q) {
    if (q.ok()) return "<ok>";
    auto it = q.error().details.find("field");
    return it == q.error().details.end() ? "" : std::string(it->value().as_string());
}

TEST(ParseList, Defaults) {
    auto q = Parse("");
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(q->page, 1);
    EXPECT_EQ(q->per_page, 20);
    EXPECT_TRUE(q->count);
    EXPECT_FALSE(q->cursor_mode);
    EXPECT_TRUE(q->sort.empty());
}

TEST(ParseList, PagingBounds) {
    EXPECT_TRUE(Parse("page=3&per_page=100").ok());
    EXPECT_EQ(FieldOf(Parse("per_page=101")), "per_page");
    EXPECT_EQ(FieldOf(Parse("per_page=0")), "per_page");
    EXPECT_EQ(FieldOf(Parse("page=0")), "page");
    EXPECT_EQ(FieldOf(Parse("page=-1")), "page");
    EXPECT_EQ(FieldOf(Parse("page=1e3")), "page");
    EXPECT_EQ(FieldOf(Parse("page=99999999999999999999999")), "page");
    EXPECT_EQ(FieldOf(Parse("page=1&page=2")), "page");
}

// Issue #29: deep offsets read and discard every row before them; past 10,000 -> cursors.
TEST(ParseList, OffsetsAreCapped) {
    EXPECT_TRUE(Parse("page=501").ok());               // skips 10,000 rows at 20 a page
    EXPECT_TRUE(Parse("page=101&per_page=100").ok());  // 10,000 at 100 a page
    EXPECT_EQ(FieldOf(Parse("page=502")), "page");
    EXPECT_EQ(FieldOf(Parse("page=102&per_page=100")), "page");
    EXPECT_EQ(FieldOf(Parse("page=100000")), "page");
    auto deep = Parse("page=999&per_page=100");
    ASSERT_FALSE(deep.ok());
    EXPECT_NE(deep.error().message.find("after="), std::string::npos) << deep.error().message;
}

TEST(ParseList, EqualityFiltersAreTyped) {
    auto q = Parse("name=Ann&active=true&age=42&created_at=2026-05-07T12:00:00.000Z");
    ASSERT_TRUE(q.ok()) << q.error().message;
    ASSERT_EQ(q->conditions.size(), 4u);
    EXPECT_EQ(std::get<std::string>(q->conditions[0].values[0]), "Ann");
    EXPECT_EQ(std::get<int64_t>(q->conditions[1].values[0]), 1);
    EXPECT_EQ(std::get<int64_t>(q->conditions[2].values[0]), 42);
    EXPECT_EQ(std::get<int64_t>(q->conditions[3].values[0]), 1778155200000);
    EXPECT_EQ(FieldOf(Parse("active=yes")), "active");
    EXPECT_EQ(FieldOf(Parse("age=forty")), "age");
    EXPECT_EQ(FieldOf(Parse("created_at=yesterday")), "created_at");
    // Numeric text on a text field is text.
    EXPECT_TRUE(Parse("name=123").ok());
    auto null = Parse("age=null");
    ASSERT_TRUE(null.ok());
    EXPECT_TRUE(std::holds_alternative<std::monostate>(null->conditions[0].values[0]));
}

TEST(ParseList, Operators) {
    auto q = Parse("age[gt]=5&age[lte]=10&name[in]=a,b&name[contains]=jo&age[exists]=false");
    ASSERT_TRUE(q.ok()) << q.error().message;
    EXPECT_EQ(q->conditions[0].op, Op::kGt);
    EXPECT_EQ(q->conditions[2].values.size(), 2u);
    EXPECT_EQ(q->conditions[3].op, Op::kContains);
    EXPECT_EQ(std::get<int64_t>(q->conditions[4].values[0]), 0);
    EXPECT_EQ(FieldOf(Parse("age[regex]=x")), "age[regex]");
    EXPECT_EQ(FieldOf(Parse("age[contains]=1")), "age[contains]");
    EXPECT_EQ(FieldOf(Parse("age[gt]=null")), "age[gt]");
    EXPECT_EQ(FieldOf(Parse("name[in]=")), "name[in]");
    EXPECT_EQ(FieldOf(Parse("name[gt")), "name[gt");
    EXPECT_EQ(FieldOf(Parse("age[exists]=maybe")), "age[exists]");
}

TEST(ParseList, UnknownAndHostileNamesAreRefused) {
    for (const char* qs :
         {"nope=1", "password_hash=x", "name;DROP%20TABLE%20users=1", "%27%20OR%201%3D1--=1",
          "name%00=1", "a.b=1", "__proto__[eq]=1", "1name=1", "q=%7B%7D"}) {
        auto q = Parse(qs);
        EXPECT_FALSE(q.ok()) << qs;
        if (!q.ok()) {
            EXPECT_EQ(q.error().code, ErrorCode::kBadRequest) << qs;
        }
    }
}

// Found by list_query_fuzz: a parameter without a name refused with no details.field.
TEST(ParseList, EveryRefusalNamesWhereItIs) {
    for (const char* qs : {"=%FF", "=1", "=", "name=%FF&=x"}) {
        auto q = Parse(qs);
        ASSERT_FALSE(q.ok()) << qs;
        EXPECT_FALSE(FieldOf(q).empty()) << qs;
    }
    EXPECT_EQ(FieldOf(Parse("=%FF")), "query");
}

TEST(ParseList, HostileValuesStayValues) {
    auto q = Parse("name=%27%3B%20DROP%20TABLE%20users%3B--");
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(std::get<std::string>(q->conditions[0].values[0]), "'; DROP TABLE users;--");
}

TEST(ParseList, LimitsOnSizes) {
    std::string many;
    for (int i = 0; i < 40; ++i) many += "name=a&";
    EXPECT_FALSE(Parse(many).ok());
    std::string in = "name[in]=";
    for (int i = 0; i < 101; ++i) in += "a,";
    EXPECT_EQ(FieldOf(Parse(in)), "name[in]");
    EXPECT_FALSE(Parse("name=" + std::string(2000, 'x')).ok());
}

TEST(ParseList, SortAndFields) {
    auto q = Parse("sort=name,-created_at&fields=name,id");
    ASSERT_TRUE(q.ok());
    ASSERT_EQ(q->sort.size(), 2u);
    EXPECT_FALSE(q->sort[0].descending);
    EXPECT_TRUE(q->sort[1].descending);
    EXPECT_EQ(q->fields, (std::vector<std::string>{"name", "id"}));
    EXPECT_EQ(FieldOf(Parse("sort=nope")), "sort");
    EXPECT_EQ(FieldOf(Parse("sort=name,name")), "sort");
    EXPECT_EQ(FieldOf(Parse("sort=")), "sort");
    EXPECT_EQ(FieldOf(Parse("fields=name,secret")), "fields");
}

TEST(ParseList, ExtraParamsPassThrough) {
    auto q = Parse("purge=true");
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(q->extra.at("purge"), "true");
}

TEST(Cursor, RoundTripsAndIsBoundToTheQuery) {
    static const Resource r = People();
    auto q = ParseList("sort=-age&active=true", r, kCodec);
    ASSERT_TRUE(q.ok());
    std::string c = kCodec.Encode(r, *q, {Literal{int64_t{7}}, Literal{std::string("018b-x")}});
    auto again = ParseList("sort=-age&active=true&after=" + c, r, kCodec);
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_TRUE(again->cursor_mode);
    EXPECT_FALSE(again->count);
    ASSERT_EQ(again->after.size(), 2u);
    EXPECT_EQ(std::get<int64_t>(again->after[0]), 7);

    // Another sort or filter, a flipped byte, another secret: all refused.
    EXPECT_EQ(FieldOf(ParseList("sort=age&active=true&after=" + c, r, kCodec)), "after");
    EXPECT_EQ(FieldOf(ParseList("sort=-age&active=false&after=" + c, r, kCodec)), "after");
    std::string tampered = c;
    tampered[3] = tampered[3] == 'A' ? 'B' : 'A';
    EXPECT_EQ(FieldOf(ParseList("sort=-age&active=true&after=" + tampered, r, kCodec)), "after");
    CursorCodec other("other-secret");
    EXPECT_EQ(FieldOf(ParseList("sort=-age&active=true&after=" + c, r, other)), "after");
    EXPECT_EQ(FieldOf(ParseList("after=garbage", r, kCodec)), "after");
    EXPECT_EQ(FieldOf(ParseList("after=&page=2", r, kCodec)), "after");
}

TEST(Cursor, EmptyAfterStartsCursorMode) {
    auto q = Parse("after=&count=true");
    ASSERT_TRUE(q.ok());
    EXPECT_TRUE(q->cursor_mode);
    EXPECT_TRUE(q->after.empty());
    EXPECT_TRUE(q->count);
}

}  // namespace
}  // namespace tb::query
