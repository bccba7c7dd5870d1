// Durable jobs on workerd: the jobs' Durable Object runs every backup in
// small slices (SMALL_SLICES), one alarm each, under production's
// per-invocation limits (ENFORCE_PLATFORM_LIMITS in wrangler.toml). Faults
// are caused, not simulated: the runtime is killed with SIGKILL at the step
// in question and restarted on the same state.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  TEST_SECRETS, comparableDump, decryptBackup, sqlite3, startWorker, tempDir,
} from './harness.mjs';

const ADMIN = TEST_SECRETS.ADMIN_TOKEN;
const READ = TEST_SECRETS.READ_TOKEN;
const DATABASE = 'd1-vault-demo';
const PART_SIZE = 8 * 1024 * 1024;

async function listBackups(worker) {
  return (await (await worker.fetch('/v1/backups', { token: READ })).json()).backups;
}

/** Data objects and manifests in the bucket. */
async function backupObjects(worker) {
  return (await worker.r2Keys()).filter((key) => /\.sql\.enc$|manifests\//.test(key));
}

/** Asserts that backup `id` decrypts to a database equal to the worker's D1 now. */
async function assertBackupEqualsDatabase(worker, id, dir) {
  const { sql } = await decryptBackup(worker, id, dir);
  const copy = path.join(dir, `${id}.db`);
  await sqlite3(copy, `.read ${sql}`, ['-bail']);
  assert.equal(await comparableDump(copy), await comparableDump(await worker.sqliteFile()));
}

describe('backup jobs', () => {
  let worker;
  let dir;
  before(async () => {
    dir = await tempDir();
    worker = await startWorker({ vars: { ...TEST_SECRETS, ENABLE_TEST_ROUTES: 'true', JOB_SLICE_PAUSE_MS: '100' } });
    await worker.d1("CREATE TABLE items (id INTEGER PRIMARY KEY, body TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) INSERT INTO items SELECT i, 'item ' || i FROM n;");
  });
  after(async () => worker?.stop());

  test('two backup requests at once give one 202 and one 409 that names the running job', async () => {
    const [a, b] = await Promise.all([
      worker.fetch('/v1/backups', { method: 'POST', token: ADMIN }),
      worker.fetch('/v1/backups', { method: 'POST', token: ADMIN }),
    ]);
    const answers = [{ status: a.status, body: await a.json() }, { status: b.status, body: await b.json() }];
    const accepted = answers.filter((x) => x.status === 202);
    const refused = answers.filter((x) => x.status === 409);
    assert.equal(accepted.length, 1, JSON.stringify(answers));
    assert.equal(refused.length, 1, JSON.stringify(answers));
    const { job } = accepted[0].body;
    assert.equal(refused[0].body.error.code, 'job_running');
    assert.match(refused[0].body.error.message, new RegExp(`backup job ${job.id}`));
    assert.match(refused[0].body.error.message, /d1-vault cancel/);
    const done = await worker.waitForJob(job.id);
    assert.equal(done.state, 'succeeded', JSON.stringify(done));
    assert.deepEqual((await listBackups(worker)).map((x) => x.id), [job.id]);
  });

  test('a job is listed, read and followed through its events, in order', async () => {
    const job = await worker.runJob('/v1/backups', { body: { note: 'followed' } });
    const listed = (await (await worker.fetch('/v1/jobs?limit=5', { token: READ })).json()).jobs;
    assert.equal(listed[0].id, job.id, 'newest first');
    const events = await worker.jobEvents(job.id);
    assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
    assert.equal(events[0].status, 'queued');
    assert.equal(events.at(-1).status, 'succeeded');
    assert.ok(events.some((e) => e.kind === 'step_started' && e.step === 'dump, encrypt and upload'), JSON.stringify(events));
    assert.equal(job.progress.rows_done, 3000);
    assert.equal(job.progress.rows_total, 3000);
    const later = await (await worker.fetch(`/v1/jobs/${job.id}/events?after=${events.length}`, { token: READ })).json();
    assert.deepEqual(later.events, []);
    assert.equal(later.state, 'succeeded');
    assert.equal((await worker.fetch(`/v1/jobs/${job.id}/cancel`, { method: 'POST', token: READ })).status, 403);
    assert.equal((await worker.fetch('/v1/jobs/nope', { token: READ })).status, 404);
  });

  test('a cancelled backup ends cancelled and leaves nothing in R2', async () => {
    await worker.d1("CREATE TABLE bulk (id INTEGER PRIMARY KEY, body TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000) INSERT INTO bulk SELECT i, hex(randomblob(100)) FROM n;");
    const before = await backupObjects(worker);
    const job = await worker.startJob('/v1/backups');
    await worker.waitUntilJob(job.id, (j) => j.step === 'dump, encrypt and upload', 'the dump');
    const res = await worker.fetch(`/v1/jobs/${job.id}/cancel`, { method: 'POST', token: ADMIN });
    assert.equal(res.status, 202);
    const done = await worker.waitForJob(job.id);
    assert.equal(done.state, 'cancelled', JSON.stringify(done));
    assert.deepEqual(await backupObjects(worker), before, 'nothing of the cancelled backup is left');
    const again = await worker.fetch(`/v1/jobs/${job.id}/cancel`, { method: 'POST', token: ADMIN });
    assert.equal(again.status, 409, 'a job that ended cannot be cancelled');
  });

  test('a scheduled backup that arrives while a manual one runs is queued behind it and runs after', async () => {
    const manual = await worker.startJob('/v1/backups');
    const time = Date.UTC(2026, 10, 30, 2, 0, 0);
    const cron = await worker.fetch(`/cdn-cgi/handler/scheduled?cron=0+2+*+*+*&time=${time}&format=json`);
    assert.equal(cron.status, 200);
    const jobs = (await (await worker.fetch('/v1/jobs?limit=2', { token: READ })).json()).jobs;
    const scheduled = jobs.find((j) => j.origin === 'scheduled');
    assert.ok(scheduled, `the cron queued a job: ${JSON.stringify(jobs)}`);
    assert.equal(scheduled.state, 'queued');
    const [first, second] = [await worker.waitForJob(manual.id), await worker.waitForJob(scheduled.id)];
    assert.equal(first.state, 'succeeded');
    assert.equal(second.state, 'succeeded', JSON.stringify(second));
    assert.ok(second.started_at >= first.finished_at, 'the scheduled backup started after the manual one ended');
    const events = await worker.jobEvents(scheduled.id);
    assert.match(events[0].message, new RegExp(`queued behind backup job ${manual.id}`));
    await assertBackupEqualsDatabase(worker, scheduled.id, dir);
  });
});

describe('the platform guard', () => {
  test('over the Free plan\'s 50 D1 queries an invocation fails as production would; under it the same backup succeeds', async () => {
    const tables = Array.from({ length: 30 }, (_, i) => `CREATE TABLE t${i} (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t${i} (v) VALUES ('x'), ('y');`).join('\n');
    const over = await startWorker({ vars: { ...TEST_SECRETS, ENFORCE_PLATFORM_LIMITS: 'free' }, budget: { JOB_BUDGET_D1_QUERIES: '500' } });
    try {
      await over.d1(tables);
      const failed = await over.runJob('/v1/backups');
      assert.equal(failed.state, 'failed', JSON.stringify(failed));
      assert.match(failed.error, /production \(free plan\) allows 50 per invocation/);
      assert.deepEqual(await backupObjects(over), [], 'nothing listed');
    } finally {
      await over.stop();
    }
    const under = await startWorker({ vars: { ...TEST_SECRETS, ENFORCE_PLATFORM_LIMITS: 'free' }, budget: { JOB_BUDGET_D1_QUERIES: '40', JOB_BUDGET_SUBREQUESTS: '500' } });
    try {
      await under.d1(tables);
      const done = await under.runJob('/v1/backups');
      assert.equal(done.state, 'succeeded', JSON.stringify(done));
      assert.ok(done.slices > 1);
      const dir = await tempDir();
      await assertBackupEqualsDatabase(under, done.id, dir);
    } finally {
      await under.stop();
    }
  });
});

/**
 * Starts a backup, kills the runtime with SIGKILL once `reached(job)`, and
 * checks what the crash left on disk (the job still running, nothing
 * listed); restarts the runtime on the same state, and checks the job's
 * end after one request: succeeded, with the exact content, and nothing
 * else in R2. Slices are paused by `pauseMs` so that the kill lands well
 * before the job's end.
 */
async function killAndResume({ rows, row, reached, what, pauseMs = 250 }) {
  const vars = { ...TEST_SECRETS, ENABLE_TEST_ROUTES: 'true', JOB_SLICE_PAUSE_MS: String(pauseMs) };
  const dir = await tempDir();
  let worker = await startWorker({ vars });
  const stateDir = worker.stateDir;
  try {
    await worker.d1(`CREATE TABLE data (id INTEGER PRIMARY KEY, body TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows}) INSERT INTO data SELECT i, ${row} FROM n;`);
    const job = await worker.startJob('/v1/backups');
    await worker.waitUntilJob(job.id, reached, what);
    await worker.stop({ keepState: true, signal: 'SIGKILL' });
    const left = await worker.jobOnDisk(job.id);
    assert.equal(left.state, 'running', `the kill landed while the job ran (${what})`);
    const manifest = `backups/d1/manifests/${job.id}.manifest.json`;
    assert.ok(!(await worker.r2Keys()).includes(manifest), `nothing was listed when the runtime died (${what})`);
    worker = await startWorker({ vars, stateDir });
    const done = await worker.waitForJob(job.id);
    assert.equal(done.state, 'succeeded', JSON.stringify(done));
    assert.ok(done.slices > left.slices, 'the job went on from its checkpoint');
    assert.deepEqual((await listBackups(worker)).map((x) => x.id), [job.id]);
    assert.deepEqual(await backupObjects(worker), [`backups/d1/${job.id}.sql.enc`, manifest].sort());
    await assertBackupEqualsDatabase(worker, job.id, dir);
    const next = await worker.runJob('/v1/backups');
    assert.equal(next.state, 'succeeded', 'no job is left blocking the next');
    return { left, done };
  } finally {
    await worker.stop();
  }
}

describe('a backup killed with SIGKILL and restarted', () => {
  test('during the dump of 100,000 rows: it resumes and lists the exact backup', async () => {
    const { left, done } = await killAndResume({
      rows: 100_000,
      row: "'row ' || i || ' ' || hex(randomblob(8))",
      reached: (job) => job.step === 'dump, encrypt and upload' && job.progress.rows_done > 20_000,
      what: 'the dump',
      pauseMs: 50,
    });
    assert.equal(left.step, 'dump, encrypt and upload');
    assert.equal(done.progress.rows_done, 100_000);
  });

  // Random hex compresses to half at best (4 bits per character), so past
  // two parts' worth of SQL the first part of the object has been sent.
  test('between multipart parts: the upload is resumed, not restarted', async () => {
    const { left } = await killAndResume({
      rows: 12_000,
      row: 'hex(randomblob(1000))',
      reached: (job) => job.progress.bytes_done > 2 * PART_SIZE + 256 * 1024,
      what: 'the first part',
    });
    assert.ok(left.progress.bytes_done > 2 * PART_SIZE);
  });

  test('before the manifest: the completed object is found and listed once', async () => {
    const { left } = await killAndResume({
      rows: 2_000,
      row: "'row ' || i",
      reached: (job) => job.step === 'completing the upload',
      what: 'the manifest',
      pauseMs: 1_000,
    });
    assert.equal(left.step, 'completing the upload');
  });
});

describe('a scheduled backup during a restore', () => {
  test('is queued behind the restore job and runs after it', async () => {
    const dir = await tempDir();
    const worker = await startWorker();
    try {
      await worker.d1("CREATE TABLE data (id INTEGER PRIMARY KEY, body TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) INSERT INTO data SELECT i, hex(randomblob(40)) FROM n;");
      const backup = await worker.backup();
      const restore = await worker.startJob(`/v1/backups/${backup.id}/restore`, { body: { confirm: DATABASE } });
      const time = Date.UTC(2026, 11, 1, 2, 0, 0);
      assert.equal((await worker.fetch(`/cdn-cgi/handler/scheduled?cron=0+2+*+*+*&time=${time}&format=json`)).status, 200);
      const scheduled = (await (await worker.fetch('/v1/jobs?limit=1', { token: READ })).json()).jobs[0];
      assert.equal(scheduled.origin, 'scheduled');
      assert.equal(scheduled.state, 'queued', 'never skipped: queued');
      const restored = await worker.waitForJob(restore.id);
      assert.equal(restored.state, 'succeeded', JSON.stringify(restored));
      const done = await worker.waitForJob(scheduled.id);
      assert.equal(done.state, 'succeeded', JSON.stringify(done));
      assert.ok(done.started_at >= restored.finished_at, 'the backup started after the restore ended');
      const events = await worker.jobEvents(scheduled.id);
      assert.match(events[0].message, new RegExp(`queued behind restore job ${restore.id}`));
      await assertBackupEqualsDatabase(worker, done.id, dir);
    } finally {
      await worker.stop();
    }
  });
});
