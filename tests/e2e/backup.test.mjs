// Backups on the real runtime, checked independently: the cron's backup is
// fetched from local R2 with wrangler, decrypted with the native CLI, loaded
// into a fresh SQLite with sqlite3 and compared with the D1 original's
// `sqlite3 .dump`; the same dump imports with `wrangler d1 execute --file`.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ROOT, TEST_SECRETS, cli, comparableDump, decryptBackup, splitStatements, sqlite3, startWorker, tempDir,
} from './harness.mjs';

const ADMIN = TEST_SECRETS.ADMIN_TOKEN;
const READ = TEST_SECRETS.READ_TOKEN;
const KEY_ENV = { BACKUP_ENCRYPTION_KEY: TEST_SECRETS.BACKUP_ENCRYPTION_KEY };

async function listBackups(worker) {
  const res = await worker.fetch('/v1/backups?limit=1000', { token: READ });
  assert.equal(res.status, 200);
  return (await res.json()).backups;
}

describe('the nightly backup of the demo database and the hard cases', () => {
  let worker;
  let dir;
  let backup;
  before(async () => {
    dir = await tempDir();
    worker = await startWorker();
    await worker.migrate();
    await worker.d1File(path.join(ROOT, 'scripts', 'lib', 'demo-seed.sql'));
    await worker.d1File(path.join(ROOT, 'tests', 'e2e', 'fixtures', 'hard-cases.sql'));
    const res = await worker.fetch('/__scheduled?cron=0+2+*+*+*');
    assert.equal(res.status, 200);
    await worker.waitForEvent('backup_succeeded', () => true, 120_000);
    const [listed] = await listBackups(worker);
    assert.ok(listed, 'the cron backup is listed');
    backup = { id: listed.id, ...(await decryptBackup(worker, listed.id, dir)) };
  });
  after(async () => worker?.stop());

  test('sqlite3 rebuilds a database whose .dump equals the original', async () => {
    const copy = path.join(dir, 'copy.db');
    await sqlite3(copy, `.read ${backup.sql}`, ['-bail']);
    const original = await worker.sqliteFile();
    assert.equal(await comparableDump(copy), await comparableDump(original));
    const fts = 'SELECT rowid, title, body FROM tasks_fts ORDER BY rowid';
    assert.equal(await sqlite3(copy, fts), await sqlite3(original, fts), 'FTS5 content');
    assert.equal((await sqlite3(copy, "INSERT INTO tasks_fts(tasks_fts) VALUES('integrity-check'); SELECT 'ok'")).trim(), 'ok');
  });

  test('the manifest matches the database: tables, row counts, schema objects', async () => {
    const { manifest } = backup;
    const rows = Object.fromEntries(manifest.tables.map((t) => [t.name, t.rows]));
    assert.equal(rows.users, 200);
    assert.equal(rows.tasks, 3000);
    assert.equal(rows.tasks_fts, 3000);
    assert.equal(rows.d1_migrations, 4);
    assert.equal(rows['huge values'], 2);
    assert.ok(!manifest.tables.some((t) => t.name.startsWith('_cf_') || t.name.startsWith('tasks_fts_')));
    assert.ok(manifest.indexes.includes('users_email_lower_uq'));
    assert.ok(manifest.views.includes('team_overview'));
    assert.ok(manifest.triggers.includes('tasks_touch'));
    assert.equal(manifest.kind, 'scheduled');
    assert.equal(manifest.foreign_key_violations, 0);
    const sql = await readFile(backup.sql);
    assert.equal(manifest.plaintext.bytes, sql.length);
  });

  test('no statement of the dump reaches 100,000 bytes', async () => {
    const statements = splitStatements(await readFile(backup.sql, 'utf8'));
    const largest = Math.max(...statements.map((s) => Buffer.byteLength(s) + 1));
    assert.ok(statements.length > 10);
    assert.ok(largest < 100_000, `largest statement: ${largest} bytes`);
    assert.ok(backup.manifest.statements.largest_bytes < 100_000);
  });

  test('the decrypted dump imports with wrangler d1 execute --file', async () => {
    const fresh = await startWorker();
    try {
      await fresh.d1File(backup.sql);
      // Read the imported file with its runtime stopped: nothing else holds it.
      await fresh.stop({ keepState: true });
      assert.equal(await comparableDump(await fresh.sqliteFile()), await comparableDump(await worker.sqliteFile()));
    } finally {
      await fresh.stop();
    }
  });

  test('/health is ok after the backup, and /v1/status reports it', async () => {
    const health = await worker.fetch('/health');
    assert.equal(health.status, 200);
    assert.equal((await health.json()).status, 'ok');
    const status = await (await worker.fetch('/v1/status', { token: READ })).json();
    assert.equal(status.history.last_success.backup_id, backup.id);
    assert.equal(status.backups.count, 1);
    assert.ok(status.configuration.encryption_keys.current);
    for (const secret of Object.values(TEST_SECRETS)) assert.ok(!JSON.stringify(status).includes(secret));
  });
});

describe('the backup API', () => {
  let worker;
  let dir;
  before(async () => {
    dir = await tempDir();
    worker = await startWorker();
    await worker.migrate();
  });
  after(async () => worker?.stop());

  test('POST /v1/backups answers 202 with a job whose report is the manifest; GET shows and lists it', async () => {
    const started = await worker.startJob('/v1/backups', { body: { note: 'before deploy' } });
    assert.equal(started.kind, 'backup');
    assert.ok(['queued', 'running'].includes(started.state), started.state);
    const job = await worker.waitForJob(started.id);
    assert.equal(job.state, 'succeeded', JSON.stringify(job));
    assert.ok(job.slices > 1, `the backup ran in ${job.slices} slice(s)`);
    const manifest = job.report;
    assert.equal(manifest.id, job.id, 'a backup job takes its backup\'s id');
    assert.equal(manifest.kind, 'manual');
    assert.equal(manifest.note, 'before deploy');
    const shown = await (await worker.fetch(`/v1/backups/${manifest.id}`, { token: READ })).json();
    assert.deepEqual(shown, manifest);
    const [listed] = await listBackups(worker);
    assert.equal(listed.id, manifest.id);
    assert.equal(listed.bytes, manifest.ciphertext.bytes);
  });

  test('bad bodies and ids are 400, unknown ids 404, read token 403', async () => {
    const bad = await worker.fetch('/v1/backups', { method: 'POST', token: ADMIN, body: '{"pinned": true}' });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error.message, /pin/);
    assert.equal((await worker.fetch('/v1/backups/..%2Fx', { token: READ })).status, 400);
    assert.equal((await worker.fetch('/v1/backups/20990101T000000.000Z-000000', { token: READ })).status, 404);
    assert.equal((await worker.fetch('/v1/backups', { method: 'POST', token: READ })).status, 403);
  });

  test('a pinned backup is deleted only with force, and its objects go', async () => {
    const { id } = await worker.backup({ pin: true });
    const refused = await worker.fetch(`/v1/backups/${id}`, { method: 'DELETE', token: ADMIN });
    assert.equal(refused.status, 409);
    assert.match((await refused.json()).error.message, /force=true/);
    const deleted = await worker.fetch(`/v1/backups/${id}?force=true`, { method: 'DELETE', token: ADMIN });
    assert.equal(deleted.status, 200);
    const keys = await worker.r2Keys();
    assert.ok(!keys.some((k) => k.includes(id) && !k.includes('/reports/')), `left behind: ${keys}`);
  });
});

// Restic's GFS semantics, written again independently of the worker's code.
function expectedKept(backups, { daily, weekly, monthly, yearly }) {
  const isoWeek = (d) => {
    const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
    const day = (t.getUTCDay() + 6) % 7;
    t.setUTCDate(t.getUTCDate() - day + 3);
    const firstThursday = new Date(Date.UTC(t.getUTCFullYear(), 0, 4));
    const week = 1 + Math.round(((t - firstThursday) / 86_400_000 - 3 + ((firstThursday.getUTCDay() + 6) % 7)) / 7);
    return `${t.getUTCFullYear()}-W${week}`;
  };
  const rules = [
    [daily, (d) => d.toISOString().slice(0, 10)],
    [weekly, isoWeek],
    [monthly, (d) => d.toISOString().slice(0, 7)],
    [yearly, (d) => d.toISOString().slice(0, 4)],
  ].map(([count, bucket]) => ({ count, bucket, last: null }));
  const sorted = [...backups].sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
  const kept = new Set([sorted[0].id]);
  for (const backup of sorted) {
    const date = new Date(backup.created_at);
    for (const rule of rules) {
      const bucket = rule.bucket(date);
      if (rule.count > 0 && bucket !== rule.last) {
        kept.add(backup.id);
        rule.last = bucket;
        rule.count -= 1;
      }
    }
  }
  return [...kept].sort();
}

describe('retention across simulated months', () => {
  let worker;
  const policy = { daily: 4, weekly: 3, monthly: 3, yearly: 1 };
  before(async () => {
    worker = await startWorker({
      vars: {
        ...TEST_SECRETS,
        RETENTION_DAILY: String(policy.daily),
        RETENTION_WEEKLY: String(policy.weekly),
        RETENTION_MONTHLY: String(policy.monthly),
        RETENTION_YEARLY: String(policy.yearly),
      },
    });
    await worker.d1('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES (\'a\'), (\'b\');');
  });
  after(async () => worker?.stop());

  test('after each cron run the backups left are exactly those the policy keeps', async () => {
    const start = Date.UTC(2025, 11, 20, 2, 0, 0);
    const days = [0, 1, 2, 3, 5, 8, 9, 13, 17, 24, 31, 38, 45, 52, 60, 61, 75, 90, 100, 101, 102];
    let all = [];
    for (const day of days) {
      const time = start + day * 86_400_000;
      const res = await worker.fetch(`/cdn-cgi/handler/scheduled?cron=0+2+*+*+*&time=${time}&format=json`);
      assert.equal(res.status, 200);
      const done = await worker.waitForEvent('backup_succeeded', (e) => e.report.id.startsWith(new Date(time).toISOString().slice(0, 10).replaceAll('-', '')), 60_000);
      all.push({ id: done.report.id, created_at: new Date(time).toISOString() });
      const left = (await listBackups(worker)).map((b) => b.id).sort();
      assert.deepEqual(left, expectedKept(all, policy), `after the run of day ${day}`);
      all = all.filter((b) => left.includes(b.id));
    }
    const plan = await (await worker.fetch('/v1/retention', { token: READ })).json();
    assert.match(plan.policy.description, /4 days, 3 ISO weeks, 3 months and 1 year/);
    assert.ok(plan.decisions.every((d) => d.keep), 'right after pruning, the plan removes nothing more');
  });
});

