-- API keys (API.md §4). Stored as SHA-256 hashes only; `preview` is what lists show.
-- tenant_id stays NULL until tenancy binds keys to tenants.
CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT,
    owner_user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    key_hash        TEXT NOT NULL UNIQUE,
    preview         TEXT NOT NULL,
    scopes          TEXT NOT NULL,
    collections     TEXT NOT NULL DEFAULT '[]',
    allowed_origins TEXT NOT NULL DEFAULT '[]',
    is_active       INTEGER NOT NULL DEFAULT 1,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    expires_at      BIGINT,
    last_used_at    BIGINT
);
CREATE INDEX api_keys_owner ON api_keys (owner_user_id, id);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);
