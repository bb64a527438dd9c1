import { readFileSync, statSync } from 'node:fs';
import { ConfigError } from './errors';

/**
 * `<NAME>_FILE`: a secret read from a file (a Docker or Kubernetes secret) instead of the environment, where
 * `docker inspect` and `/proc/<pid>/environ` show it. The file must be the owner's alone (no group or other
 * permission bits); one trailing newline is dropped. Messages name the variable, never the file's content.
 */
export function readSecretFile(variable: string, path: string): string {
  const where = `Invalid configuration: env.${variable}`;
  checkOwnerOnly(variable, path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${where}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  const value = text.replace(/\r?\n$/, '');
  if (value.trim() === '') throw new ConfigError(`${where}: the file is empty`);
  return value;
}

/** Refuses a secret file (`variable` names it) that is missing, not a file, or open to group or others. */
export function checkOwnerOnly(variable: string, path: string): void {
  checkOwnerOnlyAt(`env.${variable}`, path);
}

/**
 * `checkOwnerOnly` for a file named elsewhere than by a variable: `source` says where (e.g. a profile key of the
 * Temporal config file) and starts the message.
 */
export function checkOwnerOnlyAt(source: string, path: string): void {
  const where = `Invalid configuration: ${source}`;
  let mode: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new ConfigError(`${where}: ${path} is not a file`);
    mode = stat.mode;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${where}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, '0');
    throw new ConfigError(
      `${where}: ${path} is open to group or others (mode ${octal}); make it the owner's alone (chmod 600; a Kubernetes Secret volume is group-readable under an fsGroup: see docs/kubernetes.md, "Credentials")`
    );
  }
}

/**
 * `env` with every `<NAME>_FILE` of `names` read into `<NAME>` (a copy; `env` is left alone). Setting both
 * `<NAME>` and `<NAME>_FILE` is refused: which one wins would be a guess.
 */
export function withSecretFiles(env: NodeJS.ProcessEnv, names: readonly string[]): NodeJS.ProcessEnv {
  let out = env;
  for (const name of names) {
    const path = env[`${name}_FILE`]?.trim();
    if (!path) continue;
    if (env[name]?.trim()) {
      throw new ConfigError(`Invalid configuration: set either ${name} or ${name}_FILE, not both`);
    }
    out = { ...out, [name]: readSecretFile(`${name}_FILE`, path) };
  }
  return out;
}
