-- Tenants, memberships, organizations (API.md §3). Every tenant-owned table leads with
-- tenant_id, and so do its indexes: each query is scoped by tenant and served by an index.
CREATE TABLE tenants (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    slug         TEXT NOT NULL UNIQUE,
    plan         TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'active',
    settings     TEXT NOT NULL DEFAULT '{}',
    -- Kept in the same transaction as every membership change: a list never counts rows.
    member_count BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX tenants_created ON tenants (created_at, id);

-- user_created_at copies the user's (immutable) creation time, so that the users of a tenant
-- sorted by created_at are read from an index instead of sorting every member.
CREATE TABLE memberships (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT NOT NULL,
    joined_at       BIGINT NOT NULL,
    user_created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id, joined_at);
CREATE INDEX memberships_tenant_user_created ON memberships (tenant_id, user_created_at, user_id);
CREATE INDEX memberships_tenant_joined ON memberships (tenant_id, joined_at, user_id);

CREATE TABLE organizations (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    slug         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    member_count BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (tenant_id, slug)
);
CREATE INDEX organizations_tenant ON organizations (tenant_id, id);

CREATE TABLE organization_members (
    tenant_id       TEXT NOT NULL,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT NOT NULL,
    joined_at       BIGINT NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX organization_members_tenant_user ON organization_members (tenant_id, user_id);

-- Instance-wide secrets shared by every node (e.g. the key that signs list cursors).
CREATE TABLE instance_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Keys made before tenancy have no tenant and can no longer be used: remove them.
DELETE FROM api_keys WHERE tenant_id IS NULL;
CREATE INDEX api_keys_tenant_owner ON api_keys (tenant_id, owner_user_id, id);
