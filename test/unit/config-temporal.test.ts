import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSecrets, parseTemporalConfig, parseWorkerConfig, redactedWorkerConfig } from '../../src/config';
import { connectionOptions } from '../../src/temporal/connection';
import { configError, privateFiles } from '../helpers/config-errors';

const configErrorOf = (fn: () => unknown): string => configError(fn, [SECRET]);

/** The Temporal connection as `@temporalio/envconfig` reads it: profiles, TOML, *_DATA, gRPC metadata, TLS. */

const SECRET = 'temporal-api-key-0815-secret';
const { dir, write: file } = privateFiles('aeo-envconfig-');

const TOML = file(
  'temporal.toml',
  `
[profile.default]
address = "127.0.0.1:7233"
namespace = "dev"

[profile.staging]
address = "staging.example.com:7233"
namespace = "staging-ns"
api_key = "${SECRET}"

[profile.staging.grpc_meta]
x_tenant = "exports"
authorization-extra = "not-a-secret-name"

[profile.mtls.tls]
client_cert_data = "-----BEGIN CERTIFICATE-----\\nCERT\\n-----END CERTIFICATE-----"
client_key_data = "-----BEGIN PRIVATE KEY-----\\nKEYKEYKEY\\n-----END PRIVATE KEY-----"
server_name = "temporal.internal"

[profile.plain]
address = "plain.example.com:7233"
api_key = "${SECRET}"
[profile.plain.tls]
disabled = true
`
);

describe('profiles and the TOML file', () => {
  it('takes the default profile of TEMPORAL_CONFIG_FILE, and another one by TEMPORAL_PROFILE', () => {
    const dev = parseTemporalConfig({ TEMPORAL_CONFIG_FILE: TOML });
    expect(dev).toMatchObject({ address: '127.0.0.1:7233', namespace: 'dev', tls: false, apiKey: undefined });
    const staging = parseTemporalConfig({ TEMPORAL_CONFIG_FILE: TOML, TEMPORAL_PROFILE: 'staging' });
    expect(staging).toMatchObject({ address: 'staging.example.com:7233', namespace: 'staging-ns', apiKey: SECRET });
    // An API key turns TLS on, as in the CLI.
    expect(staging.tls).toEqual({});
  });

  it('lets variables override the profile, and treats blank variables as unset', () => {
    const c = parseTemporalConfig({
      TEMPORAL_CONFIG_FILE: TOML,
      TEMPORAL_PROFILE: 'staging',
      TEMPORAL_ADDRESS: 'override.example.com:7233',
      TEMPORAL_NAMESPACE: '  ',
    });
    expect(c.address).toBe('override.example.com:7233');
    expect(c.namespace).toBe('staging-ns');
  });

  it('reads the CLI default file ($XDG_CONFIG_HOME or ~/.config/temporalio/temporal.toml)', () => {
    const home = mkdtempSync(join(tmpdir(), 'aeo-home-'));
    mkdirSync(join(home, '.config', 'temporalio'), { recursive: true });
    writeFileSync(
      join(home, '.config', 'temporalio', 'temporal.toml'),
      '[profile.default]\naddress = "from-home:7233"\n'
    );
    // A host on the network without TLS: only with the opt-out (test/unit/config-transport.test.ts).
    expect(parseTemporalConfig({ HOME: home, TEMPORAL_ALLOW_PLAINTEXT: 'true' }).address).toBe('from-home:7233');
    // Without a file anywhere: the dev server defaults.
    expect(parseTemporalConfig({ HOME: join(home, 'nothing-here') })).toMatchObject({
      address: 'localhost:7233',
      namespace: 'default',
      taskQueue: 'atlas-exports',
    });
  });

  it.each([
    [{ TEMPORAL_CONFIG_FILE: TOML, TEMPORAL_PROFILE: 'prod' }, 'env.TEMPORAL_PROFILE: no profile "prod"'],
    [{ TEMPORAL_CONFIG_FILE: join(dir, 'missing.toml') }, 'env.TEMPORAL_CONFIG_FILE: cannot read the file (ENOENT)'],
    [{ TEMPORAL_CONFIG_FILE: file('bad.toml', `[profile.default]\napi_key = "${SECRET}\n`) }, 'not valid TOML (line 2'],
    [
      { TEMPORAL_CONFIG_FILE: file('addr.toml', '[profile.default]\naddress = "http://x:7233/"\n') },
      'profile.default.address in TEMPORAL_CONFIG_FILE: must be host:port',
    ],
    [
      { TEMPORAL_CONFIG_FILE: file('num.toml', '[profile.default]\nnamespace = 5\n') },
      'profile.default.namespace in TEMPORAL_CONFIG_FILE',
    ],
  ])('refuses %j naming what is wrong, never a secret', (env, expected) => {
    expect(configErrorOf(() => parseTemporalConfig(env))).toContain(expected);
  });
});

describe('TLS', () => {
  it('TEMPORAL_TLS=false turns TLS off even with an API key (Temporal reference); true turns it on', () => {
    const off = parseTemporalConfig({ TEMPORAL_API_KEY: SECRET, TEMPORAL_TLS: 'false' });
    expect(off.tls).toBe(false);
    expect(off.apiKey).toBe(SECRET);
    expect(parseTemporalConfig({ TEMPORAL_API_KEY: SECRET }).tls).toEqual({});
    expect(parseTemporalConfig({ TEMPORAL_TLS: 'true' }).tls).toEqual({});
    expect(parseTemporalConfig({ TEMPORAL_TLS: 'no', TEMPORAL_TLS_SERVER_CA_CERT_PATH: TOML }).tls).toBe(false);
    // The profile's `tls.disabled = true` is the same switch.
    const plain = { TEMPORAL_CONFIG_FILE: TOML, TEMPORAL_PROFILE: 'plain', TEMPORAL_ALLOW_PLAINTEXT: 'true' };
    expect(parseTemporalConfig(plain).tls).toBe(false);
    // …and the variable overrides the file.
    expect(parseTemporalConfig({ ...plain, TEMPORAL_TLS: '1' }).tls).not.toBe(false);
  });

  it('refuses a TEMPORAL_TLS that is not a boolean, and disabling host verification', () => {
    expect(configErrorOf(() => parseTemporalConfig({ TEMPORAL_TLS: 'maybe' }))).toContain('env.TEMPORAL_TLS');
    expect(configErrorOf(() => parseTemporalConfig({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' }))).toContain(
      'env.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: is not supported'
    );
  });

  it('takes certificates as PEM text (*_DATA), from a variable or the profile', () => {
    const cert = '-----BEGIN CERTIFICATE-----\nENVCERT\n-----END CERTIFICATE-----';
    const key = '-----BEGIN PRIVATE KEY-----\nENVKEY-secret-material\n-----END PRIVATE KEY-----';
    const ca = '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----';
    const c = parseTemporalConfig({
      TEMPORAL_TLS_CLIENT_CERT_DATA: cert,
      TEMPORAL_TLS_CLIENT_KEY_DATA: key,
      TEMPORAL_TLS_SERVER_CA_CERT_DATA: ca,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    expect(c.tls).not.toBe(false);
    const tls = c.tls as Exclude<typeof c.tls, false>;
    expect(Buffer.from(tls.clientCertPair!.crt).toString()).toBe(cert);
    expect(Buffer.from(tls.clientCertPair!.key).toString()).toBe(key);
    expect(Buffer.from(tls.serverRootCACertificate!).toString()).toBe(ca);
    expect(tls.serverNameOverride).toBe('temporal.internal');
    const fromProfile = parseTemporalConfig({ TEMPORAL_CONFIG_FILE: TOML, TEMPORAL_PROFILE: 'mtls' });
    const ptls = fromProfile.tls as Exclude<typeof c.tls, false>;
    expect(Buffer.from(ptls.clientCertPair!.key).toString()).toContain('KEYKEYKEY');
    expect(ptls.serverNameOverride).toBe('temporal.internal');
    // The key is a secret for the log redactor; the start-up view shows only that TLS is on.
    const worker = parseWorkerConfig({
      TEMPORAL_TLS_CLIENT_CERT_DATA: cert,
      TEMPORAL_TLS_CLIENT_KEY_DATA: key,
      ATLAS_CLIENT_ID: 'id',
      ATLAS_CLIENT_SECRET: 'atlas-secret-value',
    });
    expect(configSecrets(worker)).toContain(key);
    expect(JSON.stringify(redactedWorkerConfig(worker))).not.toContain('ENVKEY');
  });

  it('refuses a certificate without its key, a path and data for the same file, and an unreadable file', () => {
    expect(configErrorOf(() => parseTemporalConfig({ TEMPORAL_TLS_CLIENT_CERT_DATA: 'PEM' }))).toContain(
      'env.TEMPORAL_TLS_CLIENT_CERT_DATA is set without the client key'
    );
    expect(
      configErrorOf(() =>
        parseTemporalConfig({
          TEMPORAL_TLS_SERVER_CA_CERT_PATH: TOML,
          TEMPORAL_TLS_SERVER_CA_CERT_DATA: 'PEM',
        })
      )
    ).toContain('set TEMPORAL_TLS_SERVER_CA_CERT_PATH or TEMPORAL_TLS_SERVER_CA_CERT_DATA');
    expect(
      configErrorOf(() =>
        parseTemporalConfig({
          TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'no-cert.pem'),
          TEMPORAL_TLS_CLIENT_KEY_PATH: TOML,
        })
      )
    ).toContain('env.TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read the file (ENOENT)');
  });
});

describe('gRPC metadata', () => {
  it('sends TEMPORAL_GRPC_META_* and the profile grpc_meta as headers, every _ as -, blank removing one', () => {
    const c = parseTemporalConfig({
      TEMPORAL_CONFIG_FILE: TOML,
      TEMPORAL_PROFILE: 'staging',
      TEMPORAL_GRPC_META_X_REQUEST_SOURCE: 'atlas-exports',
      TEMPORAL_GRPC_META_AUTHORIZATION_EXTRA: '',
    });
    expect(c.grpcMeta).toEqual({ 'x-tenant': 'exports', 'x-request-source': 'atlas-exports' });
    expect(connectionOptions(c)).toEqual({
      address: 'staging.example.com:7233',
      tls: {},
      apiKey: SECRET,
      metadata: { 'x-tenant': 'exports', 'x-request-source': 'atlas-exports' },
    });
  });

  it('keeps authenticating header values out of logs, showing header names only', () => {
    const token = 'Bearer header-token-value-123';
    const config = parseWorkerConfig({
      TEMPORAL_GRPC_META_AUTHORIZATION: token,
      TEMPORAL_GRPC_META_X_TENANT: 'exports',
      ATLAS_CLIENT_ID: 'id',
      ATLAS_CLIENT_SECRET: 'atlas-secret-value',
    });
    expect(configSecrets(config)).toContain(token);
    expect(configSecrets(config)).not.toContain('exports');
    const view = redactedWorkerConfig(config);
    expect(view.temporal).toMatchObject({ grpcMeta: ['authorization', 'x-tenant'] });
    expect(JSON.stringify(view)).not.toContain(token);
  });
});
