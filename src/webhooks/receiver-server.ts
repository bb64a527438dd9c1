import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listen, type Listening } from '../net/listen';
import { atlasAlertSchema, isExportEndEvent, type AtlasAlert } from './atlas-alert';
import { ATLAS_SIGNATURE_HEADER, verifyAtlasSignature } from './atlas-signature';
import { DeliveryMemory } from './delivery-memory';

/** The one path Atlas posts alerts to. */
export const ALERTS_PATH = '/atlas/alerts';
/** How far ahead of this machine's clock an alert's `updated` may be (Atlas's clock and ours differ a little). */
const CLOCK_SKEW_MS = 5 * 60_000;

/** What a delivery came to, as the receiver answers it (`{"outcome": …}`) and logs it. */
export type DeliveryOutcome = 'woken' | 'duplicate' | 'stale' | 'ignored';

export interface ReceiverLog {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export interface WebhookReceiverOptions {
  /** The webhook secret; requests without its signature change nothing. */
  secret: string;
  /** Alerts last updated longer ago than this are ignored (replay protection), and deliveries are remembered as long. */
  replayWindowMs: number;
  maxBodyBytes: number;
  /** Wakes the alert's project's open exports; resolves to how many were signalled. A rejection answers 503. */
  wake: (alert: AtlasAlert) => Promise<number>;
  log: ReceiverLog;
  now?: () => number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
  });
  res.end(text);
}

function isJson(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/**
 * The body's bytes, at most `limit` of them: a declared `Content-Length` above it is refused before reading, and
 * a body that grows past it stops being kept at once (413; the connection is closed after the answer).
 */
function readBounded(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(new HttpError(413, `request body exceeds ${limit} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        chunks.length = 0;
        reject(new HttpError(413, `request body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/**
 * The receiver of Atlas alert webhooks: `POST /atlas/alerts` and `GET /livez`. In order, a delivery must be JSON
 * (415), of bounded size (413) and signed with the secret (`X-MMS-Signature`, 401) before its body is even
 * parsed (400 when it is not an alert). A signed alert then changes nothing when it is not an export end
 * (`ignored`), was last updated outside the replay window (`stale`: a captured delivery replayed later), or was
 * already acted on (`duplicate`: the same alert id, status and update time); otherwise its project's open exports
 * are woken (`woken`). Bodies and the secret are never logged.
 */
export function createWebhookReceiver(options: WebhookReceiverOptions): Server {
  const now = options.now ?? Date.now;
  const memory = new DeliveryMemory(options.replayWindowMs + CLOCK_SKEW_MS);
  const inFlight = new Map<string, Promise<void>>();
  const { log } = options;

  async function deliver(alert: AtlasAlert): Promise<{ outcome: DeliveryOutcome; signalled?: number }> {
    if (!isExportEndEvent(alert.eventTypeName)) return { outcome: 'ignored' };
    const updatedAt = Date.parse(alert.updated);
    const at = now();
    if (updatedAt < at - options.replayWindowMs || updatedAt > at + CLOCK_SKEW_MS) return { outcome: 'stale' };
    const key = `${alert.id}|${alert.status}|${alert.updated}`;
    // A copy arriving while the first is being acted on waits for it: one wake-up, whichever answers first.
    const pending = inFlight.get(key);
    if (pending) {
      await pending.catch(() => undefined);
      if (memory.has(key, now())) return { outcome: 'duplicate' };
    }
    if (memory.has(key, at)) return { outcome: 'duplicate' };
    let signalled = 0;
    const work = options.wake(alert).then((n) => {
      signalled = n;
      memory.remember(key, now());
    });
    inFlight.set(key, work);
    try {
      await work;
    } finally {
      inFlight.delete(key);
    }
    return { outcome: 'woken', signalled };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/livez' && (req.method === 'GET' || req.method === 'HEAD')) return send(res, 200, { live: true });
    if (path !== ALERTS_PATH) throw new HttpError(404, `not found: POST ${ALERTS_PATH}`);
    if (req.method !== 'POST') throw new HttpError(405, 'method not allowed');
    if (!isJson(req.headers['content-type'])) throw new HttpError(415, 'content type must be application/json');
    const body = await readBounded(req, options.maxBodyBytes);
    if (!verifyAtlasSignature(options.secret, body, req.headers[ATLAS_SIGNATURE_HEADER])) {
      log.warn('Atlas webhook refused: missing or invalid X-MMS-Signature', { remote: req.socket.remoteAddress });
      throw new HttpError(401, 'missing or invalid X-MMS-Signature');
    }
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      throw new HttpError(400, 'body is not valid JSON');
    }
    const parsed = atlasAlertSchema.safeParse(json);
    if (!parsed.success) {
      const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(body)'))];
      log.warn('Atlas webhook refused: signed, but not an alert', { fields });
      throw new HttpError(400, `not an Atlas alert: check ${fields.join(', ')}`);
    }
    const alert = parsed.data;
    const meta = {
      alertId: alert.id,
      groupId: alert.groupId,
      eventTypeName: alert.eventTypeName,
      status: alert.status,
    };
    let result: Awaited<ReturnType<typeof deliver>>;
    try {
      result = await deliver(alert);
    } catch (err) {
      log.error('Atlas webhook: waking the exports failed; Atlas will deliver again', {
        ...meta,
        error: err instanceof Error ? `${err.name}: ${err.message}` : 'unknown error',
      });
      throw new HttpError(503, 'could not wake the exports now; retry later');
    }
    log.info(`Atlas webhook ${result.outcome}`, { ...meta, ...result });
    send(res, 200, result);
  }

  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof HttpError ? err.message : 'internal error';
      if (!(err instanceof HttpError)) log.error('Atlas webhook: unexpected error', { error: String(err) });
      // Past a refused body, the rest is not read: answer, then close the connection.
      const close = status === 413 || !req.complete;
      send(res, status, { error: message }, close ? { connection: 'close' } : {});
      if (close) res.once('finish', () => req.socket.destroy());
    });
  });
}

/** Starts a receiver on `host:port` (port 0: any free port). */
export async function startWebhookReceiver(
  options: WebhookReceiverOptions & { host?: string; port?: number }
): Promise<Listening & { server: Server }> {
  const server = createWebhookReceiver(options);
  return { ...(await listen(server, options)), server };
}
