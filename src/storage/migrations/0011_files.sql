-- Files (API.md §6): one row per stored file, written once its content is durable in the
-- configured store (files/content_store.h); the bytes of a tenant's files, kept by every
-- upload and delete in the same transaction, count against its storage quota beside the
-- documents' (collections.storage_bytes).
CREATE TABLE files (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    created_by   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX files_tenant_created ON files (tenant_id, created_at, id);
CREATE INDEX files_tenant_name ON files (tenant_id, name, id);
ALTER TABLE tenants ADD COLUMN file_bytes BIGINT NOT NULL DEFAULT 0;
