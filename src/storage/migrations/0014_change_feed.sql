-- The change feed that tells other nodes which cached facts a change made stale (issue #23):
-- PostgreSQL only (postgres/migrations/0014_change_feed.sql). One SQLite file serves one node,
-- whose services drop their own caches as they change things.
SELECT 1;
