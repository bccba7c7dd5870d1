-- Migration 0002: file attachments, an audit log written by triggers, and
-- columns added to existing tables with ALTER TABLE ... ADD COLUMN.

-- 64-bit user ids from the identity provider (they use the full signed range).
ALTER TABLE users ADD COLUMN external_id INTEGER;
ALTER TABLE users ADD COLUMN last_login_at TEXT;
CREATE UNIQUE INDEX users_external_id_uq ON users (external_id) WHERE external_id IS NOT NULL;

-- Task labels as a JSON array, and a virtual generated column added later in life.
ALTER TABLE tasks ADD COLUMN labels TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(labels));
ALTER TABLE tasks ADD COLUMN label_count INTEGER GENERATED ALWAYS AS (json_array_length(labels)) VIRTUAL;

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id      INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    uploaded_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    filename     TEXT    NOT NULL CHECK (filename <> ''),
    content_type TEXT    NOT NULL DEFAULT 'application/octet-stream',
    content      BLOB    NOT NULL,  -- may be empty (X''), never NULL
    thumbnail    BLOB,              -- NULL when there is none
    size_bytes   INTEGER GENERATED ALWAYS AS (length(content)) STORED,
    created_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (task_id, filename)
);

CREATE INDEX attachments_uploaded_by_idx ON attachments (uploaded_by);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    entity     TEXT    NOT NULL,
    entity_id  INTEGER NOT NULL,
    action     TEXT    NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
    detail     TEXT    CHECK (detail IS NULL OR json_valid(detail)),
    created_at TEXT    NOT NULL
);

CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id, id);

-- Audit rows carry the timestamp of the change they record (created_at,
-- updated_at or joined_at of the row) so that replaying the same statements
-- gives the same log; only a change that sets no timestamp uses the clock.

CREATE TRIGGER users_audit_insert
AFTER INSERT ON users
FOR EACH ROW
BEGIN
    INSERT INTO audit_log (entity, entity_id, action, detail, created_at)
    VALUES ('user', NEW.id, 'insert',
            json_object('email', NEW.email, 'role', NEW.role),
            NEW.created_at);
END;

CREATE TRIGGER users_audit_update
AFTER UPDATE OF email, role, deleted_at ON users
FOR EACH ROW
WHEN NEW.email IS NOT OLD.email
  OR NEW.role IS NOT OLD.role
  OR NEW.deleted_at IS NOT OLD.deleted_at
BEGIN
    INSERT INTO audit_log (entity, entity_id, action, detail, created_at)
    VALUES ('user', NEW.id, 'update',
            json_object(
                'before', json_object('email', OLD.email, 'role', OLD.role, 'deleted_at', OLD.deleted_at),
                'after',  json_object('email', NEW.email, 'role', NEW.role, 'deleted_at', NEW.deleted_at)),
            iif(NEW.updated_at IS OLD.updated_at,
                strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
                NEW.updated_at));
END;

CREATE TRIGGER users_audit_delete
AFTER DELETE ON users
FOR EACH ROW
BEGIN
    INSERT INTO audit_log (entity, entity_id, action, detail, created_at)
    VALUES ('user', OLD.id, 'delete',
            json_object('email', OLD.email),
            strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

CREATE TRIGGER memberships_audit_insert
AFTER INSERT ON memberships
FOR EACH ROW
BEGIN
    INSERT INTO audit_log (entity, entity_id, action, detail, created_at)
    VALUES ('membership', NEW.user_id, 'insert',
            json_object('team_id', NEW.team_id, 'role', NEW.role),
            NEW.joined_at);
END;

CREATE TRIGGER tasks_audit_status
AFTER UPDATE OF status ON tasks
FOR EACH ROW
WHEN NEW.status IS NOT OLD.status
BEGIN
    INSERT INTO audit_log (entity, entity_id, action, detail, created_at)
    VALUES ('task', NEW.id, 'update',
            json_object('status', json_array(OLD.status, NEW.status)),
            iif(NEW.updated_at IS OLD.updated_at,
                strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
                NEW.updated_at));
END;
