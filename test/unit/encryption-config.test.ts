import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultPayloadConverter } from '@temporalio/common';
import { payloadDataConverter, PayloadDecryptionError } from '../../src/codec';
import { parseCodecServerConfig } from '../../src/codec/codec-server-config';
import { configError, privateFiles } from '../helpers/config-errors';
import {
  configSecrets,
  parsePayloadEncryption,
  parseTemporalConfig,
  parseWorkerConfig,
  redactedWorkerConfig,
} from '../../src/config';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64url');
const short = randomBytes(16).toString('base64');
const { dir, write: keyFile } = privateFiles('aeo-keys-');
/** The ConfigError message; asserts it shows no key material. */
const configErrorOf = (fn: () => unknown): string => configError(fn, [k1, k2, short]);

describe('payload encryption config', () => {
  it('is off by default', () => {
    expect(parsePayloadEncryption({})).toBeUndefined();
    expect(parseTemporalConfig({}).payloadEncryption).toBeUndefined();
  });

  it('reads id:base64key pairs; one key is the current one', () => {
    const ring = parsePayloadEncryption({ PAYLOAD_ENCRYPTION_KEYS: ` k1:${k1} ` })!;
    expect(ring.currentKeyId).toBe('k1');
    expect(ring.key('k1')).toEqual(Buffer.from(k1, 'base64'));
  });

  it('needs PAYLOAD_ENCRYPTION_KEY_ID with several keys, and it must be one of them', () => {
    const keys = `k1:${k1},k2:${k2}`;
    expect(configErrorOf(() => parsePayloadEncryption({ PAYLOAD_ENCRYPTION_KEYS: keys }))).toContain(
      'env.PAYLOAD_ENCRYPTION_KEY_ID is required when several keys are configured (key ids: k1, k2)'
    );
    const ring = parsePayloadEncryption({ PAYLOAD_ENCRYPTION_KEYS: keys, PAYLOAD_ENCRYPTION_KEY_ID: 'k2' })!;
    expect(ring.currentKeyId).toBe('k2');
    expect(ring.key('k2')).toEqual(Buffer.from(k2, 'base64url'));
    expect(
      configErrorOf(() => parsePayloadEncryption({ PAYLOAD_ENCRYPTION_KEYS: keys, PAYLOAD_ENCRYPTION_KEY_ID: 'k3' }))
    ).toContain('env.PAYLOAD_ENCRYPTION_KEY_ID: "k3" is not one of the configured key ids (k1, k2)');
  });

  it('names the entry and the problem for bad keys, never the value', () => {
    expect(configErrorOf(() => parsePayloadEncryption({ PAYLOAD_ENCRYPTION_KEYS: `k1:${k1},k2:${short}` }))).toBe(
      'Invalid configuration: env.PAYLOAD_ENCRYPTION_KEYS[1].key: must decode to 32 bytes (AES-256), not 16'
    );
    expect(configErrorOf(() => parsePayloadEncryption({ PAYLOAD_ENCRYPTION_KEYS: k1 }))).toBe(
      'Invalid configuration: env.PAYLOAD_ENCRYPTION_KEYS[0]: must be id:base64key'
    );
    expect(configErrorOf(() => parsePayloadEncryption({ PAYLOAD_ENCRYPTION_KEYS: `k1:${k1}!` }))).toContain(
      'env.PAYLOAD_ENCRYPTION_KEYS[0].key: must be base64'
    );
    expect(configErrorOf(() => parsePayloadEncryption({ PAYLOAD_ENCRYPTION_KEYS: `k 1:${k1}` }))).toContain(
      'env.PAYLOAD_ENCRYPTION_KEYS[0].id: must be 1-64 characters'
    );
    expect(configErrorOf(() => parsePayloadEncryption({ PAYLOAD_ENCRYPTION_KEYS: `k1:${k1},k1:${k2}` }))).toContain(
      'key id "k1" is repeated'
    );
  });

  it('reads a JSON key file with its current key id, or a file of id:base64key lines', () => {
    const json = keyFile(
      'keys.json',
      JSON.stringify({
        currentKeyId: 'k2',
        keys: [
          { id: 'k1', key: k1 },
          { id: 'k2', key: k2 },
        ],
      })
    );
    expect(parsePayloadEncryption({ PAYLOAD_ENCRYPTION_KEY_FILE: json })!.toJSON()).toEqual({
      currentKeyId: 'k2',
      keyIds: ['k1', 'k2'],
    });
    // The environment's key id wins over the file's.
    expect(
      parsePayloadEncryption({ PAYLOAD_ENCRYPTION_KEY_FILE: json, PAYLOAD_ENCRYPTION_KEY_ID: 'k1' })!.currentKeyId
    ).toBe('k1');
    const lines = keyFile('keys.txt', `# rotated 2026-11\nold:${k1}\n\nnew:${k2}\n`);
    const ring = parsePayloadEncryption({ PAYLOAD_ENCRYPTION_KEY_FILE: lines, PAYLOAD_ENCRYPTION_KEY_ID: 'new' })!;
    expect(ring.keyIds).toEqual(['old', 'new']);
  });

  it('explains key file problems without quoting the file', () => {
    expect(configErrorOf(() => parsePayloadEncryption({ PAYLOAD_ENCRYPTION_KEY_FILE: join(dir, 'missing') }))).toBe(
      'Invalid configuration: env.PAYLOAD_ENCRYPTION_KEY_FILE: cannot read the file (ENOENT)'
    );
    const broken = keyFile('broken.json', `{"keys": [{"id": "k1", "key": "${k1}"}`);
    expect(configErrorOf(() => parsePayloadEncryption({ PAYLOAD_ENCRYPTION_KEY_FILE: broken }))).toBe(
      'Invalid configuration: env.PAYLOAD_ENCRYPTION_KEY_FILE: the file is not valid JSON'
    );
    const shortKey = keyFile('short.json', JSON.stringify({ keys: [{ id: 'k1', key: short }] }));
    expect(configErrorOf(() => parsePayloadEncryption({ PAYLOAD_ENCRYPTION_KEY_FILE: shortKey }))).toContain(
      'env.PAYLOAD_ENCRYPTION_KEY_FILE.keys[0].key: must decode to 32 bytes'
    );
    const badLine = keyFile('bad.txt', `k1:${k1}\n${k2}\n`);
    expect(configErrorOf(() => parsePayloadEncryption({ PAYLOAD_ENCRYPTION_KEY_FILE: badLine }))).toBe(
      'Invalid configuration: env.PAYLOAD_ENCRYPTION_KEY_FILE line 2: must be id:base64key'
    );
    const wrongCurrent = keyFile('current.json', JSON.stringify({ currentKeyId: 'k9', keys: [{ id: 'k1', key: k1 }] }));
    expect(configErrorOf(() => parsePayloadEncryption({ PAYLOAD_ENCRYPTION_KEY_FILE: wrongCurrent }))).toContain(
      'env.PAYLOAD_ENCRYPTION_KEY_FILE.currentKeyId: "k9" is not one of the configured key ids (k1)'
    );
  });

  it('refuses both sources at once, and a key id without keys', () => {
    expect(
      configErrorOf(() =>
        parsePayloadEncryption({ PAYLOAD_ENCRYPTION_KEYS: `k1:${k1}`, PAYLOAD_ENCRYPTION_KEY_FILE: '/keys' })
      )
    ).toContain('set either PAYLOAD_ENCRYPTION_KEYS or PAYLOAD_ENCRYPTION_KEY_FILE, not both');
    expect(configErrorOf(() => parsePayloadEncryption({ PAYLOAD_ENCRYPTION_KEY_ID: 'k1' }))).toContain(
      'env.PAYLOAD_ENCRYPTION_KEY_ID is set but there are no keys'
    );
  });

  it('shows key ids, never keys, in the redacted worker config', () => {
    const config = parseWorkerConfig({
      ATLAS_CLIENT_ID: 'id',
      ATLAS_CLIENT_SECRET: 'secret',
      PAYLOAD_ENCRYPTION_KEYS: `k1:${k1},k2:${k2}`,
      PAYLOAD_ENCRYPTION_KEY_ID: 'k2',
    });
    const shown = JSON.stringify(redactedWorkerConfig(config));
    expect(shown).toContain('"payloadEncryption":{"currentKeyId":"k2","keyIds":["k1","k2"]}');
    expect(shown).not.toContain(k1);
    expect(shown).not.toContain(k2);
    expect(JSON.stringify(config)).not.toContain(k1);
    // The log redactor's safety net knows every form a key could be written in.
    const secrets = configSecrets(config);
    expect(secrets).toEqual(expect.arrayContaining([k1, Buffer.from(k2, 'base64url').toString('base64')]));
    expect(secrets).toContain(Buffer.from(k1, 'base64').toString('hex'));
  });
});

describe('PAYLOAD_ENCRYPTION_REQUIRED (issue 17, finding 9)', () => {
  const required = { PAYLOAD_ENCRYPTION_REQUIRED: 'true' };
  const atlas = { ATLAS_CLIENT_ID: 'id', ATLAS_CLIENT_SECRET: 'secret' };

  it('refuses a worker, a CLI or a codec server without keys, naming the variable (a starter would write cleartext)', () => {
    const expected = 'env.PAYLOAD_ENCRYPTION_REQUIRED is true but there are no keys';
    expect(configErrorOf(() => parsePayloadEncryption(required))).toContain(expected);
    // The worker and the CLI read the connection through parseTemporalConfig; the worker adds its own settings.
    expect(configErrorOf(() => parseTemporalConfig(required))).toContain(expected);
    expect(configErrorOf(() => parseWorkerConfig({ ...atlas, ...required }))).toContain(expected);
    expect(configErrorOf(() => parseCodecServerConfig(required))).toContain(expected);
    expect(configErrorOf(() => parsePayloadEncryption({ PAYLOAD_ENCRYPTION_REQUIRED: 'maybe' }))).toContain(
      'env.PAYLOAD_ENCRYPTION_REQUIRED'
    );
    // Off (unset, blank or false) keeps today's behaviour: no keys, no encryption.
    for (const off of [{}, { PAYLOAD_ENCRYPTION_REQUIRED: ' ' }, { PAYLOAD_ENCRYPTION_REQUIRED: 'false' }]) {
      expect(parsePayloadEncryption(off)).toBeUndefined();
    }
  });

  it("makes the worker's and the clients' data converter refuse a plaintext payload, and still read ciphertext", async () => {
    const ring = parseTemporalConfig({ ...required, PAYLOAD_ENCRYPTION_KEYS: `k1:${k1}` }).payloadEncryption!;
    expect(ring.requireEncrypted).toBe(true);
    const [codec] = payloadDataConverter(ring).payloadCodecs!;
    const plaintext = defaultPayloadConverter.toPayload({ groupId: 'cleartext-input' });
    const refused = await codec!.decode([plaintext]).then(
      () => undefined,
      (e: unknown) => e
    );
    expect(refused).toBeInstanceOf(PayloadDecryptionError);
    expect((refused as Error).message).toContain('PAYLOAD_ENCRYPTION_REQUIRED');
    const [decoded] = await codec!.decode(await codec!.encode([plaintext]));
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual({ groupId: 'cleartext-input' });
    // Without the setting, plaintext still passes through (histories written before encryption was on).
    const lenient = parsePayloadEncryption({ PAYLOAD_ENCRYPTION_KEYS: `k1:${k1}` })!;
    expect(lenient.requireEncrypted).toBe(false);
    const [passed] = await payloadDataConverter(lenient).payloadCodecs![0]!.decode([plaintext]);
    expect(passed).toBe(plaintext);
  });

  it('shows the requirement in the start-up view of the worker and the codec server', () => {
    const config = parseWorkerConfig({ ...atlas, ...required, PAYLOAD_ENCRYPTION_KEYS: `k1:${k1}` });
    expect(JSON.stringify(redactedWorkerConfig(config))).toContain(
      '"payloadEncryption":{"currentKeyId":"k1","keyIds":["k1"],"requireEncrypted":true}'
    );
    expect(parseCodecServerConfig({ ...required, PAYLOAD_ENCRYPTION_KEYS: `k1:${k1}` }).requireEncrypted).toBe(true);
  });
});

describe('codec server config', () => {
  const keys = `k1:${k1}`;

  it('listens on loopback for the local Web UI by default', () => {
    const config = parseCodecServerConfig({ PAYLOAD_ENCRYPTION_KEYS: keys });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8081,
      corsOrigins: ['http://localhost:8233', 'http://127.0.0.1:8233'],
      token: undefined,
    });
    expect(config.keys.currentKeyId).toBe('k1');
  });

  it('needs keys, origins without paths, and a token long enough to guess hard', () => {
    expect(configErrorOf(() => parseCodecServerConfig({}))).toContain(
      'the codec server needs the payload encryption keys'
    );
    expect(
      configErrorOf(() =>
        parseCodecServerConfig({ PAYLOAD_ENCRYPTION_KEYS: keys, CODEC_SERVER_CORS_ORIGINS: 'https://ui.example.com/x' })
      )
    ).toContain('env.CODEC_SERVER_CORS_ORIGINS[0]: each entry must be an origin');
    expect(
      configErrorOf(() => parseCodecServerConfig({ PAYLOAD_ENCRYPTION_KEYS: keys, CODEC_SERVER_CORS_ORIGINS: '*' }))
    ).toContain('env.CODEC_SERVER_CORS_ORIGINS[0]');
    const tokenError = configErrorOf(() =>
      parseCodecServerConfig({ PAYLOAD_ENCRYPTION_KEYS: keys, CODEC_SERVER_TOKEN: 'short-tok' })
    );
    expect(tokenError).toContain('env.CODEC_SERVER_TOKEN: must be at least 16 characters');
    expect(tokenError).not.toContain('short-tok');
    expect(
      parseCodecServerConfig({
        PAYLOAD_ENCRYPTION_KEYS: keys,
        CODEC_SERVER_CORS_ORIGINS: 'https://ui.example.com/, https://cloud.temporal.io',
        CODEC_SERVER_PORT: '9000',
      })
    ).toMatchObject({ port: 9000, corsOrigins: ['https://ui.example.com', 'https://cloud.temporal.io'] });
  });
});
