import { statSync } from 'node:fs';
import { ConfigError } from './errors';
import { readSecretFile } from './secret-files';

/** How often a watched secret file is stat'ed (a few syscalls; Kubernetes itself takes up to a minute or two). */
export const SECRET_FILE_CHECK_INTERVAL_MS = 10_000;

export interface SecretFileWatch {
  /** Looks at the file now (the timer does the same every interval); resolves when any change was applied. */
  check(): Promise<void>;
  close(): void;
}

/** What identifies one version of the file: `stat` follows the symlink, so a Kubernetes swap changes `ino`. */
function versionOf(path: string): string {
  try {
    const s = statSync(path);
    return [s.dev, s.ino, s.size, s.mtimeMs, s.ctimeMs, s.mode].join(':');
  } catch (err) {
    return `missing:${(err as NodeJS.ErrnoException).code ?? ''}`;
  }
}

/**
 * Follows a `<NAME>_FILE` secret (`variable`) whose value may be rotated while the process runs: a periodic `stat`
 * of `path` and, when anything about the file changed (content, inode, mode), a new `readSecretFile`, which checks
 * the owner-only mode again, then `onChange` with the new value. Polling rather than `fs.watch`: a Kubernetes
 * secret volume replaces the file by swapping the `..data` symlink of its directory, which an inotify watch on the
 * file never sees (it watches the old inode), and `fs.watch` is unreliable on network and overlay file systems.
 * A file that cannot be read, is open to group or others, or is empty keeps the current value and is reported to
 * `onProblem` (the message names the variable, never the value); so is an `onChange` that failed, retried on
 * the next check.
 */
export function watchSecretFile(options: {
  variable: string;
  path: string;
  current: string;
  onChange: (value: string) => void | Promise<void>;
  onProblem: (message: string) => void;
  intervalMs?: number;
}): SecretFileWatch {
  const { variable, path } = options;
  // Unknown at first, so the first check reads the file: a rotation that landed between the config's read and this
  // watch is applied then, not missed until the next one.
  let version = '';
  let current = options.current;
  let checking: Promise<void> | undefined;
  const checkOnce = async (): Promise<void> => {
    const now = versionOf(path);
    if (now === version) return;
    version = now;
    let value: string;
    try {
      value = readSecretFile(variable, path);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      options.onProblem(`${err.message}; keeping the current value`);
      return;
    }
    if (value === current) return;
    try {
      await options.onChange(value);
      current = value;
    } catch (err) {
      version = '';
      options.onProblem(`env.${variable}: applying the new value failed (${(err as Error).name}); retrying`);
    }
  };
  const check = () => (checking ??= checkOnce().finally(() => (checking = undefined)));
  const timer = setInterval(() => void check(), options.intervalMs ?? SECRET_FILE_CHECK_INTERVAL_MS);
  timer.unref();
  return { check, close: () => clearInterval(timer) };
}
