import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { groupIdFromPath, matchRoute, type HandlerResult } from './atlas-api';
import { DigestAuthenticator, OAuthTokenStore, parseAuthorization, type TokenGrant } from './auth';
import { SimClock } from './clock';
import { handleControl, type SimulatorControl } from './control';
import { apiErrorBody, defaultErrorCode, INVENTED_ERROR_CODES, SimApiError } from './errors';
import { driftBody, emptyListBody, faultLabel, FaultQueue, patchBody, truncateJson, unknownStateBody } from './faults';
import { checkContentType, negotiateVersion, versionedMediaType } from './media-type';
import { readStateFile, StateFileWriter, type PersistedFile } from './persistence';
import { IdGenerator, SeededRandom } from './random';
import { TokenBucketLimiter, type RateLimitDecision } from './rate-limit';
import {
  daysMs,
  DEFAULT_EXPORT_PLAN,
  DEFAULT_SNAPSHOT_PLAN,
  SimState,
  validatePlan,
  type FixedExportJobOptions,
} from './state';
import {
  type ClusterOptions,
  type DefaultFixtures,
  type ExportPlan,
  type Fault,
  type PlanMatch,
  type RequestLogEntry,
  type SimExportJob,
  type SimStats,
  type SimulatorCredentials,
  type SimulatorOptions,
  type SnapshotOptions,
} from './types';

/** Credentials accepted when {@link SimulatorOptions.credentials} is not given (development values). */
export const DEV_CREDENTIALS: Required<SimulatorCredentials> = {
  apiKeys: [{ publicKey: 'simpublickey', privateKey: 'sim-private-key-0000-0000-000000000000' }],
  serviceAccounts: [{ clientId: 'mdb_sa_id_simulator', clientSecret: 'mdb_sa_sk_simulator_secret' }],
};

const MAX_BODY_BYTES = 1 << 20;
const API_PREFIX = '/api/atlas/v2';

/** A response about to be written. */
interface Outgoing {
  status: number;
  headers: Record<string, string | string[]>;
  body?: unknown;
}

function errorOutgoing(err: SimApiError): Outgoing {
  return {
    status: err.status,
    headers: { 'Content-Type': 'application/json', ...err.extra.headers },
    body: err.toBody(),
  };
}

class BodyTooLargeError extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLargeError());
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseLoggedBody(raw: string): unknown {
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/**
 * A loopback HTTP server that simulates the parts of the MongoDB Atlas Admin API v2 used to export backup
 * snapshots: digest and OAuth authentication, versioned media types, per-project rate limiting, export jobs
 * and snapshots with lifecycles on a simulated clock, injectable faults, a request log, and a control API
 * under `/__sim/`.
 */
export class AtlasSimulator implements SimulatorControl {
  /** Every request to the Atlas and OAuth endpoints, in arrival order (control routes excluded). */
  readonly requests: RequestLogEntry[] = [];
  private readonly faults = new FaultQueue();
  private readonly pendingSleeps = new Map<NodeJS.Timeout, (completed: boolean) => void>();
  private closed = false;
  private lastDefaultFixtures: DefaultFixtures | undefined;
  private writer: StateFileWriter | undefined;

  private constructor(
    private readonly server: Server,
    private readonly clock: SimClock,
    private readonly state: SimState,
    private readonly digest: DigestAuthenticator,
    private readonly tokens: OAuthTokenStore,
    private readonly limiter: TokenBucketLimiter | undefined,
    private readonly requestLogLimit: number,
    private urlValue: string
  ) {}

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
    const state = new SimState(
      clock,
      new IdGenerator(random),
      random,
      defaultPlan,
      opts.snapshotPlan ?? DEFAULT_SNAPSHOT_PLAN,
      () => onChange()
    );
    if (persisted !== undefined) {
      state.load(persisted.state);
      tokens.restore(persisted.tokens);
    }

    const server = createServer();
    const sim = new AtlasSimulator(server, clock, state, digest, tokens, limiter, opts.requestLogLimit ?? 100_000, '');
    sim.lastDefaultFixtures = persisted?.defaultFixtures;
    if (opts.stateFile !== undefined) {
      const writer = new StateFileWriter(opts.stateFile, () => sim.persistedFile());
      sim.writer = writer;
      onChange = () => writer.schedule();
    }
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      sim.onRequest(req, res).catch((err: unknown) => sim.failRequest(res, err));
    });

    const host = opts.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    sim.urlValue = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return sim;
  }

  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:40123`. */
  get url(): string {
    return this.urlValue;
  }

  /** Stops listening, drops open connections, cancels pending delays and writes the state file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [timer, resolve] of this.pendingSleeps) {
      clearTimeout(timer);
      resolve(false);
    }
    this.pendingSleeps.clear();
    this.writer?.flush();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // ---- fixtures ----

  /** Adds a project; returns its groupId (generated unless given). */
  addProject(groupId?: string): string {
    return this.state.addProject(groupId);
  }

  /** Adds a replica set (default) or a sharded cluster with `shards` shards plus a config server. */
  addCluster(groupId: string, name: string, opts?: ClusterOptions): void {
    this.state.addCluster(groupId, name, opts);
  }

  /** Adds a snapshot with a fixed status (default `completed`); returns its id. */
  addSnapshot(groupId: string, clusterName: string, opts?: SnapshotOptions): string {
    return this.state.addSnapshot(groupId, clusterName, opts);
  }

  /**
   * Adds an export job with fixed durations created at `createdAt` (e.g. a cluster's past exports, which the
   * list of export jobs then shows with `createdAt` and `finishedAt`); returns its id.
   */
  addExportJob(
    groupId: string,
    clusterName: string,
    opts: Omit<FixedExportJobOptions, 'createdAt'> & { createdAt: Date }
  ): string {
    return this.state.addExportJob(groupId, clusterName, { ...opts, createdAt: opts.createdAt.getTime() });
  }

  /** Adds an AWS export bucket; returns its id. */
  addExportBucket(groupId: string, opts?: { bucketName?: string }): string {
    return this.state.addExportBucket(groupId, opts);
  }

  /**
   * Adds a project with a replica set `Cluster0` (8 collections, three completed daily snapshots), a sharded
   * cluster `ShardedCluster0` (2 shards and a config server, 12 collections, two completed snapshots) and one
   * export bucket. The returned snapshot ids are the newest of each cluster.
   */
  seedDefault(): DefaultFixtures {
    const groupId = this.addProject();
    const now = this.clock.now();
    const clusterName = 'Cluster0';
    const shardedClusterName = 'ShardedCluster0';
    this.addCluster(groupId, clusterName, { totalCollections: 8 });
    let snapshotId = '';
    for (const daysAgo of [3, 2, 1]) {
      snapshotId = this.addSnapshot(groupId, clusterName, { createdAt: new Date(now - daysMs(daysAgo)) });
    }
    this.addCluster(groupId, shardedClusterName, { shards: 2, totalCollections: 12 });
    let shardedSnapshotId = '';
    for (const daysAgo of [2, 1]) {
      shardedSnapshotId = this.addSnapshot(groupId, shardedClusterName, { createdAt: new Date(now - daysMs(daysAgo)) });
    }
    const exportBucketId = this.addExportBucket(groupId, { bucketName: 'atlas-export-sim' });
    const fixtures = { groupId, clusterName, shardedClusterName, snapshotId, shardedSnapshotId, exportBucketId };
    this.lastDefaultFixtures = fixtures;
    this.writer?.schedule();
    return { ...fixtures };
  }

  /** The fixtures of the latest {@link seedDefault}, also after a restart from a state file. */
  get defaultFixtures(): DefaultFixtures | undefined {
    return this.lastDefaultFixtures === undefined ? undefined : { ...this.lastDefaultFixtures };
  }

  // ---- behaviour ----

  /**
   * Sets the plan for export jobs created from now on. With `match`, adds a rule (the latest matching rule
   * wins; `plan` undefined removes the rules with exactly that match). Without `match`, replaces the default
   * plan; `plan` undefined restores the initial default and removes every rule.
   */
  setExportPlan(plan: ExportPlan | undefined, match?: PlanMatch): void {
    this.state.setExportPlan(plan, match);
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

  // ---- observation ----

  /** Export jobs (optionally of one project) with their current simulated state, oldest first. */
  exportJobs(groupId?: string): ReadonlyArray<SimExportJob> {
    return this.state.simJobs(groupId);
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
    this.write(res, undefined, errorOutgoing(new SimApiError(500, 'UNEXPECTED_ERROR', detail)));
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const target = req.url ?? '/';
    const url = new URL(target, 'http://simulator.invalid');
    const path = url.pathname;

    let rawBody: string;
    try {
      rawBody = await readBody(req);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        this.write(res, undefined, errorOutgoing(new SimApiError(413, 'REQUEST_TOO_LARGE', 'Request body too large.')));
      } else {
        res.destroy();
      }
      return;
    }

    if (path === '/__sim' || path.startsWith('/__sim/')) {
      const response = handleControl(this, method, path, url.searchParams, rawBody);
      this.write(res, undefined, {
        status: response.status,
        headers: response.body === undefined ? {} : { 'Content-Type': 'application/json' },
        body: response.body,
      });
      return;
    }

    const entry: RequestLogEntry = {
      at: new Date(),
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      operation: 'unknown',
      status: 0,
      auth: 'none',
    };
    this.log(entry);

    if (path === '/api/oauth/token' && method === 'POST') {
      entry.operation = 'oauthToken';
      const form = new URLSearchParams(rawBody);
      const grantType = form.get('grant_type');
      if (grantType !== null) entry.body = { grant_type: grantType };
      await this.serve(res, entry, () => this.tokenResponse(req, form, entry));
      return;
    }
    if (path === '/api/oauth/revoke' && method === 'POST') {
      const token = new URLSearchParams(rawBody).get('token');
      if (token !== null) this.tokens.revoke(token);
      this.write(res, entry, { status: 200, headers: { 'Content-Type': 'application/json' }, body: {} });
      return;
    }
    if (path === API_PREFIX || path.startsWith(`${API_PREFIX}/`)) {
      await this.serveAtlas(req, res, entry, url, rawBody);
      return;
    }
    this.write(res, entry, errorOutgoing(notFound(method, path)));
  }

  private async serveAtlas(
    req: IncomingMessage,
    res: ServerResponse,
    entry: RequestLogEntry,
    url: URL,
    rawBody: string
  ): Promise<void> {
    const path = url.pathname;
    const groupId = groupIdFromPath(path);
    if (groupId !== undefined) entry.groupId = groupId;
    const match = matchRoute(entry.method, path);
    if (match !== undefined) entry.operation = match.route.operation;
    entry.body = parseLoggedBody(rawBody);

    const denied = this.authenticate(req, entry);
    if (denied !== undefined) {
      this.write(res, entry, denied);
      return;
    }

    let version = '2023-01-01';
    if (match !== undefined) {
      try {
        version = negotiateVersion(req.headers.accept, match.route.versions);
      } catch (err) {
        if (!(err instanceof SimApiError)) throw err;
        this.write(res, entry, errorOutgoing(err));
        return;
      }
    }

    let decision: RateLimitDecision | undefined;
    if (this.limiter !== undefined) {
      decision = this.limiter.take(groupId ?? '');
      if (!decision.allowed) {
        this.state.countRateLimited();
        this.write(res, entry, this.rateLimited(path, decision.retryAfterSeconds));
        return;
      }
    }

    await this.serve(
      res,
      entry,
      () => {
        if (match === undefined) throw notFound(entry.method, path);
        if (match.error !== undefined) throw match.error;
        if (match.route.hasBody && rawBody.trim() !== '') {
          checkContentType(req.headers['content-type'], match.route.versions);
        }
        const baseUrl = `http://${req.headers.host ?? new URL(this.url).host}`;
        const result: HandlerResult = match.route.handle({
          params: match.params,
          query: url.searchParams,
          rawBody,
          baseUrl,
          selfUrl: new URL(req.url ?? path, baseUrl),
          state: this.state,
        });
        const headers: Record<string, string> = { 'Content-Type': versionedMediaType(version) };
        if (decision?.allowed === true) {
          headers['RateLimit-Limit'] = String(decision.limit);
          headers['RateLimit-Remaining'] = String(decision.remaining);
        }
        return { status: result.status, headers, body: result.body };
      },
      version
    );
  }

  /** Runs `produce` under the first matching fault, if any, and writes the outcome. */
  private async serve(
    res: ServerResponse,
    entry: RequestLogEntry,
    produce: () => Outgoing,
    version = '2023-01-01'
  ): Promise<void> {
    const run = (): Outgoing => {
      try {
        return produce();
      } catch (err) {
        if (err instanceof SimApiError) return errorOutgoing(err);
        throw err;
      }
    };
    const fault = this.faults.take({ operation: entry.operation, method: entry.method, path: entry.path });
    if (fault === undefined) {
      this.write(res, entry, run());
      return;
    }
    entry.faultInjected = faultLabel(fault);
    switch (fault.kind) {
      case 'status': {
        if (fault.afterHandling === true) run();
        const status = fault.status ?? 500;
        const headers: Record<string, string | string[]> = { 'Content-Type': 'application/json' };
        if (fault.retryAfterSeconds !== undefined) headers['Retry-After'] = String(fault.retryAfterSeconds);
        if (fault.retryAfter !== undefined) headers['Retry-After'] = fault.retryAfter;
        const detail = fault.detail ?? `Injected fault: HTTP ${status}.`;
        this.write(res, entry, {
          status,
          headers,
          body: apiErrorBody(status, fault.errorCode ?? defaultErrorCode(status), detail),
        });
        return;
      }
      case 'reset':
        if (fault.afterHandling === true) run();
        entry.status = 0;
        res.socket?.destroy();
        res.destroy();
        return;
      case 'delay':
        if (!(await this.sleep(fault.delayMs ?? 1000))) {
          res.destroy();
          return;
        }
        this.write(res, entry, run());
        return;
      case 'malformed': {
        const out = run();
        const text = truncateJson(JSON.stringify(out.body ?? {}));
        this.writeRaw(res, entry, out.status, out.headers, text);
        return;
      }
      case 'schemaDrift':
      case 'unknownState':
      case 'patchBody':
      case 'emptyList': {
        const out = run();
        if (out.status >= 200 && out.status < 300) {
          out.body =
            fault.kind === 'schemaDrift'
              ? driftBody(out.body)
              : fault.kind === 'unknownState'
                ? unknownStateBody(out.body)
                : fault.kind === 'patchBody'
                  ? patchBody(out.body, fault)
                  : emptyListBody(out.body);
        }
        this.write(res, entry, out);
        return;
      }
      case 'replaceBody': {
        const status = fault.status ?? 200;
        this.write(res, entry, {
          status,
          headers: { 'Content-Type': status < 400 ? versionedMediaType(version) : 'application/json' },
          body: fault.body,
        });
        return;
      }
      case 'slowBody': {
        const out = run();
        const text = out.body === undefined ? '' : JSON.stringify(out.body);
        const half = Math.floor(text.length / 2);
        entry.status = out.status;
        res.writeHead(out.status, { ...out.headers, 'Content-Length': String(Buffer.byteLength(text)) });
        res.write(text.slice(0, half));
        if (await this.sleep(fault.delayMs ?? 1000)) res.end(text.slice(half));
        else res.destroy();
        return;
      }
    }
  }

  private authenticate(req: IncomingMessage, entry: RequestLogEntry): Outgoing | undefined {
    const auth = parseAuthorization(req.headers.authorization);
    switch (auth.scheme) {
      case 'digest': {
        entry.auth = 'digest';
        const result = this.digest.verify(auth.params, entry.method, req.url ?? '/');
        return result.ok ? undefined : this.digestChallenge(result.stale);
      }
      case 'bearer':
        entry.auth = 'bearer';
        if (this.tokens.validate(auth.token)) return undefined;
        return {
          status: 401,
          headers: { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Bearer error="invalid_token"' },
          body: apiErrorBody(401, INVENTED_ERROR_CODES.invalidAccessToken, 'Invalid or expired access token.'),
        };
      case 'basic':
        entry.auth = 'basic';
        return this.digestChallenge(false);
      default:
        return this.digestChallenge(false);
    }
  }

  private digestChallenge(stale: boolean): Outgoing {
    return {
      status: 401,
      headers: { 'Content-Type': 'application/json', 'WWW-Authenticate': this.digest.challenge(stale) },
      body: apiErrorBody(401, 'UNEXPECTED_ERROR', 'You are not authorized for this resource.'),
    };
  }

  private tokenResponse(req: IncomingMessage, form: URLSearchParams, entry: RequestLogEntry): Outgoing {
    const auth = parseAuthorization(req.headers.authorization);
    const grantType = form.get('grant_type') ?? undefined;
    let grant: TokenGrant;
    if (auth.scheme === 'basic') {
      entry.auth = 'basic';
      const user = decodeFormComponent(auth.user);
      const password = decodeFormComponent(auth.password);
      const encoded = user !== auth.user || password !== auth.password;
      grant = this.tokens.grant(auth.user, auth.password, grantType);
      if (!grant.ok && grant.error === 'invalid_client' && encoded)
        grant = this.tokens.grant(user, password, grantType);
    } else {
      grant = this.tokens.grant(form.get('client_id') ?? undefined, form.get('client_secret') ?? undefined, grantType);
    }
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };
    if (!grant.ok) {
      if (grant.status === 401) headers['WWW-Authenticate'] = 'Basic realm="oauth"';
      return { status: grant.status, headers, body: { error: grant.error, error_description: grant.description } };
    }
    this.writer?.schedule();
    return {
      status: 200,
      headers,
      body: { access_token: grant.token.token, expires_in: grant.expiresInSeconds, token_type: 'Bearer' },
    };
  }

  private rateLimited(path: string, retryAfterSeconds: number): Outgoing {
    const limiter = this.limiter as TokenBucketLimiter;
    const { capacity, refillPerMinute } = limiter.config;
    const detail =
      `Please retry after ${retryAfterSeconds} seconds. ` +
      `Request capacity: ${capacity}. Refill rate: ${refillPerMinute} per 60 seconds.`;
    return {
      status: 429,
      headers: {
        'Content-Type': 'application/json',
        'Retry-After': String(retryAfterSeconds),
        'RateLimit-Limit': String(capacity),
        'RateLimit-Remaining': '0',
      },
      body: apiErrorBody(429, 'RATE_LIMITED_TOKEN_BUCKET', detail, [
        { path, retryAfterSec: retryAfterSeconds, capacity, refillRate: refillPerMinute, refillSeconds: 60 },
      ]),
    };
  }

  private write(res: ServerResponse, entry: RequestLogEntry | undefined, out: Outgoing): void {
    const text = out.body === undefined ? '' : JSON.stringify(out.body);
    this.writeRaw(res, entry, out.status, out.headers, text);
  }

  private writeRaw(
    res: ServerResponse,
    entry: RequestLogEntry | undefined,
    status: number,
    headers: Record<string, string | string[]>,
    text: string
  ): void {
    if (entry !== undefined) entry.status = status;
    if (res.destroyed) return;
    res.writeHead(status, { ...headers, 'Content-Length': String(Buffer.byteLength(text)) });
    res.end(text);
  }

  private log(entry: RequestLogEntry): void {
    this.requests.push(entry);
    if (this.requests.length > this.requestLogLimit * 1.1) {
      this.requests.splice(0, this.requests.length - this.requestLogLimit);
    }
  }

  /** Resolves true after `ms` real ms, or false as soon as the simulator closes. */
  private sleep(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pendingSleeps.delete(timer);
        resolve(true);
      }, ms);
      this.pendingSleeps.set(timer, resolve);
    });
  }
}

function notFound(method: string, path: string): SimApiError {
  return new SimApiError(404, 'RESOURCE_NOT_FOUND', `Cannot find resource ${method} ${path}.`);
}

function decodeFormComponent(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}
