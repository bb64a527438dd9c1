import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const VENV_PYTHON = resolve(ROOT, '.tools/python-peers/bin/python');

/** Where the published JSON Schemas are read from (`ATLAS_EXPORT_SCHEMAS` overrides it, for the Python side too). */
export const SCHEMAS_DIR = process.env.ATLAS_EXPORT_SCHEMAS ?? resolve(ROOT, 'schemas');

export function readSchema(fileName: string): { properties: Record<string, unknown>; required?: string[] } {
  return JSON.parse(readFileSync(resolve(SCHEMAS_DIR, fileName), 'utf8')) as {
    properties: Record<string, unknown>;
    required?: string[];
  };
}

/**
 * The venv of the Python peers (scripts/ensure-python-peers.sh; quick when it is already there). `python` is
 * its interpreter, or undefined with the reason it could not be made.
 */
export function pythonPeers(): { python: string; reason?: undefined } | { python?: undefined; reason: string } {
  const r = spawnSync('bash', [resolve(ROOT, 'scripts/ensure-python-peers.sh')], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.status === 0 && existsSync(VENV_PYTHON)) return { python: VENV_PYTHON };
  const why = (r.stderr || r.error?.message || `exit ${String(r.status)}`).trim();
  return { reason: `the Python peers' venv (.tools/python-peers) could not be made: ${why}` };
}

/** Runs a Python program of the venv with `stdin`, and the schemas the test reads. */
export function runPython(
  python: string,
  script: string,
  args: string[],
  options: { stdin?: string; env?: Record<string, string>; timeoutMs?: number } = {}
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(
      python,
      [resolve(ROOT, script), ...args],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          ATLAS_EXPORT_SCHEMAS: SCHEMAS_DIR,
          PYTHONUNBUFFERED: '1',
          PYTHONDONTWRITEBYTECODE: '1',
          ...options.env,
        },
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        done({ code, stdout, stderr });
      }
    );
    child.stdin?.end(options.stdin ?? '');
  });
}
