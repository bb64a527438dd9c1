import { describe, expect, it } from 'vitest';
import { durationSchema } from '../../src/shared/durations';
import { DEFAULT_POLLING, parseExportSnapshotInput } from '../../src/shared/export-contract';
import { pollDelayMs, stableFraction } from '../../src/shared/poll-schedule';

const valid = {
  groupId: '5f0c1e2d3b4a596877869500',
  clusterName: 'Cluster0',
  snapshotId: '5f0c1e2d3b4a596877869501',
  exportBucketId: '5f0c1e2d3b4a596877869502',
};

describe('durations', () => {
  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1.5m', 90_000],
    [1500, 1500],
    ['3650d', 315_360_000_000],
  ])('%j is %i ms', (input, ms) => {
    expect(durationSchema.parse(input)).toBe(ms);
  });

  // 0.4 ms rounds to a 0 ms timeout; past ten years, a deadline stops being a valid date.
  it.each(['10', 'soon', '', '-5s', 0, -1, '0s', Number.NaN, 0.4, '0.4ms', '3651d', 1e300, '99999999999999999999h'])(
    '%j is refused',
    (input) => {
      expect(durationSchema.safeParse(input).success).toBe(false);
    }
  );
});

describe('exportSnapshot input', () => {
  it('fills polling defaults that fit real exports', () => {
    const parsed = parseExportSnapshotInput(valid);
    expect(parsed.ok && parsed.value.polling).toEqual(DEFAULT_POLLING);
  });

  it('accepts duration strings and milliseconds in polling', () => {
    const parsed = parseExportSnapshotInput({
      ...valid,
      polling: { initialInterval: '10s', maximumInterval: 60_000, timeout: '1h' },
    });
    expect(parsed.ok && parsed.value.polling).toMatchObject({
      initialIntervalMs: 10_000,
      maximumIntervalMs: 60_000,
      timeoutMs: 3_600_000,
    });
  });

  it('reserves the idempotency tag key', () => {
    const parsed = parseExportSnapshotInput({
      ...valid,
      customData: [{ key: 'atlas-export-orchestrator:workflow-id', value: 'x' }],
    });
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toContain('input.customData');
  });

  it('names every bad field at once', () => {
    const parsed = parseExportSnapshotInput({ ...valid, groupId: 'x', exportBucketId: 42, notify: { workflowId: '' } });
    expect(parsed.ok).toBe(false);
    const message = !parsed.ok ? parsed.message : '';
    expect(message).toContain('input.groupId');
    expect(message).toContain('input.exportBucketId');
    expect(message).toContain('input.notify.workflowId');
  });
});

describe('poll schedule', () => {
  const s = { initialIntervalMs: 30_000, maximumIntervalMs: 180_000, backoffCoefficient: 1.5 };

  it('grows by the coefficient, within ±10 % jitter, and never exceeds the maximum interval', () => {
    for (let i = 0; i < 50; i++) {
      const d = pollDelayMs(i, s, 'wf');
      const base = Math.min(30_000 * 1.5 ** i, 180_000);
      expect(d).toBeGreaterThanOrEqual(Math.floor(base * 0.9));
      expect(d).toBeLessThanOrEqual(180_000);
    }
  });

  it('is deterministic per seed and spreads different seeds', () => {
    expect(pollDelayMs(3, s, 'a')).toBe(pollDelayMs(3, s, 'a'));
    const values = new Set(Array.from({ length: 30 }, (_, i) => pollDelayMs(0, s, `wf-${i}`)));
    expect(values.size).toBeGreaterThan(20);
  });

  it('stableFraction stays in [0, 1)', () => {
    for (let i = 0; i < 1000; i++) {
      const f = stableFraction(`k${i}`);
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
    }
  });
});
