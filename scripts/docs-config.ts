import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { workerSettingsMarkdown } from '../src/config/worker-settings';

/** docs/configuration.md, whose worker settings table this script writes (`npm run docs:config`). */
export const CONFIGURATION_DOC = resolve(__dirname, '..', 'docs', 'configuration.md');
const START = '<!-- worker-settings:start -->';
const END = '<!-- worker-settings:end -->';

/** `doc` with the text between the worker-settings markers replaced by the table made from `WORKER_SETTINGS`. */
export function withWorkerSettingsTable(doc: string): string {
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${CONFIGURATION_DOC}: the ${START} … ${END} markers are missing`);
  return `${doc.slice(0, start + START.length)}\n\n${workerSettingsMarkdown()}\n\n${doc.slice(end)}`;
}

if (require.main === module) {
  const doc = readFileSync(CONFIGURATION_DOC, 'utf8');
  const updated = withWorkerSettingsTable(doc);
  if (updated === doc) console.log(`${CONFIGURATION_DOC}: up to date`);
  else {
    writeFileSync(CONFIGURATION_DOC, updated);
    console.log(`wrote the worker settings table of ${CONFIGURATION_DOC}`);
  }
}
