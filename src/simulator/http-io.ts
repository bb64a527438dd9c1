import { type IncomingMessage, type ServerResponse } from 'node:http';
import { SimApiError } from './errors';
import { type RequestLogEntry } from './types';

/** Reading requests and writing responses, the same way for every route of the simulator. */

const MAX_BODY_BYTES = 1 << 20;

/** A response about to be written. */
export interface Outgoing {
  status: number;
  headers: Record<string, string | string[]>;
  body?: unknown;
}

/** The JSON response of an Atlas error. */
export function errorOutgoing(err: SimApiError): Outgoing {
  return {
    status: err.status,
    headers: { 'Content-Type': 'application/json', ...err.extra.headers },
    body: err.toBody(),
  };
}

/** Atlas's 404 for a path it does not serve. */
export function notFound(method: string, path: string): SimApiError {
  return new SimApiError(404, 'RESOURCE_NOT_FOUND', `Cannot find resource ${method} ${path}.`);
}

/** A request body above 1 MiB. */
export class BodyTooLargeError extends Error {}

/** The request body as text; rejects with {@link BodyTooLargeError} past 1 MiB. */
export function readBody(req: IncomingMessage): Promise<string> {
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

/** A request body for the request log: parsed JSON, or the text when it is not JSON. */
export function parseLoggedBody(raw: string): unknown {
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/** Writes `out` as JSON and records its status in the log entry. */
export function writeOutgoing(res: ServerResponse, entry: RequestLogEntry | undefined, out: Outgoing): void {
  const text = out.body === undefined ? '' : JSON.stringify(out.body);
  writeText(res, entry, out.status, out.headers, text);
}

/** Writes a response body as given (also one that is not valid JSON) and records its status. */
export function writeText(
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

/** Delays (of delayed and slow responses) that closing the simulator cuts short. */
export class Sleeps {
  private readonly pending = new Map<NodeJS.Timeout, (completed: boolean) => void>();
  private closed = false;

  /** Resolves true after `ms` real ms, or false as soon as {@link cancelAll} is called. */
  sleep(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(timer);
        resolve(true);
      }, ms);
      this.pending.set(timer, resolve);
    });
  }

  /** Ends every pending delay (resolving false) and every later one at once. */
  cancelAll(): void {
    this.closed = true;
    for (const [timer, resolve] of this.pending) {
      clearTimeout(timer);
      resolve(false);
    }
    this.pending.clear();
  }
}
