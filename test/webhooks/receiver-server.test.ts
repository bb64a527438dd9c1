import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseWebhookReceiverConfig } from '../../src/config/webhook-receiver';
import type { AtlasAlert } from '../../src/webhooks/atlas-alert';
import { signAtlasWebhook } from '../../src/webhooks/atlas-signature';
import { startWebhookReceiver } from '../../src/webhooks/receiver-server';
import { openExportsQuery } from '../../src/webhooks/wake-exports';
import { configError, privateFiles } from '../helpers/config-errors';

const SECRET = 'receiver-secret-0123456789';
const GROUP = '32b6e34b3d91647abb20e7b8';

function alertBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    id: '5f1e2d3c4b5a69788796a5b4',
    groupId: GROUP,
    alertConfigId: '6a2b3c4d5e6f708192a3b4c5',
    eventTypeName: 'CPS_EXPORT_SUCCESSFUL',
    status: 'OPEN',
    created: now,
    updated: now,
    humanReadable: 'Export job finished',
    ...overrides,
  };
}

describe('webhook receiver over HTTP', () => {
  const woken: AtlasAlert[] = [];
  const logged: string[] = [];
  let failWake = false;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const log = {
    info: (m: string, meta?: object) => logged.push(`${m} ${JSON.stringify(meta)}`),
    warn: (m: string, meta?: object) => logged.push(`${m} ${JSON.stringify(meta)}`),
    error: (m: string, meta?: object) => logged.push(`${m} ${JSON.stringify(meta)}`),
  };

  beforeAll(async () => {
    receiver = await startWebhookReceiver({
      secret: SECRET,
      replayWindowMs: 10 * 60_000,
      maxBodyBytes: 64 * 1024,
      log,
      wake: (alert) => {
        if (failWake) return Promise.reject(new Error('visibility unavailable'));
        woken.push(alert);
        return Promise.resolve(1);
      },
    });
  });
  afterAll(() => receiver.close());
  beforeEach(() => {
    woken.length = 0;
    logged.length = 0;
    failWake = false;
  });

  async function post(body: string | Buffer, headers: Record<string, string>) {
    const res = await request(`${receiver.url}/atlas/alerts`, { method: 'POST', body, headers });
    const text = await res.body.text();
    return { status: res.statusCode, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }
  const signed = (body: string | Buffer) => ({
    'content-type': 'application/json',
    'x-mms-signature': signAtlasWebhook(SECRET, body),
  });

  it('wakes the project on a validly signed export alert', async () => {
    const body = JSON.stringify(alertBody());
    const res = await post(body, signed(body));
    expect(res).toEqual({ status: 200, json: { outcome: 'woken', signalled: 1 } });
    expect(woken.map((a) => [a.groupId, a.eventTypeName])).toEqual([[GROUP, 'CPS_EXPORT_SUCCESSFUL']]);
  });

  it('refuses forged and missing signatures with 401, wakes nothing and logs neither body nor secret', async () => {
    const body = JSON.stringify(alertBody({ humanReadable: 'body-marker-xyz' }));
    const forged = await post(body, {
      'content-type': 'application/json',
      'x-mms-signature': signAtlasWebhook('not-the-secret-0123456', body),
    });
    const missing = await post(body, { 'content-type': 'application/json' });
    const tampered = await post(body.replace('OPEN', 'OPEM'), signed(body));
    expect([forged.status, missing.status, tampered.status]).toEqual([401, 401, 401]);
    expect(woken).toEqual([]);
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) {
      expect(line).not.toContain('body-marker-xyz');
      expect(line).not.toContain(SECRET);
    }
  });

  it('refuses an oversized body with 413 (declared or streamed) and wakes nothing', async () => {
    const big = JSON.stringify(alertBody({ humanReadable: 'x'.repeat(70 * 1024) }));
    expect((await post(big, signed(big))).status).toBe(413);
    // Chunked: no Content-Length to refuse up front, so the size is counted while reading.
    const res = await request(`${receiver.url}/atlas/alerts`, {
      method: 'POST',
      headers: signed(big),
      body: Readable.from(Array.from({ length: 20 }, () => Buffer.alloc(8 * 1024, 0x20))),
    });
    expect(res.statusCode).toBe(413);
    await res.body.dump();
    expect(woken).toEqual([]);
  });

  it('refuses a body that is not application/json with 415 before reading it', async () => {
    const body = JSON.stringify(alertBody());
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonp']) {
      expect((await post(body, { ...signed(body), 'content-type': type })).status).toBe(415);
    }
    expect((await post(body, { ...signed(body), 'content-type': 'application/json; charset=utf-8' })).status).toBe(200);
  });

  it('answers a replayed duplicate 200 without a second wake-up, also when the copies arrive together', async () => {
    const body = JSON.stringify(alertBody({ id: 'aaaaaaaaaaaaaaaaaaaaaaaa' }));
    expect((await post(body, signed(body))).json.outcome).toBe('woken');
    expect((await post(body, signed(body))).json).toEqual({ outcome: 'duplicate' });
    const together = JSON.stringify(alertBody({ id: 'bbbbbbbbbbbbbbbbbbbbbbbb' }));
    const outcomes = await Promise.all([1, 2, 3].map(() => post(together, signed(together))));
    expect(outcomes.map((o) => o.json.outcome).sort()).toEqual(['duplicate', 'duplicate', 'woken']);
    expect(woken.map((a) => a.id)).toEqual(['aaaaaaaaaaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbbbbbb']);
    // A new state of the same alert (a later update) is a new delivery.
    const later = JSON.stringify(alertBody({ id: 'aaaaaaaaaaaaaaaaaaaaaaaa', status: 'CLOSED' }));
    expect((await post(later, signed(later))).json.outcome).toBe('woken');
  });

  it('ignores a signed alert updated outside the replay window, and one from the future', async () => {
    const old = new Date(Date.now() - 11 * 60_000).toISOString();
    const future = new Date(Date.now() + 60 * 60_000).toISOString();
    for (const updated of [old, future]) {
      const body = JSON.stringify(alertBody({ created: updated, updated }));
      expect((await post(body, signed(body))).json).toEqual({ outcome: 'stale' });
    }
    expect(woken).toEqual([]);
  });

  it('ignores other event types and refuses a signed body that is not an alert with 400', async () => {
    const other = JSON.stringify(alertBody({ eventTypeName: 'CPS_SNAPSHOT_SUCCESSFUL' }));
    expect((await post(other, signed(other))).json).toEqual({ outcome: 'ignored' });
    for (const bad of ['{not json', JSON.stringify(alertBody({ groupId: "x' OR '1'='1" }))]) {
      expect((await post(bad, signed(bad))).status).toBe(400);
    }
    expect(woken).toEqual([]);
  });

  it('answers 503 when the exports cannot be woken, and acts on the redelivery', async () => {
    const body = JSON.stringify(alertBody({ id: 'cccccccccccccccccccccccc' }));
    failWake = true;
    expect((await post(body, signed(body))).status).toBe(503);
    failWake = false;
    expect((await post(body, signed(body))).json.outcome).toBe('woken');
  });

  it('serves /livez and nothing else', async () => {
    expect((await request(`${receiver.url}/livez`)).statusCode).toBe(200);
    const other = await request(`${receiver.url}/atlas/other`, { method: 'POST', body: '{}' });
    expect(other.statusCode).toBe(404);
    await other.body.dump();
    const get = await request(`${receiver.url}/atlas/alerts`);
    expect(get.statusCode).toBe(405);
    await get.body.dump();
  });
});

describe('parseWebhookReceiverConfig', () => {
  const base = { ATLAS_WEBHOOK_SECRET: SECRET, TEMPORAL_ADDRESS: 'localhost:7233' };

  it('reads the address, the secret (or its file) and the replay window', () => {
    const c = parseWebhookReceiverConfig({
      ...base,
      ATLAS_WEBHOOK_ADDRESS: '0.0.0.0:9000',
      ATLAS_WEBHOOK_REPLAY_WINDOW: '5m',
    });
    expect([c.host, c.port, c.secret, c.replayWindowMs, c.temporal.address]).toEqual([
      '0.0.0.0',
      9000,
      SECRET,
      300_000,
      'localhost:7233',
    ]);
    const files = privateFiles('webhook-secret-');
    const fromFile = parseWebhookReceiverConfig({
      TEMPORAL_ADDRESS: 'localhost:7233',
      ATLAS_WEBHOOK_SECRET_FILE: files.write('secret', `${SECRET}\n`),
    });
    expect(fromFile.secret).toBe(SECRET);
  });

  it('refuses a missing or short secret, both secret sources, and a bad address, naming variables only', () => {
    expect(configError(() => parseWebhookReceiverConfig({ TEMPORAL_ADDRESS: 'localhost:7233' }))).toContain(
      'ATLAS_WEBHOOK_SECRET'
    );
    expect(
      configError(() => parseWebhookReceiverConfig({ ...base, ATLAS_WEBHOOK_SECRET: 'short' }), ['short'])
    ).toContain('ATLAS_WEBHOOK_SECRET');
    const files = privateFiles('webhook-secret-');
    const path = files.write('secret', SECRET);
    expect(
      configError(() => parseWebhookReceiverConfig({ ...base, ATLAS_WEBHOOK_SECRET_FILE: path }), [SECRET])
    ).toContain('not both');
    expect(configError(() => parseWebhookReceiverConfig({ ...base, ATLAS_WEBHOOK_ADDRESS: 'nope' }))).toContain(
      'ATLAS_WEBHOOK_ADDRESS'
    );
  });
});

describe('openExportsQuery', () => {
  it('names the project, running runs and the export workflow; refuses a group id that could escape the quotes', () => {
    expect(openExportsQuery(GROUP)).toBe(
      `AtlasGroupId = '${GROUP}' AND ExecutionStatus = 'Running' AND WorkflowType = 'exportSnapshot'`
    );
    expect(() => openExportsQuery("x' OR '1'='1")).toThrow();
  });
});
