// The SQL text CompileList makes: values only as bound parameters, the scope always first,
// keyset predicates and ORDER BY as API.md §13 orders. (Results on real databases:
// tests/storage/list_sql_test.cpp.)
#include "storage/list_sql.h"

#include <gtest/gtest.h>

namespace tb::storage {
namespace {

class TestDialect : public Dialect {
  public:
    std::string_view Name() const override { return "test"; }
    std::string_view MigrationLockStatement() const override { return ""; }
    std::string_view BinaryCollation() const override { return "COLLATE BIN"; }
    std::string_view SkipLocked() const override { return ""; }
    std::string_view ShareRowLock() const override { return ""; }
    std::string_view ExclusiveRowLock() const override { return ""; }
    std::string DocIs(const DocPath&, JsonKind) const override { return ""; }
    std::string DocNumberCompare(const DocPath&, std::string_view) const override { return ""; }
    std::string DocTextCompare(const DocPath&, std::string_view) const override { return ""; }
    std::string DocTextContains(const DocPath&) const override { return ""; }
    std::string DocTextStartsWith(const DocPath&) const override { return ""; }
    std::string DocAnyTextContains() const override { return ""; }
    std::string DocArrayLength(const DocPath&) const override { return ""; }
    DocSortColumns DocSortKey(const DocPath&) const override { return {}; }
    std::string DocTextRegex(const DocPath&) const override { return ""; }
    DocSortColumns DocIndexKey(const DocPath&) const override { return {}; }
    std::string_view IndexConcurrently() const override { return ""; }
    std::string_view DocumentIndexNames() const override { return ""; }
    std::string DocElemMatch(const DocPath&, int, const std::string&) const override { return ""; }
};

const query::Resource& People() {
    using query::Type;
    static const query::Resource r{"people",
                                   "p.id",
                                   {{"id", "p.id", Type::kId},
                                    {"name", "p.name", Type::kText},
                                    {"age", "p.age", Type::kInt, true}}};
    return r;
}

const query::CursorCodec kCodec("k");
const TestDialect kDialect;

ListStatement Compile(std::string_view qs) {
    auto q = query::ParseList(qs, People(), kCodec);
    EXPECT_TRUE(q.ok()) << qs;
    return CompileList(
        kDialect, People(), *q,
        ListSource::ForTenant(TenantScope::Of("T"), "p.tenant_id", "p.id, p.name", "people p"));
}

TEST(CompileList, ValuesAreBoundNeverSpliced) {
    const std::string hostile = "x' OR '1'='1; DROP TABLE people; --";
    ListStatement st = Compile(
        "name=x%27%20OR%20%271%27%3D%271%3B%20DROP%20TABLE%20people%3B%20--"
        "&name[contains]=%25_%5C&name[in]=a,b");
    EXPECT_EQ(st.sql.find("DROP"), std::string::npos) << st.sql;
    EXPECT_EQ(st.sql.find("'1'"), std::string::npos) << st.sql;
    ASSERT_GE(st.params.size(), 2u);
    EXPECT_EQ(std::get<std::string>(st.params[0]), "T");  // the scope's parameter comes first
    EXPECT_EQ(std::get<std::string>(st.params[1]), hostile);
    // LIKE wildcards in a contains value are escaped, not interpreted.
    EXPECT_EQ(std::get<std::string>(st.params[2]), "%\\%\\_\\\\%");
    EXPECT_NE(st.sql.find(" WHERE p.tenant_id = ? AND "), std::string::npos) << st.sql;
    EXPECT_NE(st.count_sql.find(" WHERE p.tenant_id = ? AND "), std::string::npos);
}

TEST(CompileList, OrderEndsWithTheIdAndPlacesNulls) {
    ListStatement st = Compile("sort=-age,name");
    EXPECT_NE(st.sql.find("ORDER BY p.age DESC NULLS LAST, p.name COLLATE BIN ASC, p.id ASC"),
              std::string::npos)
        << st.sql;
    EXPECT_EQ(st.key_offset, 2u);
    ListStatement plain = Compile("");
    EXPECT_NE(plain.sql.find("ORDER BY p.id ASC LIMIT 20"), std::string::npos) << plain.sql;
    EXPECT_EQ(plain.sql.find("OFFSET"), std::string::npos) << plain.sql;
    ListStatement later = Compile("page=3&per_page=10");
    EXPECT_NE(later.sql.find("ORDER BY p.id ASC LIMIT 10 OFFSET ?"), std::string::npos)
        << later.sql;
    EXPECT_EQ(std::get<int64_t>(later.params.back()), 20);
}

TEST(CompileList, CursorModeFetchesOneMoreAndSkipsTheCount) {
    ListStatement st = Compile("after=&per_page=10");
    EXPECT_TRUE(st.count_sql.empty());
    EXPECT_NE(st.sql.find(" LIMIT 11"), std::string::npos) << st.sql;
    EXPECT_EQ(st.sql.find("OFFSET"), std::string::npos);
}

TEST(CompileList, KeysetAfterANullDescendingKeyMatchesNothingBeyondTheTies) {
    auto q = query::ParseList("sort=-age", People(), kCodec);
    ASSERT_TRUE(q.ok());
    q->cursor_mode = true;
    q->after = {query::Literal{}, query::Literal{std::string("id-9")}};
    ListStatement st =
        CompileList(kDialect, People(), *q,
                    ListSource::ForTenant(TenantScope::Of("T"), "p.tenant_id", "p.id", "people p"));
    // Nulls come last descending: after a null only more nulls with a larger id.
    EXPECT_NE(st.sql.find("((1 = 0) OR (p.age IS NULL AND p.id > ?))"), std::string::npos)
        << st.sql;
}

TEST(CompileList, UnfilteredCountUsesTheSourcesCheaperStatement) {
    auto q = query::ParseList("", People(), kCodec);
    ASSERT_TRUE(q.ok());
    auto source = ListSource::ForTenant(TenantScope::Of("T"), "p.tenant_id", "p.id", "people p");
    source.unfiltered_count = "SELECT n FROM counters WHERE tenant_id = ?";
    source.unfiltered_count_params = Bind("T");
    EXPECT_EQ(CompileList(kDialect, People(), *q, source).count_sql, source.unfiltered_count);
    auto filtered = query::ParseList("name=x", People(), kCodec);
    ASSERT_TRUE(filtered.ok());
    EXPECT_NE(CompileList(kDialect, People(), *filtered, source).count_sql.find("COUNT(*)"),
              std::string::npos);
}

}  // namespace
}  // namespace tb::storage
