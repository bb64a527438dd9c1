import { describe, expect, it } from 'vitest';
import { parseAtlasConfig, parseTemporalConfig, parseWorkerConfig, redactedWorkerConfig } from '../../src/config';
import { hostOfAddress, isLoopbackHost } from '../../src/net/loopback';
import { configError } from '../helpers/config-errors';

/**
 * Issue 17, findings 3 and 4: plaintext to a remote Temporal is refused unless TEMPORAL_ALLOW_PLAINTEXT=true,
 * and plain http to Atlas is allowed to loopback only: ATLAS_ALLOW_INSECURE_HTTP opens no other host. Before, the
 * Temporal starts below that expect a ConfigError succeeded (no check looked at the address), and the flag
 * opened any host, then (until the compose simulator moved into the worker's network namespace) single labels.
 */

const KEY = 'temporal-api-key-for-transport-tests';
const CERT = '-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----';
const PRIVATE = '-----BEGIN PRIVATE KEY-----\nKEYKEYKEY\n-----END PRIVATE KEY-----';

describe('loopback', () => {
  it.each([
    ['localhost', true],
    ['LOCALHOST', true],
    ['127.0.0.1', true],
    ['127.12.0.9', true],
    ['::1', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    ['128.0.0.1', false],
    ['10.0.0.5', false],
    ['localhost.example.com', false],
    ['temporal', false],
    ['::2', false],
  ])('%s is loopback: %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });

  it('takes the host of host:port and [v6]:port', () => {
    expect(hostOfAddress('temporal:7233')).toBe('temporal');
    expect(hostOfAddress('[::1]:7233')).toBe('::1');
    expect(hostOfAddress('127.0.0.1')).toBe('127.0.0.1');
  });
});

describe('Temporal transport security', () => {
  it.each(['localhost:7233', '127.0.0.1:7233', '127.0.0.2:1', '[::1]:7233'])(
    'connects to loopback %s without TLS, as plaintext-loopback',
    (address) => {
      expect(parseTemporalConfig({ TEMPORAL_ADDRESS: address }).transport).toBe('plaintext-loopback');
    }
  );

  it('refuses plaintext to any other host, naming TEMPORAL_ADDRESS, TEMPORAL_TLS and the opt-out', () => {
    for (const address of ['temporal:7233', '10.0.0.5:7233', 'temporal.example.com:7233', '[2001:db8::1]:7233']) {
      const message = configError(() => parseTemporalConfig({ TEMPORAL_ADDRESS: address }));
      expect(message).toContain('env.TEMPORAL_ADDRESS');
      expect(message).toContain('TEMPORAL_TLS=true');
      expect(message).toContain('TEMPORAL_ALLOW_PLAINTEXT=true');
    }
  });

  it('refuses an API key sent in clear (TEMPORAL_TLS=false) to a remote host, never showing the key', () => {
    const env = { TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: KEY, TEMPORAL_TLS: 'false' };
    expect(configError(() => parseTemporalConfig(env), [KEY])).toContain('the API key would travel in clear');
  });

  it('allows plaintext to a remote host only with TEMPORAL_ALLOW_PLAINTEXT=true, and says so', () => {
    const c = parseTemporalConfig({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_ALLOW_PLAINTEXT: 'true' });
    expect(c).toMatchObject({ tls: false, transport: 'plaintext' });
    expect(
      configError(() => parseTemporalConfig({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_ALLOW_PLAINTEXT: 'maybe' }))
    ).toContain('env.TEMPORAL_ALLOW_PLAINTEXT');
  });

  it('names tls, mtls and api-key transports', () => {
    const remote = { TEMPORAL_ADDRESS: 'temporal.example.com:7233' };
    expect(parseTemporalConfig({ ...remote, TEMPORAL_TLS: 'true' }).transport).toBe('tls');
    expect(parseTemporalConfig({ ...remote, TEMPORAL_API_KEY: KEY }).transport).toBe('api-key');
    const mtls = { ...remote, TEMPORAL_TLS_CLIENT_CERT_DATA: CERT, TEMPORAL_TLS_CLIENT_KEY_DATA: PRIVATE };
    expect(parseTemporalConfig(mtls).transport).toBe('mtls');
  });

  it('shows the transport in the start-up view', () => {
    const config = parseWorkerConfig({
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_ALLOW_PLAINTEXT: 'true',
      ATLAS_CLIENT_ID: 'id',
      ATLAS_CLIENT_SECRET: 'a-client-secret-value',
    });
    expect(redactedWorkerConfig(config).temporal).toMatchObject({ tls: false, transport: 'plaintext' });
  });
});

describe('plain http to Atlas', () => {
  const credentials = { ATLAS_CLIENT_ID: 'id', ATLAS_CLIENT_SECRET: 'a-client-secret-value' };

  it.each([
    'http://atlas.example.com',
    'http://cloud.mongodb.com',
    'http://10.0.0.5:8090',
    'http://[2001:db8::1]',
    // A single-label name was honoured with ATLAS_ALLOW_INSECURE_HTTP=true before; it resolves to another host.
    'http://atlas-simulator:8090',
  ])('is refused for %s even with ATLAS_ALLOW_INSECURE_HTTP=true, which the error explains', (url) => {
    const message = configError(
      () => parseAtlasConfig({ ...credentials, ATLAS_BASE_URL: url, ATLAS_ALLOW_INSECURE_HTTP: 'true' }),
      ['a-client-secret-value']
    );
    expect(message).toContain('env.ATLAS_BASE_URL: must use https');
    expect(message).toContain('env.ATLAS_ALLOW_INSECURE_HTTP no longer allows other hosts');
    const withoutFlag = configError(() => parseAtlasConfig({ ...credentials, ATLAS_BASE_URL: url }));
    expect(withoutFlag).toContain('plain http is allowed only to a loopback host');
    expect(withoutFlag).not.toContain('ATLAS_ALLOW_INSECURE_HTTP');
  });

  it('is allowed to loopback with no flag; https needs none either', () => {
    for (const url of ['http://127.0.0.1:8089', 'http://localhost:8089', 'http://[::1]:8089']) {
      expect(parseAtlasConfig({ ...credentials, ATLAS_BASE_URL: url }).baseUrl).toBe(url);
    }
    const https = { ...credentials, ATLAS_BASE_URL: 'https://cloud.mongodb.com', ATLAS_ALLOW_INSECURE_HTTP: 'true' };
    expect(parseAtlasConfig(https).baseUrl).toBe('https://cloud.mongodb.com');
  });
});
