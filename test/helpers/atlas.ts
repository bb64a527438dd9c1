import type { TargetPolicy } from '../../src/activities';
import { AtlasClient, type AtlasCredentials } from '../../src/atlas';
import { AtlasSimulator, type DefaultFixtures, type SimulatorOptions } from '../../src/simulator';

/** Recognizable credentials, so tests can look for them where they must never appear. */
export const TEST_SECRETS = {
  publicKey: 'testpubkey',
  privateKey: 'TEST-PRIVATE-KEY-3f9a-do-not-leak',
  clientId: 'mdb_sa_id_test',
  clientSecret: 'TEST-CLIENT-SECRET-7c21-do-not-leak',
} as const;

export const TEST_API_KEY: AtlasCredentials = {
  mode: 'api-key',
  publicKey: TEST_SECRETS.publicKey,
  privateKey: TEST_SECRETS.privateKey,
};
export const TEST_SERVICE_ACCOUNT: AtlasCredentials = {
  mode: 'service-account',
  clientId: TEST_SECRETS.clientId,
  clientSecret: TEST_SECRETS.clientSecret,
};

/** What a test worker allows unless a test says otherwise: any target, the simulator's scaled clock. */
export const OPEN_TEST_POLICY: TargetPolicy = Object.freeze({
  allowedTargets: undefined,
  maxOnDemandRetentionDays: 365,
  simulator: true,
});

export interface SimulatedAtlas {
  sim: AtlasSimulator;
  fixtures: DefaultFixtures;
  client(credentials?: AtlasCredentials): AtlasClient;
  close(): Promise<void>;
}

/**
 * A simulator with the default fixtures and the test credentials. The default time scale runs a
 * 2 min queue + 10 min export in 1.2 s of real time.
 */
export async function startSimulatedAtlas(options: SimulatorOptions = {}): Promise<SimulatedAtlas> {
  const sim = await AtlasSimulator.start({
    timeScale: 600,
    credentials: {
      apiKeys: [{ publicKey: TEST_SECRETS.publicKey, privateKey: TEST_SECRETS.privateKey }],
      serviceAccounts: [{ clientId: TEST_SECRETS.clientId, clientSecret: TEST_SECRETS.clientSecret }],
    },
    defaultExportPlan: { queuedMs: 120_000, inProgressMs: 600_000, totalCollections: 12 },
    ...options,
  });
  const fixtures = sim.seedDefault();
  const clients: AtlasClient[] = [];
  return {
    sim,
    fixtures,
    client(credentials = TEST_API_KEY) {
      const client = new AtlasClient({ baseUrl: sim.url, credentials, timeoutMs: 5_000 });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await sim.close();
    },
  };
}
