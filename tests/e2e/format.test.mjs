// The object format across the two implementations' homes: what the native
// CLI encrypts, the worker (wasm on workerd) authenticates and decrypts, and
// the reverse; a flipped byte or the wrong backup id never yields plaintext.
// The worker seals chunks with WebCrypto and compresses frames with the
// runtime's CompressionStream: for the same key, salt and input its
// version 1 objects equal the committed test vectors (made by the crates,
// natively) byte for byte; its version 2 objects hold the same SQL (DEFLATE
// is not canonical), and the crates in wasm write those byte for byte.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
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
  // Random values compress to about half: an object of several chunks.
  const noisy = Buffer.from(
    Array.from({ length: 8000 }, (_, i) => `INSERT INTO "t" VALUES(${i},'${randomBytes(24).toString('hex')}');\n`).join(''),
  );
  before(async () => {
    dir = await tempDir();
    worker = await startWorker();
    await writeFile(path.join(dir, 'in.sql'), plaintext);
    await writeFile(path.join(dir, 'noisy.sql'), noisy);
  });
  after(async () => worker?.stop());

  async function cliEncrypt(id, input = 'in.sql') {
    const out = path.join(dir, `${id}.enc`);
    const result = await cli(['encrypt', path.join(dir, input), '--id', id, '-o', out], { env: KEY_ENV });
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
    const object = Buffer.from(await cliEncrypt('tampered', 'noisy.sql'));
    assert.ok(object.length > 3 * 65_552, `${object.length} bytes: too few chunks`);
    object[200 + 65_552] ^= 0x01;
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

  describe('the runtime\'s engine in the worker against the crates', () => {
    const VECTORS = path.join(ROOT, 'tests', 'vectors');
    // Header offsets (src/format/mod.rs): magic 8, version 1, suite 1, chunk size 4, key id 8, salt 32,
    // backup id length 1, backup id.
    const VERSION_OFFSET = 8;
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

    async function cliDecrypt(file, id, env = KEY_ENV) {
      const out = `${file}.sql`;
      const result = await cli(['decrypt', file, '--id', id, '-o', out], { env });
      assert.equal(result.code, 0, `${file}: ${result.stderr}`);
      return readFile(out);
    }

    test('every valid test vector is re-encrypted by the crates in wasm byte for byte, by WebCrypto too in version 1, and the CLI reads what the runtime compressed', async () => {
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
        const version = object[VERSION_OFFSET];
        const query = {
          key,
          salt: object.subarray(SALT_OFFSET, SALT_OFFSET + 32).toString('hex'),
          chunk_size: String(object.readUInt32BE(CHUNK_SIZE_OFFSET)),
          version: String(version),
        };
        const soft = await workerEncrypt(backupId, { ...query, engine: 'software' }, plain);
        assert.ok(soft.equals(object), `${vector.file}: the worker's software object differs from the vector (${soft.length} vs ${object.length} bytes)`);
        const web = await workerEncrypt(backupId, { ...query, engine: 'web' }, plain);
        if (version === 1) {
          assert.ok(web.equals(object), `${vector.file}: the worker's WebCrypto object differs from the vector (${web.length} vs ${object.length} bytes)`);
        } else {
          const file = path.join(dir, `vector-${index}-web.enc`);
          await writeFile(file, web);
          const read = await cliDecrypt(file, backupId, { BACKUP_ENCRYPTION_KEY: key });
          assert.ok(read.equals(plain), `${vector.file}: the CLI read other SQL from the runtime's version 2 object`);
        }
      }
    });

    test('a 5 MiB object: WebCrypto seals it as the crate does, and the CLI reads the runtime\'s compressed frames', async () => {
      const big = Buffer.concat(Array.from({ length: 40 }, () => plaintext)).subarray(0, 5 * 1024 * 1024 + 7);
      const query = { key: TEST_SECRETS.BACKUP_ENCRYPTION_KEY, salt: 'ab'.repeat(32) };
      const [web, soft] = [
        await workerEncrypt('same-salt', { ...query, engine: 'web', version: '1' }, big),
        await workerEncrypt('same-salt', { ...query, engine: 'software', version: '1' }, big),
      ];
      assert.ok(web.equals(soft), 'WebCrypto and the crate wrote different objects');
      const file = path.join(dir, 'same-salt.enc');
      await writeFile(file, web);
      assert.ok((await cliDecrypt(file, 'same-salt')).equals(big));

      const compressed = await workerEncrypt('compressed', { engine: 'web' }, big);
      assert.ok(compressed.length < big.length / 4, `${compressed.length} bytes for ${big.length} of SQL: not compressed`);
      const compressedFile = path.join(dir, 'compressed.enc');
      await writeFile(compressedFile, compressed);
      assert.ok((await cliDecrypt(compressedFile, 'compressed')).equals(big));
      const res = await worker.fetch('/v1/test/decrypt?id=compressed', { method: 'POST', token: ADMIN, body: compressed });
      assert.equal(res.status, 200, await res.clone().text());
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(big), 'the worker read other SQL from its own object');
    });
  });
});
