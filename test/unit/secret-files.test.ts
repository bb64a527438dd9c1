import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  clearSecretVariables,
  configSecrets,
  parseAtlasConfig,
  parsePayloadEncryption,
  parseTemporalConfig,
  parseWorkerConfig,
} from '../../src/config';
import { basicCredentials } from '../../src/atlas';
import { parseCodecServerConfig } from '../../src/codec/codec-server-config';
import { readSecretFile } from '../../src/config/secret-files';
import { secretRedactor } from '../../src/observability/json-logger';
import { configError, privateFiles } from '../helpers/config-errors';

/**
 * Issue 17, finding 7: secrets from `*_FILE` (Docker/Kubernetes secrets) with permission checks, cleared from
 * the environment once read, and the OAuth access token and the Basic value masked wherever the redactor runs.
 * On the previous main no `*_FILE` variable was read (the file cases found no credentials and threw), a
 * world-readable key file was accepted, and the redactor left `Bearer …`/`Basic …` values it was not given.
 */

const SECRET = 'file-secret-value-0c5e-do-not-leak';
const { dir, write } = privateFiles('aeo-secret-files-');

function openFile(name: string, content: string): string {
  const path = write(name, content);
  chmodSync(path, 0o644);
  return path;
}

describe('*_FILE secrets', () => {
  it.each([
    ['ATLAS_PRIVATE_KEY', { ATLAS_PUBLIC_KEY: 'pub' }, { mode: 'api-key', publicKey: 'pub', privateKey: SECRET }],
    [
      'ATLAS_CLIENT_SECRET',
      { ATLAS_CLIENT_ID: 'id' },
      { mode: 'service-account', clientId: 'id', clientSecret: SECRET },
    ],
    [
      'MONGODB_ATLAS_PRIVATE_API_KEY',
      { MONGODB_ATLAS_PUBLIC_API_KEY: 'pub' },
      { mode: 'api-key', publicKey: 'pub', privateKey: SECRET },
    ],
    [
      'MONGODB_ATLAS_CLIENT_SECRET',
      { MONGODB_ATLAS_CLIENT_ID: 'id' },
      { mode: 'service-account', clientId: 'id', clientSecret: SECRET },
    ],
  ])('reads %s_FILE, dropping one trailing newline', (variable, rest, expected) => {
    const path = write(`${variable}.txt`, `${SECRET}\n`);
    expect(parseAtlasConfig({ ...rest, [`${variable}_FILE`]: path }).credentials).toEqual(expected);
  });

  it('drops exactly one trailing newline (LF or CRLF) and keeps the rest as written', () => {
    expect(readSecretFile('X_FILE', write('lf.txt', ` ${SECRET}\n\n`))).toBe(` ${SECRET}\n`);
    expect(readSecretFile('X_FILE', write('crlf.txt', `${SECRET}\r\n`))).toBe(SECRET);
    expect(readSecretFile('X_FILE', write('none.txt', SECRET))).toBe(SECRET);
  });

  it('reads TEMPORAL_API_KEY_FILE (TLS on, as with the variable)', () => {
    const path = write('temporal-key.txt', `${SECRET}\r\n`);
    const c = parseTemporalConfig({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY_FILE: path });
    expect(c).toMatchObject({ apiKey: SECRET, transport: 'api-key' });
  });

  it('refuses a variable and its _FILE together, an open file, a missing file and an empty one, never quoting the file', () => {
    const good = write('good.txt', SECRET);
    const cases: [Record<string, string>, string][] = [
      [
        { ATLAS_PUBLIC_KEY: 'pub', ATLAS_PRIVATE_KEY: 'x'.repeat(20), ATLAS_PRIVATE_KEY_FILE: good },
        'set either ATLAS_PRIVATE_KEY or ATLAS_PRIVATE_KEY_FILE, not both',
      ],
      [
        { ATLAS_PUBLIC_KEY: 'pub', ATLAS_PRIVATE_KEY_FILE: openFile('open.txt', SECRET) },
        'env.ATLAS_PRIVATE_KEY_FILE: ',
      ],
      [
        { ATLAS_CLIENT_ID: 'id', ATLAS_CLIENT_SECRET_FILE: join(dir, 'missing') },
        'env.ATLAS_CLIENT_SECRET_FILE: cannot read the file (ENOENT)',
      ],
      [
        { ATLAS_CLIENT_ID: 'id', ATLAS_CLIENT_SECRET_FILE: write('empty.txt', '\n') },
        'env.ATLAS_CLIENT_SECRET_FILE: the file is empty',
      ],
      [{ ATLAS_CLIENT_ID: 'id', ATLAS_CLIENT_SECRET_FILE: dir }, 'env.ATLAS_CLIENT_SECRET_FILE: '],
    ];
    for (const [env, expected] of cases) expect(configError(() => parseAtlasConfig(env), [SECRET])).toContain(expected);
    expect(configError(() => parseAtlasConfig(cases[1]![0]), [SECRET])).toContain(
      'open to group or others (mode 0644)'
    );
    expect(
      configError(() => parseTemporalConfig({ TEMPORAL_API_KEY: SECRET, TEMPORAL_API_KEY_FILE: good }), [SECRET])
    ).toContain('set either TEMPORAL_API_KEY or TEMPORAL_API_KEY_FILE, not both');
  });

  it("reads the codec server's CODEC_SERVER_TOKEN_FILE, and refuses it with the variable", () => {
    const keys = `k1:${Buffer.alloc(32, 7).toString('base64')}`;
    const token = write('codec-token', `${SECRET}\n`);
    expect(parseCodecServerConfig({ PAYLOAD_ENCRYPTION_KEYS: keys, CODEC_SERVER_TOKEN_FILE: token }).token).toBe(
      SECRET
    );
    expect(
      configError(
        () =>
          parseCodecServerConfig({
            PAYLOAD_ENCRYPTION_KEYS: keys,
            CODEC_SERVER_TOKEN_FILE: token,
            CODEC_SERVER_TOKEN: SECRET,
          }),
        [SECRET]
      )
    ).toContain('set either CODEC_SERVER_TOKEN or CODEC_SERVER_TOKEN_FILE, not both');
  });

  it('refuses a payload key file or a TLS client key open to group or others', () => {
    const keys = openFile('keys.txt', `k1:${Buffer.alloc(32, 7).toString('base64')}\n`);
    expect(configError(() => parsePayloadEncryption({ PAYLOAD_ENCRYPTION_KEY_FILE: keys }))).toContain(
      'env.PAYLOAD_ENCRYPTION_KEY_FILE: '
    );
    const cert = write('client.crt', '-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----\n');
    const key = openFile('client.key', '-----BEGIN PRIVATE KEY-----\nKEYKEYKEY\n-----END PRIVATE KEY-----\n');
    const env = { TEMPORAL_TLS_CLIENT_CERT_PATH: cert, TEMPORAL_TLS_CLIENT_KEY_PATH: key };
    expect(configError(() => parseTemporalConfig(env), ['KEYKEYKEY'])).toContain('env.TEMPORAL_TLS_CLIENT_KEY_PATH: ');
    chmodSync(key, 0o600);
    expect(parseTemporalConfig(env).transport).toBe('mtls');
  });
});

describe('secrets after reading', () => {
  it('deletes every secret variable from the environment, and leaves the others', () => {
    const env: NodeJS.ProcessEnv = {
      ATLAS_CLIENT_ID: 'id',
      ATLAS_CLIENT_SECRET: SECRET,
      ATLAS_PRIVATE_KEY: SECRET,
      MONGODB_ATLAS_CLIENT_SECRET: SECRET,
      MONGODB_ATLAS_PRIVATE_API_KEY: SECRET,
      TEMPORAL_API_KEY: SECRET,
      TEMPORAL_TLS_CLIENT_KEY_DATA: SECRET,
      PAYLOAD_ENCRYPTION_KEYS: SECRET,
      TEMPORAL_GRPC_META_AUTHORIZATION: SECRET,
      TEMPORAL_GRPC_META_X_TENANT: 'exports',
      TEMPORAL_ADDRESS: 'localhost:7233',
      ATLAS_CLIENT_SECRET_FILE: '/run/secrets/atlas',
    };
    clearSecretVariables(env);
    expect(env).toEqual({
      ATLAS_CLIENT_ID: 'id',
      TEMPORAL_GRPC_META_X_TENANT: 'exports',
      TEMPORAL_ADDRESS: 'localhost:7233',
      ATLAS_CLIENT_SECRET_FILE: '/run/secrets/atlas',
    });
  });

  it("gives the redactor the service account's Basic value as well as its secret", () => {
    const config = parseWorkerConfig({ ATLAS_CLIENT_ID: 'mdb_sa_id_x', ATLAS_CLIENT_SECRET: SECRET });
    expect(configSecrets(config)).toEqual(expect.arrayContaining([SECRET, basicCredentials('mdb_sa_id_x', SECRET)]));
  });

  it('masks Bearer and Basic values and access_token fields it was not given, and leaves prose alone', () => {
    const redact = secretRedactor([]);
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtZGJfc2EifQ.c2lnbmF0dXJl';
    const basic = basicCredentials('mdb_sa_id_x', SECRET);
    const line = JSON.stringify({
      msg: `sent authorization: Bearer ${token}`,
      headers: { authorization: `Basic ${basic}` },
      body: `{"access_token":"${token}","expires_in":3600}`,
      note: 'Basic authentication failed; a Bearer token expired',
    });
    const out = redact(line);
    expect(out).not.toContain(token);
    expect(out).not.toContain(basic);
    expect(out).toContain('Bearer [REDACTED]');
    expect(out).toContain('Basic [REDACTED]');
    expect(out).toContain('Basic authentication failed; a Bearer token expired');
    expect(JSON.parse(out)).toMatchObject({ headers: { authorization: 'Basic [REDACTED]' } });
  });
});

describe('the Temporal TOML profile file (issue 17, finding 7)', () => {
  // On the previous main a world-readable profile file holding api_key or a client key was read as is, and a
  // client key named by the profile's client_key_path was never checked.
  const CERT = '-----BEGIN CERTIFICATE-----\\nCERT\\n-----END CERTIFICATE-----';
  const KEY = '-----BEGIN PRIVATE KEY-----\\nKEYKEYKEY\\n-----END PRIVATE KEY-----';
  const toml = [
    '[profile.default]',
    'address = "127.0.0.1:7233"',
    '[profile.cloud]',
    'address = "ns.a1b2c.tmprl.cloud:7233"',
    `api_key = "${SECRET}"`,
    '[profile.mtls.tls]',
    `client_cert_data = "${CERT}"`,
    `client_key_data = "${KEY}"`,
  ].join('\n');

  it('refuses a file open to group or others when the selected profile holds a secret, naming file and mode', () => {
    const file = write('open.toml', toml);
    chmodSync(file, 0o644);
    const cloud = configError(
      () => parseTemporalConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' }),
      [SECRET]
    );
    expect(cloud).toContain(`env.TEMPORAL_CONFIG_FILE (profile.cloud holds api_key): ${file} is open to group`);
    expect(cloud).toContain('mode 0644');
    // An override by variable does not make the file's own key private.
    const overridden = { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud', TEMPORAL_API_KEY: 'other-key' };
    expect(configError(() => parseTemporalConfig(overridden))).toContain('profile.cloud holds api_key');
    chmodSync(file, 0o640);
    const mtls = configError(
      () => parseTemporalConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'mtls' }),
      ['KEYKEYKEY']
    );
    expect(mtls).toContain('profile.mtls holds tls.client_key_data');
    expect(mtls).toContain('mode 0640');
    // A profile without secrets may come from a shared file; the owner's alone, every profile is accepted.
    expect(parseTemporalConfig({ TEMPORAL_CONFIG_FILE: file }).address).toBe('127.0.0.1:7233');
    chmodSync(file, 0o600);
    expect(parseTemporalConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' }).apiKey).toBe(SECRET);
    expect(parseTemporalConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'mtls' }).transport).toBe('mtls');
  });

  it('checks the default file ($HOME/.config/temporalio/temporal.toml) the same way', () => {
    const home = join(dir, 'home');
    mkdirSync(join(home, '.config', 'temporalio'), { recursive: true });
    const file = join(home, '.config', 'temporalio', 'temporal.toml');
    writeFileSync(file, `[profile.default]\naddress = "127.0.0.1:7233"\napi_key = "${SECRET}"\n`, { mode: 0o604 });
    chmodSync(file, 0o604);
    expect(configError(() => parseTemporalConfig({ HOME: home }), [SECRET])).toContain(
      `the default Temporal config file (profile.default holds api_key): ${file} is open to group or others (mode 0604)`
    );
    chmodSync(file, 0o400);
    expect(parseTemporalConfig({ HOME: home }).apiKey).toBe(SECRET);
  });

  it("checks the client key file a profile's client_key_path names", () => {
    const cert = write('profile-client.crt', `${CERT.replace(/\\n/g, '\n')}\n`);
    const key = openFile('profile-client.key', `${KEY.replace(/\\n/g, '\n')}\n`);
    const file = write(
      'paths.toml',
      `[profile.default.tls]\nclient_cert_path = "${cert}"\nclient_key_path = "${key}"\n`
    );
    expect(configError(() => parseTemporalConfig({ TEMPORAL_CONFIG_FILE: file }), ['KEYKEYKEY'])).toContain(
      `profile.default.tls.client_key_path in TEMPORAL_CONFIG_FILE: ${key} is open to group or others (mode 0644)`
    );
    chmodSync(key, 0o600);
    expect(parseTemporalConfig({ TEMPORAL_CONFIG_FILE: file }).transport).toBe('mtls');
    // The file naming the key path is checked too.
    chmodSync(file, 0o644);
    expect(configError(() => parseTemporalConfig({ TEMPORAL_CONFIG_FILE: file }))).toContain(
      'profile.default holds tls.client_key_path'
    );
  });
});
