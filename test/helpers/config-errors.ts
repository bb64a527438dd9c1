import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ConfigError } from '../../src/config';

/** The message of the ConfigError `fn` throws; asserts it is one and shows none of `secrets`. */
export function configError(fn: () => unknown, secrets: readonly string[] = []): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    for (const secret of secrets) expect(message).not.toContain(secret);
    return message;
  }
  throw new Error('expected a ConfigError');
}

/** A fresh temporary folder `dir` and `write(name, content)`, which writes an owner-only file there and returns its path. */
export function privateFiles(prefix: string): { dir: string; write: (name: string, content: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const write = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };
  return { dir, write };
}
