import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIGURATION_DOC, withWorkerSettingsTable } from '../../scripts/docs-config';
import { WORKER_SETTINGS } from '../../src/config';

describe('docs/configuration.md', () => {
  const doc = readFileSync(CONFIGURATION_DOC, 'utf8');

  it('has the worker settings table the code makes (run `npm run docs:config` after changing WORKER_SETTINGS)', () => {
    expect(doc).toBe(withWorkerSettingsTable(doc));
  });

  it('names every worker setting exactly once, and no WORKER_ variable the worker does not read', () => {
    const variables = Object.values(WORKER_SETTINGS).map((s) => s.variable);
    for (const v of variables) expect(doc.split(`\`${v}\``).length - 1, v).toBe(1);
    const named = new Set(doc.match(/\bWORKER_[A-Z_]+\b/g));
    named.delete('WORKER_SETTINGS'); // the table's name in the code
    expect([...named].sort()).toEqual([...new Set(variables)].sort());
  });

  it('notices a table that drifted from the code', () => {
    const drifted = doc.replace('| `WORKER_MAX_CACHED_WORKFLOWS`', '| `WORKER_MAX_CACHED_WORKFLOW`');
    expect(drifted).not.toBe(doc);
    expect(withWorkerSettingsTable(drifted)).not.toBe(drifted);
  });
});
