import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { request } from 'undici';
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
  server = await startCodecServer({ codec, corsOrigins: [UI], token: TOKEN, logError: (m) => logged.push(m) });
  open = await startCodecServer({ codec, corsOrigins: [UI], maxBodyBytes: 1024 });
});
afterAll(async () => {
  await server?.close();
  await open?.close();
});

type JsonPayloads = { payloads: { metadata: Record<string, string>; data: string }[] };

async function post(path: string, body: unknown, headers: Record<string, string> = {}, base = server.url) {
  const res = await request(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
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
    const decoded = await post('/default/decode', encrypted, { 'x-namespace': 'default' });
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
    const res = await request(`${server.url}/decode`, { method: 'POST', body: JSON.stringify(payloads) });
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
});
