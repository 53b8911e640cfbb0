#pragma once
// The invalidation bus (ARCHITECTURE.md "Cluster mode"): a change that makes cached
// authorization facts stale is published once, and every cache that holds such facts drops
// them. In one process the subscribers are called directly, before Publish returns. Other
// nodes learn of a change from PostgreSQL's change feed (storage/postgres/pg_listener.h),
// which publishes it here on theirs.
//
// Topics: "user" (key: user id — deactivated, deleted, renamed), "membership" (key: user id —
// joined, left or changed role in some tenant), "tenant" (key: tenant id — updated or
// deleted), "session" (key: session id — revoked), "api_key" (key: key id — changed, rotated
// or deleted), "collection" (key: "<tenant id>/<name>" — definition changed or dropped).
// FlushAll calls the subscribers of "*": every cache dropped whole (changes may have been
// missed).
//
// Thread safety: Subscribe before serving; Publish from any thread.

#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace tb {

class InvalidationBus {
  public:
    using Handler = std::function<void(const std::string& key)>;

    void Subscribe(std::string topic, Handler handler) {
        std::lock_guard lock(mu_);
        subscribers_.push_back({std::move(topic), std::move(handler)});
    }

    // The subscribers of "*" (with an empty key): a gap in what this node heard.
    void FlushAll() const { Publish("*", std::string()); }

    void Publish(std::string_view topic, const std::string& key) const {
        std::vector<Handler> handlers;
        {
            std::lock_guard lock(mu_);
            for (const auto& s : subscribers_)
                if (s.topic == topic) handlers.push_back(s.handler);
        }
        for (const auto& h : handlers) h(key);
    }

  private:
    struct Subscriber {
        std::string topic;
        Handler handler;
    };
    mutable std::mutex mu_;
    std::vector<Subscriber> subscribers_;  // guarded by mu_
};

}  // namespace tb
