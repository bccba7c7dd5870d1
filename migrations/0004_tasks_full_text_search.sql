-- Migration 0004: full-text search over task titles and bodies.
--
-- A plain FTS5 table (it stores its own copy of the text, no content= option)
-- whose rowid is the task id, kept in sync by triggers on tasks. Backups dump
-- its content like a table and skip the shadow tables (tasks_fts_data,
-- tasks_fts_idx, tasks_fts_content, tasks_fts_docsize, tasks_fts_config).
CREATE VIRTUAL TABLE tasks_fts USING fts5 (
    title,
    body,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Index the tasks that exist already.
INSERT INTO tasks_fts (rowid, title, body)
SELECT id, title, body FROM tasks;

CREATE TRIGGER tasks_fts_after_insert
AFTER INSERT ON tasks
FOR EACH ROW
BEGIN
    INSERT INTO tasks_fts (rowid, title, body)
    VALUES (NEW.id, NEW.title, NEW.body);
END;

CREATE TRIGGER tasks_fts_after_update
AFTER UPDATE OF title, body ON tasks
FOR EACH ROW
BEGIN
    UPDATE tasks_fts
       SET title = NEW.title,
           body  = NEW.body
     WHERE rowid = NEW.id;
END;

CREATE TRIGGER tasks_fts_after_delete
AFTER DELETE ON tasks
FOR EACH ROW
BEGIN
    DELETE FROM tasks_fts WHERE rowid = OLD.id;
END;
