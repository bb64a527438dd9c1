import { createHash, randomBytes } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { request, type Dispatcher } from 'undici';
import { readLimitedText } from './body';
import {
  AtlasNetworkError,
  AtlasResponseTooLargeError,
  AtlasResponseValidationError,
  AtlasTokenError,
  parseRetryAfter,
} from './errors';
import { oauthTokenSchema } from './schemas';

/** Atlas credentials. Only ever held by the worker process, in the Atlas client's closure. */
export type AtlasCredentials =
  | { mode: 'service-account'; clientId: string; clientSecret: string }
  | { mode: 'api-key'; publicKey: string; privateKey: string };

/** What the client asks of an auth scheme for one request. */
export interface RequestTarget {
  method: string;
  /** The request-target: path plus query, as sent on the wire. */
  uri: string;
}

/** One authentication scheme. Implementations never expose the secret they hold. */
export interface AtlasAuthenticator {
  readonly mode: AtlasCredentials['mode'];
  /** The `Authorization` header for this request, or `undefined` to send without (and expect a challenge). */
  authorization(target: RequestTarget, signal: AbortSignal): Promise<string | undefined>;
  /**
   * Called when Atlas answered 401. Returns true when new credentials were obtained and the request is
   * worth sending once more (a digest challenge, a stale nonce, an expired bearer token).
   */
  refreshAfterUnauthorized(
    wwwAuthenticate: string | undefined,
    usedAuthorization: string | undefined
  ): Promise<boolean>;
}

/** What an auth scheme that calls Atlas itself (the OAuth token endpoint) shares with the client. */
export interface AuthDeps {
  baseUrl: string;
  dispatcher: Dispatcher;
  timeoutMs: number;
  userAgent: string;
  /** The largest token response read; see `AtlasClientOptions.maxResponseBytes`. */
  maxResponseBytes: number;
}

export function createAuthenticator(credentials: AtlasCredentials, deps: AuthDeps): AtlasAuthenticator {
  return credentials.mode === 'api-key'
    ? new DigestAuthenticator(credentials.publicKey, credentials.privateKey)
    : new ServiceAccountAuthenticator(credentials.clientId, credentials.clientSecret, deps);
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque: string | undefined;
  algorithm: string;
  qop: string | undefined;
  stale: boolean;
}

/** Parses a `WWW-Authenticate: Digest …` header; undefined when it is not a digest challenge. */
export function parseDigestChallenge(header: string | undefined): DigestChallenge | undefined {
  if (!header || !/^\s*Digest\s/i.test(header)) return undefined;
  const params = new Map<string, string>();
  const re = /([a-zA-Z]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (const m of header.replace(/^\s*Digest\s+/i, '').matchAll(re)) {
    params.set(m[1]!.toLowerCase(), (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1'));
  }
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  if (realm === undefined || !nonce) return undefined;
  return {
    realm,
    nonce,
    opaque: params.get('opaque'),
    algorithm: params.get('algorithm') ?? 'MD5',
    qop: params.get('qop'),
    stale: (params.get('stale') ?? '').toLowerCase() === 'true',
  };
}

/**
 * HTTP Digest (RFC 7616, MD5, qop=auth), as Atlas challenges for API keys. The last challenge is reused
 * with an increasing nonce count, so a steady stream of requests costs one round trip each, not two.
 */
class DigestAuthenticator implements AtlasAuthenticator {
  readonly mode = 'api-key' as const;
  private challenge: DigestChallenge | undefined;
  private nonceCount = 0;

  constructor(
    private readonly username: string,
    private readonly password: string
  ) {}

  authorization(target: RequestTarget): Promise<string | undefined> {
    const c = this.challenge;
    if (!c) return Promise.resolve(undefined);
    if (!/^MD5$/i.test(c.algorithm)) {
      throw new Error(`Atlas asked for digest algorithm ${c.algorithm}; only MD5 is supported`);
    }
    this.nonceCount += 1;
    const nc = this.nonceCount.toString(16).padStart(8, '0');
    const cnonce = randomBytes(8).toString('hex');
    const ha1 = md5(`${this.username}:${c.realm}:${this.password}`);
    const ha2 = md5(`${target.method}:${target.uri}`);
    const qop = c.qop
      ?.split(',')
      .map((q) => q.trim())
      .includes('auth')
      ? 'auth'
      : undefined;
    const response = qop ? md5(`${ha1}:${c.nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : md5(`${ha1}:${c.nonce}:${ha2}`);
    const parts = [
      `username="${this.username}"`,
      `realm="${c.realm}"`,
      `nonce="${c.nonce}"`,
      `uri="${target.uri}"`,
      `algorithm=MD5`,
      `response="${response}"`,
    ];
    if (qop) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce="${cnonce}"`);
    if (c.opaque !== undefined) parts.push(`opaque="${c.opaque}"`);
    return Promise.resolve(`Digest ${parts.join(', ')}`);
  }

  refreshAfterUnauthorized(
    wwwAuthenticate: string | undefined,
    usedAuthorization: string | undefined
  ): Promise<boolean> {
    const hadAuthorization = usedAuthorization !== undefined;
    const challenge = parseDigestChallenge(wwwAuthenticate);
    if (!challenge) return Promise.resolve(false);
    const previous = this.challenge;
    this.challenge = challenge;
    // A nonce count must never repeat for one nonce; start over only with a new nonce.
    if (previous?.nonce !== challenge.nonce) this.nonceCount = 0;
    // Retry when we had not answered a challenge yet, when the nonce went stale, or when Atlas issued a
    // different nonce than the one we answered (it expired). A rejected answer to a fresh nonce is final.
    const retry = !hadAuthorization || challenge.stale || previous?.nonce !== challenge.nonce;
    return Promise.resolve(retry);
  }
}

/**
 * Service Account: OAuth 2.0 client credentials at `/api/oauth/token`. One token per process, reused
 * until shortly before `expires_in` (Atlas caps active tokens per account), refreshed once on a 401.
 */
class ServiceAccountAuthenticator implements AtlasAuthenticator {
  readonly mode = 'service-account' as const;
  private token: { value: string; refreshAt: number } | undefined;
  private inflight: Promise<string> | undefined;

  constructor(
    private readonly clientId: string,
    private readonly clientSecret: string,
    private readonly deps: AuthDeps
  ) {}

  async authorization(_target: RequestTarget, _signal: AbortSignal): Promise<string> {
    if (this.token && Date.now() < this.token.refreshAt) return `Bearer ${this.token.value}`;
    // The shared fetch has its own timeout, so one caller's cancellation does not fail the others.
    this.inflight ??= this.fetchToken(AbortSignal.timeout(this.deps.timeoutMs)).finally(() => {
      this.inflight = undefined;
    });
    return `Bearer ${await this.inflight}`;
  }

  refreshAfterUnauthorized(
    _wwwAuthenticate: string | undefined,
    usedAuthorization: string | undefined
  ): Promise<boolean> {
    // Drop the token only if it is the one Atlas refused (a concurrent request may have replaced it already),
    // and let the caller retry once; the single-flight fetch gives all of them one new token.
    if (this.token && usedAuthorization === `Bearer ${this.token.value}`) this.token = undefined;
    return Promise.resolve(true);
  }

  /**
   * What the token endpoint said when it refused: an `ApiError`'s `errorCode` and `detail`/`reason`, an OAuth error's
   * `error` and `error_description`, else the HTTP reason phrase (a wrong ATLAS_BASE_URL often answers an HTML
   * page). Cut to 300 characters, with the secret blanked out should a server ever echo it.
   */
  private refusal(json: unknown, status: number, statusText: string): { errorCode?: string; detail: string } {
    const body = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
    const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
    const errorCode = text(body.errorCode) ?? text(body.error);
    const reason =
      text(body.detail) ??
      text(body.error_description) ??
      text(body.reason) ??
      (text(statusText) || STATUS_CODES[status] || 'no reason given');
    const detail = reason.split(this.clientSecret).join('[redacted]').slice(0, 300);
    return errorCode === undefined ? { detail } : { errorCode, detail };
  }

  private async fetchToken(signal: AbortSignal): Promise<string> {
    const ref = { method: 'POST', path: '/api/oauth/token' };
    const basic = basicCredentials(this.clientId, this.clientSecret);
    let res: Dispatcher.ResponseData;
    let text: string;
    try {
      res = await request(new URL(ref.path, this.deps.baseUrl), {
        method: 'POST',
        dispatcher: this.deps.dispatcher,
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          'user-agent': this.deps.userAgent,
        },
        body: 'grant_type=client_credentials',
        headersTimeout: this.deps.timeoutMs,
        bodyTimeout: this.deps.timeoutMs,
        signal,
      });
      text = await readLimitedText(res, this.deps.maxResponseBytes, ref);
    } catch (err) {
      if (err instanceof AtlasResponseTooLargeError) throw err;
      throw new AtlasNetworkError(ref, err);
    }
    const json = safeJson(text);
    if (res.statusCode < 200 || res.statusCode >= 300) {
      throw new AtlasTokenError(
        new URL(ref.path, this.deps.baseUrl),
        res.statusCode,
        this.refusal(json, res.statusCode, res.statusText),
        parseRetryAfter(res.headers['retry-after'])
      );
    }
    const parsed = oauthTokenSchema.safeParse(json);
    if (!parsed.success) throw new AtlasResponseValidationError(ref, res.statusCode, parsed.error.issues);
    const ttlMs = parsed.data.expires_in * 1000;
    // Refresh a minute early, or at 90 % of a short lifetime.
    this.token = { value: parsed.data.access_token, refreshAt: Date.now() + Math.max(ttlMs - 60_000, ttlMs * 0.9) };
    return parsed.data.access_token;
  }
}

/** The value of the token request's `Authorization: Basic …` header: as secret as the client secret it encodes. */
export function basicCredentials(clientId: string, clientSecret: string): string {
  return Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
}

export function safeJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
