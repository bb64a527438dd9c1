import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listen, type Listening } from '../net/listen';
import type { WebhookDelivery, WebhookFaults } from './alert-webhooks';
import { groupIdFromPath, matchRoute } from './atlas-api';
import { DigestAuthenticator, OAuthTokenStore } from './auth';
import { SimClock } from './clock';
import { handleControl, type SimulatorControl } from './control';
import { SimApiError } from './errors';
import { DEFAULT_EXPORT_PLAN, validatePlan } from './export-jobs';
import { faultStage } from './fault-stage';
import { FaultQueue } from './faults';
import { SimulatorFixtures } from './fixtures';
import {
  BodyTooLargeError,
  errorOutgoing,
  notFound,
  parseLoggedBody,
  readBody,
  Sleeps,
  writeOutgoing,
} from './http-io';
import { readStateFile, StateFileWriter, type PersistedFile } from './persistence';
import { IdGenerator, SeededRandom } from './random';
import { TokenBucketLimiter } from './rate-limit';
import {
  atlasEndpoint,
  authStage,
  composeStages,
  mediaTypeStage,
  rateLimitStage,
  tokenEndpoint,
  WRITTEN,
  type Reply,
  type SimRequest,
  type Stage,
} from './stages';
import { DEFAULT_SNAPSHOT_PLAN, SimState } from './state';
import {
  type ExportPlan,
  type Fault,
  type PlanMatch,
  type RequestLogEntry,
  type SimExportJob,
  type SimStats,
  type SimulatorCredentials,
  type SimulatorOptions,
} from './types';

/** Credentials accepted when {@link SimulatorOptions.credentials} is not given (development values). */
export const DEV_CREDENTIALS: Required<SimulatorCredentials> = {
  apiKeys: [{ publicKey: 'simpublickey', privateKey: 'sim-private-key-0000-0000-000000000000' }],
  serviceAccounts: [{ clientId: 'mdb_sa_id_simulator', clientSecret: 'mdb_sa_sk_simulator_secret' }],
};

const API_PREFIX = '/api/atlas/v2';

/**
 * A loopback HTTP server that simulates the parts of the MongoDB Atlas Admin API v2 used to export backup
 * snapshots: digest and OAuth authentication, versioned media types, per-project rate limiting, export jobs
 * and snapshots with lifecycles on a simulated clock, injectable faults, a request log, and a control API
 * under `/__sim/`. Fixtures (projects, clusters, snapshots, …) are its own methods, from
 * {@link SimulatorFixtures}; a request passes the stages of `./stages`.
 */
export class AtlasSimulator extends SimulatorFixtures implements SimulatorControl {
  /** Every request to the Atlas and OAuth endpoints, in arrival order (control routes excluded). */
  readonly requests: RequestLogEntry[] = [];
  private readonly faults = new FaultQueue();
  private readonly sleeps = new Sleeps();
  private closed = false;
  private writer: StateFileWriter | undefined;
  private listening: Listening | undefined;
  /** Atlas API: authentication, media type, rate limit, faults, then the route. */
  private readonly atlasPath: (r: SimRequest) => Promise<Reply>;
  /** OAuth token endpoint: faults, then the grant. */
  private readonly tokenPath: (r: SimRequest) => Promise<Reply>;

  private constructor(
    state: SimState,
    clock: SimClock,
    private readonly tokens: OAuthTokenStore,
    digest: DigestAuthenticator,
    limiter: TokenBucketLimiter | undefined,
    private readonly requestLogLimit: number,
    persisted: PersistedFile | undefined
  ) {
    super(state, clock, persisted?.defaultFixtures);
    const faults = faultStage(this.faults, this.sleeps);
    const stages: Stage[] = [authStage(digest, tokens), mediaTypeStage];
    if (limiter !== undefined) stages.push(rateLimitStage(limiter, state));
    this.atlasPath = composeStages(
      [...stages, faults],
      atlasEndpoint(state, () => this.url)
    );
    this.tokenPath = composeStages(
      [faults],
      tokenEndpoint(tokens, () => state.markChanged())
    );
  }

  /** Starts a simulator listening on `host:port` (default `127.0.0.1:0`). */
  static async start(opts: SimulatorOptions = {}): Promise<AtlasSimulator> {
    const persisted = opts.stateFile !== undefined ? readStateFile(opts.stateFile) : undefined;
    const clock = new SimClock(opts.timeScale ?? 1, Math.max(Date.now(), persisted?.state.simNow ?? 0));
    const random = new SeededRandom(opts.seed ?? 1);
    const defaultPlan = opts.defaultExportPlan ?? DEFAULT_EXPORT_PLAN;
    validatePlan(defaultPlan);
    const credentials = opts.credentials ?? DEV_CREDENTIALS;
    const digest = new DigestAuthenticator(credentials.apiKeys ?? [], (opts.nonceTtlSeconds ?? 300) * 1000);
    const tokens = new OAuthTokenStore(
      credentials.serviceAccounts ?? [],
      opts.tokenTtlSeconds ?? 3600,
      opts.maxActiveTokensPerServiceAccount ?? 100
    );
    const rateLimit = opts.rateLimit ?? { capacity: 1200, refillPerMinute: 500 };
    const limiter = rateLimit === false ? undefined : new TokenBucketLimiter(rateLimit, clock);

    let onChange = (): void => {};
    const snapshotPlan = opts.snapshotPlan ?? DEFAULT_SNAPSHOT_PLAN;
    const ids = new IdGenerator(random);
    const state = new SimState(clock, ids, random, defaultPlan, snapshotPlan, () => onChange());
    if (persisted !== undefined) {
      state.load(persisted.state);
      tokens.restore(persisted.tokens);
    }
    const logLimit = opts.requestLogLimit ?? 100_000;
    const sim = new AtlasSimulator(state, clock, tokens, digest, limiter, logLimit, persisted);
    if (opts.stateFile !== undefined) {
      const writer = new StateFileWriter(opts.stateFile, () => sim.persistedFile());
      sim.writer = writer;
      onChange = () => writer.schedule();
    }
    const server = createServer((req, res) => {
      sim.onRequest(req, res).catch((err: unknown) => sim.failRequest(res, err));
    });
    sim.listening = await listen(server, { host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 });
    return sim;
  }

  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:40123`. */
  get url(): string {
    return this.listening?.url ?? '';
  }

  /** Stops listening, drops open connections, cancels pending delays and writes the state file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sleeps.cancelAll();
    this.state.alerts.close();
    this.writer?.flush();
    await this.listening?.close().catch(() => undefined);
  }

  // ---- behaviour ----

  /**
   * Sets the plan for export jobs created from now on. With `match`, adds a rule (the latest matching rule
   * wins; `plan` undefined removes the rules with exactly that match). Without `match`, replaces the default
   * plan; `plan` undefined restores the initial default and removes every rule.
   */
  setExportPlan(plan: ExportPlan | undefined, match?: PlanMatch): void {
    this.state.jobs.setPlan(plan, match);
  }

  /** Queues faults; each request consumes the first fault it matches. */
  injectFaults(...faults: Fault[]): void {
    this.faults.add(...faults);
  }

  /** Drops all queued faults. */
  clearFaults(): void {
    this.faults.clear();
  }

  /** Faults still queued. */
  pendingFaults(): { fault: Fault; remaining: number }[] {
    return this.faults.pending();
  }

  /** Changes the simulated time scale from now on; simulated time never jumps. */
  setTimeScale(scale: number): void {
    this.clock.setScale(scale);
  }

  /** Current simulated time. */
  simulatedNow(): Date {
    return new Date(this.clock.now());
  }

  /** Delivery faults of alert webhooks (delay in simulated ms, loss rate, extra copies); unset fields kept. */
  setWebhookFaults(faults: Partial<WebhookFaults>): void {
    const alerts = this.state.alerts;
    alerts.faults = { ...alerts.faults, ...faults };
  }

  // ---- observation ----

  /** Every alert webhook the simulator sent (or lost on purpose), oldest first. */
  get webhookDeliveries(): readonly WebhookDelivery[] {
    return this.state.alerts.deliveries;
  }

  /** Export jobs (optionally of one project) with their current simulated state, oldest first. */
  exportJobs(groupId?: string): ReadonlyArray<SimExportJob> {
    return this.state.jobs.views(groupId);
  }

  /** Peak concurrency of active export jobs and the number of rate-limited requests. */
  get stats(): SimStats {
    return this.state.stats;
  }

  /** Invalidates every OAuth token issued so far, as a revocation or an Atlas-side expiry would. */
  revokeAllTokens(): void {
    this.tokens.revokeAll();
  }

  /** Empties the request log. */
  resetLog(): void {
    this.requests.length = 0;
  }

  // ---- request handling ----

  private persistedFile(): PersistedFile {
    const file: PersistedFile = { version: 1, state: this.state.toData(), tokens: this.tokens.export() };
    if (this.lastDefaultFixtures !== undefined) file.defaultFixtures = this.lastDefaultFixtures;
    return file;
  }

  private failRequest(res: ServerResponse, err: unknown): void {
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const detail = err instanceof Error ? err.message : String(err);
    writeOutgoing(res, undefined, errorOutgoing(new SimApiError(500, 'UNEXPECTED_ERROR', detail)));
  }

  /** Control routes, the OAuth endpoints, or the Atlas API (each through its stages); 404 otherwise. */
  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    const path = url.pathname;
    let rawBody: string;
    try {
      rawBody = await readBody(req);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        const tooLarge = new SimApiError(413, 'REQUEST_TOO_LARGE', 'Request body too large.');
        writeOutgoing(res, undefined, errorOutgoing(tooLarge));
      } else {
        res.destroy();
      }
      return;
    }
    if (path === '/__sim' || path.startsWith('/__sim/')) {
      const { status, body } = handleControl(this, method, path, url.searchParams, rawBody);
      const headers: Record<string, string> = body === undefined ? {} : { 'Content-Type': 'application/json' };
      return writeOutgoing(res, undefined, { status, headers, body });
    }
    const entry = this.log(method, path, url);
    const r: SimRequest = {
      req,
      res,
      entry,
      url,
      rawBody,
      match: undefined,
      version: '2023-01-01',
      rateLimit: undefined,
    };
    if (path === '/api/oauth/token' && method === 'POST') {
      entry.operation = 'oauthToken';
      const grantType = new URLSearchParams(rawBody).get('grant_type');
      if (grantType !== null) entry.body = { grant_type: grantType };
      return this.answer(r, this.tokenPath);
    }
    if (path === '/api/oauth/revoke' && method === 'POST') {
      const token = new URLSearchParams(rawBody).get('token');
      if (token !== null) this.tokens.revoke(token);
      return writeOutgoing(res, entry, { status: 200, headers: { 'Content-Type': 'application/json' }, body: {} });
    }
    if (path === API_PREFIX || path.startsWith(`${API_PREFIX}/`)) {
      const groupId = groupIdFromPath(path);
      if (groupId !== undefined) entry.groupId = groupId;
      r.match = matchRoute(method, path);
      if (r.match !== undefined) entry.operation = r.match.route.operation;
      entry.body = parseLoggedBody(rawBody);
      return this.answer(r, this.atlasPath);
    }
    writeOutgoing(res, entry, errorOutgoing(notFound(method, path)));
  }

  private async answer(r: SimRequest, path: (r: SimRequest) => Promise<Reply>): Promise<void> {
    const reply = await path(r);
    if (reply !== WRITTEN) writeOutgoing(r.res, r.entry, reply);
  }

  private log(method: string, path: string, url: URL): RequestLogEntry {
    const entry: RequestLogEntry = {
      at: new Date(),
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      operation: 'unknown',
      status: 0,
      auth: 'none',
    };
    this.requests.push(entry);
    if (this.requests.length > this.requestLogLimit * 1.1) {
      this.requests.splice(0, this.requests.length - this.requestLogLimit);
    }
    return entry;
  }
}
