import { type ApplicationFailure } from '@temporalio/common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AtlasClient, AtlasResponseTooLargeError, DEFAULT_ATLAS_MAX_RESPONSE_BYTES } from '../../src/atlas';
import { toApplicationFailure } from '../../src/activities/failure-mapping';
import { FailureType } from '../../src/shared/contract/failure-types';
import {
  startSimulatedAtlas,
  TEST_API_KEY,
  TEST_SERVICE_ACCOUNT,
  TEST_SECRETS,
  type SimulatedAtlas,
} from '../helpers/atlas';

let atlas: SimulatedAtlas;

beforeAll(async () => {
  atlas = await startSimulatedAtlas({ tokenTtlSeconds: 3600 });
});
afterEach(() => atlas.sim.clearFaults());
afterAll(async () => {
  await atlas?.close();
});

const g = () => atlas.fixtures.groupId;
const c = () => atlas.fixtures.clusterName;
const MiB = 1024 * 1024;

async function withClient<T>(
  options: Partial<ConstructorParameters<typeof AtlasClient>[0]>,
  use: (client: AtlasClient) => Promise<T>
): Promise<T> {
  const client = new AtlasClient({ baseUrl: atlas.sim.url, credentials: TEST_API_KEY, ...options });
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

describe('Atlas response size limit', () => {
  it('stops reading an oversized body sent without Content-Length at the limit, with a clear non-retryable failure', async () => {
    await withClient({}, async (client) => {
      const statuses: (number | string)[] = [];
      client.onRequest((e) => statuses.push(e.status));
      atlas.sim.injectFaults({ operation: 'getSnapshot', kind: 'oversizedBody', sizeBytes: 16 * MiB });
      const err = await client.getSnapshot(g(), c(), atlas.fixtures.snapshotId).catch((e: unknown) => e);

      expect(err).toBeInstanceOf(AtlasResponseTooLargeError);
      const tooLarge = err as AtlasResponseTooLargeError;
      expect(tooLarge.status).toBe(200);
      expect(tooLarge.maxBytes).toBe(DEFAULT_ATLAS_MAX_RESPONSE_BYTES);
      expect(tooLarge.declaredBytes).toBeUndefined();
      // Read chunk by chunk and dropped once past the limit: not the whole 16 MiB first.
      expect(tooLarge.receivedBytes).toBeGreaterThan(DEFAULT_ATLAS_MAX_RESPONSE_BYTES);
      expect(tooLarge.receivedBytes).toBeLessThan(DEFAULT_ATLAS_MAX_RESPONSE_BYTES + MiB);
      expect(tooLarge.message).toMatch(
        /GET \/api\/atlas\/v2\/groups\/.*\/snapshots\/.* answered 200 with a body over the 8388608-byte response limit/
      );
      // The exchange is counted by its status, not as a network error.
      expect(statuses.at(-1)).toBe(200);
      expect(statuses).not.toContain('network-error');

      const failure = toApplicationFailure(err) as ApplicationFailure;
      expect(failure.type).toBe(FailureType.AtlasResponseTooLarge);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toContain('WORKER_ATLAS_MAX_RESPONSE_BYTES');

      // The client goes on working after dropping the connection.
      const snapshot = await client.getSnapshot(g(), c(), atlas.fixtures.snapshotId);
      expect(snapshot.id).toBe(atlas.fixtures.snapshotId);
    });
  });

  it('refuses a body whose Content-Length is over the limit without reading it', async () => {
    await withClient({ maxResponseBytes: 64 * 1024 }, async (client) => {
      atlas.sim.injectFaults({
        operation: 'getSnapshot',
        kind: 'replaceBody',
        body: { id: atlas.fixtures.snapshotId, filler: 'x'.repeat(100_000) },
      });
      const err = await client.getSnapshot(g(), c(), atlas.fixtures.snapshotId).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AtlasResponseTooLargeError);
      expect((err as AtlasResponseTooLargeError).declaredBytes).toBeGreaterThan(100_000);
      expect((err as AtlasResponseTooLargeError).receivedBytes).toBeUndefined();
    });
  });

  it('reads an ordinary answer under a small limit, and an error answer past it fails as too large, not as the error', async () => {
    await withClient({ maxResponseBytes: 64 * 1024 }, async (client) => {
      const snapshots = await client.listSnapshots(g(), c());
      expect(snapshots.length).toBeGreaterThan(0);
      atlas.sim.injectFaults({ operation: 'getSnapshot', kind: 'replaceBody', status: 500, body: 'y'.repeat(70_000) });
      const err = await client.getSnapshot(g(), c(), atlas.fixtures.snapshotId).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AtlasResponseTooLargeError);
      expect((err as AtlasResponseTooLargeError).status).toBe(500);
    });
  });

  it('applies the limit to the OAuth token endpoint, naming it and never the secret', async () => {
    await withClient({ credentials: TEST_SERVICE_ACCOUNT, maxResponseBytes: 64 * 1024 }, async (client) => {
      atlas.sim.injectFaults({ operation: 'oauthToken', kind: 'oversizedBody', sizeBytes: 4 * MiB });
      const err = await client.getSnapshot(g(), c(), atlas.fixtures.snapshotId).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AtlasResponseTooLargeError);
      const tooLarge = err as AtlasResponseTooLargeError;
      expect(tooLarge.path).toBe('/api/oauth/token');
      expect(tooLarge.receivedBytes).toBeLessThan(4 * MiB);
      for (const secret of Object.values(TEST_SECRETS)) expect(tooLarge.message).not.toContain(secret);
      expect((toApplicationFailure(err) as ApplicationFailure).nonRetryable).toBe(true);
    });
  });
});
