import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type HandlerResult, type RouteMatch } from './atlas-api';
import { type DigestAuthenticator, type OAuthTokenStore, parseAuthorization, type TokenGrant } from './auth';
import { apiErrorBody, INVENTED_ERROR_CODES, SimApiError } from './errors';
import { errorOutgoing, notFound, type Outgoing } from './http-io';
import { checkContentType, negotiateVersion, versionedMediaType } from './media-type';
import { type TokenBucketLimiter } from './rate-limit';
import { type SimState } from './state';
import { type RequestLogEntry } from './types';

/**
 * The request path of the simulated Atlas API as stages, each a function of the request and the rest of the
 * path: authentication, media type (API version), rate limit, faults, then the route's handler. A stage answers
 * (an error, a fault) or hands on to `next`. The server composes the lists once ({@link composeStages}).
 */

/** One request as the stages see it; stages fill in `version` and `rateLimit`. */
export interface SimRequest {
  req: IncomingMessage;
  res: ServerResponse;
  entry: RequestLogEntry;
  url: URL;
  rawBody: string;
  /** The Atlas route, when one matches the method and path. */
  match: RouteMatch | undefined;
  /** The API version negotiated from `Accept` (default `2023-01-01`). */
  version: string;
  /** The rate limiter's answer, when it admitted the request. */
  rateLimit: { limit: number; remaining: number } | undefined;
}

/** The stage wrote the response itself (or dropped the connection): nothing is left to write. */
export const WRITTEN = Symbol('written');
/** What a stage answers: a response to write, or {@link WRITTEN}. */
export type Reply = Outgoing | typeof WRITTEN;
export type Stage = (r: SimRequest, next: () => Promise<Reply>) => Promise<Reply>;
/** The last stage: answers the request; an Atlas error it throws becomes the error response. */
export type Endpoint = (r: SimRequest) => Outgoing;

/** Composes `stages` in order, ending with `endpoint`, into one function of a request. */
export function composeStages(stages: readonly Stage[], endpoint: Endpoint): (r: SimRequest) => Promise<Reply> {
  // Any other error is thrown as it is, to the server, which answers 500.
  const answer = (r: SimRequest): Promise<Reply> => {
    try {
      return Promise.resolve(endpoint(r));
    } catch (err) {
      if (err instanceof SimApiError) return Promise.resolve(errorOutgoing(err));
      throw err;
    }
  };
  return stages.reduceRight<(r: SimRequest) => Promise<Reply>>((rest, stage) => (r) => stage(r, () => rest(r)), answer);
}

/** Digest (API keys) or Bearer (service account tokens); anything else gets the digest challenge. */
export function authStage(digest: DigestAuthenticator, tokens: OAuthTokenStore): Stage {
  const challenge = (stale: boolean): Outgoing => ({
    status: 401,
    headers: { 'Content-Type': 'application/json', 'WWW-Authenticate': digest.challenge(stale) },
    body: apiErrorBody(401, 'UNEXPECTED_ERROR', 'You are not authorized for this resource.'),
  });
  const denial = ({ req, entry }: SimRequest): Outgoing | undefined => {
    const auth = parseAuthorization(req.headers.authorization);
    switch (auth.scheme) {
      case 'digest': {
        entry.auth = 'digest';
        const result = digest.verify(auth.params, entry.method, req.url ?? '/');
        return result.ok ? undefined : challenge(result.stale);
      }
      case 'bearer':
        entry.auth = 'bearer';
        if (tokens.validate(auth.token)) return undefined;
        return {
          status: 401,
          headers: { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Bearer error="invalid_token"' },
          body: apiErrorBody(401, INVENTED_ERROR_CODES.invalidAccessToken, 'Invalid or expired access token.'),
        };
      case 'basic':
        entry.auth = 'basic';
        return challenge(false);
      default:
        return challenge(false);
    }
  };
  return (r, next) => Promise.resolve(denial(r) ?? next());
}

/** The API version from `Accept`, among the route's versions (406, or 410 for a sunset version). */
export const mediaTypeStage: Stage = (r, next) => {
  if (r.match === undefined) return next();
  try {
    r.version = negotiateVersion(r.req.headers.accept, r.match.route.versions);
  } catch (err) {
    if (!(err instanceof SimApiError)) throw err;
    return Promise.resolve(errorOutgoing(err));
  }
  return next();
};

/** Atlas's per-project token bucket: 429 with `Retry-After` when the project's bucket is empty. */
export function rateLimitStage(limiter: TokenBucketLimiter, state: SimState): Stage {
  return (r, next) => {
    const decision = limiter.take(r.entry.groupId ?? '');
    if (decision.allowed) {
      r.rateLimit = { limit: decision.limit, remaining: decision.remaining };
      return next();
    }
    state.countRateLimited();
    const { retryAfterSeconds } = decision;
    const { capacity, refillPerMinute } = limiter.config;
    const detail =
      `Please retry after ${retryAfterSeconds} seconds. ` +
      `Request capacity: ${capacity}. Refill rate: ${refillPerMinute} per 60 seconds.`;
    return Promise.resolve({
      status: 429,
      headers: {
        'Content-Type': 'application/json',
        'Retry-After': String(retryAfterSeconds),
        'RateLimit-Limit': String(capacity),
        'RateLimit-Remaining': '0',
      },
      body: apiErrorBody(429, 'RATE_LIMITED_TOKEN_BUCKET', detail, [
        {
          path: r.entry.path,
          retryAfterSec: retryAfterSeconds,
          capacity,
          refillRate: refillPerMinute,
          refillSeconds: 60,
        },
      ]),
    });
  };
}

/** The matched Atlas route's handler, answering in the negotiated media type. */
export function atlasEndpoint(state: SimState, serverUrl: () => string): Endpoint {
  return ({ req, entry, url, rawBody, match, version, rateLimit }) => {
    if (match === undefined) throw notFound(entry.method, entry.path);
    if (match.error !== undefined) throw match.error;
    if (match.route.hasBody && rawBody.trim() !== '')
      checkContentType(req.headers['content-type'], match.route.versions);
    const baseUrl = `http://${req.headers.host ?? new URL(serverUrl()).host}`;
    const result: HandlerResult = match.route.handle({
      params: match.params,
      query: url.searchParams,
      rawBody,
      baseUrl,
      selfUrl: new URL(req.url ?? entry.path, baseUrl),
      state,
    });
    const headers: Record<string, string> = { 'Content-Type': versionedMediaType(version) };
    if (rateLimit !== undefined) {
      headers['RateLimit-Limit'] = String(rateLimit.limit);
      headers['RateLimit-Remaining'] = String(rateLimit.remaining);
    }
    return { status: result.status, headers, body: result.body };
  };
}

/** `POST /api/oauth/token`: client credentials in HTTP Basic (form-encoded or not) or in the form. */
export function tokenEndpoint(tokens: OAuthTokenStore, granted: () => void): Endpoint {
  return ({ req, rawBody, entry }) => {
    const form = new URLSearchParams(rawBody);
    const auth = parseAuthorization(req.headers.authorization);
    const grantType = form.get('grant_type') ?? undefined;
    let grant: TokenGrant;
    if (auth.scheme === 'basic') {
      entry.auth = 'basic';
      const user = decodeFormComponent(auth.user);
      const password = decodeFormComponent(auth.password);
      const encoded = user !== auth.user || password !== auth.password;
      grant = tokens.grant(auth.user, auth.password, grantType);
      if (!grant.ok && grant.error === 'invalid_client' && encoded) grant = tokens.grant(user, password, grantType);
    } else {
      grant = tokens.grant(form.get('client_id') ?? undefined, form.get('client_secret') ?? undefined, grantType);
    }
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };
    if (!grant.ok) {
      if (grant.status === 401) headers['WWW-Authenticate'] = 'Basic realm="oauth"';
      return { status: grant.status, headers, body: { error: grant.error, error_description: grant.description } };
    }
    granted();
    return {
      status: 200,
      headers,
      body: { access_token: grant.token.token, expires_in: grant.expiresInSeconds, token_type: 'Bearer' },
    };
  };
}

function decodeFormComponent(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}
