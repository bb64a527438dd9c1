import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ATLAS_ID_PATTERN, CLUSTER_NAME_PATTERN } from '../../src/shared/atlas/vocabulary';
import { MAX_DURATION_MS } from '../../src/shared/contract/durations';
import {
  IDEMPOTENCY_TAG_KEY,
  parseExportSnapshotInput,
  RUN_TAG_KEY,
  type ExportSnapshotParams,
  type PollingSettings,
} from '../../src/shared/contract/export-contract';
import {
  MAX_EXPORT_CONCURRENCY,
  MAX_SCHEDULED_TARGETS,
  parseScheduledExportInput,
  type ScheduledExportParams,
} from '../../src/shared/contract/scheduled-export-contract';
import { atlasId, checkProperty, clusterName, garbage, propertySummary } from '../helpers/properties';

/**
 * Issue 6 part 3 for the workflow inputs: every value is accepted, or rejected with a message naming the field,
 * and the parser never throws. What is accepted satisfies the invariants the workflows rely on.
 */

afterAll(() => console.info(`[property] workflow inputs:\n${propertySummary()}`));

type Path = (string | number)[];
const DELETE = Symbol('delete');

/** A deep copy of a JSON-shaped `value` with `path` set to `to` (containers created on the way). */
function setAt(value: unknown, path: Path, to: unknown): unknown {
  const root = structuredClone(value) as Record<PropertyKey, unknown>;
  let node: Record<PropertyKey, unknown> = root;
  path.forEach((segment, i) => {
    if (i === path.length - 1) {
      if (to === DELETE) delete node[segment];
      // defineProperty, so that a key named `__proto__` becomes an own key as JSON.parse makes it.
      else Object.defineProperty(node, segment, { value: to, enumerable: true, writable: true, configurable: true });
      return;
    }
    const next = node[segment];
    if (typeof next !== 'object' || next === null) {
      node[segment] = typeof path[i + 1] === 'number' ? [] : {};
    }
    node = node[segment] as Record<PropertyKey, unknown>;
  });
  return root;
}

/** How `describeIssues` writes a path: `input.customData[0].key`. */
function fieldName(path: Path): string {
  return `input${path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}`;
}

/** A mutation of a valid input: a field set to garbage (or removed), or an unknown key added somewhere. */
interface Mutation {
  path: Path;
  value: unknown;
  unknownKey: boolean;
}

function mutations(fields: Path[], objects: Path[], knownKeys: Set<string>): fc.Arbitrary<Mutation> {
  const field = fc.record({
    path: fc.constantFrom(...fields),
    value: fc.oneof({ weight: 8, arbitrary: garbage }, { weight: 1, arbitrary: fc.constant(DELETE) }),
    unknownKey: fc.constant(false),
  });
  const unknownKey = fc.record({
    path: fc.tuple(
      fc.constantFrom(...objects),
      fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'toString'))
    ),
    value: garbage,
    unknownKey: fc.constant(true),
  });
  return fc
    .oneof({ weight: 4, arbitrary: field }, { weight: 1, arbitrary: unknownKey })
    .map((m) => (m.unknownKey ? { ...m, path: [...m.path[0], m.path[1]] } : m))
    .filter((m) => !m.unknownKey || !knownKeys.has(String(m.path[m.path.length - 1])));
}

/** Rejected: each `; `-separated issue starts with a field path, and one of them names the mutated field. */
function expectNamesField(message: string, m: Mutation): void {
  expect(message).toMatch(/^input[.[:]/);
  for (const issue of message.split(/; (?=input)/)) expect(issue).toMatch(/^input(\.[^:]+|\[\d+\])*: /);
  if (m.unknownKey) {
    // Either the key itself, or (for a key added where a string belongs) the field that now holds an object.
    const key = String(m.path[m.path.length - 1]);
    if (!message.includes(key)) expect(message).toContain(fieldName(m.path.slice(0, -1)));
  } else {
    // Cross-field checks (maximumInterval ≥ initialInterval, duplicate targets) name a sibling of the field.
    const parent = fieldName(m.path.slice(0, Math.max(1, m.path.length - 1)));
    expect(message).toContain(parent);
  }
}

const validPolling = fc.record(
  {
    initialInterval: fc.oneof(fc.integer({ min: 1_000, max: 60_000 }), fc.constantFrom('1s', '30s', '0.5m')),
    maximumInterval: fc.oneof(fc.integer({ min: 60_000, max: 3_600_000 }), fc.constantFrom('5m', '1h')),
    backoffCoefficient: fc.double({ min: 1, max: 10, noNaN: true }),
    timeout: fc.oneof(fc.integer({ min: 1_000, max: MAX_DURATION_MS }), fc.constantFrom('48h', '7d', '3650d')),
    reportInterval: fc.constantFrom('5m', 1000),
    attemptTimeout: fc.constantFrom('1m', 10_000),
    maxHistoryEvents: fc.integer({ min: 20, max: 40_000 }),
  },
  { requiredKeys: [] }
);

const customData = fc.array(
  fc.record({ key: fc.string({ minLength: 1, maxLength: 20 }), value: fc.string({ maxLength: 20 }) }),
  { minLength: 1, maxLength: 3 }
);

const validExportInput = fc.record(
  {
    groupId: atlasId,
    clusterName,
    snapshotId: atlasId,
    exportBucketId: atlasId,
    customData,
    notify: fc.record({ workflowId: fc.string({ minLength: 1, maxLength: 40 }) }),
    polling: validPolling,
  },
  { requiredKeys: ['groupId', 'clusterName', 'snapshotId', 'exportBucketId'] }
);

const POLLING_FIELDS = [
  'initialInterval',
  'maximumInterval',
  'backoffCoefficient',
  'timeout',
  'reportInterval',
  'attemptTimeout',
  'maxHistoryEvents',
];
const EXPORT_FIELDS: Path[] = [
  ['groupId'],
  ['clusterName'],
  ['snapshotId'],
  ['exportBucketId'],
  ['customData'],
  ['customData', 0],
  ['customData', 0, 'key'],
  ['customData', 0, 'value'],
  ['notify'],
  ['notify', 'workflowId'],
  ['polling'],
  ...POLLING_FIELDS.map((f) => ['polling', f]),
];
const EXPORT_KEYS = new Set([
  'groupId',
  'clusterName',
  'snapshotId',
  'exportBucketId',
  'customData',
  'notify',
  'polling',
  'workflowId',
  'key',
  'value',
  ...POLLING_FIELDS,
]);

function expectPollingInvariants(p: PollingSettings): void {
  for (const ms of [p.initialIntervalMs, p.maximumIntervalMs, p.timeoutMs, p.reportIntervalMs, p.attemptTimeoutMs]) {
    expect(Number.isSafeInteger(ms) && ms > 0 && ms <= MAX_DURATION_MS, `duration ${ms}`).toBe(true);
  }
  expect(p.maximumIntervalMs).toBeGreaterThanOrEqual(p.initialIntervalMs);
  expect(p.backoffCoefficient >= 1 && p.backoffCoefficient <= 10).toBe(true);
  expect(Number.isInteger(p.maxHistoryEvents) && p.maxHistoryEvents >= 20 && p.maxHistoryEvents <= 40_000).toBe(true);
  // The workflow turns its start plus the timeout into an ISO deadline; that must be a valid date.
  expect(() => new Date(Date.now() + p.timeoutMs).toISOString()).not.toThrow();
}

function expectCustomDataInvariants(items: { key: string; value: string }[] | undefined): void {
  if (!items) return;
  expect(items.length).toBeLessThanOrEqual(50);
  for (const { key, value } of items) {
    expect(key.length >= 1 && key.length <= 255 && value.length <= 255).toBe(true);
    expect([IDEMPOTENCY_TAG_KEY, RUN_TAG_KEY]).not.toContain(key);
  }
}

function expectExportInvariants(v: ExportSnapshotParams): void {
  for (const id of [v.groupId, v.snapshotId, v.exportBucketId]) expect(id).toMatch(ATLAS_ID_PATTERN);
  expect(v.clusterName).toMatch(CLUSTER_NAME_PATTERN);
  expect(v.clusterName.length).toBeLessThanOrEqual(64);
  expectCustomDataInvariants(v.customData);
  if (v.notify) expect(v.notify.workflowId.length >= 1 && v.notify.workflowId.length <= 1000).toBe(true);
  expectPollingInvariants(v.polling);
}

/** Arbitrary JSON, and arbitrary JS values beyond what a payload converter can produce. */
const arbitraryValue = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.anything({
    maxDepth: 3,
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withSparseArray: true,
    withTypedArray: true,
  })
);

describe('exportSnapshot input', () => {
  it('accepts every valid input, and it satisfies the invariants', () => {
    checkProperty(
      'exportSnapshot: valid inputs accepted',
      validExportInput,
      (input) => {
        const parsed = parseExportSnapshotInput(input);
        expect(parsed.ok, parsed.ok ? '' : parsed.message).toBe(true);
        if (parsed.ok) expectExportInvariants(parsed.value);
      },
      300
    );
  });

  it('rejects a valid input with one field mutated by naming that field, or accepts it within the invariants', () => {
    checkProperty(
      'exportSnapshot: one field mutated',
      fc.tuple(
        validExportInput,
        mutations(EXPORT_FIELDS, [[], ['notify'], ['polling'], ['customData', 0]], EXPORT_KEYS)
      ),
      ([input, m]) => {
        const parsed = parseExportSnapshotInput(setAt(input, m.path, m.value));
        if (parsed.ok) expectExportInvariants(parsed.value);
        else expectNamesField(parsed.message, m);
      },
      2000
    );
  });

  it('never throws on arbitrary values, and names a field when it rejects them', () => {
    checkProperty(
      'exportSnapshot: arbitrary values',
      arbitraryValue,
      (raw) => {
        const parsed = parseExportSnapshotInput(raw);
        if (parsed.ok) expectExportInvariants(parsed.value);
        else expect(parsed.message).toMatch(/^input(\.[^:]+|\[\d+\])*: /);
      },
      1000
    );
  });
});

const policy = fc.oneof(
  fc.constantFrom('latest', 'on-demand'),
  atlasId.map((snapshotId) => ({ snapshotId }))
);
const target = fc.record(
  { groupId: atlasId, clusterName, exportBucketId: atlasId, customData, snapshot: policy },
  { requiredKeys: ['groupId', 'clusterName', 'exportBucketId'] }
);
const validScheduledInput = fc.record(
  {
    targets: fc.uniqueArray(target, {
      minLength: 1,
      maxLength: 4,
      selector: (t) => `${t.groupId}/${t.clusterName}/${t.exportBucketId}`,
    }),
    concurrency: fc.integer({ min: 1, max: MAX_EXPORT_CONCURRENCY }),
    polling: validPolling,
    onDemand: fc.record(
      {
        retentionInDays: fc.integer({ min: 1, max: 365 }),
        initialInterval: fc.constantFrom('10s', 5000),
        maximumInterval: fc.constantFrom('10m', 600_000),
        backoffCoefficient: fc.constantFrom(1, 2.5),
        timeout: fc.constantFrom('6h', '1d'),
      },
      { requiredKeys: [] }
    ),
    maxHistoryEvents: fc.integer({ min: 20, max: 40_000 }),
  },
  { requiredKeys: ['targets'] }
);
const ON_DEMAND_FIELDS = ['retentionInDays', 'initialInterval', 'maximumInterval', 'backoffCoefficient', 'timeout'];
const TARGET_FIELDS = ['groupId', 'clusterName', 'exportBucketId', 'customData', 'snapshot'];
const SCHEDULED_FIELDS: Path[] = [
  ['targets'],
  ['targets', 0],
  ['targets', 1],
  ...TARGET_FIELDS.map((f) => ['targets', 0, f]),
  ['targets', 0, 'snapshot', 'snapshotId'],
  ['targets', 0, 'customData', 0, 'key'],
  ['concurrency'],
  ['polling'],
  ...POLLING_FIELDS.map((f) => ['polling', f]),
  ['onDemand'],
  ...ON_DEMAND_FIELDS.map((f) => ['onDemand', f]),
  ['maxHistoryEvents'],
];
const SCHEDULED_KEYS = new Set([
  'targets',
  'concurrency',
  'polling',
  'onDemand',
  'maxHistoryEvents',
  'snapshotId',
  'key',
  'value',
  ...TARGET_FIELDS,
  ...POLLING_FIELDS,
  ...ON_DEMAND_FIELDS,
]);

function expectScheduledInvariants(v: ScheduledExportParams): void {
  expect(v.targets.length >= 1 && v.targets.length <= MAX_SCHEDULED_TARGETS).toBe(true);
  const keys = new Set<string>();
  for (const t of v.targets) {
    expect(t.groupId).toMatch(ATLAS_ID_PATTERN);
    expect(t.exportBucketId).toMatch(ATLAS_ID_PATTERN);
    expect(t.clusterName).toMatch(CLUSTER_NAME_PATTERN);
    expectCustomDataInvariants(t.customData ?? undefined);
    const p = t.snapshot;
    if (typeof p === 'string') expect(['latest', 'on-demand']).toContain(p);
    else expect(p.snapshotId).toMatch(ATLAS_ID_PATTERN);
    keys.add(`${t.groupId}/${t.clusterName}/${t.exportBucketId}/${typeof p === 'string' ? p : p.snapshotId}`);
  }
  expect(keys.size).toBe(v.targets.length);
  expect(Number.isInteger(v.concurrency) && v.concurrency >= 1 && v.concurrency <= MAX_EXPORT_CONCURRENCY).toBe(true);
  expect(Number.isInteger(v.maxHistoryEvents) && v.maxHistoryEvents >= 20 && v.maxHistoryEvents <= 40_000).toBe(true);
  expectPollingInvariants(v.polling);
  const o = v.onDemand;
  expect(Number.isInteger(o.retentionInDays) && o.retentionInDays >= 1 && o.retentionInDays <= 365).toBe(true);
  for (const ms of [o.initialIntervalMs, o.maximumIntervalMs, o.timeoutMs]) {
    expect(Number.isSafeInteger(ms) && ms > 0 && ms <= MAX_DURATION_MS, `duration ${ms}`).toBe(true);
  }
  expect(o.maximumIntervalMs).toBeGreaterThanOrEqual(o.initialIntervalMs);
}

describe('scheduledExport input', () => {
  it('accepts every valid input, and it satisfies the invariants', () => {
    checkProperty(
      'scheduledExport: valid inputs accepted',
      validScheduledInput,
      (input) => {
        const parsed = parseScheduledExportInput(input);
        expect(parsed.ok, parsed.ok ? '' : parsed.message).toBe(true);
        if (parsed.ok) expectScheduledInvariants(parsed.value);
      },
      300
    );
  });

  it('rejects a valid input with one field mutated by naming that field, or accepts it within the invariants', () => {
    const objects: Path[] = [[], ['targets', 0], ['targets', 0, 'snapshot'], ['polling'], ['onDemand']];
    checkProperty(
      'scheduledExport: one field mutated',
      fc.tuple(validScheduledInput, mutations(SCHEDULED_FIELDS, objects, SCHEDULED_KEYS)),
      ([input, m]) => {
        const parsed = parseScheduledExportInput(setAt(input, m.path, m.value));
        if (parsed.ok) expectScheduledInvariants(parsed.value);
        else expectNamesField(parsed.message, m);
      },
      2000
    );
  });

  it('names the repeated target when a target is listed twice', () => {
    checkProperty(
      'scheduledExport: duplicate target',
      validScheduledInput,
      (input) => {
        const parsed = parseScheduledExportInput({ ...input, targets: [...input.targets, input.targets[0]] });
        expect(parsed.ok).toBe(false);
        if (!parsed.ok) expect(parsed.message).toContain(`input.targets[${input.targets.length}]: repeats targets[0]`);
      },
      200
    );
  });

  it('never throws on arbitrary values, and names a field when it rejects them', () => {
    checkProperty(
      'scheduledExport: arbitrary values',
      fc.oneof(arbitraryValue, fc.record({ targets: fc.array(arbitraryValue, { maxLength: 3 }) })),
      (raw) => {
        const parsed = parseScheduledExportInput(raw);
        if (parsed.ok) expectScheduledInvariants(parsed.value);
        else expect(parsed.message).toMatch(/^input(\.[^:]+|\[\d+\])*: /);
      },
      1000
    );
  });
});
