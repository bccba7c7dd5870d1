// End-to-end harness: runs the real release bundle on workerd through
// `wrangler dev --local`, each worker with its own port, its own temporary
// state folder (local D1 + R2) and its own env file, and always stops it by
// PID (its whole process group), also when a test fails.
//
// Results are checked independently of the worker: `sqlite3` on the local D1
// file, wrangler's own `d1 execute` and `r2 object` commands, the native CLI.

import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const WRANGLER = path.join(ROOT, 'node_modules', '.bin', 'wrangler');
export const CLI = path.join(ROOT, 'target', 'release', 'd1-vault');
/** The limits corpus generator and typed comparator (scripts/corpus.rs), built by scripts/test. */
export const CORPUS = path.join(ROOT, 'target', 'release', 'examples', 'corpus');
/** The local R2 bucket of wrangler.toml's top-level configuration. */
export const BUCKET = 'd1-vault-demo-backups';

/** Test-only secrets. The key is a fixed test key, never used anywhere else. */
export const TEST_SECRETS = Object.freeze({
  READ_TOKEN: 'e2e-read-token-0123456789abcdef',
  ADMIN_TOKEN: 'e2e-admin-token-0123456789abcdef',
  BACKUP_ENCRYPTION_KEY: '8f3c2a1b0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a',
});

/** Environment for wrangler and the CLI: offline, no telemetry, no account. */
export function toolEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  env.WRANGLER_SEND_METRICS = 'false';
  env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';
  env.XDG_CONFIG_HOME ??= path.join(ROOT, '.state', 'xdg');
  env.WRANGLER_LOG_PATH ??= path.join(ROOT, '.state', 'wrangler-logs');
  delete env.CLOUDFLARE_API_TOKEN;
  delete env.CLOUDFLARE_ACCOUNT_ID;
  return env;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs `wrangler ...args`; resolves with stdout, rejects with its output. */
export async function wrangler(args, { cwd = ROOT, env = {} } = {}) {
  try {
    const { stdout } = await run(WRANGLER, args, { cwd, env: toolEnv(env), maxBuffer: 256 << 20 });
    return stdout;
  } catch (error) {
    throw new Error(`wrangler ${args.join(' ')} failed:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
  }
}

/** Runs the native CLI; resolves with { code, stdout, stderr } whatever the exit code. */
export async function cli(args, { env = {}, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(CLI, args, { env: toolEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }),
    );
    // The CLI may exit without reading its input; that is not an error here.
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

/** Runs the corpus tool; resolves with { code, stdout, stderr } whatever the exit code. */
export async function corpus(args) {
  try {
    const { stdout, stderr } = await run(CORPUS, args, { maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    if (typeof error.code !== 'number') throw error;
    return { code: error.code, stdout: error.stdout, stderr: error.stderr };
  }
}

/**
 * Fetches backup `id`'s object and manifest from the worker's local R2 with
 * wrangler and decrypts the object with the CLI (which checks it against
 * the manifest). Resolves with the SQL file's path and the manifest.
 */
export async function decryptBackup(worker, id, dir) {
  const encrypted = path.join(dir, `${id}.sql.enc`);
  const manifest = path.join(dir, `${id}.manifest.json`);
  const sql = path.join(dir, `${id}.sql`);
  await worker.r2Get(`backups/d1/${id}.sql.enc`, encrypted);
  await worker.r2Get(`backups/d1/manifests/${id}.manifest.json`, manifest);
  const decrypted = await cli(['decrypt', encrypted, '--id', id, '--manifest', manifest, '-o', sql], {
    env: { BACKUP_ENCRYPTION_KEY: TEST_SECRETS.BACKUP_ENCRYPTION_KEY },
  });
  if (decrypted.code !== 0) throw new Error(`d1-vault decrypt failed: ${decrypted.stderr}`);
  return { sql, manifest: JSON.parse(readFileSync(manifest, 'utf8')) };
}

/**
 * A local HTTP server that records every JSON body POSTed to it, to stand
 * for ALERT_WEBHOOK_URL. Always `await receiver.close()`.
 */
export async function startWebhookReceiver() {
  const { createServer } = await import('node:http');
  const received = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString() || 'null'));
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/alerts`,
    received,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * Puts a crafted backup (SQL encrypted with the CLI) and its manifest,
 * listing `tables`, into the worker's R2: a backup the worker did not take.
 */
export async function putCraftedBackup(worker, dir, id, sql, tables) {
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
    environment: 'local', database: 'd1-vault-demo', pinned: false, note: 'crafted', worker_version: 'test',
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

/** Runs sqlite3 on a database file; resolves with stdout. */
export async function sqlite3(file, sql, args = []) {
  // workerd and wrangler hold the local D1 file open; wait out their brief
  // locks (a WAL checkpoint, say) instead of reading "database is locked".
  const wait = ['-cmd', '.timeout 20000'];
  const { stdout } = await run('sqlite3', [...wait, ...args, file, sql], { maxBuffer: 512 << 20 });
  return stdout;
}

/**
 * A running worker. Create with `startWorker`; always `await worker.stop()`
 * (tests do it in `after`, which runs on failure too).
 */
export class Worker {
  constructor({ child, port, stateDir, logFile }) {
    this.child = child;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.stateDir = stateDir;
    this.logFile = logFile;
  }

  /** fetch() relative to the worker, with an optional bearer token. */
  async fetch(route, { token, ...init } = {}) {
    const headers = new Headers(init.headers ?? {});
    if (token) headers.set('authorization', `Bearer ${token}`);
    return fetch(this.url + route, { ...init, headers });
  }

  /** Everything the worker has logged so far. */
  logs() {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  /** The worker's structured log events (JSON lines) named `event`. */
  events(event) {
    return this.logs()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => {
        try {
          return JSON.parse(line);
        } catch {
          return null;
        }
      })
      .filter((entry) => entry && entry.event === event);
  }

  /** Waits for a log event named `event` for which `matches(entry)` holds. */
  async waitForEvent(event, matches = () => true, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.events(event).find(matches);
      if (found) return found;
      await sleep(100);
    }
    throw new Error(`the worker never logged a matching ${event} event; its log:\n${this.logs().slice(-4000)}`);
  }

  /** `GET /v1/jobs/{id}`: the job's record. */
  async job(id, { token = TEST_SECRETS.READ_TOKEN } = {}) {
    const res = await this.fetch(`/v1/jobs/${id}`, { token });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`GET /v1/jobs/${id} answered ${res.status}: ${body}`);
    return JSON.parse(body).job;
  }

  /** Every event of job `id`, in order. */
  async jobEvents(id, { token = TEST_SECRETS.READ_TOKEN } = {}) {
    const events = [];
    for (;;) {
      const res = await this.fetch(`/v1/jobs/${id}/events?after=${events.at(-1)?.seq ?? 0}`, { token });
      const body = await res.json();
      if (res.status !== 200) throw new Error(`events of ${id}: ${res.status} ${JSON.stringify(body)}`);
      if (body.events.length === 0) return events;
      events.push(...body.events);
    }
  }

  /**
   * Polls job `id` until it ends (each poll is a request to the jobs'
   * object, which re-arms its alarm after a restart); resolves with the
   * final record.
   */
  async waitForJob(id, { timeoutMs = 300_000, token } = {}) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const job = await this.job(id, { token });
      if (!['queued', 'running'].includes(job.state)) return job;
      await sleep(150);
    }
    throw new Error(`job ${id} did not end within ${timeoutMs} ms: ${JSON.stringify(await this.job(id, { token }))}`);
  }

  /**
   * Polls job `id` until `reached(job)` holds (to kill the runtime at a
   * step, say); fails if the job ends first. Resolves with the record.
   */
  async waitUntilJob(id, reached, what, { timeoutMs = 180_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const job = await this.job(id);
      if (reached(job)) return job;
      assert.ok(['queued', 'running'].includes(job.state), `job ${id} ended (${job.state}) before ${what}: ${JSON.stringify(job)}`);
      await sleep(25);
    }
    throw new Error(`job ${id} never reached ${what}`);
  }

  /** POSTs `route` and expects `202` with a job; resolves with the job. */
  async startJob(route, { token = TEST_SECRETS.ADMIN_TOKEN, body } = {}) {
    const res = await this.fetch(route, { method: 'POST', token, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (res.status !== 202) throw new Error(`POST ${route} answered ${res.status}, not 202: ${text}`);
    return JSON.parse(text).job;
  }

  /** Starts a job at `route` and waits for its end; resolves with the final record. */
  async runJob(route, options = {}) {
    const job = await this.startJob(route, options);
    return this.waitForJob(job.id, options);
  }

  /** Takes a backup through the API and expects it to succeed; resolves with its manifest. */
  async backup(body) {
    const job = await this.runJob('/v1/backups', { body });
    if (job.state !== 'succeeded') throw new Error(`the backup job ${job.id} ended ${job.state}: ${job.error}`);
    return job.report;
  }

  /**
   * Job `id`'s record as the jobs' Durable Object stored it on disk, read
   * with sqlite3 (use it with the runtime stopped: what a crash left).
   */
  async jobOnDisk(id) {
    const dir = path.join(this.stateDir, 'v3', 'do', 'd1-vault-JobsObject');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite');
    if (files.length !== 1) throw new Error(`expected one jobs object in ${dir}, found ${files}`);
    const out = await sqlite3(path.join(dir, files[0]), `SELECT record FROM jobs_records WHERE id = '${id.replaceAll("'", "''")}'`);
    return out.trim() ? JSON.parse(out) : null;
  }

  /** `wrangler d1 execute DB --local` against this worker's state, as JSON rows. */
  async d1(sql) {
    const out = await wrangler(['d1', 'execute', 'DB', '--local', '--persist-to', this.stateDir, '--json', '--command', sql]);
    return JSON.parse(out)[0].results;
  }

  /** `wrangler d1 execute DB --local --file`. */
  async d1File(file) {
    return wrangler(['d1', 'execute', 'DB', '--local', '--persist-to', this.stateDir, '--file', file]);
  }

  /** `wrangler d1 migrations apply DB --local`. */
  async migrate() {
    return wrangler(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', this.stateDir]);
  }

  /** `wrangler r2 object get` of `key` from the local bucket into `file`. */
  async r2Get(key, file) {
    return wrangler(['r2', 'object', 'get', `${BUCKET}/${key}`, '--local', '--persist-to', this.stateDir, '--file', file]);
  }

  /** `wrangler r2 object put` of `file` to `key` in the local bucket. */
  async r2Put(key, file) {
    return wrangler(['r2', 'object', 'put', `${BUCKET}/${key}`, '--local', '--persist-to', this.stateDir, '--file', file]);
  }

  /** Every key in the local bucket, read with sqlite3 from the R2 simulator's own index. */
  async r2Keys() {
    const dir = path.join(this.stateDir, 'v3', 'r2', 'miniflare-R2BucketObject');
    if (!existsSync(dir)) return [];
    const keys = [];
    for (const file of (await readdir(dir)).filter((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite')) {
      const out = await sqlite3(path.join(dir, file), 'SELECT key FROM _mf_objects ORDER BY key');
      keys.push(...out.split('\n').filter(Boolean));
    }
    return keys.sort();
  }

  /** The local D1 database's SQLite file. */
  async sqliteFile() {
    const dir = path.join(this.stateDir, 'v3', 'd1', 'miniflare-D1DatabaseObject');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite');
    if (files.length !== 1) throw new Error(`expected one D1 database file in ${dir}, found ${files}`);
    return path.join(dir, files[0]);
  }

  /**
   * Stops the worker (SIGINT to its process group, SIGKILL after 10 s; or
   * `signal: 'SIGKILL'` at once, to simulate a crash) and removes its state.
   */
  async stop({ keepState = false, signal = 'SIGINT' } = {}) {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      try {
        process.kill(-this.child.pid, signal);
      } catch {
        // already gone
      }
      const killed = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
      if (!killed) {
        try {
          process.kill(-this.child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
        await exited;
      }
    }
    running.delete(this);
    if (!keepState) await rm(this.stateDir, { recursive: true, force: true });
  }
}

const running = new Set();
process.on('exit', () => {
  for (const worker of running) {
    try {
      process.kill(-worker.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * Slice budgets small enough that every job crosses many slice boundaries
 * (each slice is one Durable Object alarm): 16 subrequests and 256 KiB of
 * SQL or ciphertext. The D1 budget stays at 60 queries, room for the
 * largest import batch (50 statements, its prelude and progress record):
 * D1 checks foreign keys when each batch commits, so a smaller batch would
 * change what a restore can import, not just where slices end.
 * wrangler.toml sets ENFORCE_PLATFORM_LIMITS for every local run, so each
 * invocation is also held to production's limits.
 */
export const SMALL_SLICES = { JOB_BUDGET_D1_QUERIES: '60', JOB_BUDGET_SUBREQUESTS: '16', JOB_BUDGET_KIB: '256' };

/**
 * Starts the built worker on a free port with a fresh state folder.
 * `vars` become the worker's env file (secrets and vars); by default the
 * test secrets plus ENABLE_TEST_ROUTES, over `budget` (SMALL_SLICES unless
 * given). Pass `stateDir` to reuse state.
 */
export async function startWorker({ vars = { ...TEST_SECRETS, ENABLE_TEST_ROUTES: 'true' }, stateDir, budget = SMALL_SLICES } = {}) {
  vars = { ...budget, ...vars };
  const scratch = path.join(ROOT, '.state', 'e2e');
  await mkdir(scratch, { recursive: true });
  stateDir ??= await mkdtemp(path.join(scratch, 'worker-'));
  await mkdir(stateDir, { recursive: true });
  const envFile = path.join(stateDir, 'test.env');
  await writeFile(envFile, Object.entries(vars).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const logFile = path.join(stateDir, 'wrangler.log');
  const port = await freePort();
  const log = openSync(logFile, 'a');
  const child = spawn(
    WRANGLER,
    [
      'dev', '--local', '--test-scheduled',
      '--ip', '127.0.0.1', '--port', String(port),
      '--persist-to', stateDir,
      '--env-file', envFile,
      '--show-interactive-dev-session=false',
      '--log-level', 'log',
    ],
    { cwd: ROOT, env: toolEnv({ CI: 'true' }), stdio: ['ignore', log, log], detached: true },
  );
  const worker = new Worker({ child, port, stateDir, logFile });
  running.add(worker);
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      running.delete(worker);
      throw new Error(`wrangler dev exited with ${child.exitCode}:\n${worker.logs().slice(-4000)}`);
    }
    try {
      await fetch(`${worker.url}/health`);
      return worker;
    } catch {
      await sleep(250);
    }
  }
  await worker.stop({ keepState: true });
  throw new Error(`wrangler dev did not answer within 90 s:\n${worker.logs().slice(-4000)}`);
}

/**
 * `sqlite3 .dump` of a database, for comparing an original with its copy.
 * Left out: FTS5 shadow tables' rows (their bytes depend on the insertion
 * history; the FTS content itself is compared separately) and D1's own
 * `_cf_*` tables.
 */
export async function comparableDump(file) {
  const dump = await sqlite3(file, '.dump');
  return dump
    .split('\n')
    .filter((line) => !/^INSERT INTO "?[^"( ]+_fts_(data|idx|content|docsize|config)"?/.test(line))
    .filter((line) => !/_cf_/.test(line))
    .join('\n');
}

/**
 * Splits SQL text into statements on `;` outside quotes and comments, and
 * inside trigger bodies only at their END: an independent reader, to check
 * the dump's statement sizes.
 */
export function splitStatements(sql) {
  const statements = [];
  let start = 0;
  let depth = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === '`') {
      const end = sql.indexOf(c, i + 1);
      i = end < 0 ? sql.length : end + 1;
      while (sql[i] === c) i = sql.indexOf(c, i + 1) + 1;
      continue;
    }
    if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end;
      continue;
    }
    const word = /^[A-Za-z_]+/.exec(sql.slice(i, i + 8));
    if (word && (i === 0 || !/[A-Za-z0-9_]/.test(sql[i - 1]))) {
      const upper = word[0].toUpperCase();
      if (upper === 'BEGIN' && /CREATE\s+(TEMP\s+|TEMPORARY\s+)?TRIGGER/i.test(sql.slice(start, i))) depth += 1;
      if (upper === 'END' && depth > 0) depth -= 1;
      i += word[0].length;
      continue;
    }
    if (c === ';' && depth === 0) {
      statements.push(sql.slice(start, i + 1).trim());
      start = i + 1;
    }
    i += 1;
  }
  if (sql.slice(start).trim()) statements.push(sql.slice(start).trim());
  return statements;
}

/** A fresh temporary directory for a test's files. */
export async function tempDir(prefix = 'd1-vault-e2e-') {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}
