import { afterEach, describe, expect, it } from 'vitest';
import { AtlasSimulator } from '../../src/simulator';
import { api, exportsPath, pollUntil, TEST_CREDENTIALS, type ErrorBody } from './helpers';

describe('rate limiting', () => {
  let sim: AtlasSimulator;
  afterEach(() => sim.close());

  it('answers 429 RATE_LIMITED_TOKEN_BUCKET with Retry-After once the project bucket is empty', async () => {
    sim = await AtlasSimulator.start({
      credentials: TEST_CREDENTIALS,
      rateLimit: { capacity: 3, refillPerMinute: 6 },
    });
    const f = sim.seedDefault();
    const other = sim.addProject();
    sim.addCluster(other, 'Other');
    const path = exportsPath(f.groupId, f.clusterName);

    const remaining: (string | null)[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await api(sim, path);
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBe('3');
      remaining.push(res.headers.get('ratelimit-remaining'));
    }
    expect(remaining).toEqual(['2', '1', '0']);

    const limited = await api<ErrorBody>(sim, path);
    expect(limited.status).toBe(429);
    expect(limited.json).toMatchObject({
      error: 429,
      errorCode: 'RATE_LIMITED_TOKEN_BUCKET',
      reason: 'Too Many Requests',
    });
    const retryAfter = limited.headers.get('retry-after') ?? '';
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(9);
    expect(Number(retryAfter)).toBeLessThanOrEqual(10);
    expect(limited.json.parameters?.[0]).toMatchObject({ capacity: 3, refillRate: 6, refillSeconds: 60, path });
    expect(limited.json.detail).toContain('Please retry after');

    expect((await api(sim, exportsPath(other, 'Other'))).status).toBe(200);
    expect(sim.stats.rateLimited).toBe(1);
    expect(sim.requests.filter((r) => r.status === 429).map((r) => r.groupId)).toEqual([f.groupId]);
  });

  it('does not charge unauthenticated requests', async () => {
    sim = await AtlasSimulator.start({ credentials: TEST_CREDENTIALS, rateLimit: { capacity: 1, refillPerMinute: 1 } });
    const f = sim.seedDefault();
    for (let i = 0; i < 3; i++) {
      expect((await api(sim, exportsPath(f.groupId, f.clusterName), { auth: 'none' })).status).toBe(401);
    }
    expect((await api(sim, exportsPath(f.groupId, f.clusterName))).status).toBe(200);
  });

  it('refills on the simulated clock, with Retry-After in real seconds', async () => {
    sim = await AtlasSimulator.start({
      credentials: TEST_CREDENTIALS,
      timeScale: 600,
      rateLimit: { capacity: 2, refillPerMinute: 1 },
    });
    const f = sim.seedDefault();
    const path = exportsPath(f.groupId, f.clusterName);
    await api(sim, path);
    await api(sim, path);
    const limited = await api(sim, path);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    await pollUntil(
      () => api(sim, path),
      (res) => res.status === 200,
      { attempts: 40, intervalMs: 50 }
    );
  });
});
