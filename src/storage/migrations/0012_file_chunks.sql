-- File contents in the database (files.backend = "database": files/database_store.h), so
-- that nodes on one PostgreSQL share files without a shared disk: 256 KiB chunks in order.
-- An upload under way has a file_uploads row, touched as its chunks arrive and deleted in the
-- transaction that writes its `files` row; the store's sweep removes the chunks of uploads
-- that stopped (a crash mid-upload). PostgreSQL: postgres/migrations/0012_file_chunks.sql.
CREATE TABLE file_chunks (
    tenant_id  TEXT NOT NULL,
    file_id    TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    data       BLOB NOT NULL,
    PRIMARY KEY (tenant_id, file_id, seq)
);
CREATE TABLE file_uploads (
    tenant_id  TEXT NOT NULL,
    file_id    TEXT NOT NULL,
    touched_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, file_id)
);
CREATE INDEX file_uploads_touched ON file_uploads (touched_at);
