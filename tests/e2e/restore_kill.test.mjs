// Restores that outlive their runtime: the runtime is killed with SIGKILL
// at each step of a restore (and of its rollback), restarted on the same
// state, and the job must end either succeeded with D1 exactly the backup,
// or rolled back with D1 exactly as before the restore: never between.
// Every restore runs in small slices (SMALL_SLICES) under production's
// per-invocation limits (ENFORCE_PLATFORM_LIMITS in wrangler.toml).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  TEST_SECRETS, comparableDump, putCraftedBackup, startWorker, tempDir,
} from './harness.mjs';

const ADMIN = TEST_SECRETS.ADMIN_TOKEN;
const DATABASE = 'd1-vault-demo';
const ROWS = 30_000;

/**
 * A database of ROWS rows, its backup, then a changed database (the state
 * a restore replaces); resolves with both dumps and the backup.
 */
async function prepare(worker) {
  await worker.d1(`CREATE TABLE data (id INTEGER PRIMARY KEY, body TEXT, n INTEGER); CREATE INDEX data_n ON data(n); WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${ROWS}) INSERT INTO data SELECT i, hex(randomblob(24)), i % 97 FROM s;`);
  const backup = await worker.backup();
  const backedUp = await comparableDump(await worker.sqliteFile());
  await worker.d1('DELETE FROM data WHERE id % 3 = 0; CREATE TABLE extra (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO extra VALUES (1, \'after the backup\');');
  const before = await comparableDump(await worker.sqliteFile());
  return { backup, backedUp, before };
}

/**
 * Starts restoring `backupId`, kills the runtime once `reached(job)`,
 * checks what the crash left (the job still running), restarts on the same
 * state and follows the job to its end; resolves with the final job and
 * the database's dump.
 */
async function killRestore({ worker, vars, backupId, reached, what }) {
  const job = await worker.startJob(`/v1/backups/${backupId}/restore`, { body: { confirm: DATABASE } });
  await worker.waitUntilJob(job.id, reached, what);
  await worker.stop({ keepState: true, signal: 'SIGKILL' });
  const left = await worker.jobOnDisk(job.id);
  assert.equal(left.state, 'running', `the kill landed while the restore ran (${what})`);
  const restarted = await startWorker({ vars, stateDir: worker.stateDir });
  const done = await restarted.waitForJob(job.id);
  assert.ok(done.slices > left.slices, 'the job went on from its checkpoint');
  return { worker: restarted, left, done, dump: await comparableDump(await restarted.sqliteFile()) };
}

const vars = { ...TEST_SECRETS, ENABLE_TEST_ROUTES: 'true', JOB_SLICE_PAUSE_MS: '150' };

describe('a restore killed with SIGKILL and restarted ends exactly restored', () => {
  const points = [
    ['during steps 1-5', 'download, decrypt and validate', (job) => job.progress.bytes_done > 0],
    ['during the safety backup', 'safety backup', (job) => job.progress.rows_done > 0],
    ['during the import', 'import', (job) => job.progress.rows_done > ROWS / 4],
    ['during the verification', 'verify', () => true],
  ];
  for (const [what, step, further] of points) {
    const reached = (job) => job.step === step && further(job);
    test(what, async () => {
      let worker = await startWorker({ vars });
      try {
        const { backup, backedUp } = await prepare(worker);
        const ended = await killRestore({ worker, vars, backupId: backup.id, reached, what });
        worker = ended.worker;
        assert.equal(ended.done.state, 'succeeded', JSON.stringify(ended.done));
        assert.equal(ended.left.step, step, 'the crash left the job at that step');
        assert.equal(ended.dump, backedUp, 'D1 is exactly the backup');
        const tables = await worker.d1("SELECT name FROM sqlite_master WHERE name LIKE '_d1vault_%'");
        assert.deepEqual(tables, [], 'our progress table is gone');
        const next = await worker.runJob('/v1/backups');
        assert.equal(next.state, 'succeeded', 'no job is left blocking the next');
      } finally {
        await worker.stop();
      }
    });
  }
});

describe('a rollback killed with SIGKILL during its import', () => {
  test('ends rolled back, with D1 exactly as before the restore', async () => {
    let worker = await startWorker({ vars });
    try {
      const { before } = await prepare(worker);
      const dir = await tempDir();
      const sql = 'PRAGMA defer_foreign_keys=ON;\nCREATE TABLE t(id INTEGER PRIMARY KEY);\nINSERT INTO t VALUES(1);\nINSERT INTO t VALUES(1);\n';
      await putCraftedBackup(worker, dir, 'crafted-dup', sql, [{ name: 't', type: 'table', rows: 2 }]);
      const ended = await killRestore({
        worker,
        vars,
        backupId: 'crafted-dup',
        reached: (job) => job.step === 'rollback: import' && job.progress.rows_done > 0,
        what: 'the rollback\'s import',
      });
      worker = ended.worker;
      assert.equal(ended.done.state, 'rolled_back', JSON.stringify(ended.done));
      assert.equal(ended.dump, before, 'D1 is exactly as before the restore');
    } finally {
      await worker.stop();
    }
  });
});

describe('a restore whose client hangs up at once', () => {
  test('completes anyway', async () => {
    const worker = await startWorker({ vars });
    try {
      const { backup, backedUp } = await prepare(worker);
      // The whole request, then the connection closed before any answer is read.
      const body = JSON.stringify({ confirm: DATABASE });
      await new Promise((resolve, reject) => {
        const socket = net.connect(worker.port, '127.0.0.1', () => {
          socket.end([
            `POST /v1/backups/${backup.id}/restore HTTP/1.1`, `Host: 127.0.0.1:${worker.port}`,
            `Authorization: Bearer ${ADMIN}`, 'Content-Type: application/json',
            `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close', '', body,
          ].join('\r\n'), () => { socket.destroy(); resolve(); });
        });
        socket.on('error', reject);
      });
      const deadline = Date.now() + 30_000;
      let job;
      while (!job && Date.now() < deadline) {
        const listed = await (await worker.fetch('/v1/jobs?limit=1', { token: TEST_SECRETS.READ_TOKEN })).json();
        job = listed.jobs.find((j) => j.kind === 'restore');
        if (!job) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(job, 'the restore was accepted before the client went away');
      const done = await worker.waitForJob(job.id);
      assert.equal(done.state, 'succeeded', JSON.stringify(done));
      assert.equal(await comparableDump(await worker.sqliteFile()), backedUp);
    } finally {
      await worker.stop();
    }
  });
});
