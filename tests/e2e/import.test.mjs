// External dumps come in: a `sqlite3 .dump` file and a `wrangler d1 export`
// file are encrypted with the CLI, imported, restored into D1, and D1 then
// equals the source database (checked with sqlite3's .dump on both sides).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, TEST_SECRETS, WRANGLER, cli, comparableDump, sqlite3, startWorker, tempDir, toolEnv } from './harness.mjs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ADMIN = TEST_SECRETS.ADMIN_TOKEN;
const DATABASE = 'd1-vault-demo';
const KEY_ENV = { BACKUP_ENCRYPTION_KEY: TEST_SECRETS.BACKUP_ENCRYPTION_KEY };

const SOURCE_SQL = `
CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, bio TEXT);
CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors(id), title TEXT, body TEXT, cover BLOB, score REAL);
CREATE INDEX posts_by_author ON posts(author_id) WHERE title IS NOT NULL;
CREATE VIEW post_counts AS SELECT author_id, count(*) AS n FROM posts GROUP BY author_id;
CREATE TRIGGER posts_score AFTER UPDATE OF score ON posts BEGIN UPDATE authors SET bio = 'scored' WHERE id = new.author_id; END;
INSERT INTO authors (name, bio) VALUES ('Zoë', 'she''s "here"'), ('李雷', NULL), ('O''Brien', 'line1' || char(10) || 'line2');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
INSERT INTO posts SELECT i, 1 + i % 3, 'post ' || i || ' 🚀', 'body ' || i, CAST(zeroblob(i % 40) AS BLOB), i / 7.0 FROM n;
DELETE FROM authors WHERE name = 'nobody';
INSERT INTO authors (name) VALUES ('temp'); DELETE FROM authors WHERE name = 'temp';
`;

/** Encrypts `sqlFile` with the CLI and POSTs it to the import route. */
async function importDump(worker, dir, sqlFile, id) {
  const encFile = path.join(dir, `${id}.enc`);
  const encrypted = await cli(['encrypt', sqlFile, '--id', id, '-o', encFile], { env: KEY_ENV });
  assert.equal(encrypted.code, 0, encrypted.stderr);
  const res = await worker.fetch('/v1/backups/import?note=external', { method: 'POST', token: ADMIN, body: await readFile(encFile) });
  return { status: res.status, body: await res.json() };
}

async function restoreAll(worker, id) {
  const res = await worker.fetch(`/v1/backups/${id}/restore`, { method: 'POST', token: ADMIN, body: JSON.stringify({ confirm: DATABASE }) });
  assert.equal(res.status, 200);
  const lines = (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l));
  return lines.at(-1).report;
}

describe('importing external dumps', () => {
  let worker;
  let dir;
  before(async () => {
    dir = await tempDir();
    worker = await startWorker();
    await worker.migrate();
    await worker.d1File(path.join(ROOT, 'scripts', 'lib', 'demo-seed.sql'));
  });
  after(async () => worker?.stop());

  test('a sqlite3 .dump file is imported (BEGIN/COMMIT handled) and restores exactly', async () => {
    const source = path.join(dir, 'app.db');
    await sqlite3(source, SOURCE_SQL);
    const dumpFile = path.join(dir, 'app.sql');
    await writeFile(dumpFile, await sqlite3(source, '.dump'));
    const { status, body: manifest } = await importDump(worker, dir, dumpFile, 'ext-sqlite');
    assert.equal(status, 201, JSON.stringify(manifest));
    assert.equal(manifest.kind, 'imported');
    assert.equal(manifest.note, 'external');
    const rows = Object.fromEntries(manifest.tables.map((t) => [t.name, t.rows]));
    assert.equal(rows.posts, 500);
    assert.equal(rows.authors, 3);
    const report = await restoreAll(worker, 'ext-sqlite');
    assert.equal(report.outcome, 'succeeded', JSON.stringify(report, null, 2));
    assert.equal(await comparableDump(await worker.sqliteFile()), await comparableDump(source));
  });

  test('a wrangler d1 export file is imported and restores exactly', async () => {
    const exporter = await startWorker();
    try {
      await exporter.d1File(await writeSql(dir, 'source.sql', SOURCE_SQL));
      const exportDir = path.join(dir, 'export');
      await mkdir(path.join(exportDir, '.wrangler'), { recursive: true });
      await symlink(exporter.stateDir, path.join(exportDir, '.wrangler', 'state'));
      await copyFile(path.join(ROOT, 'wrangler.toml'), path.join(exportDir, 'wrangler.toml'));
      const exportFile = path.join(exportDir, 'export.sql');
      await run(WRANGLER, ['d1', 'export', 'DB', '--local', '--output', exportFile], { cwd: exportDir, env: toolEnv() });
      const { status, body: manifest } = await importDump(worker, dir, exportFile, 'ext-wrangler');
      assert.equal(status, 201, JSON.stringify(manifest));
      const report = await restoreAll(worker, 'ext-wrangler');
      assert.equal(report.outcome, 'succeeded', JSON.stringify(report, null, 2));
      // wrangler's export writes triggers before views, so the restored
      // schema is created in that order and .dump lists the objects in it:
      // compare the lines regardless of order, and that every line is there.
      const lines = async (file) => (await comparableDump(file)).split('\n').sort();
      assert.deepEqual(await lines(await worker.sqliteFile()), await lines(await exporter.sqliteFile()));
    } finally {
      await exporter.stop();
    }
  });

  test('d1-vault import encrypts a plain SQL dump locally and uploads it', async () => {
    const source = path.join(dir, 'cli.db');
    await sqlite3(source, SOURCE_SQL);
    const dumpFile = path.join(dir, 'cli.sql');
    await writeFile(dumpFile, await sqlite3(source, '.dump'));
    const env = { ...KEY_ENV, D1_VAULT_URL: worker.url, D1_VAULT_TOKEN: ADMIN };
    const imported = await cli(['import', dumpFile, '--id', 'ext-cli', '--note', 'via the CLI', '--json'], { env });
    assert.equal(imported.code, 0, imported.stderr);
    const manifest = JSON.parse(imported.stdout.toString());
    assert.equal(manifest.kind, 'imported');
    assert.equal(manifest.note, 'via the CLI');
    const restored = await cli(['restore', 'ext-cli', '--confirm', DATABASE, '--yes'], { env });
    assert.equal(restored.code, 0, restored.stderr + restored.stdout);
    assert.equal(await comparableDump(await worker.sqliteFile()), await comparableDump(source));
  });

  test('a body that is not a valid object is refused and nothing is listed', async () => {
    const notAnObject = await worker.fetch('/v1/backups/import', { method: 'POST', token: ADMIN, body: 'CREATE TABLE x(a);' });
    assert.equal(notAnObject.status, 422);
    const sqlFile = await writeSql(dir, 'bad.sql', 'CREATE TABLE x(a);\nATTACH DATABASE \'other.db\' AS o;\n');
    const { status, body } = await importDump(worker, dir, sqlFile, 'ext-bad');
    assert.equal(status, 422);
    assert.match(body.error.message, /step 5 .*line 2: ATTACH/);
    const listed = await (await worker.fetch('/v1/backups', { token: ADMIN })).json();
    assert.ok(!listed.backups.some((b) => b.id === 'ext-bad'));
    assert.ok(!(await worker.r2Keys()).some((k) => k.includes('ext-bad')));
  });
});

async function writeSql(dir, name, sql) {
  const file = path.join(dir, name);
  await writeFile(file, sql);
  return file;
}
