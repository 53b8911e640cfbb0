#pragma once
// Shared by the storage suites: a throwaway database of either backend, and a way to run a
// Task to completion. PostgreSQL needs TB_TEST_PG_URL (an admin URL of a throwaway cluster);
// without it, OpenBackend answers nullptr and the caller skips.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/encoding.h"
#include "storage/postgres/pg_database.h"
#include "storage/sqlite/sqlite_database.h"

namespace tb::storage::testing {

namespace asio = boost::asio;

template <class T>
T RunTask(asio::io_context& ioc, Task<T> task) {
    std::optional<T> out;
    auto wrapper = [&]() -> Task<void> { out.emplace(co_await std::move(task)); };
    asio::co_spawn(ioc, wrapper(), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
    ioc.restart();
    ioc.run();
    return std::move(*out);
}

inline std::string ToLowerAlnum(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (std::isalnum(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(c));
    }
    return out;
}

// A fresh, empty database: a file under `dir` (created) for "sqlite", a new database in the
// TB_TEST_PG_URL cluster for "postgres" (nullptr when that is not set).
inline std::unique_ptr<Database> OpenBackend(const std::string& backend, asio::io_context& ioc,
                                             std::filesystem::path& dir) {
    if (backend == "sqlite") {
        dir = std::filesystem::temp_directory_path() / ("tb-store-" + RandomToken(8));
        std::filesystem::create_directories(dir);
        return std::move(SqliteDatabase::Open({.path = (dir / "t.db").string()})).value();
    }
    const char* admin = std::getenv("TB_TEST_PG_URL");
    if (!admin || !*admin) return nullptr;
    std::string name = "tb_store_" + ToLowerAlnum(RandomToken(8));
    PgDatabase root(ioc.get_executor(), {.url = admin, .pool_size = 1});
    if (!RunTask(ioc, root.ExecuteScript("CREATE DATABASE " + name)).ok()) return nullptr;
    root.Close();
    std::string url = admin;
    url = url.substr(0, url.rfind('/') + 1) + name;
    return std::make_unique<PgDatabase>(ioc.get_executor(),
                                        PostgresOptions{.url = url, .pool_size = 8});
}

}  // namespace tb::storage::testing
