// The object format across the two implementations' homes: what the native
// CLI encrypts, the worker (wasm on workerd) authenticates and decrypts, and
// the reverse; a flipped byte or the wrong backup id never yields plaintext.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TEST_SECRETS, cli, startWorker, tempDir } from './harness.mjs';

const ADMIN = TEST_SECRETS.ADMIN_TOKEN;
const KEY_ENV = { BACKUP_ENCRYPTION_KEY: TEST_SECRETS.BACKUP_ENCRYPTION_KEY };

describe('the format between the CLI and the worker', () => {
  let worker;
  let dir;
  const plaintext = Buffer.from(
    Array.from({ length: 9000 }, (_, i) => `INSERT INTO "t" VALUES(${i},'row ${i} — ✓ it''s');\n`).join(''),
  );
  before(async () => {
    dir = await tempDir();
    worker = await startWorker();
    await writeFile(path.join(dir, 'in.sql'), plaintext);
  });
  after(async () => worker?.stop());

  async function cliEncrypt(id) {
    const out = path.join(dir, `${id}.enc`);
    const result = await cli(['encrypt', path.join(dir, 'in.sql'), '--id', id, '-o', out], { env: KEY_ENV });
    assert.equal(result.code, 0, result.stderr);
    return readFile(out);
  }

  test('an object the CLI encrypts decrypts in the worker, byte for byte', async () => {
    const object = await cliEncrypt('cli-made');
    const res = await worker.fetch('/v1/test/decrypt?id=cli-made', { method: 'POST', token: ADMIN, body: object });
    assert.equal(res.status, 200, await res.clone().text());
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(plaintext));
  });

  test('an object the worker encrypts decrypts with the CLI, byte for byte', async () => {
    const res = await worker.fetch('/v1/test/encrypt?id=worker-made', { method: 'POST', token: ADMIN, body: plaintext });
    assert.equal(res.status, 200);
    const object = path.join(dir, 'worker-made.enc');
    await writeFile(object, Buffer.from(await res.arrayBuffer()));
    const out = path.join(dir, 'worker-made.sql');
    const result = await cli(['decrypt', object, '--id', 'worker-made', '-o', out], { env: KEY_ENV });
    assert.equal(result.code, 0, result.stderr);
    assert.ok((await readFile(out)).equals(plaintext));
  });

  test('one flipped byte in a chunk is refused by the worker, naming the chunk', async () => {
    const object = Buffer.from(await cliEncrypt('tampered'));
    object[object.length - 70_000] ^= 0x01;
    const res = await worker.fetch('/v1/test/decrypt?id=tampered', { method: 'POST', token: ADMIN, body: object });
    assert.equal(res.status, 422);
    const { error } = await res.json();
    assert.equal(error.stage, 'chunk');
    assert.match(error.message, /chunk \d+/);
  });

  test('an object presented as another backup is refused before any chunk is used', async () => {
    const object = await cliEncrypt('original-id');
    const res = await worker.fetch('/v1/test/decrypt?id=other-id', { method: 'POST', token: ADMIN, body: object });
    assert.equal(res.status, 422);
    const { error } = await res.json();
    assert.match(error.message, /belongs to backup original-id, not other-id/);
  });

  test('an object under a key the worker lacks names both key ids', async () => {
    const other = { BACKUP_ENCRYPTION_KEY: 'ab'.repeat(32) };
    const out = path.join(dir, 'other-key.enc');
    const result = await cli(['encrypt', path.join(dir, 'in.sql'), '--id', 'other-key', '-o', out], { env: other });
    assert.equal(result.code, 0, result.stderr);
    const res = await worker.fetch('/v1/test/decrypt?id=other-key', { method: 'POST', token: ADMIN, body: await readFile(out) });
    assert.equal(res.status, 422);
    const { error } = await res.json();
    assert.equal(error.stage, 'key');
    assert.match(error.message, /encrypted with key [0-9a-f]{16}; available keys: [0-9a-f]{16}/);
  });
});
