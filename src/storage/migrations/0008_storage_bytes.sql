-- The bytes of each stored document body, and their sum per collection, kept by every write
-- (collections/document_service.cpp): the storage the plans' max_storage_bytes bounds
-- (API.md §8). PostgreSQL: postgres/migrations/0008_storage_bytes.sql.
ALTER TABLE documents ADD COLUMN size BIGINT NOT NULL DEFAULT 0;
UPDATE documents SET size = length(CAST(body AS BLOB));
ALTER TABLE collections ADD COLUMN storage_bytes BIGINT NOT NULL DEFAULT 0;
UPDATE collections SET storage_bytes = (
    SELECT COALESCE(SUM(d.size), 0) FROM documents d
    WHERE d.tenant_id = collections.tenant_id AND d.collection_id = collections.id);
