-- Versions before this one stored a number past the double range (1e400) as std::to_chars'
-- "inf", "-inf" or "nan" in a document body, which made every read of its collection invalid
-- JSON. In the bodies that are not valid JSON, such tokens outside strings become null
-- (tb_null_non_finite, storage/sqlite/sqlite_functions.h); valid bodies are not touched.
-- Other stored JSON (tenant settings, collection definitions) is repaired when read
-- (ParseStoredJson). PostgreSQL never stored such a body (its JSONB column refused it).
UPDATE documents SET body = tb_null_non_finite(body) WHERE json_valid(body) = 0;
