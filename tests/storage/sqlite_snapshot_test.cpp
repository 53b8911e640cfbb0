// SQLite's reads share one read transaction per pass of the event loop (sqlite_database.h).
// These tests pin down what that may and may not hide: a pass's reads see one snapshot; a
// handler queued after it, a write's own completion, and a read after a failed one see the
// latest commit; nothing stays open once the loop is idle.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <filesystem>

#include "backend.h"
#include "common/encoding.h"
#include "storage/migration.h"
#include "storage/sqlite/sqlite_database.h"

namespace tb::storage {
namespace {

namespace asio = boost::asio;
using testing::RunTask;

const Migration kMigrations[] = {{1, "things", "CREATE TABLE things (id TEXT PRIMARY KEY);"}};

class PassSnapshot : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("tb-snapshot-" + RandomToken(8));
        std::filesystem::create_directories(dir_);
        path_ = (dir_ / "t.db").string();
        db_ = std::move(SqliteDatabase::Open({.path = path_})).value();
        ASSERT_TRUE(RunTask(ioc_, Migrate(*db_, kMigrations, clock_)).ok());
        ASSERT_EQ(sqlite3_open(path_.c_str(), &other_), SQLITE_OK);
        sqlite3_busy_timeout(other_, 5000);
    }
    void TearDown() override {
        sqlite3_close(other_);
        db_->Close();
        std::filesystem::remove_all(dir_);
    }
    // A commit by another connection, as by another process: it never passes the event loop.
    void CommitElsewhere(const std::string& id) {
        std::string sql = "INSERT INTO things (id) VALUES ('" + id + "')";
        ASSERT_EQ(sqlite3_exec(other_, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    }
    Task<int64_t> Count() {
        auto rows = co_await db_->Query("SELECT count(*) FROM things", {});
        co_return rows.ok() ? AsInt(rows->rows.at(0).at(0)) : -1;
    }

    asio::io_context ioc_;
    SystemClock clock_;
    std::filesystem::path dir_;
    std::string path_;
    std::unique_ptr<SqliteDatabase> db_;
    sqlite3* other_ = nullptr;
};

TEST_F(PassSnapshot, ReadsOfOnePassShareASnapshotThatEndsWithThePass) {
    auto body = [&]() -> Task<std::vector<int64_t>> {
        std::vector<int64_t> seen;
        seen.push_back(co_await Count());
        CommitElsewhere("a");
        seen.push_back(co_await Count());  // same pass: the snapshot taken before the commit
        // Queued now, so behind the snapshot's end: a request received after the commit.
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        seen.push_back(co_await Count());
        co_return seen;
    };
    EXPECT_EQ(RunTask(ioc_, body()), (std::vector<int64_t>{0, 0, 1}));
}

TEST_F(PassSnapshot, AWriteIsSeenByTheReadsAfterIt) {
    auto body = [&]() -> Task<std::vector<int64_t>> {
        std::vector<int64_t> seen;
        seen.push_back(co_await Count());  // opens the pass's snapshot
        auto inserted = co_await db_->Execute("INSERT INTO things (id) VALUES (?)", Bind("w"));
        seen.push_back(inserted.ok() ? *inserted : -1);
        seen.push_back(co_await Count());
        co_return seen;
    };
    EXPECT_EQ(RunTask(ioc_, body()), (std::vector<int64_t>{0, 1, 1}));
}

TEST_F(PassSnapshot, AFailedReadEndsTheSnapshot) {
    auto body = [&]() -> Task<std::vector<int64_t>> {
        std::vector<int64_t> seen;
        seen.push_back(co_await Count());
        auto bad = co_await db_->Query("SELECT nothing FROM nowhere", {});
        seen.push_back(bad.ok() ? 1 : 0);
        CommitElsewhere("b");
        seen.push_back(co_await Count());  // a fresh transaction
        co_return seen;
    };
    EXPECT_EQ(RunTask(ioc_, body()), (std::vector<int64_t>{0, 0, 1}));
}

TEST_F(PassSnapshot, NothingStaysOpenOnceTheLoopIsIdle) {
    EXPECT_EQ(RunTask(ioc_, Count()), 0);
    DatabaseStats stats = db_->Stats();
    EXPECT_EQ(stats.pool_idle, stats.pool_connections - 1);  // all but the writer
    // A checkpoint that must wait for every reader to leave the WAL completes at once.
    CommitElsewhere("c");
    int log_frames = -1;
    int checkpointed = -1;
    ASSERT_EQ(sqlite3_wal_checkpoint_v2(other_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log_frames,
                                        &checkpointed),
              SQLITE_OK);
    EXPECT_EQ(log_frames, 0);
}

TEST_F(PassSnapshot, AClosedDatabaseRefusesReads) {
    db_->Close();
    auto rows = RunTask(ioc_, db_->Query("SELECT count(*) FROM things", {}));
    ASSERT_FALSE(rows.ok());
    EXPECT_EQ(rows.error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(db_->Stats().pool_connections, 1);  // the readers are closed, not pooled
}

TEST_F(PassSnapshot, ReadsOffAnEventLoopRunInTransactionsOfTheirOwn) {
    asio::thread_pool pool(1);
    auto body = [&]() -> Task<std::vector<int64_t>> {
        std::vector<int64_t> seen;
        seen.push_back(co_await Count());
        CommitElsewhere("d");
        seen.push_back(co_await Count());
        co_return seen;
    };
    auto seen = asio::co_spawn(pool, body(), asio::use_future).get();
    EXPECT_EQ(seen, (std::vector<int64_t>{0, 1}));
    pool.join();
}

}  // namespace
}  // namespace tb::storage
