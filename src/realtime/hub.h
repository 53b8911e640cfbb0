#pragma once
// Realtime subscriptions on documents (issue #25, API.md §5.6): clients hold a server-sent
// event stream open (EventStream) and say with an authenticated call which collections, ids
// and `q` filters they follow; committed document writes (collections/document_changes.h)
// reach every client that follows them and may read them.
//
// Decisions:
//  - Who hears of a change is decided per client when it is sent: the collection's read rule
//    for that client's principal and the key's scopes (DocumentService::MayRead), then the
//    subscription's filter, evaluated in memory by query::DocMatcher, the reference semantics
//    the list SQL is held to. An event carries the stored body: what a GET would return.
//  - Event ids are "<client id>:<sequence>", the sequence one counter per node, so ids grow
//    along a stream. A client that reconnects with Last-Event-ID to the node that served it
//    keeps its subscriptions and gets what it missed from the last 60 s or 10,000 changes
//    (and 64 MiB of bodies);
//    else it gets a new client id, then `reset` (reload, subscribe again).
//  - A client id is bound to its tenant and to the first principal (user, key or visitor)
//    that subscribes it; another principal gets 403.
//  - Changes are fanned out by one coroutine per client on its connection's executor, in
//    order; writers only queue them. A client that cannot keep up is dropped with `overflow`.
//
// Thread safety: every public method may be called from any thread.

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "collections/document_changes.h"
#include "collections/document_service.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/invalidation.h"
#include "limits/plans.h"
#include "query/doc_match.h"
#include "realtime/event_stream.h"
#include "tenancy/caller.h"

namespace tb::realtime {

struct RealtimeSettings {
    size_t max_connections = 10'000;  // open streams on this node (realtime.max_connections)
    size_t max_queued_bytes = size_t{1} << 20;
    std::chrono::milliseconds heartbeat{15'000};
    std::chrono::milliseconds replay_window{60'000};
    size_t replay_changes = 10'000;
    size_t replay_bytes = size_t{64} << 20;  // and at most this much of their bodies
    size_t max_subscriptions = 100;          // per client
    // The plans, for max_realtime_connections per tenant (none: no tenant limit).
    const limits::PlanCatalog* plans = nullptr;
};

struct SubscriptionSpec {
    std::string collection;
    std::optional<std::string> id;
    std::optional<std::string> q;  // the list query language's `q` (API.md §5.3)
};

// Where a node says which collections its clients follow, so that what other nodes write to
// them reaches it (realtime/cluster_relay.h, PostgreSQL); none on one node.
class FollowRegistry {
  public:
    virtual ~FollowRegistry() = default;
    // Called by Subscribe for each collection subscribed, before it answers: a write another
    // node commits after that answer reaches this node.
    virtual Task<Status> Following(const storage::TenantScope& tenant,
                                   const std::string& collection) = 0;
    // The tenant's subscribed streams on the other nodes, as they last told (a few seconds).
    virtual size_t RemoteStreams(const std::string& tenant_id) const = 0;
};

class RealtimeHub final : public collections::DocumentChangeSink {
  public:
    RealtimeHub(collections::DocumentService& documents, const Clock& clock, IdGenerator& ids,
                RealtimeSettings settings);

    struct Opened {
        std::shared_ptr<EventStream> stream;
        std::string client_id;
    };
    // A stream for a connection served on `executor`: a new client (its `connect` event
    // queued), or, when last_event_id names a client of this node, that client again with
    // the changes it missed. 503 past max_connections.
    Result<Opened> Open(const boost::asio::any_io_executor& executor,
                        std::string_view last_event_id);

    // Whether `who` may set this client's subscriptions: 404 for an unknown client, 403 for
    // one another principal or tenant subscribed first.
    Status MaySubscribe(const tenancy::Caller& who, const std::string& client_id) const;

    // Replaces the client's subscriptions (404 for an unknown client, 403 for another
    // principal's or tenant's, the collection's own 404/403 for one the caller may not read,
    // 422 for a bad spec). Returns the specs as kept.
    Task<Result<std::vector<SubscriptionSpec>>> Subscribe(const tenancy::Caller& who,
                                                          const std::string& client_id,
                                                          std::vector<SubscriptionSpec> specs);

    // Committed changes of this node, or of another (a delete from another node comes without
    // its body: it reaches every subscription of its collection, whatever the filter).
    void Published(std::vector<collections::DocumentChange> changes) override;

    // Set once, before serving (cluster mode).
    void SetRegistry(FollowRegistry* registry) { registry_ = registry; }
    // The (tenant id, collection) pairs that subscribed clients follow, each once.
    std::vector<std::pair<std::string, std::string>> Followed() const;
    // The open streams subscribed in each tenant on this node.
    std::unordered_map<std::string, size_t> LocalStreams() const;
    // The tenant's subscribed streams on every node (other nodes' as they last told).
    size_t TenantStreams(const std::string& tenant_id) const;

    // Ends the streams of clients whose principal changed (invalidation bus: a key changed,
    // rotated or deleted; a session logged out; a user deactivated or deleted; a membership
    // or role changed; a tenant changed): each gets `reset` and loses its subscriptions, so it must
    // subscribe again with credentials that still hold. A gap in what this node heard ("*") ends
    // every subscribed stream.
    void Attach(InvalidationBus& bus);

    // Ends every stream (shutdown): each client gets a last `reset` event.
    void CloseAll();
    size_t open_streams() const;
    // Events sent to streams, and streams ended because their client read too slowly, since
    // start (for /metrics).
    uint64_t events_sent() const { return events_sent_.load(std::memory_order_relaxed); }
    uint64_t overflows() const { return overflows_.load(std::memory_order_relaxed); }

  private:
    struct Change {
        uint64_t seq = 0;
        int64_t at_ms = 0;
        collections::DocumentChange doc;
        std::optional<json::object> body;  // parsed when a follower filters on it
    };
    struct Subscription {
        SubscriptionSpec spec;
        std::shared_ptr<const query::DocMatcher> filter;  // null: every document
    };
    struct Client {
        std::string id;
        boost::asio::any_io_executor executor;
        std::weak_ptr<EventStream> stream;
        std::optional<tenancy::Caller> caller;  // set by the first Subscribe
        std::string principal;                  // "user:<id>", "key:<id>" or "visitor"
        std::vector<Subscription> subscriptions;
        // What Drain has yet to send; taken whole (a deque would allocate on construction,
        // and an idle client should cost little).
        std::vector<std::shared_ptr<const Change>> pending;
        bool draining = false;
        int64_t gone_since_ms = 0;  // when its stream was first seen ended (0: open)
    };

    static std::string PrincipalOf(const tenancy::Caller& who);
    // The client `who` may subscribe (mu_ held): 404 unknown, 403 another principal's.
    Result<Client*> Owner(const tenancy::Caller& who, const std::string& client_id) const;
    static bool IsOpen(const Client& c);  // its stream is open (not ended, not gone)
    // Open streams (mu_ held): all, or those subscribed in one tenant.
    size_t OpenStreamsLocked(const std::string* tenant_id) const;
    // Ends and forgets every subscribed client `drop` selects.
    void DropWhere(const std::function<bool(const Client&)>& drop);
    bool Follows(const Client& c, const collections::DocumentChange& doc) const;  // mu_ held
    static bool HasFilterOn(const Client& c, const std::string& collection);
    // A stored body as an object; nullopt if it is not one.
    static std::optional<json::object> ParseBody(const std::string& text);
    // Queues changes for a client and starts its fan-out coroutine if idle (mu_ held).
    void Enqueue(const std::shared_ptr<Client>& c, std::shared_ptr<const Change> change);
    Task<void> Drain(std::shared_ptr<Client> c);
    // Whether `who` may read what changed: the collection's read rule, or the files' rule.
    Task<bool> MayRead(const tenancy::Caller& who, const collections::DocumentChange& doc);
    void Prune(int64_t now_ms);  // mu_ held: old changes, clients gone for the replay window
    int64_t NowMs() const { return ToUnixMillis(clock_.Now()); }

    collections::DocumentService& documents_;
    const Clock& clock_;
    IdGenerator& ids_;
    const RealtimeSettings settings_;
    FollowRegistry* registry_ = nullptr;
    std::atomic<uint64_t> events_sent_{0}, overflows_{0};

    mutable std::mutex mu_;
    std::unordered_map<std::string, std::shared_ptr<Client>> clients_;  // guarded by mu_
    std::deque<std::shared_ptr<const Change>> recent_;                  // guarded by mu_
    size_t recent_bytes_ = 0;  // the bodies' bytes in recent_; guarded by mu_
    uint64_t seq_ = 0;         // guarded by mu_
};

}  // namespace tb::realtime
