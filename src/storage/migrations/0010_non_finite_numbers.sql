-- Repairs document bodies that older versions stored with non-finite numbers: SQLite only
-- (storage/sqlite/migrations/0010_non_finite_numbers.sql); PostgreSQL's JSONB column never
-- accepted them, so there is nothing to do here.
SELECT 1;
