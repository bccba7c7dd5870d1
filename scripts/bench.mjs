// The project's benchmark, in one run (see scripts/bench for usage):
//   1. the object format: encrypt and decrypt MB/s natively (cargo example),
//      in wasm on workerd with the aes-gcm crate, and with WebCrypto on
//      workerd (the test-only bench route; the Workers clock
//      stands still during CPU work, so the client times each request and
//      subtracts the same work without cryptography);
//   2. backups of the same database by the worker (a backup job, on workerd
//      with local D1 and R2), by `wrangler d1 export --local` (on a copy of
//      the state), and by `sqlite3 .dump`: time, MB/s of SQL, rows/s, peak
//      memory, bytes stored; beside them the in-worker floor (the same rows
//      read in pages with SQLite building their text, then discarded);
//   3. restores of that backup by the worker (a restore job: all ten steps,
//      safety backup included), by `sqlite3 new.db < dump.sql` and by
//      `wrangler d1 execute --file`.
// The worker's jobs run in a Durable Object, slice by slice (one alarm,
// one invocation, each). The worker's backup and restore are measured twice,
// each on its own worker seeded with the same database:
//   a. "one invocation": every slice budget at its maximum and
//      ENFORCE_PLATFORM_LIMITS unset, so each job runs in as few slices as
//      possible. Production could not run it so: its invocations may go
//      over production's per-invocation limits;
//   b. "Free-plan slices": ENFORCE_PLATFORM_LIMITS=free with 40 D1 queries
//      and 500 subrequests per slice, so every invocation stays within the
//      Free plan's 50 D1 queries and 1,000 subrequests (checked: the bench
//      throws otherwise, or if a job does not succeed).
// For each: wall time from the 202 to the job's final state, rows/s, MB/s
// of SQL, slices, attempts, invocations (the worker's `job_slice` log
// lines for the job), the most D1 queries and subrequests one invocation
// used, and for (b) the overhead over (a).
// Last, ratios of time: backup against the floor and the peers, restore
// and its import step against `sqlite3 < dump` and `wrangler d1 execute`.
// It reports; it asserts nothing about time.

import { spawn, spawnSync } from 'node:child_process';
import { cp, mkdir, open, readFile, rm, stat, symlink, copyFile, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { ROOT, TEST_SECRETS, cli as runCli, sqlite3, startWorker, tempDir, toolEnv, WRANGLER } from '../tests/e2e/harness.mjs';

const MIB = 1 << 20;
const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
const formatMib = Number(process.env.BENCH_FORMAT_MIB ?? 64);
const importMib = Number(process.env.BENCH_IMPORT_MIB ?? 1024);
const jobTimeoutMs = Number(process.env.BENCH_JOB_TIMEOUT_S ?? 4 * 3600) * 1000;
const DATABASE = 'd1-vault-demo';
const results = {};

/** Production's per-invocation limits (src/platform.rs). */
const PAID = { d1_queries: 1_000, subrequests: 10_000 };
const FREE = { d1_queries: 50, subrequests: 1_000 };

/** The two worker configurations the jobs are measured under. */
const CONFIGS = {
  one_invocation: {
    label: 'one invocation',
    // Every budget at the largest value src/config.rs accepts.
    budget: { JOB_BUDGET_D1_QUERIES: '1000', JOB_BUDGET_SUBREQUESTS: '10000', JOB_BUDGET_KIB: '1048576', JOB_BUDGET_SECONDS: '600' },
    // Empty: unset (wrangler.toml sets "paid" for every local run).
    vars: { ENFORCE_PLATFORM_LIMITS: '' },
    limits: null,
  },
  free_slices: {
    label: 'Free-plan slices',
    // JOB_BUDGET_KIB and JOB_BUDGET_SECONDS: the defaults.
    budget: { JOB_BUDGET_D1_QUERIES: '40', JOB_BUDGET_SUBREQUESTS: '500' },
    vars: { ENFORCE_PLATFORM_LIMITS: 'free' },
    limits: FREE,
  },
};

function mbps(bytes, ms) {
  return ms > 0 ? +(bytes / 1e6 / (ms / 1000)).toFixed(1) : null;
}

function overheadPct(ms, baseMs) {
  return baseMs > 0 ? +((ms / baseMs - 1) * 100).toFixed(1) : null;
}

async function timed(fn) {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Runs a command under GNU time; resolves with wall ms and peak RSS bytes.
 * Asynchronous on purpose: a synchronous spawn would stall the event loop,
 * and with it the housekeeping of the connections kept alive to the worker,
 * so the first request after a long peer run went out on a connection the
 * worker had already closed ("other side closed").
 */
function measured(command, args, options = {}) {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%M', command, ...args], {
      env: toolEnv(), stdio: ['ignore', 'ignore', 'pipe'], ...options,
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-64 * 1024);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - start;
      if (code !== 0) {
        reject(Object.assign(new Error(`${command} ${args.join(' ')} failed (exit ${code}):\n${stderr.slice(-3000)}`), { stderr }));
        return;
      }
      const peakKib = Number(stderr.trim().split('\n').pop());
      resolve({ ms, peakBytes: peakKib * 1024 });
    });
  });
}

/**
 * Runs `fn(worker)`, then stops the worker. If `fn` throws, prints the tail
 * of the worker's log first (stopping removes it with the worker's state).
 */
async function using(worker, fn) {
  try {
    return await fn(worker);
  } catch (error) {
    console.error(`--- the last of the worker's log (${worker.logFile}) ---\n${worker.logs().slice(-8000)}\n---`);
    throw error;
  } finally {
    await worker.stop();
  }
}

/** Starts a worker for configuration `key` with the bench's vars and budget. */
function startConfigured(key) {
  const config = CONFIGS[key];
  return startWorker({
    vars: { ...TEST_SECRETS, ENABLE_TEST_ROUTES: 'true', ...config.vars },
    budget: config.budget,
  });
}

/**
 * Starts a job at `route`, times it from the 202 to its final state, and
 * reads its invocations from the worker's `job_slice` log lines. Throws if
 * the job does not succeed, or if an invocation went over `limits`.
 */
async function measuredJob(worker, what, route, body, limits) {
  const job = await worker.startJob(route, { body });
  const start = performance.now();
  const done = await worker.waitForJob(job.id, { timeoutMs: jobTimeoutMs });
  const ms = performance.now() - start;
  if (done.state !== 'succeeded') {
    throw new Error(`${what}: job ${job.id} ended ${done.state}: ${done.error}\n${JSON.stringify(done).slice(0, 4000)}`);
  }
  // The final slice logs its line once its record is saved: wait for it.
  await worker.waitForEvent('job_slice', (e) => e.job === job.id && e.state === done.state, 60_000);
  const slices = worker.events('job_slice').filter((e) => e.job === job.id);
  const maxD1 = slices.reduce((max, e) => Math.max(max, e.d1_queries ?? 0), 0);
  const maxSub = slices.reduce((max, e) => Math.max(max, e.subrequests ?? 0), 0);
  // Wasm memory only grows: the most is the last slice's, and it includes
  // whatever earlier jobs in the same isolate grew.
  const wasmMemory = slices.reduce((max, e) => Math.max(max, e.wasm_memory_bytes ?? 0), 0);
  if (limits) {
    const over = slices.filter((e) => e.d1_queries > limits.d1_queries || e.subrequests > limits.subrequests);
    if (over.length > 0) {
      throw new Error(`${what}: ${over.length} of job ${job.id}'s ${slices.length} invocations went over ${limits.d1_queries} D1 queries or ${limits.subrequests} subrequests, e.g. ${JSON.stringify(over[0])}`);
    }
  }
  const serverMs = done.started_at && done.finished_at ? Date.parse(done.finished_at) - Date.parse(done.started_at) : null;
  return {
    ms,
    job: done,
    figures: {
      ms: Math.round(ms),
      server_ms: Number.isFinite(serverMs) ? serverMs : null,
      slices: done.slices,
      attempts: done.attempts,
      invocations: slices.length,
      max_d1_queries: maxD1,
      max_subrequests: maxSub,
      wasm_memory_bytes: wasmMemory,
    },
  };
}

/** The worker's backup job under configuration `key`; resolves with the manifest. */
async function workerBackup(worker, key) {
  const { label, limits } = CONFIGS[key];
  const { ms, job, figures } = await measuredJob(worker, `backup (${label})`, '/v1/backups', undefined, limits);
  const manifest = job.report;
  results.worker_backup[key] = {
    ...figures,
    sql_bytes: manifest.plaintext.bytes,
    stored_bytes: manifest.ciphertext.bytes,
    sql_mb_s: mbps(manifest.plaintext.bytes, ms),
    rows_s: Math.round(rows / (ms / 1000)),
    statements: manifest.statements.count,
  };
  return manifest;
}

/** The worker's restore job of `manifest` under configuration `key`. */
async function workerRestore(worker, key, manifest) {
  const { label, limits } = CONFIGS[key];
  const { ms, job, figures } = await measuredJob(
    worker, `restore (${label})`, `/v1/backups/${manifest.id}/restore`, { confirm: DATABASE }, limits,
  );
  const report = job.report;
  if (report?.outcome !== 'succeeded') throw new Error(`restore (${label}): ${JSON.stringify(report)}`);
  if (report.rows_imported !== rows) throw new Error(`restore (${label}) imported ${report.rows_imported} rows, not ${rows}`);
  const stepMs = Object.fromEntries(report.steps.map((step) => [step.name, step.ms]));
  results.worker_restore[key] = {
    ...figures,
    sql_mb_s: mbps(manifest.plaintext.bytes, ms),
    rows_s: Math.round(rows / (ms / 1000)),
    import_ms: stepMs.import,
    import_rows_s: stepMs.import ? Math.round(rows / (stepMs.import / 1000)) : null,
    steps_ms: stepMs,
  };
}

console.log(`d1-vault benchmark: ${rows.toLocaleString()} rows; format pass ${formatMib} MiB\n`);

// 0. The bundle wrangler deploys: the wasm and its JavaScript glue, raw and gzipped.
{
  const wasm = await readFile(path.join(ROOT, 'build', 'index_bg.wasm'));
  const glue = await readFile(path.join(ROOT, 'build', 'index.js'));
  results.bundle = {
    wasm_bytes: wasm.length, js_bytes: glue.length,
    gzip_bytes: gzipSync(wasm, { level: 9 }).length + gzipSync(glue, { level: 9 }).length,
  };
}

// 1a. Native format throughput.
const native = spawnSync('cargo', ['run', '--quiet', '--release', '--example', 'bench_format', '--', '--mib', '256'], {
  cwd: ROOT, encoding: 'utf8',
});
if (native.status !== 0) throw new Error(`bench_format failed:\n${native.stderr}`);
const nativeLine = JSON.parse(native.stdout.trim().split('\n').pop());
results.format_native = {
  encrypt_mb_s: nativeLine.encrypt_mb_per_s,
  decrypt_mb_s: nativeLine.decrypt_mb_per_s,
  peak_rss_bytes: nativeLine.peak_rss_kib * 1024,
};

// One generated database, loaded into each worker.
const sqlFile = path.join(await tempDir(), 'seed.sql');
await writeFile(sqlFile, `CREATE TABLE events (
  id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, kind TEXT NOT NULL,
  payload TEXT, amount REAL, created_at TEXT NOT NULL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows})
INSERT INTO events SELECT i, i % 9973, 'kind-' || (i % 17),
  '{"note":"event ' || i || ' it''s done ✓","tags":["a","b"],"v":' || (i * 7919 % 100003) || '}',
  (i % 100000) / 100.0, '2026-11-' || printf('%02d', 1 + i % 28) || 'T02:00:00Z' FROM n;
CREATE INDEX events_account ON events(account_id);
`);
results.worker_backup = {};
results.worker_restore = {};

// 1b. Format throughput in wasm on workerd, on a worker of its own, so
// the memory its passes grow (wasm memory is never given back) does not
// stay with the worker whose jobs are measured.
await using(await startWorker(), async (formatWorker) => {
  const bench = async (op, engine = 'software') => {
    const times = [];
    let body;
    for (let i = 0; i < 3; i++) {
      const { ms, value } = await timed(async () => {
        const res = await formatWorker.fetch(`/v1/test/bench?op=${op}&mib=${formatMib}&engine=${engine}`, { method: 'POST', token: TEST_SECRETS.ADMIN_TOKEN });
        if (res.status !== 200) throw new Error(`bench ${op} (${engine}): ${res.status} ${await res.text()}`);
        return res.json();
      });
      times.push(ms);
      body = value;
    }
    return { ms: median(times), body };
  };
  const generate = await bench('generate');
  const encrypt = await bench('encrypt', 'software');
  const webcrypto = await bench('encrypt', 'web');
  const roundtrip = await bench('roundtrip', 'software');
  const webRoundtrip = await bench('roundtrip', 'web');
  const bytes = formatMib * MIB;
  results.format_wasm = {
    encrypt_mb_s: mbps(bytes, encrypt.ms - generate.ms),
    decrypt_mb_s: mbps(bytes, roundtrip.ms - encrypt.ms),
    wasm_memory_bytes: roundtrip.body.wasm_memory_bytes,
  };
  results.format_webcrypto = {
    encrypt_mb_s: mbps(bytes, webcrypto.ms - generate.ms),
    decrypt_mb_s: mbps(bytes, webRoundtrip.ms - webcrypto.ms),
  };
});

// (a) "one invocation": the worker's jobs and every comparison.
await using(await startConfigured('one_invocation'), async (worker) => {
  // 2. Backups of one generated database.
  await worker.d1File(sqlFile);
  results.floor = await benchFloor(worker);
  const dbFile = await worker.sqliteFile();
  // The database's size through SQLite (the file alone misses what is still in its WAL).
  const [pageCount, pageSize] = (await sqlite3(dbFile, 'PRAGMA page_count; PRAGMA page_size;')).trim().split('\n').map(Number);
  const dbBytes = pageCount * pageSize;

  const manifest = await workerBackup(worker, 'one_invocation');

  // The other tools read a copy of the local D1's state, so that sqlite3
  // and wrangler's own runtime never open the files the running worker
  // holds.
  const exportDir = await tempDir();
  await mkdir(path.join(exportDir, '.wrangler'), { recursive: true });
  const d1State = path.join(exportDir, 'state');
  await mkdir(path.join(d1State, 'v3'), { recursive: true });
  await cp(path.join(worker.stateDir, 'v3', 'd1'), path.join(d1State, 'v3', 'd1'), { recursive: true });
  const dbCopy = path.join(d1State, path.relative(worker.stateDir, dbFile));

  const dumpOut = path.join(await tempDir(), 'dump.sql');
  const sqliteDump = await measured('sh', ['-c', `sqlite3 '${dbCopy}' .dump > '${dumpOut}'`]);
  const sqliteBytes = (await stat(dumpOut)).size;
  results.sqlite3_dump = {
    ms: Math.round(sqliteDump.ms), sql_bytes: sqliteBytes, sql_mb_s: mbps(sqliteBytes, sqliteDump.ms),
    rows_s: Math.round(rows / (sqliteDump.ms / 1000)), peak_rss_bytes: sqliteDump.peakBytes,
  };

  // wrangler d1 export has no --persist-to: run it where .wrangler/state is the copy.
  await symlink(d1State, path.join(exportDir, '.wrangler', 'state'));
  await copyFile(path.join(ROOT, 'wrangler.toml'), path.join(exportDir, 'wrangler.toml'));
  const exportOut = path.join(exportDir, 'export.sql');
  try {
    const exported = await measured(WRANGLER, ['d1', 'export', 'DB', '--local', '--output', exportOut], { cwd: exportDir });
    const exportBytes = (await stat(exportOut)).size;
    results.wrangler_export = {
      ms: Math.round(exported.ms), sql_bytes: exportBytes, sql_mb_s: mbps(exportBytes, exported.ms),
      rows_s: Math.round(rows / (exported.ms / 1000)), peak_rss_bytes: exported.peakBytes,
    };
  } catch (error) {
    // At 1,000,000 rows its own workerd runs out of JavaScript heap.
    const outOfHeap = /heap out of memory|Reached heap limit/.test(error.stderr ?? '');
    results.wrangler_export = {
      error: outOfHeap ? 'its workerd ran out of JavaScript heap ("Reached heap limit")' : error.message.split('\n').slice(0, 3).join(' '),
    };
  }
  results.database = { rows, sqlite_file_bytes: dbBytes };

  // 3. Restores of the same backup: the worker (all ten steps, safety
  // backup included), `sqlite3 new.db < dump.sql`, `wrangler d1 execute --file`.
  await workerRestore(worker, 'one_invocation', manifest);
  const plainDump = path.join(await tempDir(), 'ours.sql');
  await worker.r2Get(`backups/d1/${manifest.id}.sql.enc`, `${plainDump}.enc`);
  const decrypted = await runCli(['decrypt', `${plainDump}.enc`, '--id', manifest.id, '-o', plainDump], {
    env: { BACKUP_ENCRYPTION_KEY: TEST_SECRETS.BACKUP_ENCRYPTION_KEY },
  });
  if (decrypted.code !== 0) throw new Error(decrypted.stderr);
  const sqliteLoad = await measured('sh', ['-c', `sqlite3 '${plainDump}.db' < '${plainDump}'`]);
  results.sqlite3_import = {
    ms: Math.round(sqliteLoad.ms), rows_s: Math.round(rows / (sqliteLoad.ms / 1000)), peak_rss_bytes: sqliteLoad.peakBytes,
  };
  const wranglerLimit = Number(process.env.BENCH_WRANGLER_EXECUTE_MAX_ROWS ?? 200_000);
  if (rows <= wranglerLimit) {
    const fresh = await tempDir();
    const executed = await measured(WRANGLER, ['d1', 'execute', 'DB', '--local', '--persist-to', fresh, '--file', plainDump, '--yes'], { cwd: ROOT });
    results.wrangler_execute = {
      ms: Math.round(executed.ms), rows_s: Math.round(rows / (executed.ms / 1000)), peak_rss_bytes: executed.peakBytes,
    };
    await rm(fresh, { recursive: true, force: true });
  } else {
    results.wrangler_execute = { error: `not run above ${wranglerLimit} rows (BENCH_WRANGLER_EXECUTE_MAX_ROWS): one round trip per statement` };
  }
  await rm(exportDir, { recursive: true, force: true });

  // 4. An import of BENCH_IMPORT_MIB (default 1024) of SQL through the CLI:
  // encrypted on the fly, uploaded through the worker in 8 MiB parts, then
  // checked by a sliced import job until it is listed.
  if (importMib > 0) results.import = await benchImport(worker, importMib);
});

// (b) "Free-plan slices": the same database, backed up and restored on a
// worker of its own (started once (a)'s has stopped, so they do not compete).
await using(await startConfigured('free_slices'), async (free) => {
  await free.d1File(sqlFile);
  const manifest = await workerBackup(free, 'free_slices');
  await workerRestore(free, 'free_slices', manifest);
  // Every invocation of this worker's jobs, not only the two measured.
  const over = free.events('job_slice').filter((e) => e.d1_queries > FREE.d1_queries || e.subrequests > FREE.subrequests);
  if (over.length > 0) throw new Error(`Free-plan slices: ${over.length} invocations went over the Free plan's limits, e.g. ${JSON.stringify(over[0])}`);
});
for (const table of [results.worker_backup, results.worker_restore]) {
  table.free_slices.overhead_pct = overheadPct(table.free_slices.ms, table.one_invocation.ms);
}
for (const [key, config] of Object.entries(CONFIGS)) {
  results.worker_backup[key].config = { ...config.budget, ENFORCE_PLATFORM_LIMITS: config.vars.ENFORCE_PLATFORM_LIMITS || null };
}
{
  const backup = results.worker_backup.one_invocation;
  const restore = results.worker_restore.one_invocation;
  results.ratios = {
    backup_vs_floor: ratio(backup.ms, results.floor.ms),
    backup_vs_sqlite3_dump: ratio(backup.ms, results.sqlite3_dump.ms),
    backup_vs_wrangler_export: ratio(backup.ms, results.wrangler_export.ms),
    restore_vs_sqlite3_import: ratio(restore.ms, results.sqlite3_import.ms),
    restore_vs_wrangler_execute: ratio(restore.ms, results.wrangler_execute.ms),
    import_step_vs_sqlite3_import: ratio(restore.import_ms, results.sqlite3_import.ms),
    stored_vs_sql_bytes: ratio(backup.stored_bytes, backup.sql_bytes),
  };
}
const one = [results.worker_backup.one_invocation, results.worker_restore.one_invocation];
results.worker_backup.one_invocation.over_paid_limits = one.some((r) => r.max_d1_queries > PAID.d1_queries || r.max_subrequests > PAID.subrequests);

/**
 * The in-worker floor (src/edge/bench_floor.rs): the same rows read in
 * pages with SQLite building their text, then discarded; the median of 3.
 */
async function benchFloor(worker) {
  const runs = [];
  for (let i = 0; i < 3; i++) {
    runs.push(await timed(async () => {
      const res = await worker.fetch('/v1/test/floor', { method: 'POST', token: TEST_SECRETS.ADMIN_TOKEN });
      if (res.status !== 200) throw new Error(`floor: ${res.status} ${await res.text()}`);
      return res.json();
    }));
  }
  const ms = median(runs.map((run) => run.ms));
  const body = runs[0].value;
  if (body.rows !== rows) throw new Error(`floor read ${body.rows} rows, not ${rows}`);
  return {
    ms: Math.round(ms), sql_bytes: body.sql_bytes, sql_mb_s: mbps(body.sql_bytes, ms), rows_s: Math.round(rows / (ms / 1000)),
    queries: body.queries, page_rows: body.page_rows,
  };
}

/** `a / b` to two decimals, or null. */
function ratio(a, b) {
  return a > 0 && b > 0 ? +(a / b).toFixed(2) : null;
}

/**
 * Writes about `mib` MiB of SQL (rows of 1 KB of hex, INSERTs of 64 rows),
 * imports it with `d1-vault import`, and reports time, MB/s and the job.
 */
async function benchImport(worker, mib) {
  const dir = await tempDir();
  const file = path.join(dir, 'import.sql');
  const handle = await open(file, 'w');
  await handle.write('CREATE TABLE imported (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\n');
  const body = 'ab'.repeat(500);
  let id = 0;
  let written = 0;
  while (written < mib * MIB) {
    const rowsSql = Array.from({ length: 64 }, () => `(${++id},'${body}')`).join(',');
    const statement = `INSERT INTO imported VALUES${rowsSql};\n`;
    await handle.write(statement);
    written += statement.length;
  }
  await handle.close();
  const importId = `bench-import-${Date.now()}`;
  const env = { BACKUP_ENCRYPTION_KEY: TEST_SECRETS.BACKUP_ENCRYPTION_KEY, D1_VAULT_URL: worker.url, D1_VAULT_TOKEN: TEST_SECRETS.ADMIN_TOKEN };
  const start = performance.now();
  const imported = await runCli(['import', file, '--id', importId, '--json'], { env });
  const ms = performance.now() - start;
  if (imported.code !== 0) throw new Error(`import: ${imported.stderr}`);
  const job = JSON.parse(imported.stdout.toString().trim().split('\n').at(-1));
  if (job.state !== 'succeeded') throw new Error(`import: job ${job.id} ended ${job.state}: ${job.error}`);
  await rm(dir, { recursive: true, force: true });
  return {
    sql_bytes: written, rows: id, ms: Math.round(ms), sql_mb_s: mbps(written, ms),
    stored_bytes: job.report.ciphertext.bytes, parts: Math.ceil(job.report.ciphertext.bytes / (8 * MIB)),
    job_slices: job.slices, job_attempts: job.attempts,
  };
}

const mib = (b) => (b == null ? '-' : `${(b / MIB).toFixed(1)} MiB`);
const cell = (value, width) => String(value ?? '-').padStart(width);
const pct = (value) => (value == null ? '-' : `${value > 0 ? '+' : ''}${value}%`);
console.log(`bundle: ${(results.bundle.wasm_bytes / 1024).toFixed(0)} KiB wasm + ${(results.bundle.js_bytes / 1024).toFixed(0)} KiB JavaScript; ${(results.bundle.gzip_bytes / 1024).toFixed(0)} KiB gzipped\n`);
console.log('format            encrypt MB/s  decrypt MB/s  memory');
console.log(`  native          ${String(results.format_native.encrypt_mb_s ?? '-').padStart(12)}  ${String(results.format_native.decrypt_mb_s ?? '-').padStart(12)}  ${mib(results.format_native.peak_rss_bytes)}`);
console.log(`  wasm, crates    ${String(results.format_wasm.encrypt_mb_s).padStart(12)}  ${String(results.format_wasm.decrypt_mb_s).padStart(12)}  ${mib(results.format_wasm.wasm_memory_bytes)}`);
console.log(`  runtime         ${String(results.format_webcrypto.encrypt_mb_s).padStart(12)}  ${String(results.format_webcrypto.decrypt_mb_s).padStart(12)}  (WebCrypto and CompressionStream: the worker's jobs use them)`);
console.log('  (encrypt: compress in frames, then encrypt: format version 2; decrypt: the reverse)');
console.log(`\nbackup of ${rows.toLocaleString()} rows (${mib(results.database.sqlite_file_bytes)} SQLite file)`);
console.log('                              time s   SQL MiB   MB/s    rows/s     memory    stored');
for (const [name, r] of Object.entries({
  'd1-vault, one invocation': results.worker_backup.one_invocation,
  'd1-vault, Free slices': results.worker_backup.free_slices,
  'floor (in the worker)': results.floor,
  'wrangler d1 export': results.wrangler_export,
  'sqlite3 .dump': results.sqlite3_dump,
})) {
  if (r.error) {
    console.log(`  ${name.padEnd(27)} failed: ${r.error}`);
    continue;
  }
  console.log(`  ${name.padEnd(27)} ${(r.ms / 1000).toFixed(1).padStart(6)} ${(r.sql_bytes / MIB).toFixed(1).padStart(9)} ${String(r.sql_mb_s).padStart(6)} ${String(r.rows_s).padStart(9)} ${mib(r.wasm_memory_bytes ?? r.peak_rss_bytes).padStart(10)} ${mib(r.stored_bytes ?? r.sql_bytes).padStart(9)}`);
}
console.log(`\nrestore of the same ${rows.toLocaleString()} rows`);
console.log('                              time s     rows/s     memory');
for (const [name, r] of Object.entries({
  'd1-vault, one invocation': results.worker_restore.one_invocation,
  'd1-vault, Free slices': results.worker_restore.free_slices,
  'wrangler d1 execute': results.wrangler_execute,
  'sqlite3 < dump.sql': results.sqlite3_import,
})) {
  if (r.error) {
    console.log(`  ${name.padEnd(27)} ${r.error}`);
    continue;
  }
  console.log(`  ${name.padEnd(27)} ${(r.ms / 1000).toFixed(1).padStart(6)} ${String(r.rows_s).padStart(10)} ${mib(r.wasm_memory_bytes ?? r.peak_rss_bytes).padStart(10)}`);
}
console.log('  (d1-vault rows: the ten steps, safety backup included)');

console.log(`\nd1-vault jobs (time: from the 202 to the final state; invocations: job_slice log lines; max: in one invocation)`);
console.log('                              time s     rows/s  SQL MB/s  slices  attempts  invocations  max D1 q  max subreq  overhead');
for (const [name, r] of Object.entries({
  'backup, one invocation': results.worker_backup.one_invocation,
  'backup, Free slices': results.worker_backup.free_slices,
  'restore, one invocation': results.worker_restore.one_invocation,
  'restore, Free slices': results.worker_restore.free_slices,
})) {
  console.log(`  ${name.padEnd(27)} ${(r.ms / 1000).toFixed(1).padStart(6)} ${cell(r.rows_s, 10)} ${cell(r.sql_mb_s, 9)} ${cell(r.slices, 7)} ${cell(r.attempts, 9)} ${cell(r.invocations, 12)} ${cell(r.max_d1_queries, 9)} ${cell(r.max_subrequests, 11)} ${pct(r.overhead_pct).padStart(9)}`);
}
for (const key of Object.keys(CONFIGS)) {
  const steps = results.worker_restore[key].steps_ms;
  if (steps) console.log(`  restore steps, ${CONFIGS[key].label} (ms): ${JSON.stringify(steps)}`);
}
const oneMax = {
  d1: Math.max(...one.map((r) => r.max_d1_queries)),
  sub: Math.max(...one.map((r) => r.max_subrequests)),
};
console.log(`  one invocation: ENFORCE_PLATFORM_LIMITS unset and every slice budget at its maximum (1,000 D1 queries, 10,000 subrequests,
    1 GiB of SQL, 600 s). This run would exceed production's per-invocation limits: nothing holds an invocation to the Paid
    plan's 1,000 D1 queries and 10,000 subrequests (a unit of work may finish over its budget), and a slice of up to 1 GiB is
    about 30 s of CPU (the default budget, 64 MiB, is about 2 s), at an alarm's 30 s limit. Most in one invocation here:
    ${oneMax.d1.toLocaleString()} D1 queries, ${oneMax.sub.toLocaleString()} subrequests${results.worker_backup.one_invocation.over_paid_limits ? ' (over the Paid plan\'s limits)' : ''}.
  Free-plan slices: ENFORCE_PLATFORM_LIMITS=free, 40 D1 queries and 500 subrequests per slice (other budgets default); every
    invocation checked within the Free plan's 50 D1 queries and 1,000 subrequests.`);
if (results.import) {
  const r = results.import;
  console.log(`\nimport of ${mib(r.sql_bytes)} of SQL (${r.rows.toLocaleString()} rows) with d1-vault import: ${(r.ms / 1000).toFixed(1)} s, ${r.sql_mb_s} MB/s; ${r.parts} parts of 8 MiB through the worker; the import job's checks in ${r.job_slices} slices`);
}
console.log('\nratios (time, and stored bytes; one invocation; lower is better)');
for (const [name, value] of Object.entries(results.ratios)) console.log(`  ${name.replaceAll('_', ' ').padEnd(30)} ${value ?? '-'}`);
console.log('  (floor: the same pages read with SQLite building each row\'s text, then discarded: no dump logic, no crypto, no upload)');
console.log(`\n${JSON.stringify(results)}`);
