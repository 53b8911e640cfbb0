// The storage contract (storage/database.h), checked the same way on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <thread>

#include "backend.h"
#include "common/encoding.h"
#include "storage/migration.h"
#include "storage/postgres/pg_connection.h"
#include "storage/postgres/pg_database.h"
#include "storage/sqlite/sqlite_database.h"

namespace tb::storage {
namespace {

namespace asio = boost::asio;

using testing::RunTask;
using testing::ToLowerAlnum;

const Migration kTestMigrations[] = {
    {1, "things",
     "CREATE TABLE things (id TEXT PRIMARY KEY, n BIGINT, x DOUBLE PRECISION, note TEXT);"},
    {2, "things_note", "CREATE UNIQUE INDEX things_note ON things (note);"},
};

class Conformance : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        db_ = testing::OpenBackend(GetParam(), ioc_, dir_);
        if (!db_) GTEST_SKIP() << "TB_TEST_PG_URL not set";
        auto applied = RunTask(ioc_, Migrate(*db_, kTestMigrations, clock_));
        ASSERT_TRUE(applied.ok()) << applied.error().internal;
        ASSERT_EQ(*applied, 2);
    }
    void TearDown() override {
        if (db_) db_->Close();
        if (!dir_.empty()) std::filesystem::remove_all(dir_);
    }
    Task<Status> Insert(std::string id, int64_t n, std::string note) {
        auto r = co_await db_->Execute("INSERT INTO things (id, n, x, note) VALUES (?, ?, ?, ?)",
                                       Bind(id, n, 0.5, note));
        if (!r.ok()) co_return std::move(r).error();
        co_return Status{};
    }

    asio::io_context ioc_;
    SystemClock clock_;
    std::filesystem::path dir_;
    std::unique_ptr<Database> db_;
};

TEST_P(Conformance, MigrationsAreIdempotent) {
    auto again = RunTask(ioc_, Migrate(*db_, kTestMigrations, clock_));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, 0);
    auto rows = RunTask(
        ioc_, db_->Query("SELECT version, name FROM schema_migrations ORDER BY version", {}));
    ASSERT_TRUE(rows.ok());
    ASSERT_EQ(rows->size(), 2u);
    EXPECT_EQ(AsText(rows->rows[1][1]), "things_note");
}

TEST_P(Conformance, RoundTripsTypesAndHostileText) {
    std::string hostile = "'); DROP TABLE things; -- \"quoted\" ? $1 \xE2\x9C\x93";
    ASSERT_TRUE(RunTask(ioc_, Insert("a", int64_t{1} << 53, hostile)).ok());
    ASSERT_TRUE(
        RunTask(ioc_, db_->Execute("INSERT INTO things (id, n, x, note) VALUES (?, ?, ?, ?)",
                                   Bind("b", kNull, kNull, kNull)))
            .ok());
    auto rows = RunTask(ioc_, db_->Query("SELECT id, n, x, note FROM things ORDER BY id", {}));
    ASSERT_TRUE(rows.ok()) << rows.error().internal;
    ASSERT_EQ(rows->size(), 2u);
    EXPECT_EQ(AsInt(rows->rows[0][1]), int64_t{1} << 53);
    EXPECT_DOUBLE_EQ(AsDouble(rows->rows[0][2]), 0.5);
    EXPECT_EQ(AsText(rows->rows[0][3]), hostile);
    EXPECT_TRUE(IsNull(rows->rows[1][1]));
    EXPECT_TRUE(IsNull(rows->rows[1][3]));
}

TEST_P(Conformance, UniqueViolationIsConflict) {
    ASSERT_TRUE(RunTask(ioc_, Insert("a", 1, "same")).ok());
    Status dup = RunTask(ioc_, Insert("b", 2, "same"));
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().code, ErrorCode::kConflict);
}

TEST_P(Conformance, FailedTransactionLeavesNothing) {
    const TransactionFn fn = [](Session& tx) -> Task<Status> {
        auto a = co_await tx.Execute("INSERT INTO things (id, n, note) VALUES (?, ?, ?)",
                                     Bind("a", 1, "x"));
        if (!a.ok()) co_return std::move(a).error();
        co_return Error::Validation("n", "rejected after the first write");
    };
    Status s = RunTask(ioc_, db_->Transaction(fn));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kValidation);
    auto rows = RunTask(ioc_, db_->Query("SELECT COUNT(*) FROM things", {}));
    EXPECT_EQ(AsInt(rows->rows[0][0]), 0);
}

TEST_P(Conformance, TransactionSeesItsOwnWritesAndCommits) {
    const TransactionFn fn = [](Session& tx) -> Task<Status> {
        auto a = co_await tx.Execute("INSERT INTO things (id, n, note) VALUES (?, ?, ?)",
                                     Bind("a", 7, "x"));
        if (!a.ok()) co_return std::move(a).error();
        auto r = co_await tx.Query("SELECT n FROM things WHERE id = ?", Bind("a"));
        if (!r.ok()) co_return std::move(r).error();
        if (AsInt(r->rows.at(0).at(0)) != 7) co_return Error::Internal("own write not visible");
        auto u = co_await tx.Execute("UPDATE things SET n = n + 1 WHERE id = ?", Bind("a"));
        if (!u.ok()) co_return std::move(u).error();
        if (*u != 1) co_return Error::Internal("update count");
        co_return Status{};
    };
    Status s = RunTask(ioc_, db_->Transaction(fn));
    ASSERT_TRUE(s.ok()) << s.error().internal;
    auto rows = RunTask(ioc_, db_->Query("SELECT n FROM things WHERE id = ?", Bind("a")));
    EXPECT_EQ(AsInt(rows->rows[0][0]), 8);
}

// Many concurrent writers from several threads: every acknowledged write is there, and a
// failing one in the middle of a group commit does not take the others down.
TEST_P(Conformance, ConcurrentWritersAllCommit) {
    constexpr int kWriters = 300;
    std::atomic<int> ok{0}, conflicts{0};
    for (int i = 0; i < kWriters; ++i) {
        std::string note = i == 150 ? "dup" : "n" + std::to_string(i);
        asio::co_spawn(ioc_, Insert("id" + std::to_string(i), i, note),
                       [&](std::exception_ptr, Status s) {
                           if (s.ok())
                               ++ok;
                           else if (s.error().code == ErrorCode::kConflict)
                               ++conflicts;
                       });
    }
    asio::co_spawn(ioc_, Insert("extra", 1, "dup"), [&](std::exception_ptr, Status s) {
        if (s.ok())
            ++ok;
        else if (s.error().code == ErrorCode::kConflict)
            ++conflicts;
    });
    ioc_.restart();
    std::thread t1([&] { ioc_.run(); });
    std::thread t2([&] { ioc_.run(); });
    ioc_.run();
    t1.join();
    t2.join();
    EXPECT_EQ(ok.load(), kWriters);
    EXPECT_EQ(conflicts.load(), 1);
    auto rows = RunTask(ioc_, db_->Query("SELECT COUNT(*) FROM things", {}));
    EXPECT_EQ(AsInt(rows->rows[0][0]), kWriters);
}

// A failing transaction inside a group commit: the others commit, its own writes (made
// before it failed) do not, and every caller gets its own result. On SQLite the batch is run
// again with savepoints after the failure (database.h: a transaction function may run more
// than once, only its last run counts); the slow first transaction holds the writer so that
// the rest queue up into one batch.
TEST_P(Conformance, FailureInAGroupCommitIsolated) {
    constexpr int kWriters = 20;
    ASSERT_TRUE(RunTask(ioc_, Insert("earlier", 0, "taken")).ok());
    std::vector<std::optional<Status>> results(kWriters);
    std::vector<int> runs(kWriters, 0);
    std::vector<TransactionFn> fns;
    for (int i = 0; i < kWriters; ++i) {
        fns.push_back([&, i](Session& tx) -> Task<Status> {
            ++runs[i];
            if (i == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
            // #5 collides with an earlier row's unique note; #10 writes, then fails.
            std::string note = i == 5 ? "taken" : "n" + std::to_string(i);
            auto r = co_await tx.Execute("INSERT INTO things (id, n, note) VALUES (?, ?, ?)",
                                         Bind("id" + std::to_string(i), int64_t{i}, note));
            if (!r.ok()) co_return std::move(r).error();
            if (i == 10) co_return Error::Validation("n", "rejected after its write");
            co_return Status{};
        });
    }
    // Plain statements through Database::Execute share the batch (their parameters must
    // survive a second run).
    std::vector<std::optional<Status>> plain(3);
    for (int i = 0; i < kWriters; ++i) {
        asio::co_spawn(ioc_, db_->Transaction(fns[i]),
                       [&, i](std::exception_ptr, Status s) { results[i] = std::move(s); });
        if (i == 0) {
            for (int k = 0; k < 3; ++k) {
                asio::co_spawn(ioc_,
                               Insert("plain" + std::to_string(k), k, "p" + std::to_string(k)),
                               [&, k](std::exception_ptr, Status s) { plain[k] = std::move(s); });
            }
        }
    }
    ioc_.restart();
    ioc_.run();
    for (int i = 0; i < kWriters; ++i) {
        ASSERT_TRUE(results[i].has_value()) << i;
        if (i == 5) {
            ASSERT_FALSE(results[i]->ok());
            EXPECT_EQ(results[i]->error().code, ErrorCode::kConflict);
        } else if (i == 10) {
            ASSERT_FALSE(results[i]->ok());
            EXPECT_EQ(results[i]->error().code, ErrorCode::kValidation);
        } else {
            EXPECT_TRUE(results[i]->ok()) << i << ": " << results[i]->error().internal;
        }
    }
    for (const auto& p : plain) {
        ASSERT_TRUE(p.has_value());
        EXPECT_TRUE(p->ok()) << p->error().internal;
    }
    auto rows = RunTask(ioc_, db_->Query("SELECT id FROM things ORDER BY id", {}));
    ASSERT_TRUE(rows.ok());
    EXPECT_EQ(rows->size(), static_cast<size_t>(1 + kWriters - 2 + 3));
    for (const auto& r : rows->rows) {
        EXPECT_NE(AsText(r[0]), "id5");
        EXPECT_NE(AsText(r[0]), "id10");
    }
    if (GetParam() == "sqlite") {
        // The queued transactions shared a batch, which ran again after its failures.
        EXPECT_EQ(*std::max_element(runs.begin() + 1, runs.end()), 2);
    }
}

TEST_P(Conformance, PingAndStats) {
    EXPECT_TRUE(RunTask(ioc_, db_->Ping()).ok());
    EXPECT_GE(db_->Stats().pool_connections, 1);
}

// Serve destroys the database before its io_contexts; a coroutine still suspended in a
// statement then dies with its context, after the pool. Its lease must not hand the
// connection back to the freed pool (ASan: heap-use-after-free in ~Lease, seen once at a
// server's SIGTERM in the e2e suite).
TEST_P(Conformance, AStatementInFlightMayOutliveTheDatabase) {
    if (GetParam() != "postgres") GTEST_SKIP() << "the pool's leases are PostgreSQL's";
    auto ioc = std::make_unique<asio::io_context>();
    std::filesystem::path dir;
    std::unique_ptr<Database> db = testing::OpenBackend("postgres", *ioc, dir);
    ASSERT_TRUE(db);
    bool finished = false;
    auto sleeper = [&]() -> Task<void> {
        auto r = co_await db->Query("SELECT pg_sleep(2)");
        finished = true;
        (void)r;
    };
    asio::co_spawn(*ioc, sleeper(), asio::detached);
    ioc->restart();
    ioc->run_for(std::chrono::milliseconds(300));  // sent; the answer is 2 s away
    ASSERT_FALSE(finished);
    db.reset();   // first, as in Serve
    ioc.reset();  // destroys the suspended coroutine and its lease
    EXPECT_FALSE(finished);
}

INSTANTIATE_TEST_SUITE_P(Backends, Conformance, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

TEST(SqliteBackup, CopiesALiveDatabase) {
    auto dir = std::filesystem::temp_directory_path() / ("tb-backup-" + RandomToken(8));
    std::filesystem::create_directories(dir);
    asio::io_context ioc;
    SystemClock clock;
    auto db = std::move(SqliteDatabase::Open({.path = (dir / "live.db").string()})).value();
    ASSERT_TRUE(RunTask(ioc, Migrate(*db, kTestMigrations, clock)).ok());
    ASSERT_TRUE(
        RunTask(ioc, db->Execute("INSERT INTO things (id, n) VALUES (?, ?)", Bind("a", 1))).ok());
    ASSERT_TRUE(db->Backup((dir / "copy.db").string()).ok());
    auto copy = std::move(SqliteDatabase::Open({.path = (dir / "copy.db").string()})).value();
    auto rows = RunTask(ioc, copy->Query("SELECT n FROM things WHERE id = ?", Bind("a")));
    ASSERT_TRUE(rows.ok());
    EXPECT_EQ(AsInt(rows->rows.at(0).at(0)), 1);
    copy->Close();
    db->Close();
    std::filesystem::remove_all(dir);
}

TEST(PgPlaceholders, NumbersOutsideQuotes) {
    EXPECT_EQ(NumberPlaceholders("SELECT ? , '?' , \"a?\" , ?"), "SELECT $1 , '?' , \"a?\" , $2");
    EXPECT_EQ(NumberPlaceholders("x = ? AND y = 'it''s ?' AND z = ?"),
              "x = $1 AND y = 'it''s ?' AND z = $2");
}

}  // namespace
}  // namespace tb::storage
