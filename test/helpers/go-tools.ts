import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO_ROOT = resolve(__dirname, '..', '..');

/** The Go-built tools the tests use, and the variable that can name each one's binary instead. */
const GO_TOOLS = { promtool: 'PROMTOOL_PATH' } as const;

/** The version scripts/ensure-go-tools.sh pins for `name`: the script is the one place versions are written. */
function pinnedVersion(name: string): string {
  const script = readFileSync(join(REPO_ROOT, 'scripts', 'ensure-go-tools.sh'), 'utf8');
  const version = new RegExp(`^\\s*"${name} \\S+ (v[^"\\s]+)"`, 'm').exec(script)?.[1];
  if (!version) throw new Error(`scripts/ensure-go-tools.sh pins no version of ${name}`);
  return version;
}

/**
 * The path of a Go-built tool: the environment override (`PROMTOOL_PATH`), else the project-local build of
 * scripts/ensure-go-tools.sh. Throws, saying how to get it, when neither exists: the tests that need it fail
 * rather than skip, since `npm test` builds it first.
 */
export function goTool(name: keyof typeof GO_TOOLS): string {
  const variable = GO_TOOLS[name];
  const override = process.env[variable];
  if (override) return override;
  const local = join(REPO_ROOT, '.tools', 'go-bin', `${name}-${pinnedVersion(name)}`, name);
  if (existsSync(local)) return local;
  throw new Error(`${name} not found: run bash scripts/ensure-go-tools.sh (npm test does), or set ${variable}`);
}
