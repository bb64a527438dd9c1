import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  ENCRYPTION_KEY_ID_METADATA,
  KeyRing,
  PayloadDecryptionError,
} from '../../src/codec';

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const toPayload = (v: unknown): Payload => defaultPayloadConverter.toPayload(v);
const fromPayload = (p: Payload): unknown => defaultPayloadConverter.fromPayload(p);
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');
const secretValue = { clusterName: 'plaintext-cluster-7d3e', n: 42, nested: [null, 'x'] };

async function rejection(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e
  );
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

describe('AesGcmPayloadCodec', () => {
  const codec = new AesGcmPayloadCodec(new KeyRing([['k1', k1]], 'k1'));

  it('round-trips payloads, metadata included, under binary/encrypted with the key id in clear', async () => {
    const originals = [toPayload(secretValue), toPayload(null), toPayload('')];
    const encoded = await codec.encode(originals);
    expect(encoded).toHaveLength(3);
    for (const p of encoded) {
      expect(text(p.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
      expect(text(p.metadata?.[ENCRYPTION_KEY_ID_METADATA])).toBe('k1');
      expect(Object.keys(p.metadata ?? {})).toEqual(['encoding', ENCRYPTION_KEY_ID_METADATA]);
    }
    expect(text(encoded[0]!.data)).not.toContain('plaintext-cluster-7d3e');
    const decoded = await codec.decode(encoded);
    expect(decoded.map(fromPayload)).toEqual([secretValue, null, '']);
    expect(text(decoded[0]!.metadata?.encoding)).toBe('json/plain');
  });

  it('uses a fresh IV per payload: the same value encrypts differently each time', async () => {
    const [a, b] = await codec.encode([toPayload(secretValue), toPayload(secretValue)]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
    expect(Buffer.from(a!.data!).subarray(0, 12).equals(Buffer.from(b!.data!).subarray(0, 12))).toBe(false);
  });

  it('fails authentication when any byte of the ciphertext, tag or IV changes, naming the key id', async () => {
    const [encoded] = await codec.encode([toPayload(secretValue)]);
    const data = Buffer.from(encoded!.data!);
    for (const index of [0, 12, data.length - 1]) {
      const tampered = Buffer.from(data);
      tampered[index]! ^= 0x01;
      const err = await rejection(codec.decode([{ ...encoded!, data: tampered }]));
      expect(err).toBeInstanceOf(PayloadDecryptionError);
      expect(err.message).toContain('"k1"');
      expect(err.message).toContain('authentication failed');
      expect((err as PayloadDecryptionError).keyId).toBe('k1');
    }
  });

  it('keeps decrypting payloads of an older key after rotation to a new current key', async () => {
    const [old] = await codec.encode([toPayload(secretValue)]);
    const rotated = new AesGcmPayloadCodec(
      new KeyRing(
        [
          ['k1', k1],
          ['k2', k2],
        ],
        'k2'
      )
    );
    const [fresh] = await rotated.encode([toPayload('new')]);
    expect(text(fresh!.metadata?.[ENCRYPTION_KEY_ID_METADATA])).toBe('k2');
    expect((await rotated.decode([old!, fresh!])).map(fromPayload)).toEqual([secretValue, 'new']);
    // A process that only has the old key cannot read the new payloads.
    const err = await rejection(codec.decode([fresh!]));
    expect(err.message).toContain('"k2"');
  });

  it('refuses an unknown key id with a message that names the id and never key material', async () => {
    const other = new AesGcmPayloadCodec(new KeyRing([['k2', k2]], 'k2'));
    const [encoded] = await codec.encode([toPayload(secretValue)]);
    const err = await rejection(other.decode([encoded!]));
    expect(err).toBeInstanceOf(PayloadDecryptionError);
    expect(err.message).toContain('encryption key id "k1" is not configured');
    expect(err.message).toContain('k2');
    for (const key of [k1, k2]) {
      for (const form of [key.toString('base64'), key.toString('hex'), key.toString('base64url')]) {
        expect(err.message).not.toContain(form);
        expect(inspect(err)).not.toContain(form);
      }
    }
  });

  it('refuses encrypted payloads without a key id or too short to hold IV and tag', async () => {
    const [encoded] = await codec.encode([toPayload(secretValue)]);
    const noKeyId = { metadata: { encoding: encoded!.metadata!.encoding! }, data: encoded!.data! };
    expect((await rejection(codec.decode([noKeyId]))).message).toContain('no encryption-key-id');
    const short = { ...encoded!, data: encoded!.data!.subarray(0, 20) };
    expect((await rejection(codec.decode([short]))).message).toContain('too short');
  });

  it('passes payloads that are not encrypted through decode untouched', async () => {
    const plain = [toPayload(secretValue), { metadata: {}, data: new Uint8Array([1, 2]) }, {}];
    const decoded = await codec.decode(plain);
    expect(decoded[0]).toBe(plain[0]);
    expect(decoded[1]).toBe(plain[1]);
    expect(decoded[2]).toBe(plain[2]);
  });

  it('with requireEncrypted, refuses to decode a payload that is not encrypted, and still decrypts the rest', async () => {
    const strict = new AesGcmPayloadCodec(new KeyRing([['k1', k1]], 'k1'), { requireEncrypted: true });
    const err = await rejection(strict.decode([toPayload(secretValue)]));
    expect(err).toBeInstanceOf(PayloadDecryptionError);
    expect(err.message).toContain('PAYLOAD_ENCRYPTION_REQUIRED');
    expect(err.message).not.toContain('plaintext-cluster');
    const [decoded] = await strict.decode(await strict.encode([toPayload(secretValue)]));
    expect(fromPayload(decoded!)).toEqual(secretValue);
  });
});

describe('KeyRing', () => {
  it('never shows key bytes in inspect or JSON', () => {
    const ring = new KeyRing(
      [
        ['k1', k1],
        ['k2', k2],
      ],
      'k2'
    );
    const shown = [inspect(ring), inspect({ ring }, { depth: 5 }), JSON.stringify({ ring })];
    for (const s of shown) {
      expect(s).toContain('k2');
      for (const key of [k1, k2]) {
        expect(s).not.toContain(key.toString('base64'));
        expect(s).not.toContain(key.toString('hex'));
      }
    }
    expect(JSON.parse(JSON.stringify(ring))).toEqual({ currentKeyId: 'k2', keyIds: ['k1', 'k2'] });
  });

  it('rejects keys that are not 32 bytes and a current id that is not a key', () => {
    expect(() => new KeyRing([['k1', randomBytes(16)]], 'k1')).toThrow('Key "k1" is 16 bytes; AES-256 needs 32');
    expect(() => new KeyRing([['k1', k1]], 'k9')).toThrow('"k9" is not one of the keys');
  });
});
