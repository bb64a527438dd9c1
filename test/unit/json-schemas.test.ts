import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import {
  exportCompletionSchema,
  parseExportSnapshotInput,
  type ExportCompletion,
} from '../../src/shared/contract/export-contract';
import { CONTRACT_SCHEMAS, contractJsonSchema, type ContractSchemaName } from '../../src/shared/contract/json-schemas';
import { parseScheduledExportInput } from '../../src/shared/contract/scheduled-export-contract';

/**
 * The published JSON Schemas (schemas/) are the zod schemas' output, and say the same as the zod schemas about
 * the inputs other languages send and the reports they receive.
 */

const names = Object.keys(CONTRACT_SCHEMAS) as ContractSchemaName[];
const published = (name: ContractSchemaName): Record<string, unknown> =>
  JSON.parse(readFileSync(join(__dirname, '..', '..', 'schemas', `${name}.schema.json`), 'utf8')) as Record<
    string,
    unknown
  >;
const ajv = new Ajv2020({ strict: false, allErrors: true });
for (const name of names) ajv.addSchema(published(name));
const validator = (name: ContractSchemaName) => ajv.getSchema(published(name).$id as string)!;

const ids = {
  groupId: '5f0c1e2d3b4a596877869500',
  clusterName: 'Cluster0',
  snapshotId: '5f0c1e2d3b4a596877869501',
  exportBucketId: '5f0c1e2d3b4a596877869502',
};

const completion: ExportCompletion = {
  workflowId: 'atlas-export-x',
  ...ids,
  exportJobId: '5f0c1e2d3b4a596877869503',
  state: 'Successful',
  exportedCollections: 3,
  totalCollections: 3,
  components: [],
  stateReason: null,
  prefix: 'exported_snapshots/x',
  startedAt: '2026-12-03T10:00:00.000Z',
  finishedAt: '2026-12-03T10:15:00.000Z',
  terminal: true,
  attached: false,
  detachedFrom: null,
};

describe('published JSON Schemas', () => {
  it.each(names)('schemas/%s.schema.json is what `npm run schemas` generates from the zod schema', (name) => {
    expect(published(name)).toEqual(contractJsonSchema(name));
    expect(published(name).$id).toMatch(/^urn:atlas-export-orchestrator:schema:.+:v\d+$/);
  });

  const inputs: [label: string, input: unknown][] = [
    ['ids only', ids],
    [
      'null for every optional field',
      { ...ids, customData: null, notify: null, polling: null, ifAlreadyExported: null },
    ],
    ['null inside polling', { ...ids, polling: { mode: null, timeout: null, stallAfter: null, failOnStall: null } }],
    [
      'every field',
      {
        ...ids,
        customData: [{ key: 'k', value: 'v' }],
        notify: { workflowId: 'w' },
        polling: { mode: 'fixed', interval: '45s', timeout: '2h' },
        ifAlreadyExported: 'export-again',
      },
    ],
  ];
  it.each(inputs)('an exportSnapshot input with %s is accepted by both', (_label, input) => {
    expect(parseExportSnapshotInput(input)).toMatchObject({ ok: true });
    expect(validator('export-snapshot-input')(input)).toBe(true);
  });

  const refused: [label: string, input: unknown][] = [
    ['an unknown field', { ...ids, colour: 'blue' }],
    ['a malformed id', { ...ids, groupId: 'nope' }],
    ['a missing id', { clusterName: 'Cluster0' }],
    ['an unknown ifAlreadyExported', { ...ids, ifAlreadyExported: 'maybe' }],
  ];
  it.each(refused)('an exportSnapshot input with %s is refused by both', (_label, input) => {
    expect(parseExportSnapshotInput(input)).toMatchObject({ ok: false });
    expect(validator('export-snapshot-input')(input)).toBe(false);
  });

  it('a scheduledExport input with nulls is accepted by both, and `snapshot: null` means latest', () => {
    const input = { targets: [{ ...ids, snapshotId: undefined, customData: null, snapshot: null }], polling: null };
    const plain = JSON.parse(JSON.stringify(input)) as unknown;
    const parsed = parseScheduledExportInput(plain);
    expect(parsed.ok && parsed.value.targets[0]?.snapshot).toBe('latest');
    expect(validator('scheduled-export-input')(plain)).toBe(true);
  });

  it('a completion has every documented field: one without detachedFrom is refused by both', () => {
    expect(validator('export-completion')(completion)).toBe(true);
    expect(exportCompletionSchema.safeParse(completion).success).toBe(true);
    const { detachedFrom: _omitted, ...withoutDetachedFrom } = completion;
    expect(validator('export-completion')(withoutDetachedFrom)).toBe(false);
    expect(exportCompletionSchema.safeParse(withoutDetachedFrom).success).toBe(false);
    // Readers ignore fields added later.
    expect(validator('export-completion')({ ...completion, addedLater: 1 })).toBe(true);
  });

  it('every property of a report schema is required (present, null when absent)', () => {
    for (const name of ['export-completion', 'export-progress', 'scheduled-export-summary'] as const) {
      const schema = published(name) as { properties: Record<string, unknown>; required: string[] };
      expect(schema.required.sort()).toEqual(Object.keys(schema.properties).sort());
    }
  });
});

describe('polling floors', () => {
  it.each([
    ['attemptTimeout', 1],
    ['reportInterval', 1],
    ['timeout', '500ms'],
  ])('polling.%s of %j is refused, naming the floor', (field, value) => {
    const parsed = parseExportSnapshotInput({ ...ids, polling: { [field]: value } });
    expect(parsed.ok ? 'accepted' : parsed.message).toContain(`input.polling.${field}: must be at least 1s`);
  });

  it("exponential initialInterval below 1 s is refused; the same on Atlas's clock with timeScale is accepted", () => {
    const slow = parseExportSnapshotInput({ ...ids, polling: { initialInterval: 1 } });
    expect(slow.ok ? 'accepted' : slow.message).toContain('input.polling.initialInterval: must be at least 1s');
    const fast = parseExportSnapshotInput({ ...ids, polling: { initialInterval: '1s', timeScale: 1000 } });
    expect(fast.ok && fast.value.polling.initialIntervalMs).toBe(1);
  });
});
