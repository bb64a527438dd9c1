import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CATCHUP_WINDOW_MS } from '../../src/client/schedules';
import { CliError, ExitCode, UsageError } from '../../src/cli/common';
import { exportInputFromOptions } from '../../src/cli/commands/export';
import { listQuery } from '../../src/cli/commands/list';
import { backfillRequest } from '../../src/cli/commands/schedule/backfill';
import { createRequest } from '../../src/cli/commands/schedule/create';
import { overlapOption, scheduleIdOf } from '../../src/cli/commands/schedule/options';
import { updateRequest } from '../../src/cli/commands/schedule/update';
import { MAX_DURATION_MS } from '../../src/shared/contract/durations';
import { parseExportSnapshotInput } from '../../src/shared/contract/export-contract';
import { parseScheduledExportInput } from '../../src/shared/contract/scheduled-export-contract';
import { main } from '../../src/starter';
import { atlasId, checkAsyncProperty, checkProperty, clusterName, propertySummary } from '../helpers/properties';
import { runCli } from '../helpers/run-cli';

/**
 * Issue 6 part 3 for the command line: any argv either fails with a `UsageError` (exit 2) that names a flag or
 * the command, or gets as far as connecting to Temporal; never an unexpected error.
 */

/** Flag values by flag name, as a command line gives them (strings, lists for repeatable flags, booleans). */
type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** The options object commander builds from `values`: `--group-id` is `groupId`. */
function opts(values: FlagValues): Record<string, never> {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()), v])
  ) as Record<string, never>;
}

/** What `main` throws once every argument is valid: it would now connect (nothing listens in these tests). */
class WouldConnect extends Error {
  override readonly name = 'WouldConnect';
}
vi.mock('../../src/temporal/connection', () => ({
  connectClient: () => Promise.reject(new WouldConnect('would connect to Temporal now')),
}));

let dir: string;
const files: Record<'validJson' | 'validYaml' | 'invalidYaml' | 'badSchema' | 'missing', string> = {
  validJson: '',
  validYaml: '',
  invalidYaml: '',
  badSchema: '',
  missing: '',
};
let savedAddress: string | undefined;

beforeAll(() => {
  savedAddress = process.env.TEMPORAL_ADDRESS;
  process.env.TEMPORAL_ADDRESS = '127.0.0.1:1';
  dir = mkdtempSync(join(tmpdir(), 'aeo-cli-props-'));
  const target = { groupId: 'a'.repeat(24), clusterName: 'Cluster0', exportBucketId: 'b'.repeat(24) };
  files.validJson = join(dir, 'targets.json');
  writeFileSync(files.validJson, JSON.stringify([target]));
  files.validYaml = join(dir, 'targets.yaml');
  writeFileSync(
    files.validYaml,
    `targets:\n  - groupId: ${target.groupId}\n    clusterName: c1\n    exportBucketId: ${target.exportBucketId}\n`
  );
  files.invalidYaml = join(dir, 'broken.yaml');
  writeFileSync(files.invalidYaml, 'targets: [\n  - {');
  files.badSchema = join(dir, 'bad.json');
  writeFileSync(files.badSchema, JSON.stringify({ targets: [{ ...target, groupId: 'nope' }], concurrency: 0 }));
  files.missing = join(dir, 'missing.yaml');
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
});

afterAll(() => {
  if (savedAddress === undefined) delete process.env.TEMPORAL_ADDRESS;
  else process.env.TEMPORAL_ADDRESS = savedAddress;
  rmSync(dir, { recursive: true, force: true });
  vi.restoreAllMocks();
  console.info(`[property] CLI arguments:\n${propertySummary()}`);
});

/** Strings a person (or a script gone wrong) might pass as a flag value. */
const flagValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '0',
    '-1',
    '1.5',
    '1e3',
    'NaN',
    '30s',
    '0.4ms',
    '3651d',
    '99999999999999999999',
    '99999999999999999999h',
    '10m/2h',
    '24h/2h',
    '0 2 * * *',
    '@daily',
    '* * *',
    'Europe/Berlin',
    'Mars/Olympus',
    'skip',
    'buffer-one',
    'KEY=value',
    '=value',
    'noequals',
    '2025-01-31T02:00:00Z',
    'yesterday',
    "Failed' OR '1'='1",
    'x'.repeat(300),
    'a'.repeat(24)
  ),
  atlasId,
  clusterName,
  fc.string({ maxLength: 30 }),
  fc.stringMatching(/^-?\d{1,22}(\.\d{1,2})?(ms|s|m|h|d|w|y)?$/)
);

const STRING_FLAGS = [
  'group-id',
  'cluster',
  'snapshot-id',
  'bucket-id',
  'notify-workflow-id',
  'workflow-id',
  'poll-initial',
  'poll-max',
  'poll-backoff',
  'timeout',
  'progress-interval',
  'refresh',
  'state',
  'since',
  'limit',
  'query',
  'schedule-id',
  'targets',
  'time-zone',
  'jitter',
  'overlap',
  'catchup-window',
  'concurrency',
  'note',
  'start',
  'end',
] as const;
const MULTIPLE_FLAGS = ['custom-data', 'cron', 'interval'] as const;
const BOOLEAN_FLAGS = ['wait', 'paused', 'update-if-exists', 'json'] as const;

/**
 * Flag values shaped as a command line gives them (strings, string lists for repeatable flags, booleans): `base`
 * with up to three flags set, mostly among `focus` (the flags the parser under test reads), or removed.
 */
function flagValues(base: fc.Arbitrary<FlagValues>, focus: readonly string[]) {
  const stringFlag = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...focus.filter((f) => (STRING_FLAGS as readonly string[]).includes(f))) },
    { weight: 1, arbitrary: fc.constantFrom<string>(...STRING_FLAGS) }
  );
  const changes = fc.array(
    fc.oneof(
      { weight: 6, arbitrary: fc.tuple(stringFlag, flagValue) },
      {
        weight: 2,
        arbitrary: fc.tuple(
          fc.constantFrom<string>(...MULTIPLE_FLAGS),
          fc.array(flagValue, { minLength: 1, maxLength: 3 })
        ),
      },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom<string>(...BOOLEAN_FLAGS), fc.constant(true)) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom<string>(...focus), fc.constant(undefined)) }
    ),
    { maxLength: 3 }
  );
  return fc.tuple(base, changes).map(([values, edits]) => {
    const out: FlagValues = { ...values };
    for (const [flag, value] of edits) out[flag] = value;
    return { values: out, changed: edits.map(([flag]) => flag) };
  });
}

/** A rejected command line: a usage error (or a targets-file error, exit 2) whose message names what is wrong. */
function expectUsage(err: unknown): asserts err is Error {
  if (err instanceof CliError) {
    expect(err.exitCode).toBe(ExitCode.Usage);
    expect(err.message).toMatch(/targets file .*:\n/);
    return;
  }
  if (!(err instanceof UsageError)) throw err;
  expect(err.message.trim()).not.toBe('');
}

const validExportFlags: fc.Arbitrary<FlagValues> = fc.record(
  {
    'group-id': atlasId,
    cluster: clusterName,
    'snapshot-id': atlasId,
    'bucket-id': atlasId,
    'custom-data': fc.array(fc.constantFrom('team=data', 'ticket=OPS-1'), { minLength: 1, maxLength: 2 }),
    'notify-workflow-id': fc.constantFrom('caller-1'),
    'poll-initial': fc.constantFrom('10s', '1m'),
    'poll-max': fc.constantFrom('5m', '1h'),
    'poll-backoff': fc.constantFrom('1', '1.5', '2'),
    timeout: fc.constantFrom('2h', '48h'),
  },
  { requiredKeys: ['group-id', 'cluster', 'snapshot-id', 'bucket-id'] }
);
const FLAG_OF_EXPORT_FIELD: Record<string, string> = {
  'group-id': '--group-id',
  cluster: '--cluster',
  'snapshot-id': '--snapshot-id',
  'bucket-id': '--bucket-id',
  'custom-data': '--custom-data',
  'poll-initial': '--poll-',
  'poll-max': '--poll-',
  'poll-backoff': '--poll-',
  timeout: '--timeout',
};

describe('export flags', () => {
  it('become a valid workflow input, or a UsageError naming the flag', () => {
    checkProperty(
      'export flags (exportInputFromOptions)',
      flagValues(validExportFlags, [...Object.keys(FLAG_OF_EXPORT_FIELD), 'notify-workflow-id']),
      ({ values, changed }) => {
        let input: unknown;
        try {
          input = exportInputFromOptions(opts(values));
        } catch (err) {
          expectUsage(err);
          for (const line of err.message.split('\n')) expect(line).toMatch(/^--[a-z]/);
          const named = changed.map((f) => FLAG_OF_EXPORT_FIELD[f]).filter((f) => f !== undefined);
          if (named.length > 0)
            expect(
              named.some((flag) => err.message.includes(flag)),
              err.message
            ).toBe(true);
          return;
        }
        const parsed = parseExportSnapshotInput(input);
        expect(parsed.ok, parsed.ok ? '' : parsed.message).toBe(true);
      },
      1500
    );
  });
});

describe('list flags', () => {
  const base = fc.record({ state: fc.constantFrom('Failed', 'InProgress') }, { requiredKeys: [] });
  it('become a bounded visibility query, or a UsageError naming the flag', () => {
    const now = Date.parse('2026-11-28T12:00:00Z');
    checkProperty(
      'list flags (listQuery)',
      flagValues(base, ['state', 'group-id', 'cluster', 'since', 'limit', 'query']),
      ({ values }) => {
        let result: { query: string; limit: number };
        try {
          result = listQuery(opts(values), now);
        } catch (err) {
          expectUsage(err);
          for (const line of err.message.split('\n'))
            expect(line).toMatch(/^--(state|group-id|cluster|since|limit|query): /);
          return;
        }
        expect(Number.isInteger(result.limit) && result.limit >= 1 && result.limit <= 1000).toBe(true);
        expect(result.query).toMatch(/StartTime >= '\d{4}-\d\d-\d\dT[\d:.]+Z'/);
        // Filter values are quoted into the query: none may carry a quote of its own.
        for (const flag of ['state', 'group-id', 'cluster'] as const) {
          const v = values[flag];
          if (typeof v === 'string' && v.trim() !== '') expect(v).not.toMatch(/['"\\]/);
        }
      },
      1500
    );
  });
});

describe('schedule commands', () => {
  const subcommand = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('create', 'update', 'describe', 'list', 'pause', 'unpause', 'trigger') },
    { weight: 2, arbitrary: fc.constantFrom('backfill', 'delete') },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }
  );
  const rest = fc.tuple(
    subcommand,
    fc.option(fc.oneof(fc.constantFrom('nightly', 'a/b:c.d'), fc.string({ maxLength: 10 })), { nil: undefined })
  );
  const targetsFile = fc.constantFrom<keyof typeof files>(
    'validJson',
    'validYaml',
    'invalidYaml',
    'badSchema',
    'missing'
  );
  const base = fc.record(
    {
      targets: targetsFile.map((k) => files[k]),
      cron: fc.constant<string[]>(['0 2 * * *']),
      interval: fc.constant<string[]>(['24h/2h']),
      start: fc.constant('2026-01-01T00:00:00Z'),
      end: fc.constant('2026-01-02T00:00:00Z'),
      concurrency: fc.constantFrom('1', '5'),
    },
    { requiredKeys: [] }
  );

  /** What each schedule command validates before connecting (commander refuses unknown subcommands first). */
  function parseSchedule(sub: string, id: string | undefined, values: FlagValues) {
    const o = opts(values);
    switch (sub) {
      case 'create':
        return { sub, ...createRequest(id, o) } as const;
      case 'update':
        return { sub, ...updateRequest(id, o) } as const;
      case 'backfill':
        return { sub, ...backfillRequest(id, o) } as const;
      case 'list':
        return { sub } as const;
      case 'trigger':
        overlapOption(o.overlap);
        return { sub, scheduleId: scheduleIdOf(sub, id, o.scheduleId) } as const;
      case 'describe':
      case 'pause':
      case 'unpause':
      case 'delete':
        return { sub, scheduleId: scheduleIdOf(sub, id, o.scheduleId) } as const;
      default:
        throw new UsageError(`unknown schedule command "${sub}"`);
    }
  }

  it('parse to a valid command, or a UsageError / targets-file error naming what is wrong', () => {
    checkProperty(
      'schedule commands (create/update/backfill requests)',
      fc.tuple(
        rest,
        flagValues(base, [
          'schedule-id',
          'targets',
          'cron',
          'interval',
          'time-zone',
          'jitter',
          'overlap',
          'catchup-window',
          'concurrency',
          'poll-initial',
          'poll-max',
          'poll-backoff',
          'timeout',
          'note',
          'start',
          'end',
        ])
      ),
      ([[sub, id], { values }]) => {
        let command: ReturnType<typeof parseSchedule>;
        try {
          command = parseSchedule(sub, id, values);
        } catch (err) {
          expectUsage(err);
          expect(err.message).toMatch(/--[a-z]|schedule|targets file/);
          return;
        }
        if (command.sub === 'create' || (command.sub === 'update' && command.changes.input)) {
          const input = command.sub === 'create' ? command.input : command.changes.input;
          const parsed = parseScheduledExportInput(input);
          expect(parsed.ok, parsed.ok ? '' : parsed.message).toBe(true);
        }
        if (command.sub === 'create') {
          expect(command.catchupWindowMs ?? DEFAULT_CATCHUP_WINDOW_MS).toBeGreaterThanOrEqual(10_000);
          for (const i of command.spec.intervals ?? []) {
            const every = Number(i.every);
            expect(every > 0 && every <= MAX_DURATION_MS).toBe(true);
          }
        }
        if (command.sub === 'backfill') expect(command.end.getTime()).toBeGreaterThan(command.start.getTime());
      },
      1500
    );
  });
});

/** argv tokens: commands, known and unknown flags (both spellings), values, files, and `--`. */
const argvToken: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('export', 'progress', 'result', 'watch', 'list', 'summary', 'schedule') },
  { weight: 1, arbitrary: fc.constantFrom('create', 'update', 'list', 'describe', 'pause', 'backfill', 'nightly') },
  {
    weight: 4,
    arbitrary: fc.constantFrom(...[...STRING_FLAGS, ...MULTIPLE_FLAGS, ...BOOLEAN_FLAGS].map((f) => `--${f}`)),
  },
  { weight: 1, arbitrary: fc.constantFrom('--bogus', '-x', '-', '--', '--help', '--wait=yes', '--since=7d', '---') },
  { weight: 4, arbitrary: flagValue },
  { weight: 1, arbitrary: fc.constantFrom(...Object.keys(files)).map((k) => files[k as keyof typeof files]) }
);

/** A valid `export` command line, so that the generated lines also reach the connect step. */
const validExportArgv = fc
  .tuple(atlasId, clusterName, atlasId, atlasId)
  .map(([g, c, s, b]) => ['export', '--group-id', g, '--cluster', c, '--snapshot-id', s, '--bucket-id', b]);

/** Errors `main` may end with: bad arguments (exit 2) or the connect attempt; anything else is a crash. */
function expectExpectedFailure(err: unknown): 'usage' | 'connect' {
  if (err instanceof WouldConnect) return 'connect';
  expectUsage(err);
  // One short error (and where to get the command's help), never the whole usage.
  expect(err.message).not.toMatch(/Usage:|Options:/);
  expect(err.message).toMatch(/--[a-z]|command|takes (one|only|no)|schedule|targets file/);
  return 'usage';
}

describe('starter main(argv)', () => {
  it('ends in a usage error naming a flag or command, or would connect; never an unexpected error', async () => {
    const outcomes = { usage: 0, connect: 0, help: 0 };
    await checkAsyncProperty(
      'starter main(argv) in-process',
      fc.oneof(
        fc.array(argvToken, { maxLength: 8 }),
        fc.tuple(validExportArgv, fc.array(argvToken, { maxLength: 3 })).map(([valid, more]) => [...valid, ...more])
      ),
      async (argv) => {
        try {
          const code = await main(argv);
          expect(code).toBe(ExitCode.Ok);
          expect(argv).toContain('--help');
          outcomes.help++;
        } catch (err) {
          outcomes[expectExpectedFailure(err)]++;
        }
      },
      1500
    );
    console.info(`[property] main(argv) outcomes: ${JSON.stringify(outcomes)}`);
    // The generator reaches every outcome, so the property is not vacuous.
    expect(outcomes.usage).toBeGreaterThan(0);
    expect(outcomes.connect).toBeGreaterThan(0);
  });

  it.each([
    ['export --wait --progress-interval soon', ['--wait', '--progress-interval', 'soon'], '--progress-interval'],
    ['export --wait --progress-interval 30d', ['--wait', '--progress-interval', '30d'], '--progress-interval'],
  ])('%s is refused before connecting (the export would already be started)', async (_, extra, flag) => {
    const valid = ['--group-id', 'a'.repeat(24), '--cluster', 'c0', '--snapshot-id', 'b'.repeat(24)];
    const err: unknown = await main(['export', ...valid, '--bucket-id', 'c'.repeat(24), ...extra]).catch(
      (e: unknown) => e
    );
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain(flag);
  });

  it('export --workflow-id: refused before connecting when empty, padded, with control characters or over 1000 bytes', async () => {
    const valid = ['export', '--group-id', 'a'.repeat(24), '--cluster', 'c0', '--snapshot-id', 'b'.repeat(24)];
    const run = (id: string) =>
      main([...valid, '--bucket-id', 'c'.repeat(24), '--workflow-id', id]).catch((e: unknown) => e);
    for (const [id, problem] of [
      ['', 'must not be empty'],
      [' nightly-export', 'must not start or end with whitespace'],
      ['nightly-export\u00a0', 'must not start or end with whitespace'],
      ['nightly\texport', 'must not contain control characters (tabs, newlines, escapes)'],
      ['nightly-export\n', 'must not contain control characters (tabs, newlines, escapes)'],
      ['nightly\u001b[2Jexport', 'must not contain control characters (tabs, newlines, escapes)'],
      ['x'.repeat(1001), 'must be at most 1000 bytes (UTF-8), not 1001'],
      ['€'.repeat(334), 'must be at most 1000 bytes (UTF-8), not 1002'],
    ]) {
      const err = await run(id!);
      expect(err, JSON.stringify(id)).toBeInstanceOf(UsageError);
      expect((err as Error).message).toBe(`--workflow-id: ${problem}`);
    }
    // The server's limit exactly, spaces inside and non-ASCII pass, on to connecting.
    for (const id of ['x'.repeat(1000), '€'.repeat(333), 'nightly export 2026/12', 'exportación-1']) {
      expect(await run(id), id.slice(0, 20)).toBeInstanceOf(WouldConnect);
    }
  });

  it.each([['soon'], ['30d'], ['100ms']])('watch --refresh %s is refused before connecting', async (refresh) => {
    const err: unknown = await main(['watch', 'wf-1', '--refresh', refresh]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain('--refresh');
  });

  it('as a real process: exit 2 with the flag named for bad arguments, 69 when they are valid but nothing listens', async () => {
    const env = { TEMPORAL_ADDRESS: '127.0.0.1:1' };
    const valid = ['export', '--group-id', 'a'.repeat(24), '--cluster', 'c0', '--snapshot-id', 'b'.repeat(24)];
    const runs = await Promise.all([
      runCli('src/starter.ts', ['list', '--since', '99999999999999999999h'], env),
      runCli('src/starter.ts', ['export', '--bogus'], env),
      runCli('src/starter.ts', ['schedule', 'create', 'n1', '--targets', files.badSchema, '--cron', '0 2 * * *'], env),
      runCli('src/starter.ts', [...valid, '--bucket-id', 'c'.repeat(24)], env),
    ]);
    const [since, bogus, targets, connect] = runs;
    expect(since.code, since.stderr).toBe(ExitCode.Usage);
    expect(since.stderr).toContain('--since');
    expect(bogus.code, bogus.stderr).toBe(ExitCode.Usage);
    expect(bogus.stderr).toContain('--bogus');
    expect(targets.code, targets.stderr).toBe(ExitCode.Usage);
    expect(targets.stderr).toMatch(/bad\.json:\d+: targets\[0\]\.groupId/);
    expect(connect.code, connect.stderr).toBe(ExitCode.Unavailable);
    expect(connect.stderr).toMatch(/connect/i);
  }, 60_000);
});
