#pragma once
// Opens the configured database (sqlite:// or postgres://) and applies its migrations.

#include <boost/asio/any_io_executor.hpp>
#include <memory>

#include "app/config.h"
#include "common/clock.h"
#include "common/worker_pool.h"
#include "files/content_store.h"
#include "storage/database.h"
#include "storage/migration.h"

namespace tb::app {

struct OpenedDatabase {
    std::unique_ptr<storage::Database> db;
    std::span<const storage::Migration> migrations;
    // PostgreSQL: several nodes may share it, and the change feed tells each of the others'
    // changes (storage/postgres/pg_listener.h).
    bool shared = false;
};

// Creates the data directory (0700) when missing. PostgreSQL connections are driven by `ex`
// and name this node `node_id` (the change feed's `tb.node`).
Result<OpenedDatabase> OpenDatabase(const Config& config, boost::asio::any_io_executor ex,
                                    const std::string& node_id = {});

// The configured file content store (files.backend): contents under <data>/files, with its
// fsyncs and sweeps on `workers`, or chunks in `db`.
Result<std::unique_ptr<files::ContentStore>> OpenContentStore(const Config& config,
                                                              storage::Database& db,
                                                              const Clock& clock,
                                                              WorkerPool& workers);

}  // namespace tb::app
