-- Rate-limit budgets and metered usage (API.md §1.3, §8). Both are written in batches by
-- every node (limits/rate_limiter.cpp, limits/usage_meter.cpp) with UPSERTs that add to what
-- is there, so nodes sharing one PostgreSQL share these numbers.

-- One row per budget ("u:<user id>", "k:<key id>", "ip:<address>") and fixed one-hour window
-- (its start, Unix seconds); ended windows are deleted.
CREATE TABLE rate_limits (
    bucket       TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    count        BIGINT NOT NULL,
    PRIMARY KEY (bucket, window_start)
);

-- Hourly counters (hour: bucket start, Unix seconds). user_id and key_id are '' when the
-- request had none. No foreign key to tenants: a batch written just after a tenant was
-- deleted must not fail; the tenant's deletion deletes its rows.
CREATE TABLE usage_counters (
    tenant_id         TEXT NOT NULL,
    hour              BIGINT NOT NULL,
    user_id           TEXT NOT NULL,
    key_id            TEXT NOT NULL,
    route_group       TEXT NOT NULL,
    status_class      INTEGER NOT NULL,
    requests          BIGINT NOT NULL,
    errors            BIGINT NOT NULL,
    documents_written BIGINT NOT NULL,
    bytes_in          BIGINT NOT NULL,
    bytes_out         BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, hour, user_id, key_id, route_group, status_class)
);
