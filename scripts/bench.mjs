// The project's benchmark, in one run (see scripts/bench for usage):
//   1. the object format: encrypt and decrypt MB/s natively (cargo example)
//      and in wasm on workerd (the test-only bench route; the Workers clock
//      stands still during CPU work, so the client times each request and
//      subtracts the same work without cryptography);
//   2. backups of the same database by the worker (cron path, on workerd
//      with local D1 and R2), by `wrangler d1 export --local`, and by
//      `sqlite3 .dump`: time, MB/s of SQL, rows/s, peak memory, bytes stored.
// It reports; it asserts nothing about time.

import { execFile, spawnSync } from 'node:child_process';
import { mkdir, readFile, rm, stat, symlink, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT, TEST_SECRETS, startWorker, tempDir, toolEnv, WRANGLER } from '../tests/e2e/harness.mjs';

const run = promisify(execFile);
const MIB = 1 << 20;
const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
const formatMib = Number(process.env.BENCH_FORMAT_MIB ?? 64);
const results = {};

function mbps(bytes, ms) {
  return ms > 0 ? +(bytes / 1e6 / (ms / 1000)).toFixed(1) : null;
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

/** Runs a command under GNU time; returns wall ms and peak RSS bytes. */
function measured(command, args, options = {}) {
  const start = performance.now();
  const result = spawnSync('/usr/bin/time', ['-f', '%M', command, ...args], {
    encoding: 'utf8', maxBuffer: 64 << 20, env: toolEnv(), ...options,
  });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr.slice(-3000)}`);
  const peakKib = Number(result.stderr.trim().split('\n').pop());
  return { ms, peakBytes: peakKib * 1024 };
}

console.log(`d1-vault benchmark: ${rows.toLocaleString()} rows; format pass ${formatMib} MiB\n`);

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

const worker = await startWorker();
try {
  // 1b. Format throughput in wasm on workerd.
  const bench = async (op) => {
    const times = [];
    let body;
    for (let i = 0; i < 3; i++) {
      const { ms, value } = await timed(async () => {
        const res = await worker.fetch(`/v1/test/bench?op=${op}&mib=${formatMib}`, { method: 'POST', token: TEST_SECRETS.ADMIN_TOKEN });
        if (res.status !== 200) throw new Error(`bench ${op}: ${res.status} ${await res.text()}`);
        return res.json();
      });
      times.push(ms);
      body = value;
    }
    return { ms: median(times), body };
  };
  const generate = await bench('generate');
  const encrypt = await bench('encrypt');
  const roundtrip = await bench('roundtrip');
  const bytes = formatMib * MIB;
  results.format_wasm = {
    encrypt_mb_s: mbps(bytes, encrypt.ms - generate.ms),
    decrypt_mb_s: mbps(bytes, roundtrip.ms - encrypt.ms),
    wasm_memory_bytes: roundtrip.body.wasm_memory_bytes,
  };

  // 2. Backups of one generated database.
  const sqlFile = path.join(await tempDir(), 'seed.sql');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(sqlFile, `CREATE TABLE events (
  id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, kind TEXT NOT NULL,
  payload TEXT, amount REAL, created_at TEXT NOT NULL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows})
INSERT INTO events SELECT i, i % 9973, 'kind-' || (i % 17),
  '{"note":"event ' || i || ' it''s done ✓","tags":["a","b"],"v":' || (i * 7919 % 100003) || '}',
  (i % 100000) / 100.0, '2026-11-' || printf('%02d', 1 + i % 28) || 'T02:00:00Z' FROM n;
CREATE INDEX events_account ON events(account_id);
`);
  await worker.d1File(sqlFile);
  const dbFile = await worker.sqliteFile();
  const dbBytes = (await stat(dbFile)).size;

  const backup = await timed(async () => {
    const res = await worker.fetch('/v1/backups', { method: 'POST', token: TEST_SECRETS.ADMIN_TOKEN });
    if (res.status !== 201) throw new Error(`backup: ${res.status} ${await res.text()}`);
    return res.json();
  });
  const manifest = backup.value;
  const reportFile = path.join(await tempDir(), 'report.json');
  await worker.r2Get(`backups/d1/reports/runs/${manifest.id}.json`, reportFile);
  const report = JSON.parse(await readFile(reportFile, 'utf8'));
  results.worker_backup = {
    ms: Math.round(backup.ms),
    sql_bytes: manifest.plaintext.bytes,
    stored_bytes: manifest.ciphertext.bytes,
    sql_mb_s: mbps(manifest.plaintext.bytes, backup.ms),
    rows_s: Math.round(rows / (backup.ms / 1000)),
    wasm_memory_bytes: report.memory_bytes,
    statements: manifest.statements.count,
  };

  const dumpOut = path.join(await tempDir(), 'dump.sql');
  const sqliteDump = measured('sh', ['-c', `sqlite3 '${dbFile}' .dump > '${dumpOut}'`]);
  const sqliteBytes = (await stat(dumpOut)).size;
  results.sqlite3_dump = {
    ms: Math.round(sqliteDump.ms), sql_bytes: sqliteBytes, sql_mb_s: mbps(sqliteBytes, sqliteDump.ms),
    rows_s: Math.round(rows / (sqliteDump.ms / 1000)), peak_rss_bytes: sqliteDump.peakBytes,
  };

  // wrangler d1 export has no --persist-to: run it where .wrangler/state is this worker's state.
  const exportDir = await tempDir();
  await mkdir(path.join(exportDir, '.wrangler'), { recursive: true });
  await symlink(worker.stateDir, path.join(exportDir, '.wrangler', 'state'));
  await copyFile(path.join(ROOT, 'wrangler.toml'), path.join(exportDir, 'wrangler.toml'));
  const exportOut = path.join(exportDir, 'export.sql');
  try {
    const exported = measured(WRANGLER, ['d1', 'export', 'DB', '--local', '--output', exportOut], { cwd: exportDir });
    const exportBytes = (await stat(exportOut)).size;
    results.wrangler_export = {
      ms: Math.round(exported.ms), sql_bytes: exportBytes, sql_mb_s: mbps(exportBytes, exported.ms),
      rows_s: Math.round(rows / (exported.ms / 1000)), peak_rss_bytes: exported.peakBytes,
    };
  } catch (error) {
    results.wrangler_export = { error: error.message.split('\n').slice(0, 3).join(' ') };
  }
  results.database = { rows, sqlite_file_bytes: dbBytes };

  // 3. Restores of the same backup: the worker (all ten steps, safety
  // backup included), `sqlite3 new.db < dump.sql`, `wrangler d1 execute --file`.
  const restoreRun = await timed(async () => {
    const res = await worker.fetch(`/v1/backups/${manifest.id}/restore`, {
      method: 'POST', token: TEST_SECRETS.ADMIN_TOKEN, body: JSON.stringify({ confirm: 'd1-vault-demo' }),
    });
    const lines = (await res.text()).trim().split('\n').map((line) => JSON.parse(line));
    return lines.at(-1);
  });
  const restoreReport = restoreRun.value.report;
  if (restoreReport.outcome !== 'succeeded') throw new Error(`restore: ${JSON.stringify(restoreReport)}`);
  const stepMs = Object.fromEntries(restoreReport.steps.map((step) => [step.name, step.ms]));
  results.worker_restore = {
    ms: Math.round(restoreRun.ms),
    import_ms: stepMs.import,
    rows_s: Math.round(rows / (restoreRun.ms / 1000)),
    import_rows_s: stepMs.import ? Math.round(rows / (stepMs.import / 1000)) : null,
    wasm_memory_bytes: restoreRun.value.wasm_memory_bytes,
    steps_ms: stepMs,
  };
  const plainDump = path.join(await tempDir(), 'ours.sql');
  await worker.r2Get(`backups/d1/${manifest.id}.sql.enc`, `${plainDump}.enc`);
  const { cli: runCli } = await import('../tests/e2e/harness.mjs');
  const decrypted = await runCli(['decrypt', `${plainDump}.enc`, '--id', manifest.id, '-o', plainDump], {
    env: { BACKUP_ENCRYPTION_KEY: TEST_SECRETS.BACKUP_ENCRYPTION_KEY },
  });
  if (decrypted.code !== 0) throw new Error(decrypted.stderr);
  const sqliteLoad = measured('sh', ['-c', `sqlite3 '${plainDump}.db' < '${plainDump}'`]);
  results.sqlite3_import = {
    ms: Math.round(sqliteLoad.ms), rows_s: Math.round(rows / (sqliteLoad.ms / 1000)), peak_rss_bytes: sqliteLoad.peakBytes,
  };
  const wranglerLimit = Number(process.env.BENCH_WRANGLER_EXECUTE_MAX_ROWS ?? 200_000);
  if (rows <= wranglerLimit) {
    const fresh = await tempDir();
    const executed = measured(WRANGLER, ['d1', 'execute', 'DB', '--local', '--persist-to', fresh, '--file', plainDump, '--yes'], { cwd: ROOT });
    results.wrangler_execute = {
      ms: Math.round(executed.ms), rows_s: Math.round(rows / (executed.ms / 1000)), peak_rss_bytes: executed.peakBytes,
    };
    await rm(fresh, { recursive: true, force: true });
  } else {
    results.wrangler_execute = { error: `not run above ${wranglerLimit} rows (BENCH_WRANGLER_EXECUTE_MAX_ROWS): one round trip per statement` };
  }
  await rm(exportDir, { recursive: true, force: true });
} finally {
  await worker.stop();
}

const mib = (b) => (b == null ? '-' : `${(b / MIB).toFixed(1)} MiB`);
console.log('format            encrypt MB/s  decrypt MB/s  memory');
console.log(`  native          ${String(results.format_native.encrypt_mb_s ?? '-').padStart(12)}  ${String(results.format_native.decrypt_mb_s ?? '-').padStart(12)}  ${mib(results.format_native.peak_rss_bytes)}`);
console.log(`  wasm (workerd)  ${String(results.format_wasm.encrypt_mb_s).padStart(12)}  ${String(results.format_wasm.decrypt_mb_s).padStart(12)}  ${mib(results.format_wasm.wasm_memory_bytes)}`);
console.log(`\nbackup of ${rows.toLocaleString()} rows (${mib(results.database.sqlite_file_bytes)} SQLite file)`);
console.log('                      time s   SQL MiB   MB/s    rows/s     memory    stored');
for (const [name, r] of Object.entries({ 'd1-vault (worker)': results.worker_backup, 'wrangler d1 export': results.wrangler_export, 'sqlite3 .dump': results.sqlite3_dump })) {
  if (r.error) {
    console.log(`  ${name.padEnd(19)} failed: ${r.error}`);
    continue;
  }
  console.log(`  ${name.padEnd(19)} ${(r.ms / 1000).toFixed(1).padStart(6)} ${(r.sql_bytes / MIB).toFixed(1).padStart(9)} ${String(r.sql_mb_s).padStart(6)} ${String(r.rows_s).padStart(9)} ${mib(r.wasm_memory_bytes ?? r.peak_rss_bytes).padStart(10)} ${mib(r.stored_bytes ?? r.sql_bytes).padStart(9)}`);
}
console.log(`\nrestore of the same ${rows.toLocaleString()} rows`);
console.log('                        time s     rows/s     memory');
for (const [name, r] of Object.entries({ 'd1-vault (10 steps)': results.worker_restore, 'wrangler d1 execute': results.wrangler_execute, 'sqlite3 < dump.sql': results.sqlite3_import })) {
  if (r.error) {
    console.log(`  ${name.padEnd(21)} ${r.error}`);
    continue;
  }
  console.log(`  ${name.padEnd(21)} ${(r.ms / 1000).toFixed(1).padStart(6)} ${String(r.rows_s).padStart(10)} ${mib(r.wasm_memory_bytes ?? r.peak_rss_bytes).padStart(10)}`);
}
if (results.worker_restore.steps_ms) console.log(`  d1-vault steps (ms): ${JSON.stringify(results.worker_restore.steps_ms)}`);
console.log(`\n${JSON.stringify(results)}`);
