// The native CLI's remote commands against the real worker on workerd:
// backup, list, show, retention, status, health and delete over HTTP, with the
// contract's tokens and the CLI's exit statuses (0 ok, 1 refused, 2 usage,
// 3 unreachable).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { ROOT, TEST_SECRETS, cli, startWorker } from './harness.mjs';

/** Runs the CLI and returns its output as text. */
async function run(args, env) {
  const { code, stdout, stderr } = await cli(args, { env });
  return { code, stdout: stdout.toString(), stderr };
}

/** A port on which nothing listens. */
async function closedPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

describe('d1-vault against a running worker', () => {
  let worker;
  let read;
  let admin;
  let backupId;

  before(async () => {
    worker = await startWorker();
    await worker.migrate();
    await worker.d1File(path.join(ROOT, 'scripts', 'lib', 'demo-seed.sql'));
    read = { D1_VAULT_URL: worker.url, D1_VAULT_TOKEN: TEST_SECRETS.READ_TOKEN };
    admin = { D1_VAULT_URL: worker.url, D1_VAULT_TOKEN: TEST_SECRETS.ADMIN_TOKEN };
  });
  after(async () => worker?.stop());

  test('health with no backup yet: the verdict on stdout, exit 1', async () => {
    const health = await run(['health'], { D1_VAULT_URL: worker.url });
    assert.equal(health.code, 1, health.stderr);
    assert.match(health.stdout, /^stale: no backup has completed yet/);
    assert.equal(health.stderr, 'd1-vault: the worker is not healthy: stale (HTTP 503)\n');
  });

  test('backup --note with the admin token prints a summary of the new backup', async () => {
    const backup = await run(['backup', '--note', 'e2e'], admin);
    assert.equal(backup.code, 0, backup.stderr);
    const summary = backup.stdout.match(/^Backup (\S+) taken in .+: (\d+) tables, (\d+) rows, .+ with key [0-9a-f]+\. Note: e2e\n/);
    assert.ok(summary, backup.stdout);
    backupId = summary[1];
    assert.ok(Number(summary[2]) >= 8, 'the demo tables');
    assert.match(backup.stdout, new RegExp(`Details: d1-vault show ${backupId}\\n$`));
  });

  test('list shows it as a manual backup, with the read token', async () => {
    const list = await run(['list'], read);
    assert.equal(list.code, 0, list.stderr);
    const [header, row] = list.stdout.split('\n');
    assert.match(header, /^ID\s+CREATED\s+KIND\s+SIZE\s+TABLES\s+ROWS\s+KEY\s+PINNED$/);
    assert.match(row, new RegExp(`^${backupId}\\s+\\S+\\s+manual\\s+[\\d.]+ (B|KiB|MiB)\\s+\\d+\\s+\\d+\\s+[0-9a-f]+$`));
  });

  test('show has the demo tables with their row counts', async () => {
    const show = await run(['show', backupId], read);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, new RegExp(`^id:\\s+${backupId}$`, 'm'));
    assert.match(show.stdout, /^note:\s+e2e$/m);
    assert.match(show.stdout, /^kind:\s+manual$/m);
    assert.match(show.stdout, /^NAME\s+TYPE\s+ROWS$/m);
    assert.match(show.stdout, /^users\s+table\s+200$/m);
    assert.match(show.stdout, /^tasks\s+table\s+3000$/m);
    assert.match(show.stdout, /^indexes \(\d+\):/m);

    const json = await run(['show', backupId, '--json'], read);
    assert.equal(json.code, 0, json.stderr);
    const manifest = JSON.parse(json.stdout);
    assert.equal(manifest.id, backupId);
    const rows = Object.fromEntries(manifest.tables.map((t) => [t.name, t.rows]));
    assert.equal(rows.users, 200);
    assert.equal(rows.tasks, 3000);
  });

  test('list --json is the listing as JSON', async () => {
    const list = await run(['list', '--json'], read);
    assert.equal(list.code, 0, list.stderr);
    const json = JSON.parse(list.stdout);
    assert.equal(json.backups.length, 1);
    assert.equal(json.backups[0].id, backupId);
    assert.equal(json.backups[0].pinned, false);
    assert.equal(json.next_cursor, null);
  });

  test('retention keeps it', async () => {
    const retention = await run(['retention'], read);
    assert.equal(retention.code, 0, retention.stderr);
    assert.match(retention.stdout, /^Policy: .+/);
    assert.match(retention.stdout, new RegExp(`^${backupId}\\s+\\S+\\s+manual\\s+keep\\s+\\S`, 'm'));
  });

  test('status prints key: value lines, and its JSON parses', async () => {
    const status = await run(['status'], read);
    assert.equal(status.code, 0, status.stderr);
    const lines = status.stdout.trimEnd().split('\n');
    assert.ok(lines.length > 3, status.stdout);
    for (const line of lines) assert.match(line, /^[\w.[\]]+:\s+\S/, `a key: value line: ${line}`);
    assert.ok(status.stdout.includes(backupId), 'the new backup appears in the status');
    for (const secret of Object.values(TEST_SECRETS)) assert.ok(!status.stdout.includes(secret));

    const json = await run(['status', '--json'], read);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(typeof JSON.parse(json.stdout), 'object');
  });

  test('health exits 0 exactly when /health answers 200', async () => {
    const expected = (await worker.fetch('/health')).status === 200 ? 0 : 1;
    const health = await run(['health'], { D1_VAULT_URL: worker.url });
    assert.equal(health.code, expected, health.stdout + health.stderr);
    assert.match(health.stdout, /^(ok|stale|failing): \S/);
  });

  test('the read token cannot take a backup: exit 1 with the 403', async () => {
    const backup = await run(['backup'], read);
    assert.equal(backup.code, 1);
    assert.match(backup.stderr, /^d1-vault: .+ \(HTTP 403 forbidden\)\n$/);
    assert.equal(backup.stdout, '');
  });

  test('a pinned backup is deleted only with --force', async () => {
    const backup = await run(['backup', '--pin', '--json'], admin);
    assert.equal(backup.code, 0, backup.stderr);
    const lines = backup.stdout.trim().split('\n').map((line) => JSON.parse(line));
    const job = lines.at(-1);
    assert.equal(job.state, 'succeeded', 'the last JSON line is the final job');
    assert.ok(lines.slice(0, -1).every((event) => Number.isInteger(event.seq)), 'the lines before it are its events');
    const pinned = job.report;
    assert.equal(pinned.pinned, true);

    const refused = await run(['delete', pinned.id, '--yes'], admin);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^d1-vault: .*force.* \(HTTP 409 \w+\)\n$/);
    assert.equal((await run(['show', pinned.id], read)).code, 0, 'still there');

    const forced = await run(['delete', pinned.id, '--force', '--yes'], admin);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(forced.stdout, `deleted backup ${pinned.id}\n`);
  });

  test('delete asks for --yes without a terminal, then deletes the unpinned backup', async () => {
    const refused = await run(['delete', backupId], admin);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /pass --yes/);

    const deleted = await run(['delete', backupId, '--yes', '--json'], admin);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual(JSON.parse(deleted.stdout), { deleted: backupId });

    const gone = await run(['show', backupId], read);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /\(HTTP 404 not_found\)\n$/);
    const list = await run(['list', '--json'], read);
    assert.deepEqual(JSON.parse(list.stdout).backups, []);
  });

  test('a worker that is not there is exit 3, naming the URL', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const list = await run(['list'], { D1_VAULT_URL: url, D1_VAULT_TOKEN: TEST_SECRETS.READ_TOKEN });
    assert.equal(list.code, 3);
    assert.equal(list.stderr, `d1-vault: no answer from GET ${url}/v1/backups?limit=20: connection refused\n`);
  });
});
