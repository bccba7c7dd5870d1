// External dumps come in: a `sqlite3 .dump` file and a `wrangler d1 export`
// file are encrypted with the CLI, imported, restored into D1, and D1 then
// equals the source database (checked with sqlite3's .dump on both sides).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
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

// About 40 MB of SQL whose values are random hex, which DEFLATE cannot
// squeeze below half (4 bits per character): an object of three 8 MiB
// parts. (AUTOINCREMENT, like SOURCE_SQL: D1 keeps sqlite_sequence once a
// restore has made it.)
const BIG_SQL = `
CREATE TABLE big (id INTEGER PRIMARY KEY AUTOINCREMENT, payload TEXT NOT NULL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
INSERT INTO big SELECT i, hex(randomblob(2000)) FROM n;
`;

/** Encrypts `sqlFile` with the CLI and POSTs it to the import route. */
async function importDump(worker, dir, sqlFile, id) {
  const encFile = path.join(dir, `${id}.enc`);
  const encrypted = await cli(['encrypt', sqlFile, '--id', id, '-o', encFile], { env: KEY_ENV });
  assert.equal(encrypted.code, 0, encrypted.stderr);
  const res = await worker.fetch('/v1/backups/import?note=external', { method: 'POST', token: ADMIN, body: await readFile(encFile) });
  const body = await res.json();
  if (res.status !== 202) return { status: res.status, body };
  const job = await worker.waitForJob(body.job.id);
  return { status: 202, job, manifest: job.report };
}

async function restoreAll(worker, id) {
  const job = await worker.runJob(`/v1/backups/${id}/restore`, { body: { confirm: DATABASE } });
  assert.ok(job.report, `the restore job ended ${job.state}: ${job.error}`);
  return job.report;
}

/** The committed version 1 backup (tests/vectors/generator.rs, v1_backup). */
const V1_VECTOR = 'v1_backup.enc';

async function vector(file) {
  const { vectors } = JSON.parse(await readFile(path.join(ROOT, 'tests', 'vectors', 'vectors.json'), 'utf8'));
  return vectors.find((v) => v.file === file);
}

describe('importing external dumps', () => {
  let worker;
  let dir;
  before(async () => {
    dir = await tempDir();
    // The committed version 1 backup's key, as an older key of this worker.
    const previous = (await vector(V1_VECTOR)).keys.current;
    worker = await startWorker({
      vars: { ...TEST_SECRETS, ENABLE_TEST_ROUTES: 'true', BACKUP_ENCRYPTION_KEYS_PREVIOUS: previous },
    });
    await worker.migrate();
    await worker.d1File(path.join(ROOT, 'scripts', 'lib', 'demo-seed.sql'));
  });
  after(async () => worker?.stop());

  test('a version 1 backup, made before compression, is imported and restores exactly', async () => {
    const v1 = await vector(V1_VECTOR);
    const objectFile = path.join(ROOT, 'tests', 'vectors', V1_VECTOR);
    const object = await readFile(objectFile);
    assert.equal(object[8], 1, 'the vector is a version 1 object');
    const sqlFile = path.join(dir, 'v1.sql');
    const decrypted = await cli(['decrypt', objectFile, '--id', v1.expected_backup_id, '-o', sqlFile], {
      env: { BACKUP_ENCRYPTION_KEY: v1.keys.current },
    });
    assert.equal(decrypted.code, 0, decrypted.stderr);
    const source = path.join(dir, 'v1.db');
    await sqlite3(source, await readFile(sqlFile, 'utf8'));
    const res = await worker.fetch('/v1/backups/import?note=v1', { method: 'POST', token: ADMIN, body: object });
    const body = await res.json();
    assert.equal(res.status, 202, JSON.stringify(body));
    const job = await worker.waitForJob(body.job.id);
    assert.equal(job.state, 'succeeded', job.error);
    assert.equal(job.report.encryption.format_version, 1);
    assert.equal(job.report.plaintext.bytes, v1.plaintext_bytes);
    const report = await restoreAll(worker, v1.expected_backup_id);
    assert.equal(report.outcome, 'succeeded', JSON.stringify(report, null, 2));
    assert.equal(await comparableDump(await worker.sqliteFile()), await comparableDump(source));
  });

  test('a sqlite3 .dump file is imported (BEGIN/COMMIT handled) and restores exactly', async () => {
    const source = path.join(dir, 'app.db');
    await sqlite3(source, SOURCE_SQL);
    const dumpFile = path.join(dir, 'app.sql');
    await writeFile(dumpFile, await sqlite3(source, '.dump'));
    const { status, job, manifest } = await importDump(worker, dir, dumpFile, 'ext-sqlite');
    assert.equal(status, 202);
    assert.equal(job.state, 'succeeded', JSON.stringify(job));
    assert.equal(job.kind, 'import');
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
      const { job } = await importDump(worker, dir, exportFile, 'ext-wrangler');
      assert.equal(job.state, 'succeeded', JSON.stringify(job));
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
    const job = JSON.parse(imported.stdout.toString().trim().split('\n').at(-1));
    assert.equal(job.state, 'succeeded');
    const manifest = job.report;
    assert.equal(manifest.kind, 'imported');
    assert.equal(manifest.note, 'via the CLI');
    const restored = await cli(['restore', 'ext-cli', '--confirm', DATABASE, '--yes'], { env });
    assert.equal(restored.code, 0, restored.stderr + restored.stdout);
    assert.equal(await comparableDump(await worker.sqliteFile()), await comparableDump(source));
  });

  test('d1-vault import uploads a dump of several parts in parts, and it restores exactly', async () => {
    const source = path.join(dir, 'big.db');
    await sqlite3(source, BIG_SQL);
    const dumpFile = path.join(dir, 'big.sql');
    await writeFile(dumpFile, await sqlite3(source, '.dump'));
    const env = { ...KEY_ENV, D1_VAULT_URL: worker.url, D1_VAULT_TOKEN: ADMIN };
    const imported = await cli(['import', dumpFile, '--id', 'ext-parts', '--note', 'in parts'], { env });
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stderr, /^Uploading backup ext-parts: [\d.]+ MiB of SQL, compressed and encrypted on the way, in parts of up to 8\.0 MiB\./);
    assert.match(imported.stderr, /\nUploaded [\d.]+ MiB in 3 parts in /);
    assert.match(imported.stdout.toString(), /^Imported ext-parts: 1 tables, 10000 rows, validated by the worker\./);
    const manifest = await (await worker.fetch('/v1/backups/ext-parts', { token: ADMIN })).json();
    assert.equal(manifest.kind, 'imported');
    assert.equal(manifest.note, 'in parts');
    assert.ok(manifest.ciphertext.bytes > 2 * (8 << 20), `${manifest.ciphertext.bytes} bytes`);
    const report = await restoreAll(worker, 'ext-parts');
    assert.equal(report.outcome, 'succeeded', JSON.stringify(report, null, 2));
    assert.equal(await comparableDump(await worker.sqliteFile()), await comparableDump(source));

    const again = await worker.fetch('/v1/imports', { method: 'POST', token: ADMIN, body: JSON.stringify({ id: 'ext-parts' }) });
    assert.equal(again.status, 409);
    assert.equal((await again.json()).error.code, 'conflict');
  });

  test('a part sent again replaces the first one, and the object is intact', async () => {
    const encFile = path.join(dir, 'retry.enc');
    const encrypted = await cli(['encrypt', path.join(dir, 'big.sql'), '--id', 'ext-retry', '-o', encFile], { env: KEY_ENV });
    assert.equal(encrypted.code, 0, encrypted.stderr);
    const object = await readFile(encFile);
    const started = await worker.fetch('/v1/imports', { method: 'POST', token: ADMIN, body: JSON.stringify({ id: 'ext-retry' }) });
    const { upload } = await started.json();
    assert.equal(started.status, 201, JSON.stringify(upload));
    assert.equal(upload.part_size, 8 << 20);
    const query = `?upload_id=${encodeURIComponent(upload.upload_id)}`;
    const put = async (number, bytes) => {
      const res = await worker.fetch(`/v1/imports/ext-retry/parts/${number}${query}`, { method: 'PUT', token: ADMIN, body: bytes });
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.part_number, number);
      return body;
    };
    const parts = [];
    for (let offset = 0; offset < object.length; offset += upload.part_size) parts.push(object.subarray(offset, offset + upload.part_size));
    assert.equal(parts.length, 3);
    const damaged = Buffer.from(parts[1]).fill(0, 0, 4096);
    const sent = [await put(1, parts[0]), await put(2, damaged), await put(3, parts[2])];
    // A retry: part 2 again, as it should be; the first one sent is replaced.
    const retried = await put(2, parts[1]);
    assert.notEqual(retried.etag, sent[1].etag);
    const complete = (parts) =>
      worker.fetch(`/v1/imports/ext-retry/complete${query}`, { method: 'POST', token: ADMIN, body: JSON.stringify({ parts }) });
    const stale = await complete(sent);
    assert.equal(stale.status, 500, 'the replaced part is gone');
    const res = await complete([sent[0], retried, sent[2]]);
    const body = await res.json();
    assert.equal(res.status, 202, JSON.stringify(body));
    const job = await worker.waitForJob(body.job.id);
    assert.equal(job.state, 'succeeded', JSON.stringify(job));
    const sha256 = createHash('sha256').update(object).digest('hex');
    assert.deepEqual(job.report.ciphertext, { bytes: object.length, sha256 });
    const stored = path.join(dir, 'retry.stored');
    await worker.r2Get('backups/d1/ext-retry.sql.enc', stored);
    assert.ok((await readFile(stored)).equals(object), 'the stored object is the file');
  });

  test('an upload whose first part is not an object is refused and leaves nothing', async () => {
    const started = await worker.fetch('/v1/imports', { method: 'POST', token: ADMIN, body: JSON.stringify({ id: 'ext-junk' }) });
    const { upload } = await started.json();
    assert.equal(started.status, 201);
    const part = `/v1/imports/ext-junk/parts/1`;
    const missing = await worker.fetch(part, { method: 'PUT', token: ADMIN, body: 'x' });
    assert.equal(missing.status, 400, 'no upload_id');
    const query = `?upload_id=${encodeURIComponent(upload.upload_id)}`;
    const junk = await worker.fetch(part + query, { method: 'PUT', token: ADMIN, body: 'CREATE TABLE x(a);' });
    assert.equal(junk.status, 422);
    assert.match((await junk.json()).error.message, /not importable.*The upload was discarded/);
    const aborted = await worker.fetch(`/v1/imports/ext-junk${query}`, { method: 'DELETE', token: ADMIN });
    assert.equal(aborted.status, 200);
    assert.deepEqual(await aborted.json(), { upload: { id: 'ext-junk', upload_id: upload.upload_id, aborted: true } });
    const readOnly = await worker.fetch('/v1/imports', { method: 'POST', token: TEST_SECRETS.READ_TOKEN, body: '{"id":"x"}' });
    assert.equal(readOnly.status, 403);
    assert.ok(!(await worker.r2Keys()).some((k) => k.includes('ext-junk')));
  });

  test('a body that is not a valid object is refused and nothing is listed', async () => {
    const notAnObject = await worker.fetch('/v1/backups/import', { method: 'POST', token: ADMIN, body: 'CREATE TABLE x(a);' });
    assert.equal(notAnObject.status, 422);
    const sqlFile = await writeSql(dir, 'bad.sql', 'CREATE TABLE x(a);\nATTACH DATABASE \'other.db\' AS o;\n');
    const { job } = await importDump(worker, dir, sqlFile, 'ext-bad');
    assert.equal(job.state, 'failed');
    assert.match(job.error, /step 5 .*line 2: ATTACH/);
    const listed = await (await worker.fetch('/v1/backups', { token: ADMIN })).json();
    assert.ok(!listed.backups.some((b) => b.id === 'ext-bad'));
    assert.ok(!(await worker.r2Keys()).some((k) => k.includes('ext-bad')));
  });

  // By now the bucket holds imports whose ids do not sort with their dates
  // (ext-*, and the version 1 backup's 2025 id imported today) beside the
  // pre-restore backups of every restore above.
  test('pages of one backup over mixed kinds list every backup exactly once, in order', async () => {
    const all = (await (await worker.fetch('/v1/backups?limit=1000', { token: ADMIN })).json()).backups;
    assert.ok(new Set(all.map((b) => b.kind)).size >= 2, JSON.stringify(all.map((b) => b.kind)));
    assert.ok(all.length >= 6, `${all.length} backups`);
    const walked = [];
    let cursor = null;
    do {
      const query = new URLSearchParams({ limit: '1', ...(cursor ? { cursor } : {}) });
      const res = await worker.fetch(`/v1/backups?${query}`, { token: ADMIN });
      assert.equal(res.status, 200, await res.clone().text());
      const page = await res.json();
      assert.ok(page.backups.length <= 1);
      walked.push(...page.backups.map((b) => b.id));
      cursor = page.next_cursor;
    } while (cursor);
    assert.deepEqual(walked, all.map((b) => b.id));
    const stale = await worker.fetch('/v1/backups?cursor=not-a-cursor', { token: ADMIN });
    assert.equal(stale.status, 400);
    assert.match((await stale.json()).error.message, /start again without a cursor/);
  });
});

async function writeSql(dir, name, sql) {
  const file = path.join(dir, name);
  await writeFile(file, sql);
  return file;
}
