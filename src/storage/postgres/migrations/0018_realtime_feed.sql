-- Realtime across nodes (issue #25, realtime/cluster_relay.h): a committed document write
-- reaches the subscribers of every node. A node that has subscribers on a collection says so
-- in realtime_interest (refreshed while they stay, expiring when they are gone); a statement
-- that writes documents of such a collection NOTIFYs `tb_documents`, in its transaction, with
-- what changed and never the bodies (a payload holds under 8,000 bytes): a line per document
-- "<kind>\t<tenant>\t<collection id>\t<id>\t<version>\t<owner>\t<org>", kind c, u or d, after
-- a first line with the writing node (`tb.node`), which skips its own. PostgreSQL delivers
-- them when the transaction commits, in commit order, and never for a rollback. The receiving
-- node reads each document by id. Statement-level triggers: one call per statement (a
-- 500-row import INSERT measured the same with and without them when no node listens), and
-- nothing sent when no other node follows the collection.
CREATE TABLE realtime_interest (
    tenant_id     TEXT NOT NULL,
    collection_id TEXT NOT NULL,
    node_id       TEXT NOT NULL,
    expires_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, collection_id, node_id)
);

-- How many subscribed streams each node holds per tenant, for the plan's
-- max_realtime_connections across nodes: each node rewrites its own rows every few seconds;
-- rows of a node that stopped expire.
CREATE TABLE realtime_streams (
    tenant_id  TEXT NOT NULL,
    node_id    TEXT NOT NULL,
    streams    BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, node_id)
);

-- Sends the lines of one statement's changes, in chunks under the 8,000-byte payload limit,
-- each headed by the writing node.
CREATE FUNCTION tb_send_changes(node TEXT, lines TEXT[]) RETURNS void AS $$
DECLARE
    head TEXT := node || E'\n';
    chunk TEXT := head;
    line TEXT;
BEGIN
    FOREACH line IN ARRAY lines LOOP
        IF length(chunk) + length(line) >= 7900 THEN
            PERFORM pg_notify('tb_documents', chunk);
            chunk := head;
        END IF;
        chunk := chunk || line || E'\n';
    END LOOP;
    IF chunk <> head THEN
        PERFORM pg_notify('tb_documents', chunk);
    END IF;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION tb_documents_changed() RETURNS trigger AS $$
DECLARE
    node TEXT := COALESCE(current_setting('tb.node', true), '');
    now_ms BIGINT;
    kind TEXT;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM realtime_interest WHERE node_id <> node) THEN
        RETURN NULL;
    END IF;
    now_ms := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
    kind := CASE TG_OP WHEN 'INSERT' THEN 'c' WHEN 'UPDATE' THEN 'u' ELSE 'd' END;
    PERFORM tb_send_changes(node, ARRAY(
        SELECT concat_ws(E'\t', kind, d.tenant_id, d.collection_id, d.id, d.version::text,
                         COALESCE(d.created_by, ''), COALESCE(d.org_id, ''))
        FROM changed d
        WHERE EXISTS (SELECT 1 FROM realtime_interest i
                      WHERE i.tenant_id = d.tenant_id AND i.collection_id = d.collection_id
                        AND i.node_id <> node AND i.expires_at > now_ms)));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- One event per trigger: PostgreSQL allows transition tables only on single-event triggers.
CREATE TRIGGER documents_inserted AFTER INSERT ON documents
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tb_documents_changed();
CREATE TRIGGER documents_updated AFTER UPDATE ON documents
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tb_documents_changed();
CREATE TRIGGER documents_deleted AFTER DELETE ON documents
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tb_documents_changed();

-- Files (uploads and deletes) the same way, under the collection id `_files`, which no
-- collection's id can be.
CREATE FUNCTION tb_files_changed() RETURNS trigger AS $$
DECLARE
    node TEXT := COALESCE(current_setting('tb.node', true), '');
    now_ms BIGINT;
    kind TEXT;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM realtime_interest
                   WHERE node_id <> node AND collection_id = '_files') THEN
        RETURN NULL;
    END IF;
    now_ms := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
    kind := CASE TG_OP WHEN 'INSERT' THEN 'c' ELSE 'd' END;
    PERFORM tb_send_changes(node, ARRAY(
        SELECT concat_ws(E'\t', kind, f.tenant_id, '_files', f.id, '1', f.created_by, '')
        FROM changed f
        WHERE EXISTS (SELECT 1 FROM realtime_interest i
                      WHERE i.tenant_id = f.tenant_id AND i.collection_id = '_files'
                        AND i.node_id <> node AND i.expires_at > now_ms)));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER files_inserted AFTER INSERT ON files
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tb_files_changed();
CREATE TRIGGER files_deleted AFTER DELETE ON files
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tb_files_changed();
