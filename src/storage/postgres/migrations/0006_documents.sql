-- Collections and documents (API.md §5), PostgreSQL: as the shared migration, plus `data`,
-- the body as JSONB, generated from it, for queries and expression indexes. The body itself
-- stays text so that a read serves the bytes written, in their order, with no conversion.
CREATE TABLE collections (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id             TEXT NOT NULL,
    name           TEXT NOT NULL,
    schema         TEXT,                        -- JSON Schema (subset) or NULL
    indexes        TEXT NOT NULL DEFAULT '[]',
    rules          TEXT NOT NULL DEFAULT '{}',
    document_count BIGINT NOT NULL DEFAULT 0,   -- kept in the transaction of every write
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);

CREATE TABLE documents (
    tenant_id     TEXT NOT NULL,
    collection_id TEXT NOT NULL,
    id            TEXT NOT NULL,
    body          TEXT NOT NULL,
    data          JSONB GENERATED ALWAYS AS (body::jsonb) STORED,
    version       BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    changed_at    BIGINT NOT NULL,
    created_by    TEXT,
    changed_by    TEXT,
    org_id        TEXT,
    PRIMARY KEY (tenant_id, collection_id, id),
    FOREIGN KEY (tenant_id, collection_id) REFERENCES collections (tenant_id, id)
        ON DELETE CASCADE
);
CREATE INDEX documents_created ON documents (tenant_id, collection_id, created_at, id);
CREATE INDEX documents_changed ON documents (tenant_id, collection_id, changed_at, id);
CREATE INDEX documents_owner ON documents (tenant_id, collection_id, created_by, id);
CREATE INDEX documents_org ON documents (tenant_id, collection_id, org_id, id);
