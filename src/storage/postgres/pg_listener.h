#pragma once
// The change feed of a PostgreSQL cluster (issue #23, docs/architecture.md "Cluster mode"):
// triggers on the tables whose rows back cached authorization facts (users, sessions,
// memberships, tenants, API keys, collection definitions) NOTIFY the channel
// `tb_changes` in the transaction that changes them, so a change is announced exactly when it
// commits and a rolled-back one never is (migration 0014_change_feed). Each node listens on
// one dedicated connection and hands every other node's change to its invalidation bus.
//
// A notification's payload is "<node>\t<topic>\t<key>", <node> the `tb.node` setting of the
// connection that made the change (PostgresOptions::node_id): a node skips its own, which its
// services already published. When the listening connection fails, changes may be missed:
// on reconnecting (with backoff) the listener calls `on_gap`, which drops every cache.
//
// Thread safety: Start and Stop from one thread; the callbacks run on the executor.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "storage/postgres/pg_connection.h"

namespace tb::storage {

class PgListener {
  public:
    using OnChange = std::function<void(std::string_view topic, const std::string& key)>;
    // `on_lost` runs as soon as the listening connection fails (the caches stop trusting the
    // feed), `on_gap` once a new one listens (they drop what they hold).
    PgListener(
        boost::asio::any_io_executor ex, std::string url, std::string node_id, OnChange on_change,
        std::function<void()> on_gap, std::function<void()> on_lost = [] {});
    ~PgListener();

    // Also listens on `channel`, handing each payload to `on_payload` as it arrives (the
    // payload whole: its sender's node is the handler's to read). Before Start.
    void Listen(std::string channel, std::function<void(const std::string& payload)> on_payload);

    void Start();
    // Stops listening (the pending wait is cancelled); returns at once.
    void Stop();
    // Whether the listening connection is up.
    bool connected() const;
    // Whether the feed is known to work end to end: connected, and this node's own heartbeat
    // (HeartbeatPayload, sent through the pool each second by app/serve.cpp) came back within
    // `within`. A connection can look up and hear nothing (a silent network failure); the
    // caches trust the feed for long only while this holds.
    bool Live(std::chrono::milliseconds within) const;
    // Drops the listening connection and listens again on a new one (which flushes every
    // cache, as after any gap). Returns at once.
    void Reconnect();
    // The payload of this node's heartbeat: NOTIFY tb_changes with it.
    static std::string HeartbeatPayload(std::string_view node_id);

    // "<node>\t<topic>\t<key>" -> its parts; false when malformed.
    static bool ParsePayload(std::string_view payload, std::string_view& node,
                             std::string_view& topic, std::string_view& key);

  private:
    // Everything the listening coroutine uses, shared with it: it may outlive this object by
    // the time its cancelled wait returns.
    struct State;
    static Task<void> Run(std::shared_ptr<State> state);

    std::shared_ptr<State> state_;
};

}  // namespace tb::storage
