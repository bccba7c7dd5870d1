// The foundation on the real runtime: /health per contract, JSON errors,
// fail-closed auth, the cron trigger, a deployable bundle, and the demo
// database's migrations and seed on local D1.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ROOT, TEST_SECRETS, sqlite3, startWorker, tempDir, wrangler } from './harness.mjs';

describe('a configured worker', () => {
  let worker;
  before(async () => {
    worker = await startWorker();
  });
  after(async () => worker?.stop());

  test('GET /health says plainly that no backup exists yet (503, contract fields)', async () => {
    const res = await worker.fetch('/health');
    assert.equal(res.status, 503);
    assert.match(res.headers.get('content-type'), /application\/json/);
    const body = await res.json();
    assert.equal(body.status, 'stale');
    assert.equal(body.last_success_at, null);
    assert.equal(body.age_seconds, null);
    assert.equal(body.stale_after_seconds, 26 * 3600);
    assert.match(body.message, /no backup has completed yet/);
    const text = JSON.stringify(body);
    for (const secret of Object.values(TEST_SECRETS)) assert.ok(!text.includes(secret), 'health leaks a secret');
  });

  test('unknown paths are a JSON 404 and wrong methods a JSON 405', async () => {
    const missing = await worker.fetch('/nope');
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, 'not_found');
    const wrongMethod = await worker.fetch('/health', { method: 'POST' });
    assert.equal(wrongMethod.status, 405);
    const body = await wrongMethod.json();
    assert.equal(body.error.code, 'method_not_allowed');
    assert.match(body.error.message, /GET/);
  });

  test('admin routes: 401 without or with a wrong token, 403 with the read token', async () => {
    const route = '/v1/test/bench?op=generate&mib=1';
    const none = await worker.fetch(route, { method: 'POST' });
    assert.equal(none.status, 401);
    assert.equal((await none.json()).error.code, 'unauthorized');
    const wrong = await worker.fetch(route, { method: 'POST', token: 'not-the-token-at-all-0000' });
    assert.equal(wrong.status, 401);
    const reader = await worker.fetch(route, { method: 'POST', token: TEST_SECRETS.READ_TOKEN });
    assert.equal(reader.status, 403);
    assert.equal((await reader.json()).error.code, 'forbidden');
    const admin = await worker.fetch(route, { method: 'POST', token: TEST_SECRETS.ADMIN_TOKEN });
    assert.equal(admin.status, 200);
    assert.equal((await admin.json()).plaintext_bytes, 1 << 20);
  });

  test('the cron trigger runs the scheduled handler with the cron and time', async () => {
    const res = await worker.fetch('/__scheduled?cron=0+2+*+*+*');
    assert.equal(res.status, 200);
    await worker.waitForEvent('scheduled', (e) => e.cron === '0 2 * * *');
    const time = Date.UTC(2026, 10, 21, 2, 0, 0);
    const chosen = await worker.fetch(`/cdn-cgi/handler/scheduled?cron=0+2+*+*+*&time=${time}&format=json`);
    assert.equal(chosen.status, 200);
    await worker.waitForEvent('scheduled', (e) => e.scheduled_time === '2026-11-21T02:00:00.000Z');
  });
});

describe('a worker without secrets', () => {
  let worker;
  before(async () => {
    worker = await startWorker({ vars: { ENABLE_TEST_ROUTES: 'true' } });
  });
  after(async () => worker?.stop());

  test('fails closed: token routes answer 503 naming the secret, /health still answers', async () => {
    const res = await worker.fetch('/v1/test/bench?op=generate&mib=1', { method: 'POST', token: 'anything-at-all-0000' });
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.equal(body.error.code, 'not_configured');
    assert.match(body.error.message, /ADMIN_TOKEN/);
    assert.equal((await worker.fetch('/health')).status, 503);
  });
});

describe('a misconfigured worker', () => {
  let worker;
  before(async () => {
    worker = await startWorker({ vars: { ...TEST_SECRETS, RETENTION_DAILY: 'seven' } });
  });
  after(async () => worker?.stop());

  test('/health is failing and names the variable; API routes say what is wrong', async () => {
    const health = await worker.fetch('/health');
    assert.equal(health.status, 503);
    const body = await health.json();
    assert.equal(body.status, 'failing');
    assert.match(body.message, /RETENTION_DAILY/);
    const api = await worker.fetch('/v1/test/bench', { method: 'POST', token: TEST_SECRETS.ADMIN_TOKEN });
    assert.equal(api.status, 503);
    assert.match((await api.json()).error.message, /RETENTION_DAILY: must be a whole number/);
  });
});

describe('test routes', () => {
  let worker;
  before(async () => {
    worker = await startWorker({ vars: { ...TEST_SECRETS } });
  });
  after(async () => worker?.stop());

  test('do not exist unless ENABLE_TEST_ROUTES is true', async () => {
    const res = await worker.fetch('/v1/test/bench?op=generate&mib=1', { method: 'POST', token: TEST_SECRETS.ADMIN_TOKEN });
    assert.equal(res.status, 404);
  });
});

test('wrangler deploy --dry-run builds a deployable bundle', async (t) => {
  const outdir = await tempDir();
  await wrangler(['deploy', '--dry-run', '--outdir', outdir]);
  const files = await readdir(outdir);
  const wasm = files.find((f) => f.endsWith('.wasm'));
  assert.ok(wasm, `no .wasm in the bundle: ${files}`);
  let raw = 0;
  let gzip = 0;
  for (const file of files) {
    const full = path.join(outdir, file);
    if (!(await stat(full)).isFile()) continue;
    const bytes = await readFile(full);
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
  }
  const wasmBytes = (await stat(path.join(outdir, wasm))).size;
  t.diagnostic(`bundle: ${raw} bytes raw, ${gzip} bytes gzip; wasm ${wasmBytes} bytes`);
  assert.ok(gzip < 3 * 1024 * 1024, 'the gzip bundle must fit the 3 MB free-plan limit');
});

describe('the demo database', () => {
  let worker;
  before(async () => {
    worker = await startWorker();
    await worker.migrate();
    await worker.d1File(path.join(ROOT, 'scripts', 'lib', 'demo-seed.sql'));
  });
  after(async () => worker?.stop());

  test('migrations apply and are recorded in d1_migrations', async () => {
    const migrations = (await readdir(path.join(ROOT, 'migrations'))).filter((f) => f.endsWith('.sql')).sort();
    const applied = await worker.d1('SELECT name FROM d1_migrations ORDER BY id');
    assert.deepEqual(applied.map((r) => r.name), migrations);
  });

  test('the seed lands: sqlite3 on the D1 file and wrangler agree on every table', async () => {
    const expected = {
      users: 200, teams: 20, memberships: 466, projects: 50, tasks: 3000, attachments: 100,
      team_settings: 89, audit_log: 1524, tasks_fts: 3000, d1_migrations: 4,
    };
    const countsSql = `SELECT ${Object.keys(expected).map((t) => `(SELECT count(*) FROM "${t}") AS "${t}"`).join(', ')}`;
    const [viaWrangler] = await worker.d1(countsSql);
    const file = await worker.sqliteFile();
    const viaSqlite = JSON.parse(await sqlite3(file, countsSql, ['-json']))[0];
    assert.deepEqual(viaWrangler, expected, 'row counts through wrangler d1 execute');
    assert.deepEqual(viaSqlite, expected, 'row counts through sqlite3 on the D1 file');
  });

  test('the seed has the hard cases: unicode, quotes, newlines, NULLs, BLOBs, FTS5', async () => {
    const file = await worker.sqliteFile();
    const [{ n: fts }] = await worker.d1("SELECT count(*) AS n FROM tasks_fts WHERE tasks_fts MATCH 'login'");
    assert.ok(fts > 0, 'FTS5 finds seeded tasks');
    const checks = {
      emoji: "SELECT count(*) FROM tasks WHERE title LIKE '%🚀%' OR body LIKE '%👩‍💻%'",
      quotes: "SELECT count(*) FROM tasks WHERE title LIKE '%''%' OR body LIKE '%\"%'",
      newlines: 'SELECT count(*) FROM tasks WHERE instr(body, char(10)) > 0',
      nulls: 'SELECT count(*) FROM tasks WHERE body IS NULL',
      blobs: 'SELECT count(*) FROM attachments WHERE instr(content, zeroblob(1)) > 0',
    };
    for (const [name, sql] of Object.entries(checks)) {
      assert.ok(Number((await sqlite3(file, sql)).trim()) > 0, `no seeded rows with ${name}`);
    }
    assert.equal((await sqlite3(file, 'PRAGMA foreign_key_check')).trim(), '');
    assert.equal((await sqlite3(file, 'PRAGMA integrity_check')).trim(), 'ok');
  });
});
