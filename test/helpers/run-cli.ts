import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
/** A config directory with no `temporalio/temporal.toml` (it need not exist). */
const NO_CONFIG_HOME = resolve(ROOT, 'test', 'fixtures', 'no-config-home');

/** Runs a project entry point (e.g. `src/starter.ts`) in a child process, as a script would. */
export function runCli(
  entry: string,
  args: string[],
  env: Record<string, string>
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', resolve(ROOT, entry), ...args],
      {
        cwd: ROOT,
        // No Temporal config file of the person running the tests (~/.config/temporalio/temporal.toml) applies.
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', XDG_CONFIG_HOME: NO_CONFIG_HOME, ...env },
        timeout: 120_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        done({ code, stdout, stderr });
      }
    );
  });
}
