#pragma once
// Realtime across nodes on PostgreSQL (issue #25, docs/architecture.md "Realtime"): what
// another node commits to a followed collection reaches this node's subscribers.
//
// How:
//  - A node whose clients follow a collection has a row in realtime_interest (tenant,
//    collection id, node, expiry), written before the subscribing call answers and renewed
//    while a client follows it (Renew, every 5 s, rewrites it when less than 40 s of its 60 s
//    are left; it is deleted at once when no client follows any more).
//  - The plan's max_realtime_connections holds across nodes: each node writes its subscribed
//    streams per tenant to realtime_streams every 5 s and reads the others' sums, so a node
//    knows the others' counts as of the last few seconds.
//  - Statement triggers on documents NOTIFY `tb_documents` in the writing transaction when
//    another node follows the collection (migration 0018_realtime_feed): ids and versions,
//    never bodies (see the migration for the payload).
//  - This node reads the payloads in the order PostgreSQL delivered them (commit order),
//    fetches the created and updated documents by id, and hands the changes to the hub,
//    which applies each reader's rules and filters as for its own writes. A document whose
//    stored version is no longer the one announced is skipped: its next change is on its way.
//    A delete carries the owner and organization, not the body. Files likewise: their rows'
//    triggers announce uploads and deletes under the collection id `_files`
//    (collections::kFilesCollection), and the receiving node reads the file's metadata.
//
// Thread safety: Notified, Following and Renew may be called from any thread.

#include <boost/asio/any_io_executor.hpp>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "collections/collection_service.h"
#include "collections/document_service.h"
#include "files/file_service.h"
#include "realtime/hub.h"
#include "storage/database.h"

namespace tb::realtime {

// One line of a tb_documents payload.
struct RemoteChange {
    collections::DocumentChange::Kind kind = collections::DocumentChange::Kind::kCreate;
    std::string tenant_id, collection_id, id;
    int64_t version = 0;
    std::string created_by, org;
};

// A tb_documents payload -> its node and changes; false when malformed (a line that is not
// one is skipped, the others kept).
bool ParseRemoteChanges(std::string_view payload, std::string& node,
                        std::vector<RemoteChange>& changes);

class ClusterRelay final : public FollowRegistry {
  public:
    ClusterRelay(storage::Database& db, collections::CollectionService& collections,
                 collections::DocumentService& documents, files::FileService& files,
                 RealtimeHub& hub, const Clock& clock, std::string node_id,
                 boost::asio::any_io_executor executor);

    Task<Status> Following(const storage::TenantScope& tenant,
                           const std::string& collection) override;
    size_t RemoteStreams(const std::string& tenant_id) const override;

    // A tb_documents notification (storage::PgListener::Listen): queued; one coroutine reads
    // the documents and hands the changes to the hub, in order.
    void Notified(const std::string& payload);

    // Every few seconds: renews the rows of what clients still follow, deletes those of what
    // none follows any more and every node's expired ones; writes this node's subscribed
    // streams per tenant (realtime_streams) and reads the other nodes'.
    Task<Status> Renew();
    // Deletes this node's rows (shutdown).
    Task<Status> Withdraw();

  private:
    struct Interest {
        std::string tenant_id, collection_id, collection;
        int64_t expires_ms = 0;
    };
    static std::string Key(std::string_view tenant_id, std::string_view collection_id) {
        return std::string(tenant_id) + '\t' + std::string(collection_id);
    }
    Task<Status> Upsert(const Interest& interest);
    Task<Status> ShareStreams();
    Task<void> Run();
    // The changes of one batch of payload lines, read and in order.
    Task<std::vector<collections::DocumentChange>> Resolve(std::vector<RemoteChange> lines);
    int64_t NowMs() const { return ToUnixMillis(clock_.Now()); }

    storage::Database& db_;
    collections::CollectionService& collections_;
    collections::DocumentService& documents_;
    files::FileService& files_;
    RealtimeHub& hub_;
    const Clock& clock_;
    const std::string node_id_;
    boost::asio::any_io_executor executor_;

    std::mutex mu_;
    std::unordered_map<std::string, Interest> interest_;  // by Key; guarded by mu_
    std::deque<std::vector<RemoteChange>> queue_;         // guarded by mu_
    bool running_ = false;                                // guarded by mu_
    mutable std::mutex streams_mu_;
    std::unordered_map<std::string, size_t> remote_streams_;  // by tenant; streams_mu_
    std::unordered_set<std::string> shared_;  // tenants with a row of ours (Renew only)
};

}  // namespace tb::realtime
