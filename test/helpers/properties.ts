import fc from 'fast-check';

/** One seed for every property, so a CI failure reproduces locally with the same inputs. */
export const PROPERTY_SEED = 20_261_128;

const tried: { name: string; count: number }[] = [];

/**
 * Checks `predicate` on `numRuns` generated values with the fixed seed, and logs how many inputs were tried
 * (docs/reliability.md quotes these numbers). Async predicates are awaited one at a time.
 */
export function checkProperty<T>(name: string, arb: fc.Arbitrary<T>, predicate: (value: T) => void, numRuns: number) {
  let count = 0;
  fc.assert(
    fc.property(arb, (value) => {
      count++;
      predicate(value);
    }),
    { seed: PROPERTY_SEED, numRuns }
  );
  record(name, count);
}

export async function checkAsyncProperty<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  predicate: (value: T) => Promise<void>,
  numRuns: number
): Promise<void> {
  let count = 0;
  await fc.assert(
    fc.asyncProperty(arb, async (value) => {
      count++;
      await predicate(value);
    }),
    { seed: PROPERTY_SEED, numRuns }
  );
  record(name, count);
}

function record(name: string, count: number): void {
  tried.push({ name, count });
  console.info(`[property] ${name}: ${count} inputs tried`);
}

/** Every property of this file with its count, and the total. */
export function propertySummary(): string {
  const total = tried.reduce((sum, t) => sum + t.count, 0);
  return [...tried.map((t) => `  ${t.count.toString().padStart(6)}  ${t.name}`), `  ${total} inputs tried in all`].join(
    '\n'
  );
}

/** 24 lowercase hex characters: a well-formed Atlas id. */
export const atlasId = fc.stringMatching(/^[a-f0-9]{24}$/);
/** A well-formed cluster name. */
export const clusterName = fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9-]{0,20}$/);

/** Values that are wrong for most fields: wrong types, empty, too long, near-miss ids, odd numbers, nesting. */
export const garbage: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    null,
    true,
    0,
    -1,
    -0,
    1e300,
    -1e300,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.MAX_SAFE_INTEGER,
    2 ** 31,
    '5F0C1E2D3B4A596877869500',
    '5f0c1e2d3b4a59687786950',
    '5f0c1e2d3b4a5968778695000',
    '5f0c1e2d3b4a59687786950g',
    '-5s',
    '0s',
    '10',
    '1e400s',
    '99999999999999999999h',
    '1.5.5m',
    'NaN',
    'Infinity',
    'x'.repeat(65),
    'x'.repeat(256),
    'x'.repeat(1001),
    '__proto__',
    'constructor'
  ),
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.stringMatching(/^[a-f0-9]{20,28}$/),
  fc.stringMatching(/^-?\d{1,25}(\.\d{1,3})?\s?(ms|s|m|h|d|w|y|x)?$/),
  fc.array(fc.anything(), { maxLength: 3 }),
  fc.object({ maxDepth: 2 }),
  fc.anything({ maxDepth: 2 })
);
