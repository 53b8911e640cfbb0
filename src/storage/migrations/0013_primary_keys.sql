-- A user's primary API key (the Nilux dialect's one key per user, API.md §11): at most one per
-- user, in the user's personal tenant; its secret starts with sk_live_.
ALTER TABLE api_keys ADD COLUMN is_primary INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX api_keys_primary ON api_keys (owner_user_id) WHERE is_primary = 1;
