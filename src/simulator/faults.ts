import { type Fault, type LoggedOperation } from './types';

/** What a fault is matched against. */
export interface FaultTarget {
  operation: LoggedOperation;
  method: string;
  path: string;
}

interface QueuedFault {
  fault: Fault;
  remaining: number;
}

/** Injected faults, consumed in order by the requests they match. */
export class FaultQueue {
  private queue: QueuedFault[] = [];

  /** Appends faults to the queue. */
  add(...faults: Fault[]): void {
    for (const fault of faults) {
      const remaining = fault.times ?? 1;
      if (remaining > 0) this.queue.push({ fault: { ...fault }, remaining });
    }
  }

  /** Removes every queued fault. */
  clear(): void {
    this.queue = [];
  }

  /** Faults still queued, with the number of requests each will still affect. */
  pending(): { fault: Fault; remaining: number }[] {
    return this.queue.map((q) => ({ fault: { ...q.fault }, remaining: q.remaining }));
  }

  /** Consumes one use of the first fault matching `target`. */
  take(target: FaultTarget): Fault | undefined {
    const index = this.queue.findIndex((q) => matches(q.fault, target));
    if (index === -1) return undefined;
    const entry = this.queue[index];
    if (entry === undefined) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.queue.splice(index, 1);
    return entry.fault;
  }
}

function matches(fault: Fault, target: FaultTarget): boolean {
  const operation = fault.operation ?? 'any';
  if (operation !== 'any' && operation !== target.operation) return false;
  if (fault.method !== undefined && fault.method.toUpperCase() !== target.method.toUpperCase()) return false;
  if (fault.pathIncludes !== undefined && !target.path.includes(fault.pathIncludes)) return false;
  return true;
}

/** Label of an applied fault for the request log. */
export function faultLabel(fault: Fault): string {
  switch (fault.kind) {
    case 'status':
      return `status:${fault.status ?? 500}${fault.afterHandling === true ? ':afterHandling' : ''}`;
    case 'reset':
      return fault.afterHandling === true ? 'reset:afterHandling' : 'reset';
    default:
      return fault.kind;
  }
}

/** Cuts serialized JSON in half so it no longer parses. */
export function truncateJson(text: string): string {
  return text.length < 2 ? '{' : text.slice(0, Math.floor(text.length / 2));
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mapItems(body: unknown, mapItem: (item: Json) => Json, itemIndex?: number): unknown {
  if (!isObject(body)) return body;
  if (Array.isArray(body.results)) {
    return {
      ...body,
      results: body.results.map((item: unknown, i) =>
        isObject(item) && (itemIndex === undefined || itemIndex === i) ? mapItem(item) : item
      ),
    };
  }
  return mapItem(body);
}

/**
 * Deletes the `omit` fields and assigns the `set` ones (dotted paths) on the body, or on each item of a list's
 * `results` (only item `itemIndex` when given; the page itself with `page`). The input is not modified.
 */
export function patchBody(
  body: unknown,
  patch: { set?: Record<string, unknown>; omit?: string[]; itemIndex?: number; page?: boolean }
): unknown {
  const patchOne = (item: Json): Json => {
    const out = structuredClone(item);
    for (const path of patch.omit ?? []) {
      const { parent, key } = walk(out, path, false);
      if (parent !== undefined) delete parent[key];
    }
    for (const [path, value] of Object.entries(patch.set ?? {})) {
      const { parent, key } = walk(out, path, true);
      if (parent !== undefined) parent[key] = value;
    }
    return out;
  };
  if (patch.page === true) return isObject(body) ? patchOne(body) : body;
  return mapItems(body, patchOne, patch.itemIndex);
}

/** The object holding the last segment of a dotted path; creates missing objects on the way when `create`. */
function walk(root: Json, path: string, create: boolean): { parent: Json | undefined; key: string } {
  const parts = path.split('.');
  const key = parts.pop() as string;
  let current: Json = root;
  for (const part of parts) {
    const next = current[part];
    if (isObject(next)) current = next;
    else if (create) current = current[part] = {};
    else return { parent: undefined, key };
  }
  return { parent: current, key };
}

/** A list page with no items, as if Atlas did not list them yet; other bodies unchanged. */
export function emptyListBody(body: unknown): unknown {
  if (!isObject(body) || !Array.isArray(body.results)) return body;
  return { ...body, results: [], totalCount: 0 };
}

/** Gives typed fields of a response the wrong JSON types (`state: 42`, `exportedCollections: "many"`, ...). */
export function driftBody(body: unknown): unknown {
  const drifted = mapItems(body, (item) => {
    const out: Json = { ...item };
    if ('state' in out) out.state = 42;
    if ('exportStatus' in out) out.exportStatus = { exportedCollections: 'many', totalCollections: 'all' };
    if ('components' in out) out.components = 'shards';
    if ('status' in out) out.status = 42;
    if ('createdAt' in out) out.createdAt = 1_700_000_000;
    if ('_id' in out) out._id = 42;
    if ('access_token' in out) out.access_token = 42;
    if ('expires_in' in out) out.expires_in = 'soon';
    return out;
  });
  if (isObject(drifted) && Array.isArray(drifted.results)) return { ...drifted, totalCount: 'many' };
  return drifted;
}

/** Replaces states with values Atlas never sends: `Paused` for export jobs, `paused` for snapshots. */
export function unknownStateBody(body: unknown): unknown {
  return mapItems(body, (item) => {
    const out: Json = { ...item };
    if ('state' in out) out.state = 'Paused';
    if ('status' in out) out.status = 'paused';
    return out;
  });
}
