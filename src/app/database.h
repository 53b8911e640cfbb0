#pragma once
// Opens the configured database (sqlite:// or postgres://) and applies its migrations.

#include <boost/asio/any_io_executor.hpp>
#include <memory>

#include "app/config.h"
#include "common/clock.h"
#include "storage/database.h"
#include "storage/migration.h"

namespace tb::app {

struct OpenedDatabase {
    std::unique_ptr<storage::Database> db;
    std::span<const storage::Migration> migrations;
};

// Creates the data directory (0700) when missing. PostgreSQL connections are driven by `ex`.
Result<OpenedDatabase> OpenDatabase(const Config& config, boost::asio::any_io_executor ex);

}  // namespace tb::app
