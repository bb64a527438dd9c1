import { chmodSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { watchSecretFile } from '../../src/config/secret-file-watch';
import { secretRedactor } from '../../src/observability/json-logger';
import { privateFiles } from '../helpers/config-errors';

/**
 * Issue 17, finding 7 (rotation without restart): a `*_FILE` secret followed while the process runs. On the
 * previous main there was no watch (src/config/secret-file-watch.ts did not exist) and the redactor took its
 * secrets once.
 */

const OLD = 'old-secret-value-6f1d-do-not-leak';
const NEW = 'new-secret-value-9a2e-do-not-leak';

/** A directory laid out as a Kubernetes secret volume: `key -> ..data/key`, `..data -> ..<version>`. */
function kubernetesSecret() {
  const { dir } = privateFiles('aeo-watch-');
  const version = (name: string, value: string, mode = 0o400): string => {
    mkdirSync(join(dir, `..${name}`), { mode: 0o700 });
    const file = join(dir, `..${name}`, 'key');
    writeFileSync(file, `${value}\n`, { mode });
    chmodSync(file, mode);
    return file;
  };
  const publish = (name: string) => {
    symlinkSync(`..${name}`, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  version('v1', OLD);
  publish('v1');
  symlinkSync(join('..data', 'key'), join(dir, 'key'));
  return { path: join(dir, 'key'), version, publish, dir };
}

function watch(path: string, onChange: (value: string) => void | Promise<void> = () => undefined) {
  const changes: string[] = [];
  const problems: string[] = [];
  const w = watchSecretFile({
    variable: 'SOME_SECRET_FILE',
    path,
    current: OLD,
    intervalMs: 3_600_000,
    onChange: async (value) => {
      await onChange(value);
      changes.push(value);
    },
    onProblem: (message) => problems.push(message),
  });
  return { w, changes, problems };
}

describe('watchSecretFile', () => {
  it('applies a rotation that landed between the config read and the start of the watch', async () => {
    const secret = kubernetesSecret();
    secret.version('v2', NEW);
    secret.publish('v2');
    // The config read OLD; the file already holds NEW when the watch starts.
    const { w, changes, problems } = watch(secret.path);
    await w.check();
    expect(changes).toEqual([NEW]);
    expect(problems).toEqual([]);
    w.close();
  });

  it('sees a Kubernetes symlink swap and hands over the new value once', async () => {
    const secret = kubernetesSecret();
    const { w, changes, problems } = watch(secret.path);
    await w.check();
    expect(changes).toEqual([]);
    secret.version('v2', NEW);
    secret.publish('v2');
    await w.check();
    await w.check();
    expect(changes).toEqual([NEW]);
    expect(problems).toEqual([]);
    w.close();
  });

  it("re-checks the mode on each read: a version open to others is refused and kept out until it is the owner's", async () => {
    const secret = kubernetesSecret();
    const { w, changes, problems } = watch(secret.path);
    const file = secret.version('v2', NEW, 0o644);
    secret.publish('v2');
    await w.check();
    expect(changes).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('env.SOME_SECRET_FILE: ');
    expect(problems[0]).toContain('is open to group or others (mode 0644)');
    expect(problems[0]).toContain('keeping the current value');
    chmodSync(file, 0o600);
    await w.check();
    expect(changes).toEqual([NEW]);
    for (const p of problems) expect(p).not.toContain(NEW);
    w.close();
  });

  it('keeps the value while the file is missing or empty, and retries a change that could not be applied', async () => {
    const { dir, write } = privateFiles('aeo-watch-plain-');
    const path = write('key', OLD);
    let fail = true;
    const { w, changes, problems } = watch(path, () => {
      if (fail) throw new Error(`refused ${NEW}`);
    });
    rmSync(path);
    await w.check();
    expect(problems.at(-1)).toContain('cannot read the file (ENOENT)');
    writeFileSync(join(dir, 'key'), '\n', { mode: 0o600 });
    await w.check();
    expect(problems.at(-1)).toContain('the file is empty');
    writeFileSync(join(dir, 'key'), NEW, { mode: 0o600 });
    await w.check();
    expect(changes).toEqual([]);
    expect(problems.at(-1)).toBe('env.SOME_SECRET_FILE: applying the new value failed (Error); retrying');
    fail = false;
    await w.check();
    expect(changes).toEqual([NEW]);
    for (const p of problems) expect(p).not.toContain(NEW);
    w.close();
  });
});

describe('secretRedactor over a set that grows', () => {
  it('masks a secret added after the redactor was made (a rotated key)', () => {
    const secrets = new Set([OLD]);
    const redact = secretRedactor(secrets);
    expect(redact(`a ${OLD} b ${NEW}`)).toBe(`a [REDACTED] b ${NEW}`);
    secrets.add(NEW);
    expect(redact(`a ${OLD} b ${NEW}`)).toBe('a [REDACTED] b [REDACTED]');
  });
});
