-- As the shared 0008_storage_bytes.sql; the body is JSONB here, measured as its text.
ALTER TABLE documents ADD COLUMN size BIGINT NOT NULL DEFAULT 0;
UPDATE documents SET size = octet_length(body::text);
ALTER TABLE collections ADD COLUMN storage_bytes BIGINT NOT NULL DEFAULT 0;
UPDATE collections SET storage_bytes = (
    SELECT COALESCE(SUM(d.size), 0) FROM documents d
    WHERE d.tenant_id = collections.tenant_id AND d.collection_id = collections.id);
