// The list compiler (storage/list_sql) on both backends: every page walk, in page or cursor
// mode, with any sort and filters, returns exactly the rows a reference implementation in C++
// returns, in the same order (API.md §13 "Order": code-point strings, nulls first ascending
// and last descending, id ascending as the tie-break); the tenant scope is never crossed; and
// the two benchmarked lists are served by an index.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "backend.h"
#include "collections/document_service.h"
#include "storage/doc_sql.h"
#include "storage/list_sql.h"
#include "storage/migration.h"
#include "tenancy/tenant_service.h"

namespace tb::storage {
namespace {

namespace asio = boost::asio;
using query::Literal;
using testing::RunTask;

const Migration kItems[] = {
    {1, "items",
     "CREATE TABLE items (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, name TEXT NOT NULL, "
     "n BIGINT);"},
};

struct Item {
    std::string id, tenant, name;
    std::optional<int64_t> n;
};

const query::Resource& Items() {
    using query::Type;
    static const query::Resource r{
        "items",
        "id",
        {{"id", "id", Type::kId}, {"name", "name", Type::kText}, {"n", "n", Type::kInt, true}}};
    return r;
}

const query::CursorCodec kCodec("secret");

class ListSql : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        db_ = testing::OpenBackend(GetParam(), ioc_, dir_);
        if (!db_) GTEST_SKIP() << "TB_TEST_PG_URL not set";
    }
    // The backend's query plan of a statement, one line per row.
    std::string Plan(const ListStatement& st) {
        bool sqlite = GetParam() == "sqlite";
        std::string explain = (sqlite ? "EXPLAIN QUERY PLAN " : "EXPLAIN ") + st.sql;
        auto rows = RunTask(ioc_, db_->Query(explain, st.params));
        EXPECT_TRUE(rows.ok()) << (rows.ok() ? "" : rows.error().internal);
        std::string text;
        if (rows.ok())
            for (const auto& r : rows->rows) text += AsText(r.back()) + "\n";
        return text;
    }

    void TearDown() override {
        if (db_) db_->Close();
        if (!dir_.empty()) std::filesystem::remove_all(dir_);
    }

    void Seed() {
        ASSERT_TRUE(RunTask(ioc_, Migrate(*db_, kItems, clock_)).ok());
        // Names with shared prefixes, case differences, non-ASCII and characters LIKE treats
        // specially; n with nulls and ties.
        const std::vector<std::string> names = {"alpha", "Alpha", "alp%ha",
                                                "b_eta", "beta",  "\xC3\xA9t\xC3\xA9",
                                                "zeta",  "Zeta",  "\xE2\x9C\x93"};
        std::mt19937 rng(42);
        for (int i = 0; i < 120; ++i) {
            Item it;
            char id[40];
            std::snprintf(id, sizeof id, "018b6216-27a1-7e2b-aa83-%012d", 1000 + i);
            it.id = id;
            it.tenant = i % 4 == 0 ? "other" : "mine";
            it.name = names[rng() % names.size()];
            if (rng() % 4 != 0) it.n = static_cast<int64_t>(rng() % 7);
            items_.push_back(it);
        }
        const TransactionFn fn = [&](Session& tx) -> Task<Status> {
            for (const auto& it : items_) {
                auto r = co_await tx.Execute(
                    "INSERT INTO items (id, tenant_id, name, n) VALUES (?, ?, ?, ?)",
                    Bind(it.id, it.tenant, it.name, it.n ? Value(*it.n) : Value()));
                if (!r.ok()) co_return std::move(r).error();
            }
            co_return Status{};
        };
        ASSERT_TRUE(RunTask(ioc_, db_->Transaction(fn)).ok());
    }

    // The rows of "mine" matching `keep`, in the order of `sort` (reference semantics).
    std::vector<std::string> Expected(const std::vector<std::pair<std::string, bool>>& sort,
                                      const std::function<bool(const Item&)>& keep) const {
        std::vector<Item> rows;
        for (const auto& it : items_)
            if (it.tenant == "mine" && keep(it)) rows.push_back(it);
        auto cmp = [&](const Item& a, const Item& b) {
            for (const auto& [field, desc] : sort) {
                int c = 0;
                if (field == "name") {
                    c = a.name.compare(b.name);  // bytes of UTF-8 = code points
                } else {
                    // null is the lowest value
                    int64_t x = a.n.value_or(INT64_MIN), y = b.n.value_or(INT64_MIN);
                    c = x < y ? -1 : x > y ? 1 : 0;
                }
                if (c != 0) return desc ? c > 0 : c < 0;
            }
            return a.id < b.id;
        };
        std::sort(rows.begin(), rows.end(), cmp);
        std::vector<std::string> ids;
        for (const auto& r : rows) ids.push_back(r.id);
        return ids;
    }

    // Walks every page of the query string (cursor mode when `cursor`), returning ids.
    std::vector<std::string> Walk(const std::string& qs, bool cursor) {
        auto source = ListSource::ForTenant(TenantScope::Of("mine"), "tenant_id", "id", "items");
        std::vector<std::string> ids;
        std::string after;
        for (int page = 1; page < 200; ++page) {
            std::string full = qs + "&per_page=7";
            full += cursor ? "&after=" + after : "&page=" + std::to_string(page);
            auto q = query::ParseList(full, Items(), kCodec);
            EXPECT_TRUE(q.ok()) << full << ": " << (q.ok() ? "" : q.error().message);
            if (!q.ok()) return ids;
            auto r = RunTask(ioc_, RunList(*db_, db_->dialect(), Items(), *q, source));
            EXPECT_TRUE(r.ok()) << full << ": " << (r.ok() ? "" : r.error().internal);
            if (!r.ok()) return ids;
            for (const auto& row : r->rows.rows) ids.push_back(AsText(row[0]));
            if (cursor) {
                if (!r->next_keys) return ids;
                after = kCodec.Encode(Items(), *q, *r->next_keys);
            } else if (r->rows.empty()) {
                return ids;
            }
        }
        ADD_FAILURE() << "no end to " << qs;
        return ids;
    }

    asio::io_context ioc_;
    SystemClock clock_;
    std::filesystem::path dir_;
    std::unique_ptr<Database> db_;
    std::vector<Item> items_;
};

TEST_P(ListSql, PageAndCursorWalksMatchTheReference) {
    Seed();
    auto all = [](const Item&) { return true; };
    struct Case {
        std::string qs;
        std::vector<std::pair<std::string, bool>> sort;
        std::function<bool(const Item&)> keep;
    };
    std::vector<Case> cases = {
        {"x=1&count=true", {}, all},
        {"sort=name", {{"name", false}}, all},
        {"sort=-name", {{"name", true}}, all},
        {"sort=n", {{"n", false}}, all},
        {"sort=-n", {{"n", true}}, all},
        {"sort=-n,name", {{"n", true}, {"name", false}}, all},
        {"sort=name,-n", {{"name", false}, {"n", true}}, all},
        {"sort=-name&n[gte]=3", {{"name", true}}, [](const Item& i) { return i.n && *i.n >= 3; }},
        {"sort=n&n[ne]=2", {{"n", false}}, [](const Item& i) { return !i.n || *i.n != 2; }},
        {"sort=n&n[nin]=1,2",
         {{"n", false}},
         [](const Item& i) { return !i.n || (*i.n != 1 && *i.n != 2); }},
        {"sort=name&n[in]=null,4",
         {{"name", false}},
         [](const Item& i) { return !i.n || *i.n == 4; }},
        {"sort=name&n[exists]=false", {{"name", false}}, [](const Item& i) { return !i.n; }},
        {"sort=name&name[contains]=LP",
         {{"name", false}},
         [](const Item& i) {
             std::string l = i.name;
             for (auto& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
             return l.find("lp") != std::string::npos;
         }},
        {"sort=name&name[contains]=p%25h",
         {{"name", false}},
         [](const Item& i) { return i.name == "alp%ha"; }},
        {"sort=name&name[startswith]=Z",
         {{"name", false}},
         [](const Item& i) { return i.name.starts_with("Z"); }},
        {"sort=name&name[startswith]=b_",
         {{"name", false}},
         [](const Item& i) { return i.name.starts_with("b_"); }},
        {"sort=name&name[gt]=beta",
         {{"name", false}},
         [](const Item& i) { return i.name > "beta"; }},
        {"sort=-n&name=%C3%A9t%C3%A9",
         {{"n", true}},
         [](const Item& i) { return i.name == "\xC3\xA9t\xC3\xA9"; }},
    };
    for (const auto& c : cases) {
        std::string qs = c.qs == "x=1&count=true" ? "count=true" : c.qs;
        auto want = Expected(c.sort, c.keep);
        EXPECT_EQ(Walk(qs, false), want) << "page mode: " << qs;
        EXPECT_EQ(Walk(qs, true), want) << "cursor mode: " << qs;
    }
}

TEST_P(ListSql, CountsStayInsideTheScope) {
    Seed();
    auto source = ListSource::ForTenant(TenantScope::Of("mine"), "tenant_id", "id", "items");
    auto q = query::ParseList("n[exists]=true", Items(), kCodec);
    ASSERT_TRUE(q.ok());
    auto r = RunTask(ioc_, RunList(*db_, db_->dialect(), Items(), *q, source));
    ASSERT_TRUE(r.ok());
    int64_t mine = 0;
    for (const auto& it : items_) mine += it.tenant == "mine" && it.n;
    EXPECT_EQ(*r->total, mine);
}

// Filtered totals come from the count cache while the version is unchanged: rows added
// without a new version still show the old total (the cache answered), a new version counts
// again, other filters and other tenants have their own entries, and without a version row
// nothing is cached.
TEST_P(ListSql, FilteredTotalsAreCachedByVersion) {
    Seed();
    const Migration versions[] = {
        {2, "versions", "CREATE TABLE versions (tenant_id TEXT PRIMARY KEY, v BIGINT NOT NULL);"}};
    ASSERT_TRUE(RunTask(ioc_, Migrate(*db_, versions, clock_)).ok());
    ASSERT_TRUE(
        RunTask(ioc_, db_->Execute("INSERT INTO versions (tenant_id, v) VALUES ('mine', 1), "
                                   "('other', 1)",
                                   {}))
            .ok());
    CountCache cache;
    auto total = [&](const std::string& tenant, const std::string& qs) -> int64_t {
        auto source = ListSource::ForTenant(TenantScope::Of(tenant), "tenant_id", "id", "items");
        source.count_cache = &cache;
        source.count_version = "SELECT v FROM versions WHERE tenant_id = ?";
        source.count_version_params = Bind(tenant);
        auto q = query::ParseList(qs, Items(), kCodec);
        EXPECT_TRUE(q.ok());
        auto r = RunTask(ioc_, RunList(*db_, db_->dialect(), Items(), *q, source));
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().internal);
        return r.ok() && r->total ? *r->total : -1;
    };
    auto count = [&](const std::string& tenant, auto keep) {
        int64_t n = 0;
        for (const auto& it : items_) n += it.tenant == tenant && keep(it);
        return n;
    };
    auto has_n = [](const Item& it) { return it.n.has_value(); };
    auto is_beta = [](const Item& it) { return it.name == "beta"; };
    auto insert = [&](const std::string& id, const std::string& tenant) {
        ASSERT_TRUE(RunTask(ioc_, db_->Execute("INSERT INTO items (id, tenant_id, name, n) VALUES "
                                               "(?, ?, 'beta', 1)",
                                               Bind(id, tenant)))
                        .ok());
        items_.push_back({id, tenant, "beta", 1});
    };
    int64_t mine_n = count("mine", has_n);
    EXPECT_EQ(total("mine", "n[exists]=true"), mine_n);
    EXPECT_EQ(total("other", "n[exists]=true"), count("other", has_n));
    EXPECT_EQ(cache.size(), 2u);

    insert("018b6216-27a1-7e2b-aa83-000000009001", "mine");  // no new version
    EXPECT_EQ(total("mine", "n[exists]=true"), mine_n);     // the cached total
    EXPECT_EQ(total("mine", "name=beta"), count("mine", is_beta));  // its own entry
    ASSERT_TRUE(
        RunTask(ioc_, db_->Execute("UPDATE versions SET v = v + 1 WHERE tenant_id = 'mine'", {}))
            .ok());
    EXPECT_EQ(total("mine", "n[exists]=true"), mine_n + 1);
    EXPECT_EQ(total("other", "n[exists]=true"), count("other", has_n));

    ASSERT_TRUE(
        RunTask(ioc_, db_->Execute("DELETE FROM versions WHERE tenant_id = 'other'", {})).ok());
    insert("018b6216-27a1-7e2b-aa83-000000009002", "other");
    EXPECT_EQ(total("other", "n[exists]=true"), count("other", has_n));  // counted, not cached
    insert("018b6216-27a1-7e2b-aa83-000000009003", "other");
    EXPECT_EQ(total("other", "n[exists]=true"), count("other", has_n));
}

TEST_P(ListSql, HostileValuesAreBoundNotSpliced) {
    Seed();
    auto source = ListSource::ForTenant(TenantScope::Of("mine"), "tenant_id", "id", "items");
    for (const char* qs : {"name=x'%20OR%20'1'='1", "name[in]=a,b')%20OR%201=1--",
                           "name[contains]=%27%3B%20DROP%20TABLE%20items%3B--",
                           "name[startswith]=$1", "name[gt]=?"}) {
        auto q = query::ParseList(qs, Items(), kCodec);
        ASSERT_TRUE(q.ok()) << qs;
        auto r = RunTask(ioc_, RunList(*db_, db_->dialect(), Items(), *q, source));
        ASSERT_TRUE(r.ok()) << qs << ": " << r.error().internal;
        for (const auto& row : r->rows.rows) {
            auto it = std::find_if(items_.begin(), items_.end(),
                                   [&](const Item& i) { return i.id == AsText(row[0]); });
            ASSERT_NE(it, items_.end());
            EXPECT_EQ(it->tenant, "mine") << qs;
        }
    }
    auto still = RunTask(ioc_, db_->Query("SELECT COUNT(*) FROM items", {}));
    ASSERT_TRUE(still.ok());
    EXPECT_EQ(AsInt(still->rows[0][0]), 120);
}

// The benchmarked lists (issue #5): users of a tenant by -created_at, and every tenant for a
// platform admin, must be read from an index, not by scanning or sorting the whole table.
TEST_P(ListSql, BenchmarkedListsUseAnIndex) {
    auto migrations = GetParam() == "sqlite" ? SqliteMigrations() : PostgresMigrations();
    ASSERT_TRUE(RunTask(ioc_, Migrate(*db_, migrations, clock_)).ok());
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        for (int t = 0; t < 20; ++t) {
            std::string tid = "t" + std::to_string(t);
            auto r = co_await tx.Execute(
                "INSERT INTO tenants (id, name, slug, plan, created_at, updated_at) VALUES (?, ?, "
                "?, 'free', ?, ?)",
                Bind(tid, tid, tid, t, t));
            if (!r.ok()) co_return std::move(r).error();
        }
        for (int u = 0; u < 3000; ++u) {
            std::string uid = "u" + std::to_string(100000 + u);
            auto r = co_await tx.Execute(
                "INSERT INTO users (id, email, created_at, updated_at) VALUES (?, ?, ?, ?)",
                Bind(uid, uid + "@x.io", u, u));
            if (!r.ok()) co_return std::move(r).error();
            r = co_await tx.Execute(
                "INSERT INTO memberships (tenant_id, user_id, role, joined_at, user_created_at) "
                "VALUES (?, ?, 'member', ?, ?)",
                Bind("t" + std::to_string(u % 20), uid, u, u));
            if (!r.ok()) co_return std::move(r).error();
        }
        co_return Status{};
    };
    ASSERT_TRUE(RunTask(ioc_, db_->Transaction(fn)).ok());
    bool sqlite = GetParam() == "sqlite";
    ASSERT_TRUE(RunTask(ioc_, db_->ExecuteScript("ANALYZE")).ok());

    auto plan = [&](const query::Resource& resource, const std::string& qs,
                    const ListSource& source) {
        auto q = query::ParseList(qs, resource, kCodec);
        EXPECT_TRUE(q.ok());
        return Plan(CompileList(db_->dialect(), resource, *q, source));
    };

    auto users = plan(tenancy::UsersResource(), "per_page=20&sort=-created_at",
                      ListSource::ForTenant(TenantScope::Of("t3"), "m.tenant_id", "u.id, m.role",
                                            "memberships m JOIN users u ON u.id = m.user_id"));
    EXPECT_NE(users.find("memberships_tenant_user_created"), std::string::npos) << users;
    if (sqlite) {
        EXPECT_EQ(users.find("SCAN m"), std::string::npos) << users;
    } else {
        EXPECT_EQ(users.find("Seq Scan on memberships"), std::string::npos) << users;
    }

    auto tenants = plan(tenancy::TenantsResource(), "per_page=20",
                        ListSource::Platform("t.id, m.role",
                                             "tenants t LEFT JOIN memberships m ON m.tenant_id = "
                                             "t.id AND m.user_id = ?",
                                             "1 = 1", Bind("u100003")));
    if (sqlite) {
        // The primary key's order serves ORDER BY t.id: no temporary sort of all tenants.
        EXPECT_EQ(tenants.find("USE TEMP B-TREE FOR ORDER BY"), std::string::npos) << tenants;
    } else {
        EXPECT_NE(tenants.find("Index"), std::string::npos) << tenants;
    }
}

// A collection index (storage/doc_sql.h CreateDocIndex) serves the statements the documents
// service writes: equality on the first key, the sort on the next, no sort of all matches.
TEST_P(ListSql, CollectionIndexesServeDocumentFiltersAndSorts) {
    auto migrations = GetParam() == "sqlite" ? SqliteMigrations() : PostgresMigrations();
    ASSERT_TRUE(RunTask(ioc_, Migrate(*db_, migrations, clock_)).ok());
    const std::string cid = "01900000-0000-7000-8000-000000000001";
    const std::string other = "01900000-0000-7000-8000-000000000002";
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        auto r = co_await tx.Execute(
            "INSERT INTO tenants (id, name, slug, plan, created_at, updated_at) VALUES ('t', 't', "
            "'t', 'free', 0, 0)");
        if (!r.ok()) co_return std::move(r).error();
        for (const auto& id : {cid, other}) {
            r = co_await tx.Execute(
                "INSERT INTO collections (tenant_id, id, name, created_at, updated_at) VALUES "
                "('t', ?, ?, 0, 0)",
                Bind(id, "c" + id.substr(id.size() - 1)));
            if (!r.ok()) co_return std::move(r).error();
        }
        for (int i = 0; i < 4000; ++i) {
            std::string body = "{\"tag\":\"t" + std::to_string(i % 50) +
                               "\",\"n\":" + std::to_string((i * 7919) % 1000) + "}";
            char id[40];
            std::snprintf(id, sizeof id, "01900000-0000-7000-8000-%012d", i);
            r = co_await tx.Execute(
                "INSERT INTO documents (tenant_id, collection_id, id, body, version, created_at, "
                "changed_at) VALUES ('t', ?, ?, ?, 1, 0, 0)",
                Bind(i % 4 ? cid : other, std::string(id), body));
            if (!r.ok()) co_return std::move(r).error();
        }
        co_return Status{};
    };
    ASSERT_TRUE(RunTask(ioc_, db_->Transaction(fn)).ok());
    const Dialect& d = db_->dialect();
    std::string ddl = CreateDocIndex(d, "dx_test_tag_n", cid, {{{"tag"}, false}, {{"n"}, true}},
                                     false);
    auto made = RunTask(ioc_, db_->ExecuteScript(ddl));
    ASSERT_TRUE(made.ok()) << made.error().internal << "\n" << ddl;
    ASSERT_TRUE(RunTask(ioc_, db_->ExecuteScript(
                                  CreateDocIndex(d, "dx_test_n", cid, {{{"n"}, false}}, false)))
                    .ok());
    // n repeats: a unique index on it is refused, as a conflict, and leaves nothing behind.
    auto unique = RunTask(ioc_, db_->ExecuteScript(
                                    CreateDocIndex(d, "dx_test_u", cid, {{{"n"}, false}}, true)));
    ASSERT_FALSE(unique.ok());
    EXPECT_EQ(unique.error().code, ErrorCode::kConflict) << unique.error().internal;
    ASSERT_TRUE(RunTask(ioc_, db_->ExecuteScript(DropDocIndex(d, "dx_test_u"))).ok());
    ASSERT_TRUE(RunTask(ioc_, db_->ExecuteScript("ANALYZE")).ok());
    bool sqlite = GetParam() == "sqlite";

    auto plan = [&](const std::string& q_json, const std::string& qs) {
        ListSource source = ListSource::ForTenant(TenantScope::Of("t"), "d.tenant_id", "d.body",
                                                  "documents d");
        source.scope += " AND " + *CollectionTerm(cid);
        auto filter = query::ParseDocFilter(q_json);
        EXPECT_TRUE(filter.ok());
        source.scope += " AND " + CompileDocFilter(d, *filter, source.params);
        auto q = query::ParseList(qs, collections::DocumentsResource(), kCodec);
        EXPECT_TRUE(q.ok());
        ListStatement st = CompileList(d, collections::DocumentsResource(), *q, source);
        std::string text = Plan(st);
        // And the statement runs and returns the page asked for.
        auto page = RunTask(ioc_, db_->Query(st.sql, st.params));
        EXPECT_TRUE(page.ok());
        return text + st.sql;
    };
    auto no_full_sort = [&](const std::string& text) {
        if (sqlite) return text.find("USE TEMP B-TREE FOR ORDER BY") == std::string::npos;
        // An incremental sort of rows the index delivers in order (ties on a unique key, by
        // id) is fine; a sort of every match is not.
        return text.find("->  Sort  (") == std::string::npos;
    };

    std::string by_tag = plan(R"({"tag": "t7"})", "per_page=20&sort=-n");
    EXPECT_NE(by_tag.find("dx_test_tag_n"), std::string::npos) << by_tag;
    EXPECT_TRUE(no_full_sort(by_tag)) << by_tag;

    std::string by_range = plan(R"({"n": {"$gte": 990}})", "per_page=20&sort=n");
    EXPECT_NE(by_range.find("dx_test_n"), std::string::npos) << by_range;

    std::string sorted = plan("{}", "per_page=20&sort=n");
    EXPECT_NE(sorted.find("dx_test_n"), std::string::npos) << sorted;
    EXPECT_TRUE(no_full_sort(sorted)) << sorted;
}

INSTANTIATE_TEST_SUITE_P(Backends, ListSql, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tb::storage
