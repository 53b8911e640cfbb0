#include "collections/collection_counters.h"

namespace tb::collections {

const char* const kDocumentCountSql =
    "SELECT CAST(COALESCE(SUM(document_count), 0) AS BIGINT) FROM collection_counters WHERE "
    "tenant_id = ? AND collection_id = ?";
const char* const kWriteSequenceSql =
    "SELECT CAST(COALESCE(SUM(write_seq), 0) AS BIGINT) FROM collection_counters WHERE "
    "tenant_id = ? AND collection_id = ?";
const char* const kDocumentCountOfRow =
    "(SELECT CAST(COALESCE(SUM(k.document_count), 0) AS BIGINT) FROM collection_counters k "
    "WHERE k.tenant_id = c.tenant_id AND k.collection_id = c.id)";

Task<Status> AddToCounters(storage::Session& tx, const std::string& tenant_id,
                           const std::string& collection_id, int64_t documents, int64_t bytes) {
    const int64_t shard = tx.Slot() % kCounterShards;
    auto n = co_await tx.Execute(
        "INSERT INTO collection_counters (tenant_id, collection_id, shard, document_count, "
        "storage_bytes, write_seq) VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT (tenant_id, "
        "collection_id, shard) DO UPDATE SET document_count = collection_counters.document_count "
        "+ excluded.document_count, storage_bytes = collection_counters.storage_bytes + "
        "excluded.storage_bytes, write_seq = collection_counters.write_seq + 1",
        storage::Bind(tenant_id, collection_id, shard, documents, bytes));
    if (!n.ok()) co_return std::move(n).error();
    co_return Status{};
}

}  // namespace tb::collections
