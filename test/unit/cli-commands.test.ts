import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { customDataOption } from '../../src/cli/commands/export';
import { EXPORT_STATES, stateOption } from '../../src/cli/commands/list';
import { ExitCode, UsageError } from '../../src/cli/common';
import { reportOf } from '../../src/cli/errors';
import { renderLine, type ProgressView } from '../../src/cli/progress-view';
import { elideShared, middleTruncate, renderTable } from '../../src/cli/table';
import { main } from '../../src/starter';
import { runCli } from '../helpers/run-cli';

/**
 * Issue 14 item 3: each command declares its own options; a flag of another command is one short usage error
 * naming it (exit 2), each command has its own help within 80 columns, and `--version`, `-o json` work. All of
 * it before any connection (none is made: nothing listens on the address).
 */

let printed: string[];
beforeEach(() => {
  printed = [];
  vi.spyOn(console, 'log').mockImplementation((text: unknown) => void printed.push(String(text)));
  process.env.TEMPORAL_ADDRESS = '127.0.0.1:1';
});
afterEach(() => {
  vi.restoreAllMocks();
  delete process.env.TEMPORAL_ADDRESS;
});

/** The error `main` ends with, as the entry point reports it. */
async function failure(argv: string[]) {
  const err: unknown = await main(argv).then(
    (code) => new Error(`exited ${code}`),
    (e: unknown) => e
  );
  expect(err, argv.join(' ')).toBeInstanceOf(UsageError);
  return reportOf(err);
}

const ID = ['wf-1'];
// Per command: arguments it accepts, and a flag that belongs to another command.
const MISPLACED: [string, string[], string, string][] = [
  ['export', ['--group-id', 'a'.repeat(24)], '--refresh', '1s'],
  ['progress', ID, '--timeout', '5m'],
  ['result', ID, '--wait', ''],
  ['watch', ID, '--state', 'Failed'],
  ['list', [], '--cron', 'x'],
  ['summary', ID, '--limit', '3'],
  ['schedule create', ['n1', '--cron', '0 2 * * *'], '--state', 'Failed'],
  ['schedule update', ['n1'], '--wait', ''],
  ['schedule describe', ['n1'], '--cron', 'x'],
  ['schedule list', [], '--targets', 'f.yaml'],
  ['schedule pause', ['n1'], '--overlap', 'skip'],
  ['schedule unpause', ['n1'], '--start', '2026-01-01T00:00:00Z'],
  ['schedule trigger', ['n1'], '--note', 'x'],
  ['schedule backfill', ['n1'], '--cron', 'x'],
  ['schedule delete', ['n1'], '--note', 'x'],
];

describe('each command declares its own options', () => {
  it.each(MISPLACED)('%s refuses a misplaced flag with exit 2, naming it', async (command, args, flag, value) => {
    const argv = [...command.split(' '), ...args, flag, ...(value ? [value] : [])];
    const report = await failure(argv);
    expect(report.exitCode).toBe(ExitCode.Usage);
    const [first, help, ...more] = report.message.split('\n');
    expect(first).toContain(`${command}: unknown option ${flag} (an option of `);
    expect(help).toBe(`See 'atlas-export ${command} --help'.`);
    expect(more).toEqual([]);
  });

  it('suggests the flag meant for a misspelt one', async () => {
    const report = await failure(['export', '--group-idd', 'x']);
    expect(report.message).toBe(
      "export: unknown option --group-idd (did you mean --group-id?)\nSee 'atlas-export export --help'."
    );
    expect((await failure(['lst'])).message).toMatch(/^unknown command "lst" \(did you mean list\?\)\n/);
  });

  it('names missing and extra arguments, and a missing command, without the usage', async () => {
    expect((await failure(['progress'])).message).toMatch(/^progress takes one WORKFLOW_ID\n/);
    expect((await failure(['result', 'a', 'b'])).message).toMatch(/^result takes only WORKFLOW_ID\n/);
    expect((await failure(['schedule'])).message).toMatch(/^schedule needs a command:\n {2}create, update, /);
    expect((await failure([])).message).toMatch(/^atlas-export needs a command:\n {2}export, progress, /);
    expect((await failure(['-o', 'yaml', 'list'])).message).toMatch(
      /^atlas-export: -o "yaml": expected one of text, json/
    );
  });
});

describe('help and version', () => {
  const commands = ['', ...MISPLACED.map(([c]) => c)];
  it.each(commands)('"%s --help" prints that command\'s help within 80 columns', async (command) => {
    const argv = [...command.split(' ').filter(Boolean), '--help'];
    expect(await main(argv)).toBe(ExitCode.Ok);
    const text = printed.join('\n');
    expect(text.split('\n')[0]).toMatch(
      new RegExp(`^Usage: atlas-export${command ? ` ${command}` : ''} \\[options\\]`)
    );
    for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    // Its own options only: `list` has --state, `progress` has no --timeout.
    if (command === 'list') expect(text).toContain('--state <state>');
    if (command === 'progress') expect(text).not.toContain('--timeout');
    expect(text).toContain('--json');
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(resolve(__dirname, '../../package.json'), 'utf8')) as { version: string };
    expect(await main(['--version'])).toBe(ExitCode.Ok);
    expect(printed).toEqual([pkg.version]);
  });
});

describe('option values', () => {
  it("--custom-data takes the Atlas CLI's KEY=VALUE,KEY=VALUE and refuses an item without =", () => {
    expect(customDataOption(['team=data,ticket=OPS-1', 'env=prod'])).toEqual([
      { key: 'team', value: 'data' },
      { key: 'ticket', value: 'OPS-1' },
      { key: 'env', value: 'prod' },
    ]);
    expect(() => customDataOption(['team=a,b'])).toThrow(
      '--custom-data "team=a,b": "b" is not KEY=VALUE (items are separated by commas; a value cannot hold a comma)'
    );
  });

  it('--state matches any case, and an unknown state is refused with the list', () => {
    expect(stateOption('failed')).toBe('Failed');
    expect(stateOption('INPROGRESS')).toBe('InProgress');
    expect(stateOption('deadlineexceeded')).toBe('DeadlineExceeded');
    expect(() => stateOption('Done')).toThrow(`--state: "Done" is not a state; one of ${EXPORT_STATES.join(', ')}`);
  });
});

describe('tables and the live line fit the terminal', () => {
  it('cuts ids in the middle and narrows flexible columns to the width', () => {
    expect(middleTruncate('atlas-export-0123456789', 11)).toBe('atlas…56789');
    const id = `atlas-export-${'a'.repeat(24)}-Cluster0-${'b'.repeat(24)}-${'c'.repeat(24)}`;
    const { lines, truncated } = renderTable(
      [{ header: 'WORKFLOW ID', flex: true, min: 20 }, { header: 'STATE' }, { header: 'CLUSTER', flex: true }],
      [
        [id, 'InProgress', 'Cluster0'],
        ['short', 'Failed', 'c1'],
      ],
      60
    );
    expect(truncated).toBe(true);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(60);
    expect(lines[0]).toMatch(/^WORKFLOW ID\s+STATE\s+CLUSTER$/);
    expect(lines[1]!.indexOf('InProgress')).toBe(lines[0]!.indexOf('STATE'));
    expect(lines[1]).toMatch(/^atlas-export-a+…c+ {2}InProgress {2}Cluster0$/);
    expect(renderTable([{ header: 'A', flex: true }], [[id]]).lines[1]).toBe(id);
  });

  it('narrows the lower-ranked flexible column first (a note before a schedule id)', () => {
    const { lines } = renderTable(
      [
        { header: 'SCHEDULE ID', flex: true, min: 16, rank: 2 },
        { header: 'NOTE', flex: true, min: 4 },
      ],
      [['nightly-fleet-europe-west', 'paused for the migration of the analytics cluster']],
      50
    );
    expect(lines[1]).toMatch(/^nightly-fleet-europe-west {2}paused for.*cluster$/);
    expect(lines[1]!.length).toBe(50);
  });

  it('gives way first to what all ids share, so the rows still differ', () => {
    const id = (cluster: string, snapshot: string) =>
      `atlas-export-${'a'.repeat(24)}-${cluster}-${snapshot}-${'b'.repeat(24)}`;
    const ids = [id('Cluster0', 'c'.repeat(24)), id('Cluster0', 'd'.repeat(24)), id('analytics', 'c'.repeat(24))];
    expect(elideShared(ids)).toEqual([
      `…Cluster0-${'c'.repeat(24)}…`,
      `…Cluster0-${'d'.repeat(24)}…`,
      `…analytics-${'c'.repeat(24)}…`,
    ]);
    expect(elideShared(['key-1', 'key-2'])).toEqual(['…1', '…2']);
    expect(elideShared([ids[0]!])).toEqual([ids[0]]);
  });

  const view: ProgressView = {
    workflowId: 'wf-1',
    status: 'RUNNING',
    phase: 'polling',
    state: 'InProgress',
    exportJobId: 'e'.repeat(24),
    exportedCollections: 3,
    totalCollections: 8,
    components: [],
    progressPercent: 37,
    polls: 12,
    nextPollAtMs: 65_000,
    polling: false,
    startedAtMs: 0,
    closedAtMs: null,
  };

  it.each([140, 80, 60, 40, 20])('the live line fits %i columns, dropping the least telling parts first', (width) => {
    const line = renderLine(view, 14_000, { bar: true, width });
    expect(line.length).toBeLessThan(width);
    if (width >= 140) expect(line).toContain(`job ${'e'.repeat(24)}  12 status reads  next poll in 51s`);
    if (width === 80)
      expect(line).toMatch(/^\[#+\.+\] {2}InProgress {2}3\/8 collections {2}elapsed 14s {2}next poll in 51s$/);
    if (width === 60) expect(line).toMatch(/^\[#+\.+\] {2}InProgress {2}3\/8 collections {2}elapsed 14s$/);
    if (width <= 40) expect(line).toMatch(/^\[#*\.*\] {2}In.*…$/);
  });

  it('shows the elapsed time it is given (watch keeps it from going backwards)', () => {
    const closed = { ...view, status: 'COMPLETED', closedAtMs: 13_000 };
    expect(renderLine(closed, 20_000, { bar: false })).toContain('elapsed 13s');
    expect(renderLine(closed, 20_000, { bar: false, elapsedMs: 14_000 })).toContain('elapsed 14s');
  });
});

describe('as a real process', () => {
  it('prints one error line and the help pointer on stderr, or one JSON error object with -o json', async () => {
    const env = { TEMPORAL_ADDRESS: '127.0.0.1:1' };
    const [plain, json] = await Promise.all([
      runCli('src/starter.ts', ['list', '--cron', 'x'], env),
      runCli('src/starter.ts', ['list', '--cron', 'x', '-o', 'json'], env),
    ]);
    expect(plain.code).toBe(ExitCode.Usage);
    expect(plain.stderr).toBe(
      "list: unknown option --cron (an option of schedule create, schedule update)\nSee 'atlas-export list --help'.\n"
    );
    expect(plain.stdout).toBe('');
    expect(json.code).toBe(ExitCode.Usage);
    expect(JSON.parse(json.stdout)).toEqual({
      status: 'error',
      error: { kind: 'usage', message: plain.stderr.trimEnd() },
    });
  }, 60_000);
});
