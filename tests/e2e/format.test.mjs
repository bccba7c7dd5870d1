// The object format across the two implementations' homes: what the native
// CLI encrypts, the worker (wasm on workerd) authenticates and decrypts, and
// the reverse; a flipped byte or the wrong backup id never yields plaintext.
// The worker seals chunks with WebCrypto: for the same key, salt and input
// its objects equal the committed test vectors (made by the aes-gcm crate,
// natively) byte for byte.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, TEST_SECRETS, cli, startWorker, tempDir } from './harness.mjs';

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

  describe('WebCrypto in the worker against the aes-gcm crate', () => {
    const VECTORS = path.join(ROOT, 'tests', 'vectors');
    // Header offsets (src/format/mod.rs): magic 8, version 1, suite 1, chunk size 4, key id 8, salt 32,
    // backup id length 1, backup id.
    const CHUNK_SIZE_OFFSET = 10;
    const KEY_ID_OFFSET = 14;
    const SALT_OFFSET = 22;
    const BACKUP_ID_LEN_OFFSET = 54;
    const keyId = (hex) => createHash('sha256').update('d1-vault key id v1').update(Buffer.from(hex, 'hex')).digest().subarray(0, 8);

    async function workerEncrypt(id, query, body) {
      const params = new URLSearchParams({ id, ...query });
      const res = await worker.fetch(`/v1/test/encrypt?${params}`, { method: 'POST', token: ADMIN, body });
      assert.equal(res.status, 200, await res.clone().text());
      return Buffer.from(await res.arrayBuffer());
    }

    test('every valid test vector is re-encrypted by WebCrypto byte for byte, and by the crate in wasm', async () => {
      const { vectors } = JSON.parse(await readFile(path.join(VECTORS, 'vectors.json'), 'utf8'));
      // One case per file: a file may be listed twice (opened with and without an expected id).
      const valid = [...new Map(vectors.filter((v) => v.outcome === 'ok').map((v) => [v.file, v])).values()];
      assert.ok(valid.length >= 8, `only ${valid.length} valid vectors`);
      for (const [index, vector] of valid.entries()) {
        const object = await readFile(path.join(VECTORS, vector.file));
        const key = [vector.keys.current, ...vector.keys.previous].find((hex) => keyId(hex).equals(object.subarray(KEY_ID_OFFSET, KEY_ID_OFFSET + 8)));
        assert.ok(key, `${vector.file}: no key of the vector has its key id`);
        const idLength = object[BACKUP_ID_LEN_OFFSET];
        const backupId = object.subarray(BACKUP_ID_LEN_OFFSET + 1, BACKUP_ID_LEN_OFFSET + 1 + idLength).toString();
        const plainFile = path.join(dir, `vector-${index}.sql`);
        const decrypted = await cli(['decrypt', path.join(VECTORS, vector.file), '--id', backupId, '-o', plainFile], {
          env: { BACKUP_ENCRYPTION_KEY: key },
        });
        assert.equal(decrypted.code, 0, `${vector.file}: ${decrypted.stderr}`);
        const plain = await readFile(plainFile);
        assert.equal(plain.length, vector.plaintext_bytes, vector.file);
        const query = {
          key,
          salt: object.subarray(SALT_OFFSET, SALT_OFFSET + 32).toString('hex'),
          chunk_size: String(object.readUInt32BE(CHUNK_SIZE_OFFSET)),
        };
        for (const aead of ['webcrypto', 'software']) {
          const made = await workerEncrypt(backupId, { ...query, aead }, plain);
          assert.ok(made.equals(object), `${vector.file}: the worker's ${aead} object differs from the vector (${made.length} vs ${object.length} bytes)`);
        }
      }
    });

    test('a 5 MiB object is the same from WebCrypto and from the crate in wasm, and the CLI reads it', async () => {
      const big = Buffer.concat(Array.from({ length: 40 }, () => plaintext)).subarray(0, 5 * 1024 * 1024 + 7);
      const query = { key: TEST_SECRETS.BACKUP_ENCRYPTION_KEY, salt: 'ab'.repeat(32) };
      const [web, soft] = [
        await workerEncrypt('same-salt', { ...query, aead: 'webcrypto' }, big),
        await workerEncrypt('same-salt', { ...query, aead: 'software' }, big),
      ];
      assert.ok(web.equals(soft), 'WebCrypto and the crate wrote different objects');
      const file = path.join(dir, 'same-salt.enc');
      await writeFile(file, web);
      const out = path.join(dir, 'same-salt.sql');
      const result = await cli(['decrypt', file, '--id', 'same-salt', '-o', out], { env: KEY_ENV });
      assert.equal(result.code, 0, result.stderr);
      assert.ok((await readFile(out)).equals(big));
    });
  });
});
