import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parseDocument } from 'yaml';
import { WORKER_CONFIG_VARIABLES } from '../../src/config';
import { builtServiceProblems, secretDefaultProblems, simulatorIsolationProblems } from './hardening-checks';

/**
 * Static checks of the deployment files (docker-compose.yml, Dockerfile, .dockerignore, deploy/), without a
 * Docker engine. Every check returns a list of problems, empty when the files are fine, so tests can run it on
 * the real files and on broken copies.
 */

export const REPO_ROOT = resolve(__dirname, '..', '..');
const SCHEMA_PATH = join(__dirname, 'compose-spec.schema.json');
const SCHEMA_DIALECT = 'https://json-schema.org/draft-07/schema';

const LONG_RUNNING_RESTART = new Set(['always', 'unless-stopped']);
const LOOPBACK = '127.0.0.1';

type Rec = Record<string, unknown>;

const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const asRec = (v: unknown): Rec => (isRec(v) ? v : {});

/** The deployment files as text, read from `root`. */
export interface DeployFiles {
  root: string;
  composeText: string;
  dockerfile: string;
  dockerignore: string;
  /** The variables the worker's config reads (`WORKER_CONFIG_VARIABLES` of src/config). */
  configVariables: readonly string[];
  workerEnvExample: string;
  simulatorEnv: string;
  composeEnvExample: string;
}

export function readDeployFiles(root: string = REPO_ROOT): DeployFiles {
  const read = (p: string): string => readFileSync(join(root, p), 'utf8');
  return {
    root,
    composeText: read('docker-compose.yml'),
    dockerfile: read('Dockerfile'),
    dockerignore: read('.dockerignore'),
    configVariables: WORKER_CONFIG_VARIABLES,
    workerEnvExample: read('deploy/worker.env.example'),
    simulatorEnv: read('deploy/worker.simulator.env'),
    composeEnvExample: read('deploy/compose.env.example'),
  };
}

/** The services docker-compose.yml declares, across every profile. */
export const COMPOSE_SERVICES: readonly string[] = [
  'atlas-simulator',
  'grafana',
  'postgresql',
  'prometheus',
  'temporal',
  'temporal-create-namespace',
  'temporal-schema-setup',
  'temporal-ui',
  'worker',
];

/** A deep copy of a compose document with `edit` applied to its services: the broken input of a check's test. */
export function withEditedServices(
  doc: unknown,
  edit: (services: Record<string, Record<string, unknown>>) => void
): unknown {
  const copy = structuredClone(doc) as { services: Record<string, Record<string, unknown>> };
  edit(copy.services);
  return copy;
}

/** Parses YAML strictly (duplicate keys are errors); YAML errors and warnings are problems. */
export function parseCompose(text: string): { doc: unknown; problems: string[] } {
  const parsed = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  const problems = [...parsed.errors, ...parsed.warnings].map((e) => `YAML: ${e.message}`);
  return { doc: parsed.toJS() as unknown, problems };
}

export function servicesOf(doc: unknown): Record<string, Rec> {
  return Object.fromEntries(Object.entries(asRec(asRec(doc).services)).map(([name, s]) => [name, asRec(s)]));
}

let composeValidator: ValidateFunction | undefined;

function loadComposeValidator(): ValidateFunction {
  if (composeValidator) return composeValidator;
  const { $schema, ...schema } = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Rec;
  // The schema declares draft-07, which is Ajv's default class. Ajv registers that meta-schema as
  // http://json-schema.org/draft-07/schema#, so the https spelling is dropped rather than resolved.
  if ($schema !== SCHEMA_DIALECT) throw new Error(`compose schema dialect changed to ${String($schema)}`);
  const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, strictTypes: false });
  addFormats(ajv);
  composeValidator = ajv.compile(schema);
  return composeValidator;
}

function describeSchemaError(e: ErrorObject): string {
  const where = e.instancePath === '' ? '/' : e.instancePath;
  const extra = e.keyword === 'additionalProperties' ? ` (${String(e.params.additionalProperty)})` : '';
  return `schema: ${where} ${e.message ?? e.keyword}${extra}`;
}

/** Validates against the vendored Compose Specification schema. */
export function schemaProblems(doc: unknown): string[] {
  const validate = loadComposeValidator();
  if (validate(doc)) return [];
  return (validate.errors ?? []).map(describeSchemaError);
}

/** Services that other services wait on with `service_completed_successfully`: one-shot jobs. */
export function jobServices(doc: unknown): Set<string> {
  const jobs = new Set<string>();
  for (const service of Object.values(servicesOf(doc))) {
    for (const [dep, spec] of Object.entries(asRec(service.depends_on))) {
      if (asRec(spec).condition === 'service_completed_successfully') jobs.add(dep);
    }
  }
  return jobs;
}

/** Splits `name[:tag][@digest]`; the tag is what follows the last `:` after the last `/`. */
export function parseImageRef(ref: string): { name: string; tag: string | undefined; digest: string | undefined } {
  const [withTag = '', digest] = ref.split('@', 2);
  const slash = withTag.lastIndexOf('/');
  const colon = withTag.lastIndexOf(':');
  if (colon > slash) return { name: withTag.slice(0, colon), tag: withTag.slice(colon + 1), digest };
  return { name: withTag, tag: undefined, digest };
}

/**
 * An image pulled from a registry is pinned when it has a digest or a tag naming at least major.minor;
 * an image built here needs an explicit tag other than `latest`.
 */
export function imagePinProblem(ref: string, builtLocally: boolean): string | undefined {
  if (ref.includes('$')) return `${ref} takes its name or tag from a variable`;
  const { tag, digest } = parseImageRef(ref);
  if (digest !== undefined) return undefined;
  if (tag === undefined || tag === '') return `${ref} has no tag`;
  if (tag === 'latest') return `${ref} uses latest`;
  if (!builtLocally && !/\d+\.\d+/.test(tag)) return `${ref} is a floating tag; pin at least major.minor`;
  return undefined;
}

export function imageProblems(doc: unknown): string[] {
  const problems: string[] = [];
  for (const [name, s] of Object.entries(servicesOf(doc))) {
    const built = s.build !== undefined;
    if (typeof s.image !== 'string') {
      problems.push(`services.${name}: needs an image with an explicit tag${built ? ' for the image it builds' : ''}`);
      continue;
    }
    const problem = imagePinProblem(s.image, built);
    if (problem) problems.push(`services.${name}: image ${problem}`);
  }
  return problems;
}

function healthcheckTest(hc: Rec): boolean {
  const test = hc.test;
  if (typeof test === 'string') return test.trim() !== '';
  return Array.isArray(test) && test.length > 1 && test[0] !== 'NONE';
}

export function healthcheckProblems(doc: unknown): string[] {
  const problems: string[] = [];
  const jobs = jobServices(doc);
  for (const [name, s] of Object.entries(servicesOf(doc))) {
    if (jobs.has(name)) continue;
    const hc = asRec(s.healthcheck);
    const disabled = hc.disable === true || hc.disable === 'true';
    if (disabled || !healthcheckTest(hc)) problems.push(`services.${name}: long-running service without a healthcheck`);
  }
  return problems;
}

/**
 * The worker's healthcheck asks `/readyz` on the port of its `WORKER_HEALTH_ADDRESS`: healthy only while Temporal
 * sees it poll. Probing `/metrics` passed as soon as the SDK's runtime served metrics, before any poll.
 */
export function workerReadinessProblems(doc: unknown): string[] {
  const worker = servicesOf(doc).worker;
  if (!worker) return ['services.worker: missing'];
  const env = asRec(worker.environment);
  const address = typeof env.WORKER_HEALTH_ADDRESS === 'string' ? env.WORKER_HEALTH_ADDRESS : undefined;
  const port = address ? /:(\d+)$/.exec(address)?.[1] : undefined;
  if (!port) return ['services.worker: WORKER_HEALTH_ADDRESS (host:port) is not set, so there is no /readyz to probe'];
  const test = asRec(worker.healthcheck).test;
  const probe = Array.isArray(test) ? test.map(String).join(' ') : typeof test === 'string' ? test : '';
  return probe.includes(`:${port}/readyz`)
    ? []
    : [`services.worker: the healthcheck must probe http://127.0.0.1:${port}/readyz (ready only while polling)`];
}

export function restartProblems(doc: unknown): string[] {
  const problems: string[] = [];
  const jobs = jobServices(doc);
  for (const [name, s] of Object.entries(servicesOf(doc))) {
    const restart = typeof s.restart === 'string' ? s.restart : undefined;
    if (jobs.has(name)) {
      if (restart !== undefined && restart !== 'no' && !/^on-failure(:\d+)?$/.test(restart)) {
        problems.push(`services.${name}: one-shot job with restart ${restart}; use "no" or on-failure`);
      }
    } else if (restart === undefined || !LONG_RUNNING_RESTART.has(restart)) {
      problems.push(`services.${name}: long-running service needs restart: unless-stopped or always`);
    }
  }
  return problems;
}

/** Every published port binds the loopback interface only. */
export function portProblems(doc: unknown): string[] {
  const problems: string[] = [];
  for (const [name, s] of Object.entries(servicesOf(doc))) {
    for (const port of Array.isArray(s.ports) ? (s.ports as unknown[]) : []) {
      let hostIp: string | undefined;
      if (typeof port === 'string') {
        const parts = port.split('/')[0]?.split(':') ?? [];
        hostIp = parts.length === 3 ? parts[0] : undefined;
      } else if (isRec(port)) {
        hostIp = typeof port.host_ip === 'string' ? port.host_ip : undefined;
      }
      if (hostIp !== LOOPBACK)
        problems.push(`services.${name}: port ${JSON.stringify(port)} is not bound to ${LOOPBACK}`);
    }
  }
  return problems;
}

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

/** Build contexts, Dockerfiles, env files and bind-mount sources named by the compose file exist. */
export function pathProblems(doc: unknown, root: string): string[] {
  const problems: string[] = [];
  const inRepo = (p: string): string => resolve(root, p);
  const declaredVolumes = new Set(Object.keys(asRec(asRec(doc).volumes)));
  for (const [name, s] of Object.entries(servicesOf(doc))) {
    const at = `services.${name}`;
    if (s.build !== undefined) {
      const build = typeof s.build === 'string' ? { context: s.build } : asRec(s.build);
      const context = typeof build.context === 'string' ? build.context : '.';
      const dockerfile = typeof build.dockerfile === 'string' ? build.dockerfile : 'Dockerfile';
      if (!isDir(inRepo(context))) problems.push(`${at}: build context ${context} does not exist`);
      else if (!existsSync(resolve(inRepo(context), dockerfile))) {
        problems.push(`${at}: ${posix.join(context, dockerfile)} does not exist`);
      }
    }
    const envFiles = s.env_file === undefined ? [] : Array.isArray(s.env_file) ? s.env_file : [s.env_file];
    for (const entry of envFiles as unknown[]) {
      const file = typeof entry === 'string' ? entry : asRec(entry).path;
      if (typeof file !== 'string') continue;
      const required = typeof entry === 'string' || asRec(entry).required !== false;
      if (required && !existsSync(inRepo(file))) problems.push(`${at}: env_file ${file} does not exist`);
      if (!required && !existsSync(inRepo(`${file}.example`))) {
        problems.push(`${at}: optional env_file ${file} needs a committed ${file}.example`);
      }
    }
    for (const volume of Array.isArray(s.volumes) ? (s.volumes as unknown[]) : []) {
      let source: string | undefined;
      let bind: boolean;
      if (typeof volume === 'string') {
        source = volume.split(':')[0] ?? '';
        bind = /^[./~]/.test(source);
      } else {
        source = typeof asRec(volume).source === 'string' ? (asRec(volume).source as string) : undefined;
        bind = asRec(volume).type === 'bind';
      }
      if (source === undefined || source === '') continue;
      if (bind && !existsSync(inRepo(source))) problems.push(`${at}: bind mount source ${source} does not exist`);
      if (!bind && !declaredVolumes.has(source)) problems.push(`${at}: volume ${source} is not declared under volumes`);
    }
  }
  return problems;
}

/** A `dist/…js` entry point in a command maps to a `src/…ts` file that the build compiles. */
export function entryPointProblem(arg: string, root: string): string | undefined {
  const m = /^dist\/(.+)\.js$/.exec(arg);
  if (!m) return undefined;
  return existsSync(join(root, 'src', `${m[1]}.ts`)) ? undefined : `${arg} has no source src/${m[1]}.ts`;
}

export function commandProblems(doc: unknown, root: string): string[] {
  const problems: string[] = [];
  for (const [name, s] of Object.entries(servicesOf(doc))) {
    if (s.build === undefined || !Array.isArray(s.command)) continue;
    for (const arg of s.command as unknown[]) {
      const problem = typeof arg === 'string' ? entryPointProblem(arg, root) : undefined;
      if (problem) problems.push(`services.${name}: command ${problem}`);
    }
  }
  return problems;
}

/**
 * `${VAR}`, `${VAR:-default}`, `${VAR:?error}`, `$VAR` … in the compose text, outside comments; `$$` is an escape.
 * `required`: compose refuses to start when the variable is unset (or empty, with `:?`).
 */
export function interpolations(text: string): { name: string; hasDefault: boolean; required: boolean }[] {
  const found: { name: string; hasDefault: boolean; required: boolean }[] = [];
  const body = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n');
  for (const m of body.matchAll(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)((?::?[-?+])[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g)) {
    const name = m[1] ?? m[3];
    if (name === undefined) continue;
    found.push({
      name,
      hasDefault: m[2]?.startsWith('-') === true || m[2]?.startsWith(':-') === true,
      required: m[2]?.startsWith('?') === true || m[2]?.startsWith(':?') === true,
    });
  }
  return found;
}

/** Names assigned in an env file (`NAME=value`, uncommented). */
export function envFileNames(text: string): Set<string> {
  return new Set([...text.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] ?? ''));
}

export function interpolationProblems(composeText: string, workerEnvExample: string): string[] {
  const documented = envFileNames(workerEnvExample);
  return interpolations(composeText)
    .filter((v) => !v.hasDefault && !v.required && !documented.has(v.name))
    .map((v) => `docker-compose.yml: \${${v.name}} has no default and is not in deploy/worker.env.example`);
}

/** deploy/compose.env.example lists exactly the variables docker-compose.yml interpolates. */
export function composeEnvProblems(composeText: string, composeEnvExample: string): string[] {
  const used = new Set(interpolations(composeText).map((v) => v.name));
  const listed = envFileNames(composeEnvExample);
  return [
    ...[...used].filter((n) => !listed.has(n)).map((n) => `deploy/compose.env.example: missing \${${n}}`),
    ...[...listed].filter((n) => !used.has(n)).map((n) => `deploy/compose.env.example: ${n} is not used`),
  ];
}

/** The example documents every variable the config reads, and the env files name no variable it ignores. */
export function workerEnvProblems(
  files: Pick<DeployFiles, 'configVariables' | 'workerEnvExample' | 'simulatorEnv'>
): string[] {
  const read = new Set(files.configVariables);
  const documented = envFileNames(files.workerEnvExample);
  const problems = [...read]
    .filter((name) => !documented.has(name))
    .map((name) => `deploy/worker.env.example: missing ${name}, which src/config reads`);
  const envFiles = {
    'deploy/worker.env.example': documented,
    'deploy/worker.simulator.env': envFileNames(files.simulatorEnv),
  };
  for (const [file, names] of Object.entries(envFiles)) {
    for (const name of names) {
      if (!read.has(name)) problems.push(`${file}: sets ${name}, which src/config does not read`);
    }
  }
  return problems;
}

/** One Dockerfile instruction, continuation lines joined. */
export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buffer = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (buffer === '' && (line.trim() === '' || line.trimStart().startsWith('#'))) return;
    if (buffer === '') start = i + 1;
    if (line.endsWith('\\')) {
      buffer += `${line.slice(0, -1)} `;
      return;
    }
    buffer += line;
    const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(buffer);
    if (m) out.push({ keyword: (m[1] ?? '').toUpperCase(), args: (m[2] ?? '').trim(), line: start });
    buffer = '';
  });
  return out;
}

/** Splits instruction arguments into flags (`--from=x`) and operands, in shell or JSON form. */
function splitArgs(args: string): { flags: string[]; operands: string[] } {
  const words = args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/).filter(Boolean);
  return { flags: words.filter((w) => w.startsWith('--')), operands: words.filter((w) => !w.startsWith('--')) };
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Whether .dockerignore keeps `path` out of the build context (last matching pattern wins; parents count). */
export function dockerignoreExcludes(dockerignore: string, path: string): boolean {
  const rules = dockerignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negated = l.startsWith('!');
      const pattern = posix.normalize((negated ? l.slice(1) : l).replace(/^\/+/, '')).replace(/\/+$/, '');
      return { negated, re: globToRegExp(pattern) };
    });
  const segments = posix.normalize(path).replace(/^\.\//, '').split('/');
  const prefixes = segments.map((_, i) => segments.slice(0, i + 1).join('/'));
  let excluded = false;
  for (const rule of rules) {
    if (prefixes.some((p) => rule.re.test(p))) excluded = !rule.negated;
  }
  return excluded;
}

export function dockerfileProblems(files: Pick<DeployFiles, 'root' | 'dockerfile' | 'dockerignore'>): string[] {
  const problems: string[] = [];
  const instructions = parseDockerfile(files.dockerfile);
  const stages = new Set<string>();
  let finalStageStart = -1;
  instructions.forEach((ins, i) => {
    if (ins.keyword !== 'FROM') return;
    finalStageStart = i;
    const { operands } = splitArgs(ins.args);
    const image = operands[0] ?? '';
    const alias = operands[1]?.toLowerCase() === 'as' ? operands[2] : undefined;
    if (!stages.has(image)) {
      if (/alpine|musl/i.test(image)) {
        problems.push(`Dockerfile:${ins.line}: ${image} is musl-based; the Temporal core bridge needs glibc`);
      }
      const pin = imagePinProblem(image, false);
      if (pin) problems.push(`Dockerfile:${ins.line}: base image ${pin}`);
    }
    if (alias) stages.add(alias);
  });
  if (finalStageStart < 0) return ['Dockerfile: no FROM instruction'];
  const finalStage = instructions.slice(finalStageStart);
  const users = finalStage.filter((i) => i.keyword === 'USER');
  const user = users.at(-1)?.args.split(':')[0];
  if (user === undefined) problems.push('Dockerfile: the final stage sets no USER, so it runs as root');
  else if (user === 'root' || user === '0') problems.push(`Dockerfile: the final stage runs as ${user}`);
  const stopSignal = finalStage.find((i) => i.keyword === 'STOPSIGNAL');
  if (stopSignal?.args !== 'SIGTERM') problems.push('Dockerfile: the final stage should set STOPSIGNAL SIGTERM');
  for (const ins of instructions) {
    if (ins.keyword !== 'COPY' && ins.keyword !== 'ADD') continue;
    const { flags, operands } = splitArgs(ins.args);
    if (flags.some((f) => f.startsWith('--from='))) continue;
    for (const source of operands.slice(0, -1)) {
      if (/[*?[]/.test(source)) problems.push(`Dockerfile:${ins.line}: COPY source ${source} is a glob; name files`);
      else if (!existsSync(join(files.root, source))) {
        problems.push(`Dockerfile:${ins.line}: COPY source ${source} does not exist`);
      } else if (dockerignoreExcludes(files.dockerignore, source)) {
        problems.push(`Dockerfile:${ins.line}: COPY source ${source} is excluded by .dockerignore`);
      }
    }
  }
  const cmd = finalStage.filter((i) => i.keyword === 'CMD').at(-1);
  if (!cmd?.args.startsWith('[')) problems.push('Dockerfile: the final stage needs an exec-form CMD');
  else {
    for (const arg of JSON.parse(cmd.args) as string[]) {
      const problem = entryPointProblem(arg, files.root);
      if (problem) problems.push(`Dockerfile:${cmd.line}: CMD ${problem}`);
    }
  }
  return problems;
}

/** Every compose check on one parsed document; `text` is the document's source, for interpolation. */
export function validateCompose(
  doc: unknown,
  files: Pick<DeployFiles, 'root' | 'composeText' | 'workerEnvExample' | 'composeEnvExample'>
): string[] {
  return [
    ...schemaProblems(doc),
    ...imageProblems(doc),
    ...healthcheckProblems(doc),
    ...workerReadinessProblems(doc),
    ...restartProblems(doc),
    ...portProblems(doc),
    ...pathProblems(doc, files.root),
    ...commandProblems(doc, files.root),
    ...interpolationProblems(files.composeText, files.workerEnvExample),
    ...composeEnvProblems(files.composeText, files.composeEnvExample),
    ...secretDefaultProblems(files.composeText),
    ...builtServiceProblems(doc),
    ...simulatorIsolationProblems(doc),
  ];
}
