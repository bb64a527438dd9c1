import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { PayloadCodec } from '@temporalio/common';
import { listen } from '../net/listen';
import { describeIssues } from '../shared/contract/export-contract';
import { PayloadDecryptionError } from './encryption-codec';
import { jsonPayloadsSchema, payloadFromJson, payloadToJson } from './payload-json';

/**
 * Temporal's remote codec protocol over Node's http module, for the Web UI ("Codec Server endpoint") and the
 * CLI (`--codec-endpoint`): `POST …/encode` and `POST …/decode` take and return `{"payloads": [...]}` in
 * proto3 JSON. Only the last path segment is matched, so the endpoint can sit under any prefix (e.g. the
 * CLI's `/{namespace}`). Browsers get CORS answers for the configured UI origins only.
 *
 * Deny by default: a request whose `Host` is not an allowed name is refused with 421 (a DNS-rebinding page
 * reaches a loopback server under its own name), and one for a namespace that is not configured (the UI's
 * `X-Namespace`, else the path segment before `encode`/`decode`) with 403, before anything is decoded.
 */
export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Origins allowed to call from a browser, e.g. `http://localhost:8233`; others get no CORS headers. */
  corsOrigins: readonly string[];
  /** When set, every POST needs `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** `Host` names (no port) a request may carry; default: the loopback names. */
  allowedHosts?: readonly string[];
  /** Namespaces whose payloads these keys are for; a request for another namespace gets 403. */
  namespaces: readonly string[];
  /** PEM certificate chain and key: serve HTTPS. */
  tls?: { cert: Buffer | string; key: Buffer | string } | undefined;
  /** Request bodies above this are refused with 413; default 8 MiB. */
  maxBodyBytes?: number;
  /** Receives one line per unexpected error; never payload contents. Default: stderr. */
  logError?: (message: string) => void;
}

export interface RunningCodecServer {
  /** `http(s)://host:port`, the endpoint to configure in the Web UI. */
  url: string;
  server: Server;
  close(): Promise<void>;
}

const ALLOWED_HEADERS = 'Content-Type, X-Namespace, Authorization';
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];
/** Three base64url segments: the JWT the Web UI sends with "pass access token". */
const JWT_SHAPE = /^Bearer [\w-]+\.[\w-]+\.[\w-]*$/;
const DEFAULT_MAX_BODY = 8 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {}
  ) {
    super(message);
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest();

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    ...(text ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) } : {}),
  });
  res.end(text);
}

/** The host name of a `Host` header, without port or IPv6 brackets, lower case; undefined if absent. */
function hostName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
  const colon = h.lastIndexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

/** The namespace a request is for: the Web UI's `X-Namespace`, else the CLI's `/{namespace}/decode` path. */
function namespaceOf(req: IncomingMessage, path: string): string | undefined {
  const header = req.headers['x-namespace'];
  if (typeof header === 'string' && header !== '') return header;
  const segments = path.split('/').filter(Boolean);
  if (segments.length < 2) return undefined;
  try {
    return decodeURIComponent(segments[segments.length - 2]!);
  } catch {
    return undefined; // malformed escapes: no namespace, so 403
  }
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `request body exceeds ${limit} bytes`, { Connection: 'close' });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function createCodecServer(options: CodecServerOptions): Server {
  const origins = new Set(options.corsOrigins);
  const expectedToken = options.token === undefined ? undefined : digest(`Bearer ${options.token}`);
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const logError = options.logError ?? ((m: string) => console.error(m));

  const allowedHosts = new Set((options.allowedHosts ?? LOOPBACK_HOSTS).map((h) => h.toLowerCase()));
  const namespaces = new Set(options.namespaces);

  function authorize(req: IncomingMessage): void {
    if (!expectedToken) return;
    const given = req.headers.authorization;
    // Compare digests: constant time, and equal lengths whatever was sent.
    if (given !== undefined && timingSafeEqual(digest(given), expectedToken)) return;
    const message =
      given !== undefined && JWT_SHAPE.test(given)
        ? "unauthorized: a user's access token (the Web UI's codec.passAccessToken) is not accepted; see docs/security.md"
        : 'unauthorized';
    throw new HttpError(401, message, { 'WWW-Authenticate': 'Bearer' });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = req.headers.origin;
    const corsAllowed = origin !== undefined && origins.has(origin);
    const cors: Record<string, string> = corsAllowed
      ? { 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true', Vary: 'Origin' }
      : { Vary: 'Origin' };
    try {
      const path = new URL(req.url ?? '/', 'http://codec.invalid').pathname.replace(/\/+$/, '');
      const operation = path.slice(path.lastIndexOf('/') + 1);
      if (!allowedHosts.has(hostName(req.headers.host) ?? '')) throw new HttpError(421, 'Host not allowed');
      if (operation !== 'encode' && operation !== 'decode')
        throw new HttpError(404, 'not found: POST …/encode or …/decode');
      if (req.method === 'OPTIONS') {
        if (origin !== undefined && !corsAllowed) throw new HttpError(403, 'origin not allowed');
        send(res, 204, undefined, {
          ...cors,
          'Access-Control-Allow-Methods': 'POST, OPTIONS',
          'Access-Control-Allow-Headers': ALLOWED_HEADERS,
          'Access-Control-Max-Age': '600',
        });
        return;
      }
      if (req.method !== 'POST') throw new HttpError(405, 'method not allowed', { Allow: 'POST, OPTIONS' });
      authorize(req);
      const namespace = namespaceOf(req, path);
      if (namespace === undefined || !namespaces.has(namespace)) {
        throw new HttpError(
          403,
          'namespace not served: send X-Namespace (or …/{namespace}/decode) for a configured one'
        );
      }

      let json: unknown;
      try {
        json = JSON.parse(await readBody(req, maxBody));
      } catch (err) {
        if (err instanceof HttpError) throw err;
        throw new HttpError(400, 'body is not valid JSON');
      }
      const parsed = jsonPayloadsSchema.safeParse(json);
      if (!parsed.success) throw new HttpError(400, describeIssues(parsed.error.issues, 'body'));
      const payloads = parsed.data.payloads.map(payloadFromJson);
      const result =
        operation === 'encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
      send(res, 200, { payloads: result.map(payloadToJson) }, cors);
    } catch (err) {
      if (err instanceof HttpError) {
        send(res, err.status, { error: err.message }, { ...cors, ...err.headers });
      } else if (err instanceof PayloadDecryptionError) {
        send(res, 400, { error: err.message }, cors);
      } else {
        logError(`codec server: ${err instanceof Error ? `${err.name}: ${err.message}` : 'unexpected error'}`);
        send(res, 500, { error: 'internal error' }, cors);
      }
    }
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => res.destroy());
  };
  return options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, listener)
    : createServer(listener);
}

/** Starts a codec server on `host:port` (port 0: any free port). */
export async function startCodecServer(
  options: CodecServerOptions & { host?: string; port?: number }
): Promise<RunningCodecServer> {
  const server = createCodecServer(options);
  const { url, close } = await listen(server, options);
  return { url, server, close };
}
