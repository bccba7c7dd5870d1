-- Migration 0003: per-team settings of any type, and reporting views.

-- A STRICT table whose ANY column keeps each value's exact storage class
-- (INTEGER 42, REAL 42.0, TEXT '42' and BLOB X'3432' stay distinct). The
-- column named "group" is an SQL keyword and must always be quoted.
CREATE TABLE team_settings (
    team_id    INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    "group"    TEXT    NOT NULL DEFAULT 'general',
    key        TEXT    NOT NULL,
    value      ANY,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (team_id, "group", key)
) STRICT, WITHOUT ROWID;

-- Open work per live project (the dashboard).
CREATE VIEW project_open_tasks AS
SELECT p.id                      AS project_id,
       p.team_id                 AS team_id,
       p.code                    AS code,
       p.name                    AS name,
       count(t.id)               AS open_tasks,
       coalesce(sum(t.priority <= 2), 0) AS urgent_tasks,
       min(t.due_date)           AS next_due_date
  FROM projects AS p
  LEFT JOIN tasks AS t
         ON t.project_id = p.id
        AND t.is_open
 WHERE p.deleted_at IS NULL
 GROUP BY p.id;

-- A view built on another view: a restore must create them in dependency order.
CREATE VIEW team_overview AS
SELECT tm.id   AS team_id,
       tm.slug AS slug,
       tm.name AS name,
       (SELECT count(*) FROM memberships AS m WHERE m.team_id = tm.id) AS members,
       (SELECT coalesce(sum(pot.open_tasks), 0)
          FROM project_open_tasks AS pot
         WHERE pot.team_id = tm.id)                                     AS open_tasks
  FROM teams AS tm
 WHERE tm.deleted_at IS NULL;
