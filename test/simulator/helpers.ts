import { createHash, randomBytes } from 'node:crypto';
import { type AtlasSimulator } from '../../src/simulator';

export const VERSION_HEADER = 'application/vnd.atlas.2023-01-01+json';
export const TEST_KEY = { publicKey: 'testpublic', privateKey: 'test-private-key' };
export const TEST_ACCOUNT = { clientId: 'mdb_sa_id_test', clientSecret: 'mdb_sa_sk_test' };
export const TEST_CREDENTIALS = { apiKeys: [TEST_KEY], serviceAccounts: [TEST_ACCOUNT] };

export type Auth = { digest: { user: string; password: string } } | { bearer: string } | { header: string } | 'none';

/** Response of {@link api}; `json` is the parsed body, typed by the caller (unchecked). */
export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  text: string;
  json: T;
}

export interface ErrorBody {
  error: number;
  errorCode: string;
  detail?: string | null;
  reason?: string | null;
  parameters?: Record<string, unknown>[];
  badRequestDetail?: { fields: { field: string; description: string }[] };
}

export interface LinkBody {
  rel: string;
  href: string;
}

export interface JobBody {
  id: string;
  snapshotId: string;
  exportBucketId: string;
  state: string;
  createdAt: string;
  finishedAt?: string;
  prefix: string;
  customData: { key?: string; value?: string }[];
  exportStatus?: { exportedCollections: number; totalCollections: number };
  components?: { exportId: string; replicaSetName: string }[];
  stateReason?: { errorCode: string; message: string };
  links: LinkBody[];
}

export interface SnapshotBody {
  id: string;
  status: string;
  snapshotType: string;
  frequencyType: string;
  type: string;
  createdAt?: string;
  expiresAt?: string;
  cloudProvider?: string;
  replicaSetName?: string;
  description?: string;
  members?: { id: string; replicaSetName: string; cloudProvider: string }[];
}

export interface BucketBody {
  _id: string;
  bucketName: string;
  cloudProvider: string;
  iamRoleId: string;
  region: string;
}

export interface PageOf<T> {
  results: T[];
  totalCount?: number;
  links: LinkBody[];
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  auth?: Auth;
  accept?: string | null;
  contentType?: string | null;
}

function md5(value: string): string {
  return createHash('md5').update(value).digest('hex');
}

/** Parses a `WWW-Authenticate: Digest ...` challenge. */
export function parseChallenge(header: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const m of header.replace(/^Digest\s+/i, '').matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) {
    params[(m[1] ?? '').toLowerCase()] = m[2] ?? m[3] ?? '';
  }
  return params;
}

/** The `Authorization` header answering a digest challenge. */
export function digestHeader(
  challenge: Record<string, string>,
  user: string,
  password: string,
  method: string,
  uri: string,
  nc = 1
): string {
  const realm = challenge.realm ?? '';
  const nonce = challenge.nonce ?? '';
  const ncHex = nc.toString(16).padStart(8, '0');
  const cnonce = randomBytes(8).toString('hex');
  const ha1 = md5(`${user}:${realm}:${password}`);
  const ha2 = md5(`${method}:${uri}`);
  const response = md5(`${ha1}:${nonce}:${ncHex}:${cnonce}:auth:${ha2}`);
  return (
    `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", algorithm=MD5, ` +
    `response="${response}", qop=auth, nc=${ncHex}, cnonce="${cnonce}"`
  );
}

async function toResponse<T>(res: Response): Promise<ApiResponse<T>> {
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json: json as T };
}

function buildHeaders(opts: RequestOptions, authorization?: string): Record<string, string> {
  const headers: Record<string, string> = {};
  if (opts.accept !== null) headers.Accept = opts.accept ?? VERSION_HEADER;
  if (opts.body !== undefined && opts.contentType !== null) {
    headers['Content-Type'] = opts.contentType ?? VERSION_HEADER;
  }
  if (authorization !== undefined) headers.Authorization = authorization;
  return headers;
}

/**
 * Calls the simulator. Digest auth performs the challenge round trip (two requests); the default auth is
 * digest with {@link TEST_KEY}.
 */
export async function api<T = ErrorBody>(
  sim: AtlasSimulator | string,
  path: string,
  opts: RequestOptions = {}
): Promise<ApiResponse<T>> {
  const base = typeof sim === 'string' ? sim : sim.url;
  const method = opts.method ?? (opts.body === undefined ? 'GET' : 'POST');
  const body =
    opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const auth = opts.auth ?? { digest: { user: TEST_KEY.publicKey, password: TEST_KEY.privateKey } };
  const send = (authorization?: string): Promise<Response> =>
    fetch(base + path, { method, headers: buildHeaders(opts, authorization), body });

  if (auth === 'none') return toResponse<T>(await send());
  if ('header' in auth) return toResponse<T>(await send(auth.header));
  if ('bearer' in auth) return toResponse<T>(await send(`Bearer ${auth.bearer}`));
  const first = await send();
  if (first.status !== 401) return toResponse<T>(first);
  await first.text();
  const challenge = parseChallenge(first.headers.get('www-authenticate') ?? '');
  return toResponse<T>(await send(digestHeader(challenge, auth.digest.user, auth.digest.password, method, path)));
}

/** Gets an OAuth token for {@link TEST_ACCOUNT}. */
export async function oauthToken(sim: AtlasSimulator): Promise<string> {
  const res = await fetch(`${sim.url}/api/oauth/token`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${TEST_ACCOUNT.clientId}:${TEST_ACCOUNT.clientSecret}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  const json = (await res.json()) as { access_token: string };
  if (res.status !== 200) throw new Error(`token request failed with ${res.status}`);
  return json.access_token;
}

/** Polls `read` until `done` holds, at most `attempts` times `intervalMs` apart. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  { attempts = 200, intervalMs = 25 } = {}
): Promise<T[]> {
  const seen: T[] = [];
  for (let i = 0; i < attempts; i++) {
    const value = await read();
    seen.push(value);
    if (done(value)) return seen;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`condition not reached after ${attempts} attempts; last value: ${JSON.stringify(seen.at(-1))}`);
}

/** Path of the exports collection of a cluster. */
export function exportsPath(groupId: string, clusterName: string): string {
  return `/api/atlas/v2/groups/${groupId}/clusters/${clusterName}/backup/exports`;
}
