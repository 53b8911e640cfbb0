-- As ../../migrations/0012_file_chunks.sql, with BYTEA for the bytes (stored out of line by
-- TOAST, uncompressed: contents are often compressed already).
CREATE TABLE file_chunks (
    tenant_id  TEXT NOT NULL,
    file_id    TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    data       BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, file_id, seq)
);
ALTER TABLE file_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE TABLE file_uploads (
    tenant_id  TEXT NOT NULL,
    file_id    TEXT NOT NULL,
    touched_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, file_id)
);
CREATE INDEX file_uploads_touched ON file_uploads (touched_at);
