// Validate and restore on the real runtime. Every failure path must leave
// D1 as it was, checked with sqlite3's .dump of the local D1 file.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, TEST_SECRETS, cli, comparableDump, startWorker, tempDir, wrangler } from './harness.mjs';

const ADMIN = TEST_SECRETS.ADMIN_TOKEN;
const READ = TEST_SECRETS.READ_TOKEN;
const DATABASE = 'd1-vault-demo';

/** POSTs a restore and returns { status, lines } with every NDJSON line parsed. */
async function restore(worker, id, body) {
  const res = await worker.fetch(`/v1/backups/${id}/restore`, { method: 'POST', token: ADMIN, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== 200) return { status: res.status, error: JSON.parse(text).error };
  assert.match(res.headers.get('content-type'), /application\/x-ndjson/);
  const lines = text.split('\n').filter(Boolean).map((line) => JSON.parse(line));
  return { status: 200, lines, report: lines.at(-1).report };
}

async function takeBackup(worker) {
  const res = await worker.fetch('/v1/backups', { method: 'POST', token: ADMIN });
  assert.equal(res.status, 201, await res.clone().text());
  return res.json();
}

/** Puts a crafted backup (SQL encrypted with the CLI) and its manifest into R2. */
async function putCraftedBackup(worker, dir, id, sql, tables) {
  const sqlFile = path.join(dir, `${id}.sql`);
  const encFile = path.join(dir, `${id}.sql.enc`);
  await writeFile(sqlFile, sql);
  const encrypted = await cli(['encrypt', sqlFile, '--id', id, '-o', encFile], { env: { BACKUP_ENCRYPTION_KEY: TEST_SECRETS.BACKUP_ENCRYPTION_KEY } });
  assert.equal(encrypted.code, 0, encrypted.stderr);
  const object = await readFile(encFile);
  const sha = (bytes) => createHash('sha256').update(bytes).digest('hex');
  const schema = sql.split('\n').filter((line) => /^CREATE /.test(line)).map((line) => `${line.replace(/;$/, '')};\n`).join('');
  const keyId = JSON.parse((await cli(['inspect', encFile, '--json'])).stdout.toString()).key_id;
  const manifest = {
    manifest_version: 1, id, created_at: new Date().toISOString(), duration_ms: 1, kind: 'manual',
    environment: 'local', database: DATABASE, pinned: false, note: 'crafted', worker_version: 'test',
    object_key: `backups/d1/${id}.sql.enc`,
    encryption: { key_id: keyId, cipher: 'AES-256-GCM', chunk_size: 65536 },
    plaintext: { bytes: Buffer.byteLength(sql), sha256: sha(Buffer.from(sql)) },
    ciphertext: { bytes: object.length, sha256: sha(object) },
    snapshot: { consistent: false, detail: 'crafted' },
    tables, indexes: [], views: [], triggers: [], schema_hash: sha(Buffer.from(schema)),
    foreign_key_violations: 0, statements: { count: 1, largest_bytes: 1 },
  };
  const manifestFile = path.join(dir, `${id}.manifest.json`);
  await writeFile(manifestFile, JSON.stringify(manifest));
  await worker.r2Put(`backups/d1/${id}.sql.enc`, encFile);
  await worker.r2Put(`backups/d1/manifests/${id}.manifest.json`, manifestFile);
}

describe('restoring the demo database and the hard cases', () => {
  let worker;
  let backup;
  let original;
  before(async () => {
    worker = await startWorker();
    await worker.migrate();
    await worker.d1File(path.join(ROOT, 'scripts', 'lib', 'demo-seed.sql'));
    await worker.d1File(path.join(ROOT, 'tests', 'e2e', 'fixtures', 'hard-cases.sql'));
    original = await comparableDump(await worker.sqliteFile());
    backup = await takeBackup(worker);
  });
  after(async () => worker?.stop());

  test('validate passes all five steps and writes nothing', async () => {
    const res = await worker.fetch(`/v1/backups/${backup.id}/validate`, { method: 'POST', token: READ });
    assert.equal(res.status, 200);
    const report = await res.json();
    assert.equal(report.ok, true);
    assert.deepEqual(report.steps.map((s) => s.status), ['passed', 'passed', 'passed', 'passed', 'passed']);
  });

  test('a wrong confirmation or another environment is refused with 409 and nothing changes', async () => {
    const wrong = await restore(worker, backup.id, { confirm: 'production-db' });
    assert.equal(wrong.status, 409);
    assert.match(wrong.error.message, /confirm must name the database/);
    const missing = await restore(worker, '20990101T000000.000Z-000000', { confirm: DATABASE });
    assert.equal(missing.status, 404);
    assert.equal(await comparableDump(await worker.sqliteFile()), original);
  });

  test('restoring into the damaged database rebuilds it exactly and streams every step', async () => {
    await worker.d1('DROP TABLE attachments');
    await worker.d1('DELETE FROM tasks WHERE id % 2 = 0');
    assert.notEqual(await comparableDump(await worker.sqliteFile()), original);
    const { status, lines, report } = await restore(worker, backup.id, { confirm: DATABASE });
    assert.equal(status, 200);
    assert.equal(report.outcome, 'succeeded', JSON.stringify(report, null, 2));
    const passed = lines.filter((l) => l.event === 'step' && l.status === 'passed').map((l) => l.step);
    assert.deepEqual(passed, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.ok(report.verification.every((check) => check.ok));
    assert.equal(await comparableDump(await worker.sqliteFile()), original);
    const stored = await (await worker.fetch(`/v1/restores/${report.restore_id}`, { token: READ })).json();
    assert.equal(stored.outcome, 'succeeded');
    const safety = await (await worker.fetch(`/v1/backups/${report.safety_backup_id}`, { token: READ })).json();
    assert.equal(safety.kind, 'pre-restore');
    assert.equal(safety.pinned, true);
  });
});

describe('restores that must not touch the database', () => {
  let worker;
  let dir;
  let backup;
  before(async () => {
    dir = await tempDir();
    worker = await startWorker();
    await worker.migrate();
    await worker.d1File(path.join(ROOT, 'scripts', 'lib', 'demo-seed.sql'));
    backup = await takeBackup(worker);
    await worker.d1('DELETE FROM audit_log WHERE id > 100');
  });
  after(async () => worker?.stop());

  test('one flipped byte fails validation at decrypt with the chunk index; restore refuses', async () => {
    const object = path.join(dir, 'object.enc');
    await worker.r2Get(`backups/d1/${backup.id}.sql.enc`, object);
    const bytes = await readFile(object);
    bytes[bytes.length - 5000] ^= 0x01;
    await writeFile(object, bytes);
    await worker.r2Put(`backups/d1/${backup.id}.sql.enc`, object);
    const before = await comparableDump(await worker.sqliteFile());

    const res = await worker.fetch(`/v1/backups/${backup.id}/validate`, { method: 'POST', token: READ });
    assert.equal(res.status, 422);
    const failed = (await res.json()).steps.find((s) => s.status === 'failed');
    assert.equal(failed.step, 3);
    assert.match(failed.detail, /chunk \d+/);
    const { report } = await restore(worker, backup.id, { confirm: DATABASE });
    assert.equal(report.outcome, 'failed');
    assert.equal(report.steps.find((s) => s.step === 6).status, 'skipped');
    assert.equal(await comparableDump(await worker.sqliteFile()), before);
  });

  test('a forbidden statement is rejected at validation with its line number', async () => {
    const sql = 'PRAGMA defer_foreign_keys=ON;\nCREATE TABLE t(id INTEGER PRIMARY KEY);\nINSERT INTO t VALUES(1);\nDROP TABLE users;\n';
    await putCraftedBackup(worker, dir, 'crafted-drop', sql, [{ name: 't', type: 'table', rows: 1 }]);
    const before = await comparableDump(await worker.sqliteFile());
    const res = await worker.fetch('/v1/backups/crafted-drop/validate', { method: 'POST', token: READ });
    assert.equal(res.status, 422);
    const failed = (await res.json()).steps.find((s) => s.status === 'failed');
    assert.equal(failed.step, 5);
    assert.match(failed.detail, /line 4/);
    const { report } = await restore(worker, 'crafted-drop', { confirm: DATABASE });
    assert.equal(report.outcome, 'failed');
    assert.equal(await comparableDump(await worker.sqliteFile()), before);
  });

  test('an import that D1 rejects midway rolls back to the safety backup', async () => {
    const sql = 'PRAGMA defer_foreign_keys=ON;\nCREATE TABLE t(id INTEGER PRIMARY KEY);\nINSERT INTO t VALUES(1);\nINSERT INTO t VALUES(1);\n';
    await putCraftedBackup(worker, dir, 'crafted-dup', sql, [{ name: 't', type: 'table', rows: 2 }]);
    const before = await comparableDump(await worker.sqliteFile());
    const { report, lines } = await restore(worker, 'crafted-dup', { confirm: DATABASE });
    assert.equal(report.outcome, 'rolled_back', JSON.stringify(report, null, 2));
    assert.equal(report.steps.find((s) => s.step === 8).status, 'failed');
    assert.ok(lines.some((l) => l.event === 'rollback'));
    assert.equal(await comparableDump(await worker.sqliteFile()), before);
  });

  test('a second restore while one holds the lock gets 409', async () => {
    const lock = path.join(dir, 'lock.json');
    const now = Date.now();
    await writeFile(lock, JSON.stringify({ operation: 'restore', holder: 'other', acquired_at: new Date(now).toISOString(), expires_at: new Date(now + 600_000).toISOString() }));
    await worker.r2Put('backups/d1/state/lock.json', lock);
    const refused = await restore(worker, 'crafted-dup', { confirm: DATABASE });
    assert.equal(refused.status, 409);
    assert.match(refused.error.message, /restore \(other\) is running/);
    await wrangler(['r2', 'object', 'delete', 'd1-vault-demo-backups/backups/d1/state/lock.json', '--local', '--persist-to', worker.stateDir]);
  });
});

describe('a worker with another key or environment', () => {
  test('refuses the wrong key at decrypt and another environment without the flag', async () => {
    let worker = await startWorker();
    const stateDir = worker.stateDir;
    try {
      await worker.migrate();
      const backup = await takeBackup(worker);
      await worker.stop({ keepState: true });
      worker = await startWorker({ vars: { ...TEST_SECRETS, BACKUP_ENCRYPTION_KEY: 'cd'.repeat(32), ENVIRONMENT: 'staging' }, stateDir });
      const res = await worker.fetch(`/v1/backups/${backup.id}/validate`, { method: 'POST', token: READ });
      assert.equal(res.status, 422);
      const failed = (await res.json()).steps.find((s) => s.status === 'failed');
      assert.equal(failed.step, 3);
      assert.match(failed.detail, /encrypted with key [0-9a-f]{16}; available keys/);
      const cross = await restore(worker, backup.id, { confirm: DATABASE });
      assert.equal(cross.status, 409);
      assert.match(cross.error.message, /environment "local".*allow_cross_environment/);
    } finally {
      await worker.stop();
    }
  });
});
