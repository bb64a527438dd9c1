import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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
 */
export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Origins allowed to call from a browser, e.g. `http://localhost:8233`; others get no CORS headers. */
  corsOrigins: readonly string[];
  /** When set, every POST needs `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** Request bodies above this are refused with 413; default 8 MiB. */
  maxBodyBytes?: number;
  /** Receives one line per unexpected error; never payload contents. Default: stderr. */
  logError?: (message: string) => void;
}

export interface RunningCodecServer {
  /** `http://host:port`, the endpoint to configure in the Web UI. */
  url: string;
  server: Server;
  close(): Promise<void>;
}

const ALLOWED_HEADERS = 'Content-Type, X-Namespace, Authorization';
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

  function authorized(req: IncomingMessage): boolean {
    if (!expectedToken) return true;
    const given = req.headers.authorization;
    // Compare digests: constant time, and equal lengths whatever was sent.
    return given !== undefined && timingSafeEqual(digest(given), expectedToken);
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
      if (!authorized(req)) throw new HttpError(401, 'unauthorized', { 'WWW-Authenticate': 'Bearer' });

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

  return createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
}

/** Starts a codec server on `host:port` (port 0: any free port). */
export async function startCodecServer(
  options: CodecServerOptions & { host?: string; port?: number }
): Promise<RunningCodecServer> {
  const server = createCodecServer(options);
  const { url, close } = await listen(server, options);
  return { url, server, close };
}
