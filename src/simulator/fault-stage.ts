import { apiErrorBody, defaultErrorCode } from './errors';
import {
  driftBody,
  emptyListBody,
  faultLabel,
  type FaultQueue,
  patchBody,
  truncateJson,
  unknownStateBody,
} from './faults';
import { type Outgoing, type Sleeps, writeText } from './http-io';
import { versionedMediaType } from './media-type';
import { type SimRequest, type Stage, WRITTEN, type Reply } from './stages';
import { type Fault } from './types';

/**
 * The stage that applies the first queued fault a request matches: an injected status, a dropped connection, a
 * delay, a damaged or replaced body, a body sent slowly. Without a matching fault it only hands on.
 */
export function faultStage(faults: FaultQueue, sleeps: Sleeps): Stage {
  return async (r, next) => {
    const { entry } = r;
    const fault = faults.take({ operation: entry.operation, method: entry.method, path: entry.path });
    if (fault === undefined) return next();
    entry.faultInjected = faultLabel(fault);
    switch (fault.kind) {
      case 'status':
        if (fault.afterHandling === true) await next();
        return injectedStatus(fault);
      case 'reset':
        if (fault.afterHandling === true) await next();
        entry.status = 0;
        r.res.socket?.destroy();
        r.res.destroy();
        return WRITTEN;
      case 'delay':
        if (!(await sleeps.sleep(fault.delayMs ?? 1000))) {
          r.res.destroy();
          return WRITTEN;
        }
        return next();
      case 'malformed': {
        const out = await next();
        if (out === WRITTEN) return out;
        writeText(r.res, entry, out.status, out.headers, truncateJson(JSON.stringify(out.body ?? {})));
        return WRITTEN;
      }
      case 'schemaDrift':
      case 'unknownState':
      case 'patchBody':
      case 'emptyList': {
        const out = await next();
        if (out !== WRITTEN && out.status >= 200 && out.status < 300) out.body = damagedBody(fault, out.body);
        return out;
      }
      case 'replaceBody': {
        const status = fault.status ?? 200;
        return {
          status,
          headers: { 'Content-Type': status < 400 ? versionedMediaType(r.version) : 'application/json' },
          body: fault.body,
        };
      }
      case 'slowBody':
        return slowBody(r, await next(), fault.delayMs ?? 1000, sleeps);
      case 'oversizedBody':
        return oversizedBody(r, await next(), fault.sizeBytes ?? 16 * 1024 * 1024);
    }
  };
}

function injectedStatus(fault: Fault): Outgoing {
  const status = fault.status ?? 500;
  const headers: Record<string, string | string[]> = { 'Content-Type': 'application/json' };
  if (fault.retryAfterSeconds !== undefined) headers['Retry-After'] = String(fault.retryAfterSeconds);
  if (fault.retryAfter !== undefined) headers['Retry-After'] = fault.retryAfter;
  const detail = fault.detail ?? `Injected fault: HTTP ${status}.`;
  return { status, headers, body: apiErrorBody(status, fault.errorCode ?? defaultErrorCode(status), detail) };
}

function damagedBody(fault: Fault, body: unknown): unknown {
  switch (fault.kind) {
    case 'schemaDrift':
      return driftBody(body);
    case 'unknownState':
      return unknownStateBody(body);
    case 'patchBody':
      return patchBody(body, fault);
    default:
      return emptyListBody(body);
  }
}

/** Sends the first half of the body, then the rest after `delayMs` (or drops the connection on close). */
async function slowBody(r: SimRequest, out: Reply, delayMs: number, sleeps: Sleeps): Promise<Reply> {
  if (out === WRITTEN) return out;
  const text = out.body === undefined ? '' : JSON.stringify(out.body);
  const half = Math.floor(text.length / 2);
  r.entry.status = out.status;
  r.res.writeHead(out.status, { ...out.headers, 'Content-Length': String(Buffer.byteLength(text)) });
  r.res.write(text.slice(0, half));
  if (await sleeps.sleep(delayMs)) r.res.end(text.slice(half));
  else r.res.destroy();
  return WRITTEN;
}

const PADDING_CHUNK = Buffer.alloc(64 * 1024, 0x20);

/**
 * Sends the body padded with spaces (still valid JSON) to `sizeBytes`, chunked, honouring back-pressure; stops as
 * soon as the client has closed the connection.
 */
async function oversizedBody(r: SimRequest, out: Reply, sizeBytes: number): Promise<Reply> {
  if (out === WRITTEN) return out;
  const head = Buffer.from(out.body === undefined ? '' : JSON.stringify(out.body));
  r.entry.status = out.status;
  const { 'Content-Length': _dropped, ...headers } = out.headers;
  r.res.writeHead(out.status, headers);
  r.res.write(head);
  for (let sent = head.length; sent < sizeBytes && !r.res.destroyed; sent += PADDING_CHUNK.length) {
    const chunk = PADDING_CHUNK.subarray(0, Math.min(PADDING_CHUNK.length, sizeBytes - sent));
    if (!r.res.write(chunk)) {
      // Both listeners go once either fires: a 'close' left behind per wait piles up on a long body.
      await new Promise<void>((resolve) => {
        const done = () => {
          r.res.off('drain', done);
          r.res.off('close', done);
          resolve();
        };
        r.res.once('drain', done);
        r.res.once('close', done);
      });
    }
  }
  if (!r.res.destroyed) r.res.end();
  return WRITTEN;
}
