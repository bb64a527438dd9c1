import { describe, expect, it } from 'vitest';
import { durationSchema } from '../../src/shared/contract/durations';
import { DEFAULT_POLLING, parseExportSnapshotInput } from '../../src/shared/contract/export-contract';
import { ADAPTIVE_DEFAULTS } from '../../src/shared/polling/poll-cadence';
import { pollDelayMs, stableFraction } from '../../src/shared/polling/backoff';

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
  it('fills polling defaults that fit real exports: the adaptive cadence', () => {
    const parsed = parseExportSnapshotInput(valid);
    expect(parsed.ok && parsed.value.polling).toMatchObject({
      ...DEFAULT_POLLING,
      mode: 'adaptive',
      cadence: { mode: 'adaptive', ...ADAPTIVE_DEFAULTS, timeScale: 1 },
      maximumIntervalMs: ADAPTIVE_DEFAULTS.maximumIntervalMs,
    });
  });

  it('keeps the pre-mode shape exponential, so older inputs and histories mean what they meant', () => {
    const parsed = parseExportSnapshotInput({ ...valid, polling: { initialInterval: 1000, backoffCoefficient: 1.5 } });
    expect(parsed.ok && parsed.value.polling.cadence).toEqual({
      mode: 'exponential',
      initialIntervalMs: 1000,
      maximumIntervalMs: 180_000,
      backoffCoefficient: 1.5,
      timeScale: 1,
    });
  });

  it("expresses the benchmark's baselines", () => {
    const cadence = (polling: unknown) => {
      const parsed = parseExportSnapshotInput({ ...valid, polling });
      if (!parsed.ok) throw new Error(parsed.message);
      return parsed.value.polling.cadence;
    };
    expect(cadence({ mode: 'fixed', interval: '4s' })).toEqual({
      mode: 'fixed',
      initialIntervalMs: 4_000,
      intervalMs: 4_000,
      timeScale: 1,
    });
    expect(cadence({ mode: 'fixed', initialInterval: '65s', interval: '45s', timeScale: 60 })).toEqual({
      mode: 'fixed',
      initialIntervalMs: 65_000,
      intervalMs: 45_000,
      timeScale: 60,
    });
    expect(cadence({ mode: 'fixed', interval: '60s' })).toMatchObject({ intervalMs: 60_000 });
    expect(
      cadence({ mode: 'exponential', initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '60s' })
    ).toEqual({
      mode: 'exponential',
      initialIntervalMs: 5_000,
      maximumIntervalMs: 60_000,
      backoffCoefficient: 2,
      timeScale: 1,
    });
    expect(cadence({ mode: 'adaptive', minimumInterval: '5s', maximumInterval: '2m' })).toMatchObject({
      mode: 'adaptive',
      minimumIntervalMs: 5_000,
      maximumIntervalMs: 120_000,
    });
  });

  it('scales the worker-clock cap by timeScale, not the timeouts', () => {
    const parsed = parseExportSnapshotInput({ ...valid, polling: { timeScale: 600, timeout: '1h' } });
    expect(parsed.ok && parsed.value.polling).toMatchObject({ maximumIntervalMs: 1_000, timeoutMs: 3_600_000 });
  });

  it.each([
    [
      { interval: '4s' },
      'input.polling.interval: is not a setting of mode "adaptive" (the default); it belongs to mode "fixed"',
    ],
    [{ mode: 'fixed', backoffCoefficient: 2 }, 'input.polling.backoffCoefficient: is not a setting of mode "fixed"'],
    [
      { mode: 'exponential', minimumInterval: '5s' },
      'input.polling.minimumInterval: is not a setting of mode "exponential"',
    ],
    [{ mode: 'sometimes' }, 'input.polling.mode: must be one of adaptive, fixed, exponential'],
    [
      { minimumInterval: '1m', maximumInterval: '30s' },
      'input.polling.maximumInterval: must be at least minimumInterval',
    ],
    [
      { mode: 'exponential', initialInterval: '1m', maximumInterval: '30s' },
      'input.polling.maximumInterval: maximumInterval must be at least initialInterval',
    ],
    [{ mode: 'fixed', interval: '4s', extra: 1 }, 'input.polling'],
    [{ timeScale: 0 }, 'input.polling.timeScale: must be positive'],
  ])('refuses %j, naming the field', (polling, message) => {
    const parsed = parseExportSnapshotInput({ ...valid, polling });
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toContain(message);
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
