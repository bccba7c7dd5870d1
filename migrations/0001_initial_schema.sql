-- Migration 0001: the first schema of the demo app that d1-vault backs up and
-- restores in its tests: users, teams, memberships, projects and tasks.
--
-- Written for D1 (Cloudflare SQLite): no transaction statements (D1 wraps each
-- migration in one), no PRAGMAs, no TEMP objects, no sqlite_ or _cf_ names.
-- Trigger bodies keep their opening and closing keywords in upper case on
-- lines of their own and avoid CASE expressions, so that every version of the
-- wrangler statement splitter keeps each trigger in one piece.

CREATE TABLE users (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    email        TEXT    NOT NULL UNIQUE,
    display_name TEXT    NOT NULL,
    role         TEXT    NOT NULL DEFAULT 'member'
                         CHECK (role IN ('admin', 'member', 'viewer')),
    bio          TEXT,
    created_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    deleted_at   TEXT,
    CONSTRAINT users_email_shape CHECK (instr(email, '@') > 1 AND length(email) <= 320)
);

-- E-mail addresses are unique regardless of (ASCII) case: a UNIQUE index on an expression.
CREATE UNIQUE INDEX users_email_lower_uq ON users (lower(email));
-- Name search in the admin UI; an index with an explicit collation.
CREATE INDEX users_display_name_idx ON users (display_name COLLATE NOCASE);

CREATE TABLE teams (
    id         INTEGER PRIMARY KEY,  -- a plain rowid alias, no AUTOINCREMENT
    slug       TEXT    NOT NULL CHECK (slug <> '' AND slug = lower(slug)),
    name       TEXT    NOT NULL,
    plan       TEXT    NOT NULL DEFAULT 'free'
                       CHECK (plan IN ('free', 'pro', 'enterprise')),
    created_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    deleted_at TEXT
);

-- A slug is unique among live teams only; deleting a team frees its slug.
CREATE UNIQUE INDEX teams_slug_live_uq ON teams (slug) WHERE deleted_at IS NULL;

CREATE TABLE memberships (
    team_id   INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role      TEXT    NOT NULL DEFAULT 'member'
                      CHECK (role IN ('owner', 'admin', 'member', 'guest')),
    joined_at TEXT    NOT NULL,
    PRIMARY KEY (team_id, user_id)
) WITHOUT ROWID;

CREATE INDEX memberships_user_idx ON memberships (user_id);

CREATE TABLE projects (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id     INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    code        TEXT    NOT NULL CHECK (length(code) BETWEEN 2 AND 10),
    name        TEXT    NOT NULL,
    description TEXT,
    owner_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    archived_at TEXT,
    deleted_at  TEXT,
    UNIQUE (team_id, code)
);

-- The project list of a team only ever shows live projects: a partial index.
CREATE INDEX projects_team_live_idx ON projects (team_id) WHERE deleted_at IS NULL;

CREATE TABLE tasks (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id     INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    number         INTEGER NOT NULL CHECK (number > 0),  -- per project, as in PRJ-42
    assignee_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    reporter_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    title          TEXT    NOT NULL CHECK (length(title) > 0),
    body           TEXT,
    status         TEXT    NOT NULL DEFAULT 'open'
                           CHECK (status IN ('open', 'in_progress', 'blocked', 'done', 'cancelled')),
    priority       INTEGER NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 5),
    estimate_hours REAL,
    due_date       TEXT,
    revision       INTEGER NOT NULL DEFAULT 0,  -- optimistic concurrency, bumped by tasks_touch
    created_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    deleted_at     TEXT,
    title_length   INTEGER GENERATED ALWAYS AS (length(title)) VIRTUAL,
    is_open        INTEGER GENERATED ALWAYS AS (
                       status IN ('open', 'in_progress', 'blocked') AND deleted_at IS NULL
                   ) STORED,
    UNIQUE (project_id, number)
);

CREATE INDEX tasks_status_priority_idx ON tasks (status, priority DESC);
CREATE INDEX tasks_assignee_live_idx ON tasks (assignee_id, due_date) WHERE deleted_at IS NULL;
-- The "due soon" widget: a partial index whose condition is a stored generated column.
CREATE INDEX tasks_open_due_idx ON tasks (due_date) WHERE is_open;

-- Keep users.updated_at current when the application does not set it itself.
-- (The nested UPDATE changes updated_at, so the WHEN clause stops any recursion.)
CREATE TRIGGER users_touch_updated_at
AFTER UPDATE ON users
FOR EACH ROW
WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE users
       SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
     WHERE id = NEW.id;
END;

-- Every change to a task bumps its revision; updated_at becomes the current
-- time unless the statement set updated_at explicitly (imports, the seed).
CREATE TRIGGER tasks_touch
AFTER UPDATE ON tasks
FOR EACH ROW
WHEN NEW.revision = OLD.revision
BEGIN
    UPDATE tasks
       SET revision   = OLD.revision + 1,
           updated_at = iif(NEW.updated_at IS OLD.updated_at,
                            strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
                            NEW.updated_at)
     WHERE id = NEW.id;
END;
