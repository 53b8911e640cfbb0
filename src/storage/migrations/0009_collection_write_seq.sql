-- A number every write to a collection's documents raises in its own transaction (create,
-- replace, patch, delete): the version under which filtered list totals are cached
-- (storage/count_cache.h).
ALTER TABLE collections ADD COLUMN write_seq BIGINT NOT NULL DEFAULT 0;
