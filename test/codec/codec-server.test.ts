import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AesGcmPayloadCodec, KeyRing } from '../../src/codec';
import { startCodecServer, type RunningCodecServer } from '../../src/codec/codec-server';
import { payloadToJson } from '../../src/codec/payload-json';

const UI = 'http://localhost:8233';
const TOKEN = 'codec-test-token-0123456789';
const keys = new KeyRing([['k1', randomBytes(32)]], 'k1');
const codec = new AesGcmPayloadCodec(keys);
const logged: string[] = [];
let server: RunningCodecServer;
let open: RunningCodecServer;

beforeAll(async () => {
  server = await startCodecServer({
    codec,
    corsOrigins: [UI],
    token: TOKEN,
    namespaces: ['default'],
    logError: (m) => logged.push(m),
  });
  open = await startCodecServer({ codec, corsOrigins: [UI], maxBodyBytes: 1024, namespaces: ['default'] });
});
afterAll(async () => {
  await server?.close();
  await open?.close();
});

type JsonPayloads = { payloads: { metadata: Record<string, string>; data: string }[] };

async function post(path: string, body: unknown, headers: Record<string, string> = {}, base = server.url) {
  const res = await request(`${base}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${TOKEN}`,
      'x-namespace': 'default',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as Record<string, unknown> };
}

const jsonOf = (...values: unknown[]) => ({
  payloads: values.map((v) => payloadToJson(defaultPayloadConverter.toPayload(v))),
});

describe('codec server', () => {
  it('encodes and decodes proto3 JSON payloads, under any path prefix', async () => {
    const plain = jsonOf({ clusterName: 'Cluster0' }, 'x');
    const encoded = await post('/encode', plain);
    expect(encoded.status).toBe(200);
    const encrypted = encoded.body as JsonPayloads;
    expect(Buffer.from(encrypted.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
    // The CLI templates `--codec-endpoint http://host/{namespace}`.
    const decoded = await post('/default/decode', encrypted, { 'x-namespace': '' });
    expect(decoded.status).toBe(200);
    expect(decoded.body).toEqual(plain);
  });

  it('answers the Web UI preflight for a configured origin only', async () => {
    const preflight = (origin: string) =>
      request(`${server.url}/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace,authorization',
        },
      });
    const ok = await preflight(UI);
    await ok.body.dump();
    expect(ok.statusCode).toBe(204);
    expect(ok.headers).toMatchObject({
      'access-control-allow-origin': UI,
      'access-control-allow-methods': 'POST, OPTIONS',
      'access-control-allow-credentials': 'true',
    });
    expect(String(ok.headers['access-control-allow-headers']).toLowerCase().split(', ')).toEqual(
      expect.arrayContaining(['content-type', 'x-namespace', 'authorization'])
    );
    const other = await preflight('https://evil.example.com');
    await other.body.dump();
    expect(other.statusCode).toBe(403);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses a missing or wrong bearer token with 401, with CORS headers so the UI can show it', async () => {
    const payloads = jsonOf('x');
    const wrong = await post('/decode', payloads, { authorization: 'Bearer not-the-token', origin: UI });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toBe('Bearer');
    expect(wrong.headers['access-control-allow-origin']).toBe(UI);
    expect(wrong.body).toEqual({ error: 'unauthorized' });
    const res = await request(`${server.url}/decode`, {
      method: 'POST',
      headers: { 'x-namespace': 'default' },
      body: JSON.stringify(payloads),
    });
    expect(res.statusCode).toBe(401);
    await res.body.dump();
    // Without a configured token, no header is needed.
    expect((await post('/decode', payloads, { authorization: '' }, open.url)).status).toBe(200);
  });

  it('answers 400 for bad JSON, a body that is not Payloads, and undecryptable payloads, naming the key id', async () => {
    expect(await post('/decode', '{"payloads": [')).toMatchObject({
      status: 400,
      body: { error: 'body is not valid JSON' },
    });
    const notPayloads = await post('/decode', { payloads: [{ data: 'not base64!' }] });
    expect(notPayloads).toMatchObject({ status: 400, body: { error: 'body.payloads[0].data: must be base64' } });
    const otherKeys = new AesGcmPayloadCodec(new KeyRing([['k9', randomBytes(32)]], 'k9'));
    const [foreign] = await otherKeys.encode([defaultPayloadConverter.toPayload('x')]);
    const unknownKey = await post('/decode', { payloads: [payloadToJson(foreign!)] });
    expect(unknownKey.status).toBe(400);
    expect(String(unknownKey.body.error)).toContain('encryption key id "k9" is not configured');
    expect(logged).toEqual([]);
  });

  it('routes only …/encode and …/decode, POST only, and bounds the body', async () => {
    expect((await post('/other', jsonOf('x'))).status).toBe(404);
    const get = await request(`${server.url}/decode`);
    expect(get.statusCode).toBe(405);
    expect(get.headers.allow).toBe('POST, OPTIONS');
    await get.body.dump();
    expect((await post('/decode', jsonOf('x'.repeat(2000)), {}, open.url)).status).toBe(413);
  });

  it('refuses a foreign Host (DNS rebinding) with 421, before auth, for preflights too', async () => {
    for (const method of ['POST', 'OPTIONS'] as const) {
      const res = await request(`${server.url}/decode`, {
        method,
        headers: { host: 'attacker.example.com', 'x-namespace': 'default', authorization: `Bearer ${TOKEN}` },
        body: method === 'POST' ? JSON.stringify(jsonOf('x')) : undefined,
      });
      expect(res.statusCode, method).toBe(421);
      await res.body.dump();
    }
    // The loopback names, with or without port, are accepted by default; configured names too.
    for (const host of ['localhost', `127.0.0.1:${new URL(server.url).port}`, '[::1]:1']) {
      expect((await post('/decode', jsonOf('x'), { host })).status, host).toBe(200);
    }
    const named = await startCodecServer({
      codec,
      corsOrigins: [UI],
      namespaces: ['default'],
      allowedHosts: ['codec.example.com'],
    });
    try {
      expect((await post('/decode', jsonOf('x'), { host: 'codec.example.com' }, named.url)).status).toBe(200);
      expect((await post('/decode', jsonOf('x'), { host: 'localhost' }, named.url)).status).toBe(421);
    } finally {
      await named.close();
    }
  });

  it('serves only the configured namespaces: another one, or none, is refused with 403', async () => {
    expect((await post('/decode', jsonOf('x'), { 'x-namespace': 'payments' })).status).toBe(403);
    expect((await post('/payments/decode', jsonOf('x'), { 'x-namespace': '' })).status).toBe(403);
    expect((await post('/decode', jsonOf('x'), { 'x-namespace': '' })).status).toBe(403);
    expect((await post('/%E0%A4%A/decode', jsonOf('x'), { 'x-namespace': '' })).status).toBe(403);
    expect((await post('/default/decode', jsonOf('x'), { 'x-namespace': '' })).status).toBe(200);
  });

  it("names the Web UI's pass-access-token setting when a user's JWT is sent instead of the token", async () => {
    const jwt = 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl';
    const res = await post('/decode', jsonOf('x'), { authorization: jwt });
    expect(res.status).toBe(401);
    expect(String(res.body.error)).toContain('passAccessToken');
  });

  it('serves HTTPS with a configured certificate and key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'codec-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=DNS:localhost,IP:127.0.0.1',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' }
      );
      const cert = readFileSync(join(dir, 'cert.pem'));
      const tls = await startCodecServer({
        codec,
        corsOrigins: [UI],
        namespaces: ['default'],
        token: TOKEN,
        tls: { cert, key: readFileSync(join(dir, 'key.pem')) },
      });
      const dispatcher = new Agent({ connect: { ca: cert } });
      try {
        expect(tls.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
        const res = await request(`${tls.url}/encode`, {
          method: 'POST',
          dispatcher,
          headers: { authorization: `Bearer ${TOKEN}`, 'x-namespace': 'default' },
          body: JSON.stringify(jsonOf('x')),
        });
        expect(res.statusCode).toBe(200);
        await res.body.dump();
      } finally {
        await dispatcher.close();
        await tls.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
