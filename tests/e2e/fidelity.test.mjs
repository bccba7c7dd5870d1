// Fidelity at D1's limits, on the real runtime. Every class of the limits
// corpus (scripts/corpus.rs: one seeded database per limit class) goes
// through the real worker both ways:
//   backup -> fetch from local R2 (wrangler) -> d1-vault decrypt -> sqlite3
//             (or, where this machine's sqlite3 is too old for the class,
//             the corpus tool's bundled stock SQLite)
//   backup -> damage D1 -> restore through the API
// and each result is compared with the original by the corpus tool's typed,
// exact comparison (typeof and value of every cell, REALs by bits, schema
// SQL, sqlite_sequence, FTS5 content, MATCH results and integrity-check,
// foreign_key_check), never by a textual diff.
//
// And a backup whose dump our own restore would not accept is never stored:
// a fault injected into the dump fails it cleanly, with the reason and an alert.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  TEST_SECRETS, corpus, decryptBackup, sqlite3, startWebhookReceiver, startWorker, tempDir,
} from './harness.mjs';

const ADMIN = TEST_SECRETS.ADMIN_TOKEN;
const READ = TEST_SECRETS.READ_TOKEN;
const DATABASE = 'd1-vault-demo';

const listed = await corpus(['list', '--with-loader']);
assert.equal(listed.code, 0, listed.stderr);
/** Each class and how to load its dump outside D1: `sqlite3`, the stock shell of this machine, or
 * `bundled`, the corpus tool's current stock SQLite, for a class the shell is too old for
 * (Debian 12's sqlite3 3.40 does not know FTS5's contentless_delete, which needs 3.43). */
const CLASSES = listed.stdout.split('\n').filter(Boolean).map((line) => line.split('\t'));

/** Classes whose backups carry a warning, and what it means for each path. */
const EXPECTED = {
  // A database with foreign-key violations backs up (with a warning per
  // violating table) and loads into sqlite3 exactly, but D1 checks foreign
  // keys at every batch's commit: the restore refuses it at validation,
  // before anything is written.
  fk_violations: { warning: 'foreign_key_violations', restore: 'refused' },
  // A contentless FTS5 index stores no text: it is recreated empty, said so
  // in the manifest; the comparison allows exactly that for the class.
  fts5: { warning: 'fts5_contentless_not_restorable' },
  fts5_contentless_delete: { warning: 'fts5_contentless_not_restorable' },
};

async function backUp(worker) {
  return worker.backup();
}

/** Starts a restore job and follows it to its end; resolves with its report. */
async function restore(worker, id) {
  const job = await worker.runJob(`/v1/backups/${id}/restore`, { body: { confirm: DATABASE } });
  assert.ok(job.report, `the restore job ended ${job.state} without a report: ${job.error}`);
  return job.report;
}

/**
 * The typed comparison, with the allowances of class `name` if given;
 * fails the test with every difference it found.
 */
async function assertSame(original, copy, name, what) {
  const compared = await corpus(['compare', original, copy, ...(name ? ['--class', name] : [])]);
  assert.equal(compared.code, 0, `${what} differs from the original:\n${compared.stdout}${compared.stderr}`);
}

describe('every limit class round-trips exactly through the real worker', () => {
  let worker;
  let dir;
  let damaged;

  /** Replaces the local D1 database with `file`: the runtime must be down meanwhile. */
  async function loadIntoD1(file) {
    const stateDir = worker.stateDir;
    const d1 = await worker.sqliteFile();
    await worker.stop({ keepState: true });
    for (const suffix of ['', '-wal', '-shm']) await rm(d1 + suffix, { force: true });
    await copyFile(file, d1);
    worker = await startWorker({ stateDir });
  }

  /**
   * The local D1 database's content, copied while the runtime is down with
   * sqlite3's .backup, which includes what is still in its write-ahead log.
   */
  async function snapshotD1(file) {
    const stateDir = worker.stateDir;
    const d1 = await worker.sqliteFile();
    await worker.stop({ keepState: true });
    await rm(file, { force: true });
    await sqlite3(d1, `.backup '${file}'`);
    worker = await startWorker({ stateDir });
  }

  before(async () => {
    dir = await tempDir();
    worker = await startWorker();
    await worker.d1('SELECT 1');
    damaged = path.join(dir, 'damaged.db');
    await sqlite3(damaged, "CREATE TABLE unrelated(x); INSERT INTO unrelated VALUES('left by an incident');");
  });
  after(async () => worker?.stop());

  for (const [name, loader] of CLASSES) {
    test(name, async (t) => {
      const original = path.join(dir, `${name}.db`);
      const created = await corpus(['create', name, original]);
      assert.equal(created.code, 0, created.stderr);
      await loadIntoD1(original);

      let started = performance.now();
      const manifest = await backUp(worker);
      const backupMs = performance.now() - started;
      assert.ok(manifest.self_check, 'the backup records its self-check');
      assert.equal(manifest.self_check.statements, manifest.statements.count);
      const expected = EXPECTED[name];
      const codes = manifest.warnings.map((w) => w.code);
      if (expected?.warning) assert.ok(codes.includes(expected.warning), JSON.stringify(manifest.warnings));
      else assert.deepEqual(manifest.warnings, [], 'no warning for a database that backs up exactly');

      const { sql } = await decryptBackup(worker, manifest.id, dir);
      const copy = path.join(dir, `${name}.${loader}.db`);
      if (loader === 'sqlite3') {
        await sqlite3(copy, `.read ${sql}`, ['-bail']);
      } else {
        const loaded = await corpus(['load', copy, sql]);
        assert.equal(loaded.code, 0, loaded.stderr);
      }
      await assertSame(original, copy, name, `the decrypted dump loaded with ${loader}`);

      await loadIntoD1(damaged);
      started = performance.now();
      const report = await restore(worker, manifest.id);
      const restoreMs = performance.now() - started;
      // Figures for the record, never asserted: wall time seen by the client.
      t.diagnostic(
        `${name}: ${manifest.tables.length} tables, ${manifest.plaintext.bytes} bytes of SQL; ` +
        `backup ${backupMs.toFixed(0)} ms, restore (${report.outcome}) ${restoreMs.toFixed(0)} ms`,
      );
      const restored = path.join(dir, `${name}.restored.db`);
      await snapshotD1(restored);
      if (expected?.restore === 'refused') {
        assert.equal(report.outcome, 'failed', JSON.stringify(report));
        const failed = report.steps.find((s) => s.status === 'failed');
        assert.ok(failed.step <= 5, `refused at validation, not step ${failed.step}`);
        for (const w of manifest.warnings) assert.ok(failed.detail.includes(w.table), failed.detail);
        await assertSame(damaged, restored, null, 'D1 after the refused restore');
      } else {
        assert.equal(report.outcome, 'succeeded', JSON.stringify(report));
        await assertSame(original, restored, name, 'D1 after the restore');
      }
    });
  }
});

describe('a backup that our own restore would not accept is never stored', () => {
  let worker;
  let webhook;
  before(async () => {
    webhook = await startWebhookReceiver();
    worker = await startWorker({
      vars: {
        ...TEST_SECRETS, ENABLE_TEST_ROUTES: 'true',
        TEST_FAULT: 'self_check_unlisted_view', ALERT_WEBHOOK_URL: webhook.url,
      },
    });
    await worker.d1("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t(v) VALUES('a'), ('b');");
  });
  after(async () => {
    await worker?.stop();
    await webhook?.close();
  });

  test('a dump with a view its summary does not list fails with the reason, stores nothing and alerts', async () => {
    const job = await worker.runJob('/v1/backups');
    assert.equal(job.state, 'failed', JSON.stringify(job));
    assert.match(job.error, /self-check/);
    assert.match(job.error, /views \["d1vault_injected_fault"\]/);

    const list = await (await worker.fetch('/v1/backups', { token: READ })).json();
    assert.deepEqual(list.backups, []);
    const objects = (await worker.r2Keys()).filter((key) => /\.sql\.enc$|manifests\//.test(key));
    assert.deepEqual(objects, [], 'no object and no manifest left in R2');

    const deadline = Date.now() + 10_000;
    while (webhook.received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(webhook.received.length, 1, 'one alert');
    assert.equal(webhook.received[0].event, 'backup_failed');
    assert.match(webhook.received[0].error, /self-check/);
  });
});
