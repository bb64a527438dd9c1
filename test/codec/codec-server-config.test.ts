import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseCodecServerConfig } from '../../src/codec/codec-server-config';
import { configError, privateFiles } from '../helpers/config-errors';

const key = randomBytes(32).toString('base64');
const KEYS = { PAYLOAD_ENCRYPTION_KEYS: `k1:${key}` };
const TOKEN = 'codec-config-token-0123456789';

describe('codec server config: deny by default', () => {
  it('serves loopback names and the default namespace, over HTTP, with no encryption requirement, by default', () => {
    expect(parseCodecServerConfig(KEYS)).toMatchObject({
      host: '127.0.0.1',
      allowedHosts: ['localhost', '127.0.0.1', '::1'],
      namespaces: ['default'],
      tls: undefined,
      requireEncrypted: false,
    });
  });

  it('refuses a bind beyond loopback without CODEC_SERVER_TOKEN, naming the variable', () => {
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'codec.example.com']) {
      expect(configError(() => parseCodecServerConfig({ ...KEYS, CODEC_SERVER_HOST: host }), [key])).toContain(
        'CODEC_SERVER_TOKEN is required'
      );
    }
    expect(parseCodecServerConfig({ ...KEYS, CODEC_SERVER_HOST: '0.0.0.0', CODEC_SERVER_TOKEN: TOKEN })).toMatchObject({
      host: '0.0.0.0',
      allowedHosts: ['localhost', '127.0.0.1', '::1'],
    });
    // A specific address it is bound to is a name clients use: allowed as Host.
    expect(
      parseCodecServerConfig({ ...KEYS, CODEC_SERVER_HOST: '10.0.0.5', CODEC_SERVER_TOKEN: TOKEN }).allowedHosts
    ).toEqual(['localhost', '127.0.0.1', '::1', '10.0.0.5']);
  });

  it('adds configured Host names and namespaces, reads TLS files in pairs, and the encryption requirement', () => {
    const files = privateFiles('codec-config-');
    const cert = files.write('cert.pem', 'CERT');
    const tlsKey = files.write('key.pem', 'KEY');
    const config = parseCodecServerConfig({
      ...KEYS,
      CODEC_SERVER_ALLOWED_HOSTS: 'codec.example.com, 10.0.0.5',
      CODEC_SERVER_NAMESPACES: 'prod,staging',
      CODEC_SERVER_TLS_CERT_FILE: cert,
      CODEC_SERVER_TLS_KEY_FILE: tlsKey,
      PAYLOAD_ENCRYPTION_REQUIRED: 'true',
    });
    expect(config.allowedHosts).toEqual(['localhost', '127.0.0.1', '::1', 'codec.example.com', '10.0.0.5']);
    expect(config.namespaces).toEqual(['prod', 'staging']);
    expect(config.tls?.cert.toString()).toBe('CERT');
    expect(config.requireEncrypted).toBe(true);
    expect(configError(() => parseCodecServerConfig({ ...KEYS, CODEC_SERVER_TLS_CERT_FILE: cert }))).toContain(
      'CODEC_SERVER_TLS_KEY_FILE'
    );
    expect(
      configError(() =>
        parseCodecServerConfig({ ...KEYS, CODEC_SERVER_TLS_CERT_FILE: cert, CODEC_SERVER_TLS_KEY_FILE: '/nonexistent' })
      )
    ).toContain('CODEC_SERVER_TLS_KEY_FILE: cannot read the file');
    expect(
      configError(() => parseCodecServerConfig({ ...KEYS, CODEC_SERVER_ALLOWED_HOSTS: 'a.example.com:443' }))
    ).toContain('CODEC_SERVER_ALLOWED_HOSTS');
  });
});
