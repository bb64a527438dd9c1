import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO_ROOT = resolve(__dirname, '..', '..');

/** The Go-built tools the tests use, and the variable that can name each one's binary instead. */
const GO_TOOLS = {
  promtool: 'PROMTOOL_PATH',
  prometheus: 'PROMETHEUS_PATH',
  helm: 'HELM_PATH',
  'k8s-decode': 'K8S_DECODE_PATH',
  'docker-compose': 'DOCKER_COMPOSE_PATH',
} as const;

/** This repository's own Go programs (scripts/ensure-go-tools.sh's `local_tools`), by their module directory. */
const LOCAL_MODULES: Partial<Record<keyof typeof GO_TOOLS, string>> = {
  'k8s-decode': 'test/k8s-decode',
  'docker-compose': 'test/compose-cli',
};

/** The version scripts/ensure-go-tools.sh pins for `name`: the script is the one place versions are written. */
function pinnedVersion(name: string): string {
  const script = readFileSync(join(REPO_ROOT, 'scripts', 'ensure-go-tools.sh'), 'utf8');
  const version = new RegExp(`^\\s*"${name} \\S+ (v[^"\\s]+)"`, 'm').exec(script)?.[1];
  if (!version) throw new Error(`scripts/ensure-go-tools.sh pins no version of ${name}`);
  return version;
}

/** The build directory's suffix for a local module: the script's `cat go.mod go.sum *.go | sha256sum`, 12 digits. */
function sourceHash(module: string): string {
  const dir = join(REPO_ROOT, module);
  const goFiles = readdirSync(dir)
    .filter((f) => f.endsWith('.go'))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', ...goFiles]) hash.update(readFileSync(join(dir, file)));
  return hash.digest('hex').slice(0, 12);
}

/**
 * The path of a Go-built tool: the environment override (the variable GO_TOOLS names), else the project-local
 * build of scripts/ensure-go-tools.sh. Throws, saying how to get it, when neither exists: the tests that need it fail
 * rather than skip, since `npm test` builds it first.
 */
export function goTool(name: keyof typeof GO_TOOLS): string {
  const variable = GO_TOOLS[name];
  const override = process.env[variable];
  if (override) return override;
  const module = LOCAL_MODULES[name];
  const suffix = module ? sourceHash(module) : pinnedVersion(name);
  const local = join(REPO_ROOT, '.tools', 'go-bin', `${name}-${suffix}`, name);
  if (existsSync(local)) return local;
  throw new Error(`${name} not found: run bash scripts/ensure-go-tools.sh (npm test does), or set ${variable}`);
}
