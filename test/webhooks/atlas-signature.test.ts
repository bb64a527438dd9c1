import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { atlasAlertSchema, isExportEndEvent } from '../../src/webhooks/atlas-alert';
import { signAtlasWebhook, verifyAtlasSignature } from '../../src/webhooks/atlas-signature';

const SECRET = 'webhook-secret-for-tests';
const body = Buffer.from(JSON.stringify({ id: 'a'.repeat(24), eventTypeName: 'CPS_EXPORT_SUCCESSFUL' }));

describe('verifyAtlasSignature', () => {
  it('accepts the base64 HMAC-SHA1 of the raw body with the secret, as computed independently', () => {
    const independent = createHmac('sha1', SECRET).update(body).digest('base64');
    expect(signAtlasWebhook(SECRET, body)).toBe(independent);
    expect(verifyAtlasSignature(SECRET, body, independent)).toBe(true);
  });

  it('refuses a signature made with another secret', () => {
    expect(verifyAtlasSignature(SECRET, body, signAtlasWebhook('another-secret', body))).toBe(false);
  });

  it('refuses a missing header, an empty one and a repeated one', () => {
    expect(verifyAtlasSignature(SECRET, body, undefined)).toBe(false);
    expect(verifyAtlasSignature(SECRET, body, '')).toBe(false);
    const good = signAtlasWebhook(SECRET, body);
    expect(verifyAtlasSignature(SECRET, body, [good, good])).toBe(false);
  });

  it('refuses signatures of the wrong length or form without throwing', () => {
    const good = signAtlasWebhook(SECRET, body);
    expect(verifyAtlasSignature(SECRET, body, good.slice(0, -2))).toBe(false);
    expect(verifyAtlasSignature(SECRET, body, `${good}AA==`)).toBe(false);
    expect(verifyAtlasSignature(SECRET, body, createHmac('sha256', SECRET).update(body).digest('base64'))).toBe(false);
    expect(verifyAtlasSignature(SECRET, body, createHmac('sha1', SECRET).update(body).digest('hex'))).toBe(false);
    // Characters Buffer.from(…, 'base64') would silently skip must not make a forged value equal.
    expect(verifyAtlasSignature(SECRET, body, `${good.slice(0, 10)}*${good.slice(10)}`)).toBe(false);
  });

  it('refuses the signature of a body altered by one byte', () => {
    const good = signAtlasWebhook(SECRET, body);
    for (const index of [0, Math.floor(body.length / 2), body.length - 1]) {
      const altered = Buffer.from(body);
      altered[index] = altered[index]! ^ 1;
      expect(verifyAtlasSignature(SECRET, altered, good)).toBe(false);
    }
    expect(verifyAtlasSignature(SECRET, Buffer.concat([body, Buffer.from(' ')]), good)).toBe(false);
  });

  it('signs the bytes as sent: a unicode body verifies as bytes, not as a re-encoded string', () => {
    const text = JSON.stringify({ humanReadable: 'Export terminé — ✓ 日本' });
    const bytes = Buffer.from(text, 'utf8');
    const signature = signAtlasWebhook(SECRET, bytes);
    expect(verifyAtlasSignature(SECRET, bytes, signature)).toBe(true);
    expect(verifyAtlasSignature(SECRET, Buffer.from(text, 'latin1'), signature)).toBe(false);
  });
});

describe('atlasAlertSchema', () => {
  const alert = {
    id: '5f1e2d3c4b5a69788796a5b4',
    groupId: '32b6e34b3d91647abb20e7b8',
    alertConfigId: '6a2b3c4d5e6f708192a3b4c5',
    eventTypeName: 'CPS_EXPORT_SUCCESSFUL',
    status: 'OPEN',
    created: '2026-08-10T03:27:00Z',
    updated: '2026-08-10T03:27:05.123Z',
  };

  it('reads the fields a delivery needs and ignores the others', () => {
    const parsed = atlasAlertSchema.parse({ ...alert, humanReadable: 'x', links: [], clusterName: 'cluster-1' });
    expect(parsed).toEqual({ ...alert, clusterName: 'cluster-1' });
  });

  it('takes odd but legal inputs: absent or null optional fields, an offset time, an unknown status', () => {
    const { alertConfigId: _unused, ...withoutConfig } = alert;
    expect(atlasAlertSchema.safeParse(withoutConfig).success).toBe(true);
    expect(atlasAlertSchema.safeParse({ ...alert, alertConfigId: null, clusterName: null }).success).toBe(true);
    expect(atlasAlertSchema.safeParse({ ...alert, created: '2026-08-10T05:27:00+02:00' }).success).toBe(true);
    expect(atlasAlertSchema.safeParse({ ...alert, status: 'SOMETHING_NEW' }).success).toBe(true);
  });

  it('refuses what cannot name a project, an alert or a time', () => {
    for (const bad of [
      { ...alert, groupId: 'not-hex' },
      { ...alert, id: undefined },
      { ...alert, updated: 'yesterday' },
      { ...alert, eventTypeName: '' },
      { ...alert, clusterName: '../etc' },
    ]) {
      expect(atlasAlertSchema.safeParse(bad).success).toBe(false);
    }
  });

  it('knows the export end events and no others', () => {
    expect(isExportEndEvent('CPS_EXPORT_SUCCESSFUL')).toBe(true);
    expect(isExportEndEvent('CPS_EXPORT_FAILED')).toBe(true);
    expect(isExportEndEvent('CPS_SNAPSHOT_SUCCESSFUL')).toBe(false);
  });
});
