import { isLoopbackHost } from '../../src/net/loopback';
import { interpolations, parseDockerfile, parseImageRef, servicesOf } from './deploy-checks';

/**
 * Security defaults of the compose stack and the image (docs/security.md, "Compose defaults"), checked statically
 * like the rest of test/deploy: each check returns its problems, empty when the files are fine.
 */

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const asRec = (v: unknown): Rec => (isRec(v) ? v : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** A variable that holds a secret: it may not have a default, so compose refuses to start without it. */
const SECRET_NAME = /PASSWORD|SECRET|TOKEN|PRIVATE_KEY/;

export function secretDefaultProblems(composeText: string): string[] {
  return interpolations(composeText)
    .filter((v) => SECRET_NAME.test(v.name) && !v.required)
    .map(
      (v) => `docker-compose.yml: \${${v.name}} holds a secret; write \${${v.name}:?…} so compose refuses without it`
    );
}

/** A service that runs this repository's image: read-only, no capabilities, no privilege gain, no core dumps. */
export function builtServiceProblems(doc: unknown): string[] {
  const problems: string[] = [];
  for (const [name, s] of Object.entries(servicesOf(doc))) {
    if (s.build === undefined) continue;
    const at = `services.${name}`;
    if (s.read_only !== true) problems.push(`${at}: needs read_only: true (a tmpfs for what it writes)`);
    if (!list(s.cap_drop).includes('ALL')) problems.push(`${at}: needs cap_drop: [ALL]`);
    if (!list(s.security_opt).some((o) => /^no-new-privileges(:true)?$/.test(String(o)))) {
      problems.push(`${at}: needs security_opt: [no-new-privileges:true]`);
    }
    const core = asRec(s.ulimits).core;
    const noCore = core === 0 || (isRec(core) && core.soft === 0 && core.hard === 0);
    if (!noCore) problems.push(`${at}: needs ulimits core 0 (a core dump would hold credentials)`);
    const memory = s.mem_limit ?? asRec(asRec(asRec(s.deploy).resources).limits).memory;
    if (memory === undefined) problems.push(`${at}: needs a memory limit (mem_limit)`);
  }
  return problems;
}

/**
 * Services of a profile whose name says "simulator" (its control API injects faults and reads every request):
 * no published port, no network of its own, in the worker's network namespace, bound to loopback. The worker then
 * reaches it at http://127.0.0.1, the only plain-http Atlas its config accepts.
 */
export function simulatorIsolationProblems(doc: unknown): string[] {
  const problems: string[] = [];
  for (const [name, s] of Object.entries(servicesOf(doc))) {
    if (!list(s.profiles).some((p) => /simulator/.test(String(p)))) continue;
    const at = `services.${name}`;
    if (list(s.ports).length > 0) problems.push(`${at}: publishes ports; the simulator's control API must not be`);
    if (s.network_mode !== 'service:worker') {
      problems.push(`${at}: must run in the worker's network namespace (network_mode: service:worker)`);
    }
    if (s.networks !== undefined) problems.push(`${at}: joins networks; other containers could reach it`);
    const command = list(s.command).map(String);
    const host = command.includes('--host') ? command[command.indexOf('--host') + 1] : undefined;
    if (host === undefined || !isLoopbackHost(host)) {
      problems.push(`${at}: binds ${host ?? 'its default host'}; pass --host 127.0.0.1 (loopback only)`);
    }
  }
  return problems;
}

/**
 * Images pulled from a registry without a digest: compose services and Dockerfile base images. A tag can be moved
 * to other content; a digest cannot. Returned as image references, for the test to compare with its known gaps.
 */
export function undigestedImages(doc: unknown, dockerfile: string): string[] {
  const fromCompose = Object.values(servicesOf(doc))
    .filter((s) => s.build === undefined && typeof s.image === 'string')
    .map((s) => s.image as string);
  const stages = new Set<string>();
  const fromDockerfile: string[] = [];
  for (const ins of parseDockerfile(dockerfile)) {
    if (ins.keyword !== 'FROM') continue;
    const [image = '', as, alias] = ins.args.split(/\s+/).filter((w) => !w.startsWith('--'));
    if (!stages.has(image)) fromDockerfile.push(image);
    if (as?.toLowerCase() === 'as' && alias) stages.add(alias);
  }
  return [...new Set([...fromCompose, ...fromDockerfile])].filter((ref) => parseImageRef(ref).digest === undefined);
}

/**
 * Every `npm ci`/`npm install` in the Dockerfile runs with `--ignore-scripts` (npm's `allowScripts` policy only warns
 * about an unreviewed script and runs it), and every `npm rebuild` names approved packages (package.json
 * `allowScripts`) at the exact version package-lock.json installs.
 */
export function installScriptProblems(
  dockerfile: string,
  allowScripts: Record<string, boolean>,
  lockedVersions: (name: string) => string[]
): string[] {
  const problems: string[] = [];
  for (const ins of parseDockerfile(dockerfile)) {
    if (ins.keyword !== 'RUN') continue;
    for (const command of ins.args.split(/&&|;/).map((c) => c.trim())) {
      const words = command.split(/\s+/);
      if (words[0] !== 'npm') continue;
      if (['ci', 'install', 'i'].includes(words[1] ?? '') && !words.includes('--ignore-scripts')) {
        problems.push(`Dockerfile:${ins.line}: ${command} runs every dependency's install scripts`);
      }
      if (words[1] !== 'rebuild') continue;
      const specs = words.slice(2).filter((w) => !w.startsWith('-'));
      if (specs.length === 0) problems.push(`Dockerfile:${ins.line}: npm rebuild without packages runs them all`);
      for (const spec of specs) {
        const at = spec.lastIndexOf('@');
        const pkg = at > 0 ? spec.slice(0, at) : spec;
        const version = at > 0 ? spec.slice(at + 1) : undefined;
        if (allowScripts[pkg] !== true) problems.push(`Dockerfile:${ins.line}: ${pkg} is not in allowScripts`);
        if (version === undefined) problems.push(`Dockerfile:${ins.line}: npm rebuild ${pkg} names no version`);
        else if (!lockedVersions(pkg).includes(version)) {
          problems.push(`Dockerfile:${ins.line}: ${pkg}@${version} is not the version package-lock.json installs`);
        }
      }
    }
  }
  return problems;
}
