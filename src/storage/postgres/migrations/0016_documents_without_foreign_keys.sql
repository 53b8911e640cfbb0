-- Documents lose their foreign keys on PostgreSQL (issue #23). Checking them cost a query per
-- inserted row, about as much as the insert itself: a 1,000-document import spent half its
-- time there. Their guarantee, no document without its collection, is kept by row locks
-- instead, once per transaction (storage/dialect.h, ShareRowLock): a transaction that inserts
-- documents locks its collection's row first, and deleting a collection or a tenant locks the
-- collection rows before deleting their documents, so either the insert sees the collection
-- gone or the delete sees the inserted documents. SQLite keeps its foreign keys (its one writer
-- serialises both, and dropping them would rebuild the table).
ALTER TABLE documents DROP CONSTRAINT IF EXISTS documents_tenant_id_collection_id_fkey;
