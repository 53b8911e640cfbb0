-- A collection's counters (documents, their bytes, the write sequence) move off its row into
-- rows of their own, several per collection (collections/collection_counters.h). Every
-- document write raised them in its transaction; on PostgreSQL that kept one row locked from
-- the write to its commit, so the writes of a collection ran one after another, and readers
-- of the definition walked the dead versions each update left. A write now raises the row of
-- its connection's slot; a read sums the rows. On SQLite (one writer) only row 0 is used.
CREATE TABLE collection_counters (
    tenant_id      TEXT NOT NULL,
    collection_id  TEXT NOT NULL,
    shard          INTEGER NOT NULL,
    document_count BIGINT NOT NULL DEFAULT 0,
    storage_bytes  BIGINT NOT NULL DEFAULT 0,
    write_seq      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, collection_id, shard),
    FOREIGN KEY (tenant_id, collection_id) REFERENCES collections (tenant_id, id)
        ON DELETE CASCADE
);
INSERT INTO collection_counters (tenant_id, collection_id, shard, document_count, storage_bytes,
                                 write_seq)
    SELECT tenant_id, id, 0, document_count, storage_bytes, write_seq FROM collections;
ALTER TABLE collections DROP COLUMN document_count;
ALTER TABLE collections DROP COLUMN storage_bytes;
ALTER TABLE collections DROP COLUMN write_seq;
