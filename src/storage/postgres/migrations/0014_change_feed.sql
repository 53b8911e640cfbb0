-- The change feed (issue #23, storage/postgres/pg_listener.h): a change to a row behind a
-- cached authorization fact NOTIFYs `tb_changes` with "<node>\t<topic>\t<key>" in the
-- transaction that makes it. PostgreSQL delivers a notification when that transaction
-- commits, never when it rolls back; identical ones of one transaction are sent once.
-- <node> is the `tb.node` setting of the connection (each node sets its id), so that a node
-- skips what it published itself. Only the columns that such facts read fire a trigger: a
-- login's last_login_at, a key's last_used_at or a collection's counters do not.
CREATE FUNCTION tb_announce(topic TEXT, key TEXT) RETURNS void AS $$
BEGIN
    PERFORM pg_notify('tb_changes',
                      COALESCE(current_setting('tb.node', true), '') || E'\t' || topic || E'\t' || key);
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION tb_changed() RETURNS trigger AS $$
DECLARE
    r RECORD;
BEGIN
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    IF TG_TABLE_NAME = 'users' THEN
        PERFORM tb_announce('user', r.id);
    ELSIF TG_TABLE_NAME = 'sessions' THEN
        PERFORM tb_announce('session', r.id);
    ELSIF TG_TABLE_NAME = 'memberships' THEN
        PERFORM tb_announce('membership', r.user_id);
    ELSIF TG_TABLE_NAME = 'tenants' THEN
        PERFORM tb_announce('tenant', r.id);
    ELSIF TG_TABLE_NAME = 'api_keys' THEN
        PERFORM tb_announce('api_key', r.id);
    ELSIF TG_TABLE_NAME = 'collections' THEN
        PERFORM tb_announce('collection', r.tenant_id || '/' || r.name);
        IF TG_OP = 'UPDATE' AND OLD.name IS DISTINCT FROM NEW.name THEN
            PERFORM tb_announce('collection', OLD.tenant_id || '/' || OLD.name);
        END IF;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER users_changed AFTER UPDATE ON users FOR EACH ROW
    WHEN (OLD.email IS DISTINCT FROM NEW.email OR OLD.name IS DISTINCT FROM NEW.name OR
          OLD.password_hash IS DISTINCT FROM NEW.password_hash OR
          OLD.is_active IS DISTINCT FROM NEW.is_active OR OLD.is_admin IS DISTINCT FROM NEW.is_admin OR
          OLD.email_verified IS DISTINCT FROM NEW.email_verified)
    EXECUTE FUNCTION tb_changed();
CREATE TRIGGER users_deleted AFTER DELETE ON users FOR EACH ROW EXECUTE FUNCTION tb_changed();

CREATE TRIGGER sessions_changed AFTER UPDATE ON sessions FOR EACH ROW
    WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.expires_at IS DISTINCT FROM NEW.expires_at)
    EXECUTE FUNCTION tb_changed();
CREATE TRIGGER sessions_deleted AFTER DELETE ON sessions FOR EACH ROW EXECUTE FUNCTION tb_changed();

CREATE TRIGGER memberships_changed AFTER INSERT OR UPDATE OR DELETE ON memberships FOR EACH ROW
    EXECUTE FUNCTION tb_changed();

CREATE TRIGGER tenants_changed AFTER UPDATE ON tenants FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.slug IS DISTINCT FROM NEW.slug OR
          OLD.plan IS DISTINCT FROM NEW.plan OR OLD.status IS DISTINCT FROM NEW.status OR
          OLD.settings IS DISTINCT FROM NEW.settings)
    EXECUTE FUNCTION tb_changed();
CREATE TRIGGER tenants_deleted AFTER DELETE ON tenants FOR EACH ROW EXECUTE FUNCTION tb_changed();

CREATE TRIGGER api_keys_changed AFTER UPDATE ON api_keys FOR EACH ROW
    WHEN (OLD.key_hash IS DISTINCT FROM NEW.key_hash OR OLD.is_active IS DISTINCT FROM NEW.is_active OR
          OLD.scopes IS DISTINCT FROM NEW.scopes OR OLD.collections IS DISTINCT FROM NEW.collections OR
          OLD.allowed_origins IS DISTINCT FROM NEW.allowed_origins OR
          OLD.expires_at IS DISTINCT FROM NEW.expires_at OR OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION tb_changed();
CREATE TRIGGER api_keys_deleted AFTER DELETE ON api_keys FOR EACH ROW EXECUTE FUNCTION tb_changed();

CREATE TRIGGER collections_changed AFTER UPDATE ON collections FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.schema IS DISTINCT FROM NEW.schema OR
          OLD.indexes IS DISTINCT FROM NEW.indexes OR OLD.rules IS DISTINCT FROM NEW.rules)
    EXECUTE FUNCTION tb_changed();
CREATE TRIGGER collections_deleted AFTER DELETE ON collections FOR EACH ROW EXECUTE FUNCTION tb_changed();
