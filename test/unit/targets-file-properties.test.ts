import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseTargets, TargetsFileError } from '../../src/cli/targets-file';
import { parseScheduledExportInput } from '../../src/shared/contract/scheduled-export-contract';
import { atlasId, checkProperty, clusterName, garbage, propertySummary } from '../helpers/properties';

/**
 * Issue 6 part 3 for schedule targets files: any text is accepted, or refused with problems that each start
 * with `file:line` and (for schema problems) name the field; the parser never throws anything else.
 */

afterAll(() => console.info(`[property] targets files:\n${propertySummary()}`));

const FILES = ['targets.json', 'targets.yaml', 'targets.yml'] as const;

/** Parses `text`; returns the problems, or null when accepted (after checking the workflow accepts it too). */
function problemsOf(text: string, file: string): string[] | null {
  try {
    const input = parseTargets(text, file);
    const parsed = parseScheduledExportInput(input);
    expect(parsed.ok, parsed.ok ? '' : parsed.message).toBe(true);
    return null;
  } catch (err) {
    if (!(err instanceof TargetsFileError)) throw err;
    expect(err.file).toBe(file);
    expect(err.problems.length).toBeGreaterThan(0);
    for (const p of err.problems) expect(p.startsWith(`${file}`), p).toBe(true);
    return err.problems;
  }
}

const target = fc.record(
  {
    groupId: atlasId,
    clusterName,
    exportBucketId: atlasId,
    snapshot: fc.oneof(
      fc.constantFrom('latest', 'on-demand'),
      atlasId.map((snapshotId) => ({ snapshotId }))
    ),
  },
  { requiredKeys: ['groupId', 'clusterName', 'exportBucketId'] }
);
const validDocument = fc.oneof(
  fc.uniqueArray(target, { minLength: 1, maxLength: 3, selector: (t) => `${t.groupId}/${t.clusterName}` }),
  fc.record(
    {
      targets: fc.uniqueArray(target, { minLength: 1, maxLength: 3, selector: (t) => `${t.groupId}/${t.clusterName}` }),
      concurrency: fc.integer({ min: 1, max: 50 }),
      polling: fc.record({ initialInterval: fc.constantFrom('30s', 1000), timeout: fc.constantFrom('48h') }),
    },
    { requiredKeys: ['targets'] }
  )
);

/** JSON-safe garbage (what a JSON or YAML file can hold). */
const fileGarbage = garbage.map((v) => JSON.parse(JSON.stringify(v ?? null) ?? 'null') as unknown);

type Path = (string | number)[];
/** A path to mutate inside `doc`, as written in the file (a bare list has no `targets` key). */
function mutationPaths(doc: unknown): Path[] {
  const list = Array.isArray(doc);
  const t: Path = list ? [] : ['targets'];
  return [
    [...t, 0],
    [...t, 0, 'groupId'],
    [...t, 0, 'clusterName'],
    [...t, 0, 'exportBucketId'],
    [...t, 0, 'snapshot'],
    [...t, 0, 'unknownField'],
    ...(list ? [] : [['targets'], ['concurrency'], ['polling', 'timeout'], ['onDemand'], ['extra']]),
  ];
}

function setAt(doc: unknown, path: Path, value: unknown): unknown {
  const root = structuredClone(doc) as Record<PropertyKey, unknown>;
  let node = root;
  path.forEach((segment, i) => {
    if (i === path.length - 1) node[segment] = value;
    else {
      if (typeof node[segment] !== 'object' || node[segment] === null) node[segment] = {};
      node = node[segment] as Record<PropertyKey, unknown>;
    }
  });
  return root;
}

function serialize(doc: unknown, file: string): string {
  return file.endsWith('.json') ? JSON.stringify(doc, null, 2) : stringify(doc);
}

/** Fragments of YAML and JSON syntax, glued at random: anchors, aliases, tags, flow and block collections. */
const syntaxSoup = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '- ',
        ': ',
        '\n',
        '  ',
        '[',
        ']',
        '{',
        '}',
        ',',
        '"',
        "'",
        '#',
        '---\n',
        '...\n',
        '&a ',
        '*a',
        '*b',
        '<<: *a\n',
        '? ',
        '|\n',
        '>\n',
        '!!binary ',
        '!!set ',
        '!!omap ',
        '!!timestamp ',
        '!!int ',
        '!custom ',
        '%YAML 1.2\n',
        'targets',
        'groupId',
        'concurrency',
        'null',
        '~',
        '1e999',
        '0x1F',
        '\t',
        '\u0000',
        '\uFEFF'
      ),
      fc.string({ maxLength: 6 }),
      atlasId
    ),
    { maxLength: 25 }
  )
  .map((parts) => parts.join(''));

describe('targets files', () => {
  it('any text is accepted, or refused with problems that start with the file name', () => {
    checkProperty(
      'targets file: arbitrary text',
      fc.tuple(
        fc.oneof(syntaxSoup, fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 80 })),
        fc.constantFrom(...FILES)
      ),
      ([text, file]) => {
        problemsOf(text, file);
      },
      2000
    );
  });

  it('valid files are accepted', () => {
    checkProperty(
      'targets file: valid documents accepted',
      fc.tuple(validDocument, fc.constantFrom(...FILES)),
      ([doc, file]) => {
        expect(problemsOf(serialize(doc, file), file)).toBeNull();
      },
      300
    );
  });

  it('a valid file with one field mutated is accepted, or refused at file:line with the field path', () => {
    checkProperty(
      'targets file: one field mutated',
      fc.tuple(validDocument, fc.constantFrom(...FILES), fileGarbage, fc.nat()).map(([doc, file, value, pick]) => {
        const paths = mutationPaths(doc);
        return { doc: setAt(doc, paths[pick % paths.length]!, value), file };
      }),
      ({ doc, file }) => {
        const problems = problemsOf(serialize(doc, file), file);
        for (const p of problems ?? []) {
          // `targets.yaml:7: targets[0].groupId: must be …`, or `(file)` for the document itself.
          expect(p).toMatch(
            new RegExp(`^${file.replace('.', '\\.')}:\\d+: (\\(file\\)|[A-Za-z]+(\\.\\w+|\\[\\d+\\])*): .`)
          );
        }
      },
      2000
    );
  });
});

describe('targets files that parse but do not resolve', () => {
  it.each([
    ['an alias without its anchor', 'targets:\n  - *first\n', 2],
    [
      'an alias bomb',
      `a: &a [x, x, x, x, x, x, x, x, x, x]\n${'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n'}c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n`,
      2,
    ],
  ])('%s is refused at file:line, not thrown as a ReferenceError', (_, text, line) => {
    expect(() => parseTargets(text, 't.yaml')).toThrow(TargetsFileError);
    expect(() => parseTargets(text, 't.yaml')).toThrow(new RegExp(`t\\.yaml:${line}: not valid YAML: `));
  });
});
