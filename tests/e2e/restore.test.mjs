// Validate and restore on the real runtime. Every failure path must leave
// D1 as it was, checked with sqlite3's .dump of the local D1 file.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, TEST_SECRETS, comparableDump, putCraftedBackup, startWorker, tempDir } from './harness.mjs';

const ADMIN = TEST_SECRETS.ADMIN_TOKEN;
const READ = TEST_SECRETS.READ_TOKEN;
const DATABASE = 'd1-vault-demo';

/**
 * POSTs a restore. Refused at once: { status, error }. Accepted: 202, then
 * the job is followed to its end: { status, job, events, report }.
 */
async function restore(worker, id, body) {
  const res = await worker.fetch(`/v1/backups/${id}/restore`, { method: 'POST', token: ADMIN, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== 202) return { status: res.status, error: JSON.parse(text).error };
  const job = await worker.waitForJob(JSON.parse(text).job.id);
  return { status: 202, job, events: await worker.jobEvents(job.id), report: job.report };
}

/** POSTs a validation and follows its job to its end: { job, report }. */
async function validate(worker, id) {
  const job = await worker.runJob(`/v1/backups/${id}/validate`, { token: READ });
  return { job, report: job.report };
}

async function takeBackup(worker) {
  return worker.backup();
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
    const { job, report } = await validate(worker, backup.id);
    assert.equal(job.state, 'succeeded');
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
    const { status, job, events, report } = await restore(worker, backup.id, { confirm: DATABASE });
    assert.equal(status, 202);
    assert.equal(job.state, 'succeeded', JSON.stringify(job, null, 2));
    assert.ok(job.slices > 1, 'the restore crossed slice boundaries');
    assert.equal(report.outcome, 'succeeded', JSON.stringify(report, null, 2));
    const passed = events.filter((e) => e.kind === 'step_finished' && e.status === 'passed').map((e) => e.detail.step);
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

    const invalid = await validate(worker, backup.id);
    assert.equal(invalid.job.state, 'failed');
    const failed = invalid.report.steps.find((s) => s.status === 'failed');
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
    const invalid = await validate(worker, 'crafted-drop');
    assert.equal(invalid.job.state, 'failed');
    const failed = invalid.report.steps.find((s) => s.status === 'failed');
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
    const { job, report, events } = await restore(worker, 'crafted-dup', { confirm: DATABASE });
    assert.equal(job.state, 'rolled_back', JSON.stringify(job, null, 2));
    assert.match(job.error, /restored to its state before the restore from the safety backup/);
    assert.equal(report.outcome, 'rolled_back', JSON.stringify(report, null, 2));
    assert.equal(report.steps.find((s) => s.step === 8).status, 'failed');
    assert.ok(events.some((e) => e.kind === 'step_finished' && /^rollback: /.test(e.step)), JSON.stringify(events));
    assert.equal(await comparableDump(await worker.sqliteFile()), before);
  });

  test('a second restore while a backup job runs gets 409 naming it, and changes nothing', async () => {
    const before = await comparableDump(await worker.sqliteFile());
    const running = await worker.startJob('/v1/backups');
    const refused = await restore(worker, 'crafted-dup', { confirm: DATABASE });
    assert.equal(refused.status, 409);
    assert.equal(refused.error.code, 'job_running');
    assert.match(refused.error.message, new RegExp(`backup job ${running.id}`));
    assert.equal((await worker.waitForJob(running.id)).state, 'succeeded');
    assert.equal(await comparableDump(await worker.sqliteFile()), before);
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
      const invalid = await validate(worker, backup.id);
      assert.equal(invalid.job.state, 'failed');
      const failed = invalid.report.steps.find((s) => s.status === 'failed');
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
