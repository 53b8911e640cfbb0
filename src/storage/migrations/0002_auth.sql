-- JWT signing keys (the newest signs; older ones keep verifying until their tokens expire).
-- `secret` is a PKCS#8 private key (or an HS256 secret): never logged, never served.
CREATE TABLE signing_keys (
    kid        TEXT PRIMARY KEY,
    algorithm  TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- A session is one login; every refresh token descends from it (one family).
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id  TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Refresh tokens, stored as SHA-256 hashes only. Invariants: a token is used at most once
-- (used_at set by the refresh that retires it); presenting a used token again revokes its
-- session, except within the grace window for the most recently retired token.
CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    parent_hash TEXT,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);
CREATE INDEX refresh_tokens_parent ON refresh_tokens (parent_hash);

-- Security events (API.md §9). tenant_id NULL: an instance-level event.
CREATE TABLE audit_log (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT,
    ts         BIGINT NOT NULL,
    actor      TEXT,
    action     TEXT NOT NULL,
    target     TEXT,
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    details    TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_tenant_ts ON audit_log (tenant_id, ts);
