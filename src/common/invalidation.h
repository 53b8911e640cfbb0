#pragma once
// The invalidation bus (ARCHITECTURE.md "Cluster mode"): a change that makes cached
// authorization facts stale is published once, and every cache that holds such facts drops
// them. In one process the subscribers are called directly, before Publish returns; a
// PostgreSQL LISTEN/NOTIFY transport for several nodes plugs in behind the same interface.
//
// Topics: "user" (key: user id — deactivated, deleted, renamed), "membership" (key: user id —
// joined, left or changed role in some tenant), "tenant" (key: tenant id — updated or
// deleted).
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
