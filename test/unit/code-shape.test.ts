import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileLength, functionLengths, sourceFiles, type FunctionLength } from '../../scripts/code-shape';

/**
 * The size limits a newcomer relies on (issue 14), measured the way `npx tsx scripts/code-shape.ts` prints them:
 * a function's length is its first to last source line; nested functions count inside their parent.
 */
const SRC = path.resolve(__dirname, '..', '..', 'src');
const rel = (file: string): string => path.relative(SRC, file);
const functions = sourceFiles(SRC).flatMap(functionLengths);
const describeFn = (f: FunctionLength): string => `${rel(f.file)}:${f.line} ${f.name} (${f.lines} lines)`;

/** Activity factories may be long as a whole when every activity (every function) inside them stays short. */
const isActivityFactory = (f: FunctionLength): boolean =>
  rel(f.file).startsWith('activities/') && /^create\w*Activit(y|ies)$/.test(f.name);
const within = (outer: FunctionLength, inner: FunctionLength): boolean =>
  inner !== outer && inner.file === outer.file && inner.line > outer.line && inner.line < outer.line + outer.lines;

function theFunction(file: string, name: string): FunctionLength {
  const found = functions.filter((f) => rel(f.file) === file && f.name === name);
  expect(found, `${file} ${name}`).toHaveLength(1);
  return found[0]!;
}

describe('code shape', () => {
  it('exportSnapshot reads on one screen (≤ 80 lines)', () => {
    expect(theFunction('workflows/export-snapshot.ts', 'exportSnapshot').lines).toBeLessThanOrEqual(80);
  });

  it("the local stack's main is a short script (≤ 80 lines)", () => {
    expect(theFunction('local-run.ts', 'main').lines).toBeLessThanOrEqual(80);
  });

  it('no other function is over 120 lines; activities in a factory are ≤ 80', () => {
    const factories = functions.filter(isActivityFactory);
    const tooLong = functions.filter((f) => f.lines > 120 && !isActivityFactory(f)).map(describeFn);
    const longActivities = factories.flatMap((factory) =>
      functions.filter((f) => within(factory, f) && f.lines > 80).map(describeFn)
    );
    expect([...tooLong, ...longActivities]).toEqual([]);
  });

  it('config.ts is gone or ≤ 150 lines', () => {
    const file = path.join(SRC, 'config.ts');
    if (existsSync(file)) expect(fileLength(file).lines).toBeLessThanOrEqual(150);
    else expect(existsSync(path.join(SRC, 'config'))).toBe(true);
  });

  it('no CLI file over 250 lines and no simulator file over 400', () => {
    const over = sourceFiles(SRC)
      .map(fileLength)
      .filter(
        (f) =>
          (rel(f.file).startsWith('cli/') && f.lines > 250) || (rel(f.file).startsWith('simulator/') && f.lines > 400)
      )
      .map((f) => `${rel(f.file)} (${f.lines} lines)`);
    expect(over).toEqual([]);
  });
});
