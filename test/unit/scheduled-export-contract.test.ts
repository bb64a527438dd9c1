import { describe, expect, it } from 'vitest';
import { parseTargets, TargetsFileError } from '../../src/cli/targets-file';
import {
  DEFAULT_EXPORT_CONCURRENCY,
  parseScheduledExportInput,
} from '../../src/shared/contract/scheduled-export-contract';
import { businessKeyWorkflowId, exportWorkflowId } from '../../src/shared/contract/workflow-ids';

const G = 'a'.repeat(24);
const B = 'b'.repeat(24);
const S = 'c'.repeat(24);

function problems(text: string, file: string): string[] {
  try {
    parseTargets(text, file);
  } catch (err) {
    if (err instanceof TargetsFileError) return err.problems;
    throw err;
  }
  return [];
}

describe('scheduledExport input', () => {
  it('fills in defaults: latest snapshots, concurrency 10, the export polling defaults', () => {
    const parsed = parseScheduledExportInput({ targets: [{ groupId: G, clusterName: 'C0', exportBucketId: B }] });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.targets[0]!.snapshot).toBe('latest');
    expect(parsed.value.concurrency).toBe(DEFAULT_EXPORT_CONCURRENCY);
    expect(parsed.value.polling.initialIntervalMs).toBe(30_000);
    expect(parsed.value.onDemand).toMatchObject({ retentionInDays: 1, timeoutMs: 6 * 3600_000 });
    expect(parsed.value.maxHistoryEvents).toBe(2000);
  });

  it('names every bad field, and refuses repeated targets', () => {
    const parsed = parseScheduledExportInput({
      targets: [
        { groupId: G, clusterName: 'C0', exportBucketId: B, snapshot: { snapshotId: 'nope' } },
        { groupId: G, clusterName: '-bad', exportBucketId: B, snapshot: 'tomorrow', extra: 1 },
      ],
      concurrency: 51,
      onDemand: { retentionInDays: 0 },
    });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.message).toContain('input.targets[0].snapshot.snapshotId: must be 24 lowercase hex characters');
    expect(parsed.message).toContain('input.targets[1].clusterName: must start with a letter or digit');
    expect(parsed.message).toContain('input.targets[1].snapshot: must be "latest", "on-demand" or { snapshotId');
    expect(parsed.message).toContain('input.targets[1]: Unrecognized key: "extra"');
    expect(parsed.message).toContain('input.concurrency: must be at most 50');
    expect(parsed.message).toContain('input.onDemand.retentionInDays: must be at least 1');

    const repeated = parseScheduledExportInput({
      targets: [
        { groupId: G, clusterName: 'C0', exportBucketId: B },
        { groupId: G, clusterName: 'C0', exportBucketId: B, snapshot: 'on-demand' },
        { groupId: G, clusterName: 'C0', exportBucketId: B, snapshot: 'latest' },
      ],
    });
    expect(repeated.ok).toBe(false);
    if (!repeated.ok) expect(repeated.message).toBe('input.targets[2]: repeats targets[0]');
  });

  it('derives one workflow id per export, the same the CLI uses', () => {
    expect(exportWorkflowId({ groupId: G, clusterName: 'C0', snapshotId: S, exportBucketId: B })).toBe(
      `atlas-export-${G}-C0-${S}-${B}`
    );
    expect(businessKeyWorkflowId('order-42')).toBe('atlas-export-key-order-42');
    expect(() => businessKeyWorkflowId('has space')).toThrow(/businessKey "has space"/);
  });
});

describe('targets files', () => {
  it('reads a YAML list or a whole input, and JSON', () => {
    expect(parseTargets(`- groupId: ${G}\n  clusterName: C0\n  exportBucketId: ${B}\n`, 't.yaml').targets).toHaveLength(
      1
    );
    const whole = parseTargets(
      `concurrency: 3\ntargets:\n  - { groupId: ${G}, clusterName: C0, exportBucketId: ${B}, snapshot: on-demand }\n`,
      't.yml'
    );
    expect(whole.concurrency).toBe(3);
    expect(whole.targets[0]!.snapshot).toBe('on-demand');
    expect(
      parseTargets(JSON.stringify([{ groupId: G, clusterName: 'C0', exportBucketId: B }]), 't.json').targets
    ).toHaveLength(1);
  });

  it('names the file, the line and the field of each problem in YAML', () => {
    const yaml = [
      'concurrency: 2', // 1
      'targets:', // 2
      `  - groupId: ${G}`, // 3
      '    clusterName: C0', // 4
      `    exportBucketId: ${B}`, // 5
      '  - groupId: 5f00', // 6
      '    clusterName: C1', // 7
      '    snapshot:', // 8
      '      snapshotId: 123', // 9
      '    colour: blue', // 10
    ].join('\n');
    expect(problems(yaml, 'fleet.yaml')).toEqual([
      'fleet.yaml:6: targets[1].groupId: must be 24 lowercase hex characters (an Atlas id)',
      'fleet.yaml:6: targets[1].exportBucketId: is required',
      'fleet.yaml:8: targets[1].snapshot: must be "latest", "on-demand" or { snapshotId: <24-hex Atlas id> }',
      'fleet.yaml:10: targets[1]: Unrecognized key: "colour"',
    ]);
  });

  it('reports YAML and JSON syntax errors with a position', () => {
    expect(problems('targets:\n  - groupId: [unclosed\n', 'bad.yaml')[0]).toMatch(
      /^bad\.yaml:\d+:\d+: not valid YAML: /
    );
    expect(problems('{\n  "targets": [\n    { "groupId" "x" }\n  ]\n}', 'bad.json')[0]).toMatch(
      /^bad\.json:3: not valid JSON: /
    );
    expect(problems('[]', 'empty.json')).toEqual(['empty.json:1: targets: must list at least one target']);
  });
});
