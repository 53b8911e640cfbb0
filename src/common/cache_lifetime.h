#pragma once
// How long a node may answer from a cached authorization fact (a session, an API key, a
// membership, a collection's definition) before it reads the fact again.
//
// A change made on this node drops the entries it affects at once (the invalidation bus); a
// change made on another node reaches this one through PostgreSQL's change feed
// (storage/postgres/pg_listener.h). While that feed is known to be live the lifetime can be
// long, since it only bounds what the feed failed to say; while it is not (one node on
// SQLite, or the listener down or silent) the lifetime is short, and bounds how long another
// node's change (or the command line's) can go unseen.
//
// A CacheLifetime is a handle: copies share one value, so the services each hold one and the
// feed's monitor (app/serve.cpp) changes them all.
//
// Thread safety: ms() and Set() may be called from any thread.

#include <atomic>
#include <cstdint>
#include <memory>

namespace tb {

class CacheLifetime {
  public:
    explicit CacheLifetime(int64_t ms = kShortMs)
        : ms_(std::make_shared<std::atomic<int64_t>>(ms)) {}

    static constexpr int64_t kShortMs = 1000;
    static constexpr int64_t kLongMs = 60'000;

    int64_t ms() const { return ms_->load(std::memory_order_relaxed); }
    void Set(int64_t ms) { ms_->store(ms, std::memory_order_relaxed); }

  private:
    std::shared_ptr<std::atomic<int64_t>> ms_;
};

}  // namespace tb
