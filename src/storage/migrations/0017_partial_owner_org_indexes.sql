-- The owner and organization indexes on documents hold only the documents that have an owner
-- or an organization (issue #23). A document written with an API key has no owner and most
-- documents have no organization; each index entry costs about 1.6 µs of a PostgreSQL INSERT
-- (0.8 ms per 500 rows, measured with auto_explain). The queries that read these indexes are
-- the owner rule (`created_by = ?`), the org rule (`org_id IN (...)`) and the `_createdby` and
-- `_org` filters, whose comparisons imply NOT NULL, so PostgreSQL's and SQLite's planners use
-- the partial indexes for them as before (EXPLAIN in docs/performance.md). Only a filter for
-- documents without an owner or organization (`_org=null`) reads the collection instead.
DROP INDEX documents_owner;
CREATE INDEX documents_owner ON documents (tenant_id, collection_id, created_by, id)
    WHERE created_by IS NOT NULL;
DROP INDEX documents_org;
CREATE INDEX documents_org ON documents (tenant_id, collection_id, org_id, id)
    WHERE org_id IS NOT NULL;
