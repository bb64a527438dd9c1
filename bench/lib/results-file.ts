import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Writes a bench result as pretty JSON, atomically: to `<name>.tmp.json` beside it (git-ignored), then renamed over
 * the file, so an interrupted bench never leaves half a result.
 */
export function writeResultFile(file: string, data: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = file.replace(/\.json$/, '.tmp.json');
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`);
  renameSync(tmp, file);
}
