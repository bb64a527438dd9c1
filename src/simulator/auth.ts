import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Realm Atlas uses in its digest challenge. */
export const DIGEST_REALM = 'MMS Public API';

/** The `Authorization` header split into scheme and credentials. */
export type ParsedAuthorization =
  | { scheme: 'digest'; params: Record<string, string> }
  | { scheme: 'bearer'; token: string }
  | { scheme: 'basic'; user: string; password: string }
  | { scheme: 'none' }
  | { scheme: 'other' };

/** Parses an `Authorization` header value. */
export function parseAuthorization(header: string | undefined): ParsedAuthorization {
  if (header === undefined || header.trim() === '') return { scheme: 'none' };
  const trimmed = header.trim();
  const space = trimmed.indexOf(' ');
  const scheme = (space === -1 ? trimmed : trimmed.slice(0, space)).toLowerCase();
  const rest = space === -1 ? '' : trimmed.slice(space + 1).trim();
  switch (scheme) {
    case 'digest':
      return { scheme: 'digest', params: parseDigestParams(rest) };
    case 'bearer':
      return rest === '' ? { scheme: 'other' } : { scheme: 'bearer', token: rest };
    case 'basic': {
      const decoded = Buffer.from(rest, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon === -1) return { scheme: 'basic', user: decoded, password: '' };
      return { scheme: 'basic', user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    default:
      return { scheme: 'other' };
  }
}

const DIGEST_PARAM = /([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;

function parseDigestParams(input: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const match of input.matchAll(DIGEST_PARAM)) {
    const key = match[1];
    if (key === undefined) continue;
    const quoted = match[2];
    params[key.toLowerCase()] = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : (match[3] ?? '');
  }
  return params;
}

function md5(value: string): string {
  return createHash('md5').update(value).digest('hex');
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Outcome of checking a digest `Authorization` header. */
export type DigestResult = { ok: true; username: string } | { ok: false; stale: boolean };

/**
 * HTTP Digest (RFC 7616 with MD5 and qop=auth, as Atlas uses it). Nonces are issued by {@link challenge}
 * and expire after a number of real seconds; a valid response computed with an expired or unknown nonce is
 * answered with `stale=true` so clients re-hash instead of treating it as a credentials failure.
 */
export class DigestAuthenticator {
  private readonly nonces = new Map<string, number>();
  private readonly passwords: Map<string, string>;

  constructor(
    apiKeys: readonly { publicKey: string; privateKey: string }[],
    private readonly nonceTtlMs: number
  ) {
    this.passwords = new Map(apiKeys.map((k) => [k.publicKey, k.privateKey]));
  }

  /** A `WWW-Authenticate` header value with a fresh nonce. */
  challenge(stale: boolean): string {
    const nonce = randomBytes(24).toString('base64url');
    const now = Date.now();
    this.nonces.set(nonce, now);
    this.pruneNonces(now);
    return `Digest realm="${DIGEST_REALM}", domain="", nonce="${nonce}", algorithm=MD5, qop="auth", stale=${stale}`;
  }

  /**
   * Verifies digest parameters for a request.
   * @param method HTTP method
   * @param requestTarget the request target as received (path and query)
   */
  verify(params: Record<string, string>, method: string, requestTarget: string): DigestResult {
    const { username, realm, nonce, uri, response, qop, nc, cnonce } = params;
    if (username === undefined || nonce === undefined || uri === undefined || response === undefined) {
      return { ok: false, stale: false };
    }
    const password = this.passwords.get(username);
    if (password === undefined || realm !== DIGEST_REALM) return { ok: false, stale: false };
    const algorithm = params.algorithm?.toUpperCase();
    if (algorithm !== undefined && algorithm !== 'MD5') return { ok: false, stale: false };
    if (!uriMatches(uri, requestTarget)) return { ok: false, stale: false };

    const ha1 = md5(`${username}:${DIGEST_REALM}:${password}`);
    const ha2 = md5(`${method}:${uri}`);
    let expected: string;
    if (qop === undefined) {
      expected = md5(`${ha1}:${nonce}:${ha2}`);
    } else if (qop === 'auth' && nc !== undefined && cnonce !== undefined) {
      expected = md5(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`);
    } else {
      return { ok: false, stale: false };
    }
    if (!safeEqual(expected, response.toLowerCase())) return { ok: false, stale: false };

    const issuedAt = this.nonces.get(nonce);
    if (issuedAt === undefined || Date.now() - issuedAt > this.nonceTtlMs) {
      this.nonces.delete(nonce);
      return { ok: false, stale: true };
    }
    return { ok: true, username };
  }

  private pruneNonces(now: number): void {
    for (const [nonce, issuedAt] of this.nonces) {
      if (now - issuedAt <= this.nonceTtlMs) break;
      this.nonces.delete(nonce);
    }
  }
}

function uriMatches(uri: string, requestTarget: string): boolean {
  if (uri === requestTarget) return true;
  if (/^https?:\/\//i.test(uri)) {
    try {
      const parsed = new URL(uri);
      return parsed.pathname + parsed.search === requestTarget;
    } catch {
      return false;
    }
  }
  return false;
}

/** A bearer token issued by the token endpoint. */
export interface IssuedToken {
  token: string;
  clientId: string;
  /** Real epoch ms. */
  expiresAt: number;
}

/** Outcome of a client-credentials token request; `expiresInSeconds` is the TTL rounded up to whole seconds. */
export type TokenGrant =
  | { ok: true; token: IssuedToken; expiresInSeconds: number }
  | { ok: false; status: 400 | 401 | 403; error: string; description: string };

/**
 * OAuth 2.0 client-credentials grants for service accounts. Token lifetimes are real seconds, and each
 * account may hold a bounded number of unexpired tokens.
 */
export class OAuthTokenStore {
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly secrets: Map<string, string>;

  constructor(
    serviceAccounts: readonly { clientId: string; clientSecret: string }[],
    private readonly ttlSeconds: number,
    private readonly maxActivePerAccount: number
  ) {
    this.secrets = new Map(serviceAccounts.map((a) => [a.clientId, a.clientSecret]));
  }

  /** Grants a token for a `POST /api/oauth/token` request. */
  grant(clientId: string | undefined, clientSecret: string | undefined, grantType: string | undefined): TokenGrant {
    const expected = clientId === undefined ? undefined : this.secrets.get(clientId);
    if (clientId === undefined || expected === undefined || !safeEqual(expected, clientSecret ?? '')) {
      return { ok: false, status: 401, error: 'invalid_client', description: 'Invalid client credentials.' };
    }
    if (grantType !== 'client_credentials') {
      return {
        ok: false,
        status: 400,
        error: 'unsupported_grant_type',
        description: 'Only grant_type=client_credentials is supported.',
      };
    }
    const now = Date.now();
    this.prune(now);
    let active = 0;
    for (const t of this.tokens.values()) if (t.clientId === clientId) active++;
    if (active >= this.maxActivePerAccount) {
      return {
        ok: false,
        status: 403,
        error: 'access_denied',
        description: `The service account already has ${active} active tokens.`,
      };
    }
    const token: IssuedToken = {
      token: randomBytes(32).toString('base64url'),
      clientId,
      expiresAt: now + this.ttlSeconds * 1000,
    };
    this.tokens.set(token.token, token);
    return { ok: true, token, expiresInSeconds: Math.max(1, Math.ceil(this.ttlSeconds)) };
  }

  /** Whether a bearer token is known and unexpired. */
  validate(token: string): boolean {
    const issued = this.tokens.get(token);
    if (issued === undefined) return false;
    if (issued.expiresAt <= Date.now()) {
      this.tokens.delete(token);
      return false;
    }
    return true;
  }

  /** Revokes a token; unknown tokens are ignored. */
  revoke(token: string): void {
    this.tokens.delete(token);
  }

  revokeAll(): void {
    this.tokens.clear();
  }

  /** Unexpired tokens, for persistence. */
  export(): IssuedToken[] {
    this.prune(Date.now());
    return [...this.tokens.values()];
  }

  /** Restores persisted tokens. */
  restore(tokens: readonly IssuedToken[]): void {
    for (const t of tokens) this.tokens.set(t.token, { ...t });
  }

  private prune(now: number): void {
    for (const [key, t] of this.tokens) if (t.expiresAt <= now) this.tokens.delete(key);
  }
}
