import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { CHART_COPIES, staleChartCopies } from '../../scripts/chart-sync';
import { parseCodecServerConfig } from '../../src/codec/codec-server-config';
import { parsePayloadEncryption, parseWorkerConfig } from '../../src/config';
import { readSecretFile } from '../../src/config/secret-files';
import { goTool } from '../helpers/go-tools';
import {
  type K8sObject,
  type MonitoringExpectations,
  monitoringProblems,
  portProblems,
  probeProblems,
  quantity,
  secretProblems,
  securityProblems,
  selectorProblems,
  workloads,
} from './k8s-checks';

/**
 * deploy/helm/atlas-export-worker checked by the tools operators use: Helm 4's own `helm lint --strict` and
 * `helm template` (built from the Go proxy by scripts/ensure-go-tools.sh), every rendered object strictly decoded
 * into its k8s.io/api type (test/k8s-decode), and the fields a manifest linter flags (./k8s-checks.ts), each shown to
 * fail on a broken rendering. Runs with default values and with every optional part on (ci/all-optional-values.yaml).
 */
const REPO = resolve(__dirname, '..', '..');
const CHART = join(REPO, 'deploy', 'helm', 'atlas-export-worker');
const ALL_OPTIONAL = join(CHART, 'ci', 'all-optional-values.yaml');
/** The worker's drain on SIGTERM (shutdownGraceTime in src/temporal/create-worker.ts). */
const DRAIN_SECONDS = Number(/shutdownGraceTime: '(\d+)s'/.exec(read('src/temporal/create-worker.ts'))?.[1]);
const scratch = mkdtempSync(join(tmpdir(), 'aeo-helm-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill();
  rmSync(scratch, { recursive: true, force: true });
});

function read(path: string): string {
  return readFileSync(join(REPO, path), 'utf8');
}

function run(
  tool: 'helm' | 'k8s-decode' | 'promtool',
  args: string[],
  input?: string
): { status: number | null; out: string } {
  const r = spawnSync(goTool(tool), args, { input, encoding: 'utf8', timeout: 60_000, cwd: scratch });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** `helm template` of the chart with `args` (values files, --set); throws with Helm's message when it fails. */
function render(...args: string[]): string {
  return renderChart(CHART, ...args);
}

function renderChart(chart: string, ...args: string[]): string {
  const r = spawnSync(goTool('helm'), ['template', 'aeo', chart, '--namespace', 'exports', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return r.stdout;
}

function objectsOf(yamlText: string): K8sObject[] {
  return parseAllDocuments(yamlText)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

const kinds = (objects: K8sObject[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
const worker = (objects: K8sObject[]) => {
  const w = workloads(objects).find((x) => x.object.metadata.name === 'aeo-atlas-export-worker');
  if (!w) throw new Error('no worker Deployment');
  return w;
};
const workerContainer = (objects: K8sObject[]) => {
  const c = worker(objects).containers.find((x) => x.name === 'worker');
  if (!c) throw new Error('no worker container');
  return c as Record<string, unknown> & { env: { name: string; value?: string }[] };
};
const envOf = (objects: K8sObject[]) =>
  Object.fromEntries(workerContainer(objects).env.map((e) => [e.name, e.value ?? '']));

const RENDERINGS = { default: [] as string[], 'every optional part': ['-f', ALL_OPTIONAL] };

describe('Helm chart', () => {
  it.each(Object.entries(RENDERINGS))('passes helm lint --strict (%s)', (_name, args) => {
    const r = run('helm', ['lint', '--strict', CHART, ...args]);
    expect(r.out).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(r.status).toBe(0);
  });

  it.each([
    ['an unknown auth kind', 'atlas.auth=password', "at '/atlas/auth'"],
    ['a wrong type', 'replicas=two', "at '/replicas': got string, want integer"],
    ['a grace period no longer than the drain', 'terminationGracePeriodSeconds=30', 'minimum: got 30, want 31'],
    ['a misspelt key', 'replica=3', "additional properties 'replica' not allowed"],
    ['a :latest tag', 'image.tag=latest', "at '/image/tag'"],
    ['a scrape interval Prometheus cannot read', 'serviceMonitor.interval=30sec', "at '/serviceMonitor/interval'"],
    ['a misspelt monitoring key', 'prometheusRule.label.release=x', "additional properties 'label' not allowed"],
  ])('fails helm lint --strict on %s (values.schema.json)', (_name, set, message) => {
    const r = run('helm', ['lint', '--strict', CHART, '--set', set]);
    expect(r.out).toContain(message);
    expect(r.out).toContain('1 chart(s) failed');
    expect(r.status).not.toBe(0);
  });

  it('renders the worker, and with every option on the codec server, network policies and monitoring too', () => {
    expect(kinds(objectsOf(render()))).toEqual([
      'ConfigMap/aeo-atlas-export-worker-secret-files',
      'Deployment/aeo-atlas-export-worker',
      'PodDisruptionBudget/aeo-atlas-export-worker',
      'Service/aeo-atlas-export-worker-metrics',
      'ServiceAccount/aeo-atlas-export-worker',
    ]);
    expect(kinds(objectsOf(render('-f', ALL_OPTIONAL)))).toEqual([
      'ConfigMap/aeo-atlas-export-worker-dashboard',
      'ConfigMap/aeo-atlas-export-worker-secret-files',
      'Deployment/aeo-atlas-export-worker',
      'Deployment/aeo-atlas-export-worker-codec',
      'NetworkPolicy/aeo-atlas-export-worker',
      'NetworkPolicy/aeo-atlas-export-worker-codec',
      'PodDisruptionBudget/aeo-atlas-export-worker',
      'PrometheusRule/aeo-atlas-export-worker',
      'Service/aeo-atlas-export-worker-codec',
      'Service/aeo-atlas-export-worker-metrics',
      'ServiceAccount/aeo-atlas-export-worker',
      'ServiceMonitor/aeo-atlas-export-worker',
    ]);
  });

  it.each(Object.entries(RENDERINGS))('decodes strictly into the Kubernetes API types (%s)', (_name, args) => {
    const rendered = render(...args);
    const r = run('k8s-decode', [], rendered);
    expect(r.status, r.out).toBe(0);
    expect(r.out.trim().split('\n')).toHaveLength(objectsOf(rendered).length);
  });

  it.each([
    ['an unknown field', (s: string) => s.replace('\n  replicas: 2\n', '\n  replica: 2\n'), 'unknown field "replica"'],
    [
      'a duplicate field',
      (s: string) => s.replace('\n  replicas: 2\n', '\n  replicas: 2\n  replicas: 3\n'),
      '"replicas" already set',
    ],
    ['a wrong type', (s: string) => s.replace('\n  replicas: 2\n', '\n  replicas: two\n'), 'cannot unmarshal string'],
    [
      'a misspelt probe field',
      (s: string) => s.replace('failureThreshold: 6', 'failureTreshold: 6'),
      'unknown field "failureTreshold"',
    ],
    [
      'an unknown kind',
      (s: string) => s.replace('kind: PodDisruptionBudget', 'kind: PodDisruptionBudgets'),
      'unknown apiVersion/kind',
    ],
  ])('fails strict decoding on %s', (_name, breakIt, message) => {
    const rendered = render();
    const broken = breakIt(rendered);
    expect(broken).not.toBe(rendered);
    const r = run('k8s-decode', [], broken);
    expect(r.status).not.toBe(0);
    expect(r.out).toContain(message);
  });
});

describe('Helm chart: what a manifest linter flags', () => {
  const check = (objects: K8sObject[]) => [
    ...securityProblems(objects),
    ...probeProblems(objects, DRAIN_SECONDS),
    ...secretProblems(objects),
    ...selectorProblems(objects),
    ...portProblems(objects),
  ];

  it.each(Object.entries(RENDERINGS))('finds nothing to flag (%s)', (_name, args) => {
    expect(DRAIN_SECONDS).toBe(30);
    expect(check(objectsOf(render(...args)))).toEqual([]);
  });

  /** Breakages made with `--set` (the chart obeys the value) or by editing the rendered worker. */
  const edit = (change: (c: Record<string, unknown>, pod: Record<string, unknown>) => void) => () => {
    const objects = objectsOf(render('-f', ALL_OPTIONAL));
    change(workerContainer(objects), worker(objects).pod);
    return objects;
  };
  const set =
    (...values: string[]) =>
    () =>
      objectsOf(render(...values.flatMap((v) => ['--set', v])));

  it.each([
    ['root allowed', set('podSecurityContext.runAsNonRoot=false'), 'runAsNonRoot must be true'],
    ['a writable root fs', set('containerSecurityContext.readOnlyRootFilesystem=false'), 'readOnlyRootFilesystem'],
    ['privilege escalation', set('containerSecurityContext.allowPrivilegeEscalation=true'), 'allowPrivilegeEscalation'],
    ['capabilities kept', set('containerSecurityContext.capabilities.drop[0]=NET_RAW'), 'capabilities.drop'],
    ['no seccomp profile', set('podSecurityContext.seccompProfile=null'), 'seccompProfile'],
    ['no memory limit', set('resources.limits=null'), 'resources.limits.memory not set'],
    ['a privileged container', set('containerSecurityContext.privileged=true'), 'privileged'],
    ['a capability added', set('containerSecurityContext.capabilities.add[0]=NET_ADMIN'), 'adds capabilities'],
    ['user 0', set('podSecurityContext.runAsUser=0'), 'runAsUser 0 is root'],
    ['no readiness probe', edit((c) => delete c.readinessProbe), 'no readinessProbe'],
    [
      'a probe on an undeclared port',
      edit((c) => ((c.livenessProbe as { httpGet: { port: string } }).httpGet.port = 'healthz')),
      'undeclared port healthz',
    ],
    [
      'a health address off its port',
      edit((c) =>
        (c.env as { name: string; value?: string }[]).forEach(
          (e) => e.name === 'WORKER_HEALTH_ADDRESS' && (e.value = '0.0.0.0:9999')
        )
      ),
      'WORKER_HEALTH_ADDRESS is not the health port',
    ],
    [
      'a metrics address off its port',
      edit((c) =>
        (c.env as { name: string; value?: string }[]).forEach(
          (e) => e.name === 'WORKER_METRICS_ADDRESS' && (e.value = '0.0.0.0:9000')
        )
      ),
      'WORKER_METRICS_ADDRESS is not the metrics port',
    ],
    ['no CPU request', edit((c) => delete (c.resources as { requests?: object }).requests), 'resources.requests.cpu'],
    ['an untagged image', edit((c) => (c.image = 'registry.example.com/aeo')), 'has no tag or digest'],
    ['a :latest image', edit((c) => (c.image = 'aeo:latest')), 'uses :latest'],
    ['a token mounted', edit((_c, pod) => (pod.automountServiceAccountToken = true)), 'automountServiceAccountToken'],
    [
      'a short grace period',
      edit((_c, pod) => (pod.terminationGracePeriodSeconds = DRAIN_SECONDS)),
      'must exceed the 30 s drain',
    ],
    ['no liveness probe', edit((c) => delete c.livenessProbe), 'no livenessProbe'],
    [
      'readiness on /livez',
      edit((c) => ((c.readinessProbe as { httpGet: { path: string } }).httpGet.path = '/livez')),
      'must GET /readyz',
    ],
    ['identical probes', edit((c) => (c.readinessProbe = c.livenessProbe)), 'are the same'],
    ['a hasty liveness probe', set('probes.liveness.failureThreshold=2'), 'gives up in under 60 s'],
    [
      'a secret by value',
      edit((c) => (c.env as object[]).push({ name: 'ATLAS_CLIENT_SECRET', value: 'x' })),
      'env ATLAS_CLIENT_SECRET holds a secret',
    ],
    [
      'a secret from a Secret key',
      edit((c) => (c.env as object[]).push({ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } })),
      'comes from a Secret key',
    ],
    [
      'a raw (0440) Secret file',
      edit((c) =>
        (c.env as object[]).push({
          name: 'ATLAS_PRIVATE_KEY_FILE',
          value: '/var/run/atlas-export/secret-volumes/atlas/k',
        })
      ),
      'must name an owner-only copy',
    ],
    [
      'a subPath Secret mount',
      edit((c) => (c.volumeMounts as object[]).push({ name: 'secret-atlas', mountPath: '/k', subPath: 'k' })),
      'mounted with subPath',
    ],
  ])('flags %s', (_name, broken, problem) => {
    const problems = check(broken());
    expect(problems.join('\n')).toContain(problem);
  });

  /** Sets `value` at `path` of the `kind` object named `name` in the rendering with every option on; `-` appends. */
  function objectEdit(kind: string, name: string, path: (string | number)[], value: unknown): K8sObject[] {
    const objects = objectsOf(render('-f', ALL_OPTIONAL));
    let node: unknown = objects.find((o) => o.kind === kind && o.metadata.name === name);
    for (const key of path.slice(0, -1)) node = (node as Record<string | number, unknown>)[key];
    const last = path[path.length - 1] ?? '';
    if (last === '-') (node as unknown[]).push(value);
    else (node as Record<string | number, unknown>)[last] = value;
    return objects;
  }
  const W = 'aeo-atlas-export-worker';
  const POD = ['spec', 'template', 'spec', 'containers', 0];
  it.each([
    [
      'a Service selecting no pod',
      'Service',
      `${W}-metrics`,
      ['spec', 'selector', 'app.kubernetes.io/component'],
      'x',
      `Service/${W}-metrics: selects no pod`,
    ],
    [
      'a PDB guarding no pod',
      'PodDisruptionBudget',
      W,
      ['spec', 'selector', 'matchLabels', 'app.kubernetes.io/instance'],
      'x',
      `PodDisruptionBudget/${W}: selects no pod`,
    ],
    [
      'a NetworkPolicy for no pod',
      'NetworkPolicy',
      `${W}-codec`,
      ['spec', 'podSelector', 'matchLabels', 'app.kubernetes.io/component'],
      'x',
      `NetworkPolicy/${W}-codec: selects no pod`,
    ],
    [
      'a Deployment selecting other pods',
      'Deployment',
      W,
      ['spec', 'selector', 'matchLabels', 'app.kubernetes.io/component'],
      'x',
      `Deployment/${W}: selector does not match`,
    ],
    [
      'a Service to an undeclared port',
      'Service',
      `${W}-codec`,
      ['spec', 'ports', 0, 'targetPort'],
      'https',
      'targetPort https is no port of its pods',
    ],
    [
      'a scrape annotation off the metrics port',
      'Deployment',
      W,
      ['spec', 'template', 'metadata', 'annotations', 'prometheus.io/port'],
      '9465',
      'prometheus.io/port is not the metrics port',
    ],
    [
      'a credential in the environment',
      'Deployment',
      W,
      [...POD, 'env', '-'],
      { name: 'AUTH', value: `Bearer ${'a'.repeat(20)}` },
      'env AUTH holds a credential',
    ],
    [
      'a Secret as the environment',
      'Deployment',
      `${W}-codec`,
      [...POD, 'envFrom'],
      [{ secretRef: { name: 's' } }],
      'envFrom a Secret',
    ],
  ] as const)('flags %s', (_name, kind, name, path, value, problem) => {
    expect(check(objectEdit(kind, name, [...path], value)).join('\n')).toContain(problem);
  });

  it('flags a Secret among the rendered objects', () => {
    const objects = objectsOf(render());
    expect(secretProblems(objects)).toEqual([]);
    objects.push({ kind: 'Secret', metadata: { name: 'x' } });
    expect(secretProblems(objects)).toContain('the chart renders a Secret: secrets are never values');
  });

  it('flags a secret in a ConfigMap', () => {
    const objects = objectsOf(render());
    const configMap = objects.find((o) => o.kind === 'ConfigMap') as K8sObject & { data: Record<string, string> };
    configMap.data.TEMPORAL_API_KEY = 'abc';
    expect(secretProblems(objects)).toEqual([`ConfigMap/${configMap.metadata.name}: TEMPORAL_API_KEY holds a secret`]);
  });
});

describe('Helm chart values', () => {
  /** The scale run the resources are sized from (docs/benchmarks.md, "Scale"): one worker, 5,000 in flight. */
  const scale = JSON.parse(read('bench/results/scale.json')) as {
    runs: Record<
      string,
      {
        options: { exports: number };
        workerEnv: Record<string, string>;
        workers: { peakRssMiB: number; steadyRssMiB: { mean: number }; steadyCpuPercent: number }[];
      }
    >;
  };

  it('size the worker from the 5,000-exports scale run, with the settings that run used', () => {
    const run1 = scale.runs['1-worker x1'];
    const measured = run1?.workers[0];
    if (!run1 || !measured) throw new Error('bench/results/scale.json has no "1-worker x1" run');
    expect(run1.options.exports).toBe(5000);
    const objects = objectsOf(render());
    const resources = workerContainer(objects).resources as {
      requests: { cpu: string; memory: string };
      limits: { memory: string };
    };
    expect(quantity(resources.requests.memory)).toBeGreaterThanOrEqual(measured.steadyRssMiB.mean * 2 ** 20);
    expect(quantity(resources.limits.memory)).toBeGreaterThanOrEqual(measured.peakRssMiB * 2 ** 20);
    expect(quantity(resources.requests.cpu)).toBeGreaterThanOrEqual(measured.steadyCpuPercent / 100);
    // The figures hold only with the run's heap cap and cache size.
    const { WORKER_WORKFLOW_BUNDLE: bundle, ...settings } = run1.workerEnv;
    expect(bundle).toMatch(/prebuilt/);
    expect(envOf(objects)).toMatchObject({ ...settings, WORKER_WORKFLOW_BUNDLE: '/app/dist/workflow-bundle.js' });
  });

  it('take the image digest over the tag, and never :latest', () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    expect(workerContainer(objectsOf(render('--set', 'image.tag=1.2.3'))).image).toBe(
      'atlas-export-orchestrator:1.2.3'
    );
    expect(
      workerContainer(objectsOf(render('--set', 'image.tag=1.2.3', '--set', `image.digest=${digest}`))).image
    ).toBe(`atlas-export-orchestrator@${digest}`);
    expect(() => render('--set', 'image.tag=latest')).toThrow(/image\/tag/);
  });

  it('refuse a secret, or what the chart sets itself, among the extra variables', () => {
    expect(() => render('--set', 'worker.extraEnv.TEMPORAL_API_KEY=abc')).toThrow(/a secret never comes from values/);
    expect(() => render('--set', 'worker.settings.ATLAS_CLIENT_SECRET_FILE=/x')).toThrow(/a secret never comes/);
    expect(() => render('--set', 'worker.extraEnv.TEMPORAL_ADDRESS=x:7233')).toThrow(/set by the chart/);
  });

  it('refuse a codec server without a token, keys or the Web UI origin', () => {
    expect(() => render('--set', 'codecServer.enabled=true')).toThrow(/payloadEncryption.keySecret.name/);
    expect(() =>
      render(
        '--set',
        'codecServer.enabled=true',
        '--set',
        'payloadEncryption.keySecret.name=k',
        '--set',
        'codecServer.corsOrigins[0]=https://ui.example.com'
      )
    ).toThrow(/codecServer.tokenSecret.name/);
  });
});

describe('Helm chart: the worker and codec server accept what it renders', () => {
  const CONTENT: Record<string, string> = {
    'keys.json': `k1:${Buffer.alloc(32, 7).toString('base64')}\n`,
    'tls.crt': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    'ca.crt': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  };

  /**
   * Each Deployment's Secret volumes laid out as the kubelet does under an fsGroup (0440), copied by the chart's own
   * copier (once), and each container's environment with the copies' directory moved under `dir`: what the
   * process would read in the pod.
   */
  function podEnvironments(objects: K8sObject[], dir: string): Map<string, NodeJS.ProcessEnv> {
    const from = join(dir, 'volumes');
    const to = join(dir, 'secrets');
    mkdirSync(to, { recursive: true });
    const envs = new Map<string, NodeJS.ProcessEnv>();
    for (const w of workloads(objects)) {
      for (const volume of (w.pod.volumes ?? []) as { name: string; secret?: { items: { path: string }[] } }[]) {
        if (!volume.secret) continue;
        const volumeDir = join(from, volume.name.replace(/^secret-/, ''));
        mkdirSync(volumeDir, { recursive: true });
        for (const { path } of volume.secret.items) {
          writeFileSync(join(volumeDir, path), CONTENT[path] ?? `value-of-${path}-0123456789\n`, { mode: 0o440 });
        }
      }
      // The image holds the real bundle; here an empty file stands in for it.
      const bundle = join(dir, 'workflow-bundle.js');
      writeFileSync(bundle, '');
      const main = asContainerEnv(w.containers.at(-1)).map((e) => [
        e.name,
        e.value?.replace('/var/run/atlas-export/secrets', to).replace('/app/dist/workflow-bundle.js', bundle),
      ]);
      envs.set(w.object.metadata.name, Object.fromEntries(main) as NodeJS.ProcessEnv);
    }
    const script = join(dir, 'sync.mjs');
    writeFileSync(script, configMapScript(objects));
    const r = spawnSync(process.execPath, [script], {
      env: { SYNC_FROM: from, SYNC_TO: to, SYNC_ONCE: 'true' },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    return envs;
  }

  it('with every option on: API key and mTLS, API-key Atlas credentials, keys, allow-list; the codec server', () => {
    const envs = podEnvironments(objectsOf(render('-f', ALL_OPTIONAL)), join(scratch, 'contract-all'));
    const env = envs.get('aeo-atlas-export-worker') ?? {};
    const config = parseWorkerConfig(env);
    expect(config.temporal).toMatchObject({ address: 'my-ns.a1b2c.tmprl.cloud:7233', namespace: 'my-ns.a1b2c' });
    expect(config.temporal.transport).toBe('api-key');
    expect(config.atlas.credentials).toMatchObject({
      mode: 'api-key',
      publicKey: 'abcdefgh',
      privateKey: 'value-of-private-key-0123456789',
    });
    expect(config.allowedTargets).toBeDefined();
    expect(parsePayloadEncryption(env)?.requireEncrypted).toBe(true);
    const codec = parseCodecServerConfig(envs.get('aeo-atlas-export-worker-codec') ?? {});
    expect(codec.host).toBe('0.0.0.0');
    expect(codec.token).toBe('value-of-token-0123456789');
    expect(codec.allowedHosts).toEqual(
      expect.arrayContaining(['aeo-atlas-export-worker-codec.exports.svc', 'codec.example.com'])
    );
  });

  it('fails when the rendering is broken: a misnamed variable, or the raw 0440 Secret file', () => {
    const envs = podEnvironments(objectsOf(render('-f', ALL_OPTIONAL)), join(scratch, 'contract-broken'));
    const { ATLAS_PRIVATE_KEY_FILE: keyFile, ...env } = envs.get('aeo-atlas-export-worker') ?? {};
    expect(() => parseWorkerConfig({ ...env, ATLAS_PRIVATE_KEYFILE: keyFile })).toThrow(/ATLAS_PRIVATE_KEY/);
    const raw = keyFile?.replace('/secrets/', '/volumes/');
    expect(() => parseWorkerConfig({ ...env, ATLAS_PRIVATE_KEY_FILE: raw })).toThrow(/mode 0440/);
  });

  it('with the defaults: refused until a Temporal transport and the client ID are chosen, as the notes warn', () => {
    const defaults = podEnvironments(objectsOf(render()), join(scratch, 'contract-default'));
    expect(() => parseWorkerConfig(defaults.get('aeo-atlas-export-worker') ?? {})).toThrow(/TEMPORAL_ALLOW_PLAINTEXT/);
    const chosen = podEnvironments(
      objectsOf(render('--set', 'temporal.allowPlaintext=true', '--set', 'atlas.clientId=mdb_sa_id_1')),
      join(scratch, 'contract-chosen')
    );
    const config = parseWorkerConfig(chosen.get('aeo-atlas-export-worker') ?? {});
    expect(config.temporal.transport).toBe('plaintext');
    expect(config.atlas.credentials).toMatchObject({
      mode: 'service-account',
      clientId: 'mdb_sa_id_1',
      clientSecret: 'value-of-client-secret-0123456789',
    });
  });
});

describe('Helm chart: the secret-files copier', () => {
  /**
   * A Secret volume as the kubelet lays it out (`<key>` -> `..data/<key>`, `..data` -> a timestamped directory),
   * with the 0440 mode an fsGroup gives it. The copier is the rendered ConfigMap's script, run with Node.
   */
  function secretVolume(dir: string, generation: number, value: string): void {
    const data = join(dir, `..gen${generation}`);
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'api-key'), `${value}\n`);
    chmodSync(join(data, 'api-key'), 0o440);
    symlinkSync(`..gen${generation}`, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    if (generation === 1) symlinkSync('..data/api-key', join(dir, 'api-key'));
  }

  async function copierRun(script: string, name: string): Promise<{ from: string; to: string }> {
    const from = join(scratch, name, 'volumes');
    const to = join(scratch, name, 'copies');
    mkdirSync(join(from, 'temporal-api-key'), { recursive: true });
    mkdirSync(to, { recursive: true });
    secretVolume(join(from, 'temporal-api-key'), 1, 'key-one-0123456789');
    const path = join(scratch, name, 'sync.mjs');
    writeFileSync(path, script);
    const env = { PATH: process.env.PATH, SYNC_FROM: from, SYNC_TO: to, SYNC_INTERVAL_MS: '100' };
    const child = spawn(process.execPath, [path], { env, stdio: 'ignore' });
    children.push(child);
    await until(() => statSync(join(to, '.synced'), { throwIfNoEntry: false }) !== undefined);
    return { from, to };
  }

  const script = () => configMapScript(objectsOf(render()));

  it('gives the worker an owner-only copy it accepts, and follows a rotated Secret', async () => {
    const { from, to } = await copierRun(script(), 'good');
    const raw = join(from, 'temporal-api-key', 'api-key');
    expect(() => readSecretFile('TEMPORAL_API_KEY_FILE', raw)).toThrow(/open to group or others \(mode 0440\)/);
    const copy = join(to, 'temporal-api-key', 'api-key');
    expect(statSync(copy).mode & 0o777).toBe(0o400);
    expect(readSecretFile('TEMPORAL_API_KEY_FILE', copy)).toBe('key-one-0123456789');
    secretVolume(join(from, 'temporal-api-key'), 2, 'key-two-0123456789');
    await until(() => readSecretFile('TEMPORAL_API_KEY_FILE', copy) === 'key-two-0123456789');
    expect(statSync(copy).mode & 0o777).toBe(0o400);
  });

  it('is what makes the file acceptable: a copier that keeps the group bit is refused', async () => {
    const broken = script().replace('mode: 0o400', 'mode: 0o440');
    expect(broken).not.toBe(script());
    const { to } = await copierRun(broken, 'broken');
    expect(() => readSecretFile('TEMPORAL_API_KEY_FILE', join(to, 'temporal-api-key', 'api-key'))).toThrow(
      /open to group or others/
    );
  });
});

describe('Helm chart: Prometheus Operator and Grafana', () => {
  const EXPECTED: MonitoringExpectations = {
    alertGroups: (parse(read('deploy/prometheus/alerts.yml')) as { groups: unknown }).groups,
    dashboard: JSON.parse(read('deploy/grafana/dashboards/atlas-export.json')) as unknown,
    dashboardLabel: ['grafana_dashboard', '1'],
  };
  const W = 'aeo-atlas-export-worker';
  const POD_MONITOR = ['-f', ALL_OPTIONAL, '--set', 'metrics.service=false'];
  /** The one object of `kind` the monitoring options add (for a ConfigMap: the dashboard's). */
  const one = (objects: K8sObject[], kind: string) => {
    const found = objects.find(
      (o) => o.kind === kind && (kind !== 'ConfigMap' || o.metadata.name === `${W}-dashboard`)
    );
    if (!found) throw new Error(`no ${kind}`);
    return found as K8sObject & { spec: Record<string, unknown> };
  };
  const labelsOf = (o: K8sObject) => (o.metadata as { labels?: Record<string, string> }).labels ?? {};

  it("keeps the chart's copies of the alert rules and the dashboard current (npm run chart:sync)", () => {
    expect(CHART_COPIES.map((c) => c.copy)).toEqual([
      'deploy/helm/atlas-export-worker/files/alerts.yml',
      'deploy/helm/atlas-export-worker/files/dashboards/atlas-export.json',
    ]);
    expect(staleChartCopies()).toEqual([]);
  });

  it.each(CHART_COPIES)('flags a copy that differs from its source ($copy)', ({ source, copy }) => {
    const broken = read(copy).replace('atlas_exports', 'atlas_export');
    expect(broken).not.toBe(read(copy));
    expect(staleChartCopies((path) => (path === copy ? broken : read(path)))).toEqual([
      `${copy} differs from ${source}: run npm run chart:sync`,
    ]);
  });

  it('scrapes, alerts and shows as the alert rules and the dashboard expect (ServiceMonitor, or PodMonitor)', () => {
    const objects = objectsOf(render('-f', ALL_OPTIONAL));
    expect(monitoringProblems(objects, EXPECTED)).toEqual([]);
    for (const kind of ['ServiceMonitor', 'PrometheusRule']) {
      expect(labelsOf(one(objects, kind))).toMatchObject({ release: 'kube-prometheus-stack' });
    }
    const dashboard = one(objects, 'ConfigMap');
    expect(dashboard.metadata).toMatchObject({
      name: `${W}-dashboard`,
      labels: { grafana_dashboard: '1', team: 'platform' },
      annotations: { grafana_folder: 'Atlas exports' },
    });
    expect(one(objects, 'ServiceMonitor').spec.endpoints).toMatchObject([{ interval: '15s', scrapeTimeout: '10s' }]);

    const rendered = render(...POD_MONITOR);
    const podMonitored = objectsOf(rendered);
    expect(kinds(podMonitored).filter((k) => /Monitor|Service\//.test(k))).toEqual([
      `PodMonitor/${W}`,
      `Service/${W}-codec`,
    ]);
    expect(monitoringProblems(podMonitored, EXPECTED)).toEqual([]);
    const decoded = run('k8s-decode', [], rendered);
    expect(decoded.status, decoded.out).toBe(0);
    expect(decoded.out).toContain(`ok monitoring.coreos.com/v1 PodMonitor ${W}`);
  });

  it("holds rules that pass promtool's unit tests of deploy/prometheus/alerts.yml, as Helm rendered them", () => {
    const rule = one(objectsOf(render('-f', ALL_OPTIONAL)), 'PrometheusRule');
    const dir = join(scratch, 'rendered-rules');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'alerts.yml'), JSON.stringify({ groups: rule.spec.groups }));
    writeFileSync(join(dir, 'alerts.test.yml'), read('deploy/prometheus/alerts.test.yml'));
    const r = run('promtool', ['test', 'rules', join(dir, 'alerts.test.yml')]);
    expect(r.out).toContain('SUCCESS');
    expect(r.status, r.out).toBe(0);
  });

  it('takes the dashboard label the sidecar is configured with', () => {
    const objects = objectsOf(
      render('--set', 'grafanaDashboard.enabled=true', '--set', 'grafanaDashboard.label.name=dashboards')
    );
    const labelled = { ...EXPECTED, dashboardLabel: ['dashboards', '1'] as const };
    expect(monitoringProblems(objects, labelled)).toEqual([]);
    expect(monitoringProblems(objects, EXPECTED)).toEqual([
      `ConfigMap/${W}-dashboard: no grafana_dashboard: "1" label for the Grafana sidecar`,
    ]);
    expect(one(objects, 'ConfigMap').metadata).not.toHaveProperty('annotations');
  });

  it('renders from its copies: a broken copy gives a rule and a dashboard the checks flag', () => {
    const chart = join(scratch, 'chart-broken-copies');
    cpSync(CHART, chart, { recursive: true });
    const inChart = (path: string) => join(chart, path.replace('deploy/helm/atlas-export-worker/', ''));
    for (const { copy } of CHART_COPIES) {
      const text = readFileSync(inChart(copy), 'utf8');
      const broken = text.replace('> 0.01', '> 0.1').replace('atlas_exports_in_flight', 'atlas_export_in_flight');
      expect(broken).not.toBe(text);
      writeFileSync(inChart(copy), broken);
    }
    expect(monitoringProblems(objectsOf(renderChart(chart, '-f', ALL_OPTIONAL)), EXPECTED)).toEqual([
      `PrometheusRule/${W}: groups differ from deploy/prometheus/alerts.yml`,
      `ConfigMap/${W}-dashboard: dashboard differs from deploy/grafana/dashboards/atlas-export.json`,
    ]);
    const copies = staleChartCopies((path) =>
      readFileSync(path.includes('/helm/') ? inChart(path) : join(REPO, path), 'utf8')
    );
    expect(copies).toHaveLength(2);
  });

  /** The rendering with every option on, `change`d. */
  const broken = (change: (objects: K8sObject[]) => void, args = ['-f', ALL_OPTIONAL]) => {
    const objects = objectsOf(render(...args));
    change(objects);
    return objects;
  };
  const endpoint = (objects: K8sObject[]) =>
    (one(objects, 'ServiceMonitor').spec.endpoints as Record<string, unknown>[])[0] ?? {};
  const matchLabels = (o: K8sObject & { spec: Record<string, unknown> }) =>
    (o.spec.selector as { matchLabels: Record<string, string> }).matchLabels;
  it.each([
    [
      'a ServiceMonitor selecting no Service',
      broken((o) => (matchLabels(one(o, 'ServiceMonitor'))['app.kubernetes.io/component'] = 'x')),
      `ServiceMonitor/${W}: selects no Service of the chart`,
    ],
    [
      'a PodMonitor selecting no pod',
      broken((o) => (matchLabels(one(o, 'PodMonitor'))['app.kubernetes.io/instance'] = 'x'), POD_MONITOR),
      `PodMonitor/${W}: selects no pod of the chart`,
    ],
    ['another port', broken((o) => (endpoint(o).port = 'http')), 'scrapes port http, not metrics'],
    [
      'a Service without the metrics port',
      broken((o) => {
        const service = o.find((x) => x.metadata.name === `${W}-metrics`) as unknown as {
          spec: { ports: { name: string }[] };
        };
        service.spec.ports.forEach((p) => (p.name = 'http-metrics'));
      }),
      'what it selects has no port named metrics',
    ],
    ['no job relabeling', broken((o) => delete endpoint(o).relabelings), `the job label is not forced to atlas-export`],
    [
      'the job from the Service name',
      broken(
        (o) => (endpoint(o).relabelings = [{ sourceLabels: ['__meta_kubernetes_service_name'], targetLabel: 'job' }])
      ),
      'the job label is not forced',
    ],
    ['honorLabels off', broken((o) => (endpoint(o).honorLabels = false)), "the worker's namespace label is lost"],
    [
      'a rule dropped',
      broken((o) => (one(o, 'PrometheusRule').spec.groups as { rules: unknown[] }[])[0]?.rules.pop()),
      `PrometheusRule/${W}: groups differ`,
    ],
    [
      'a dashboard without the sidecar label',
      broken((o) => delete labelsOf(one(o, 'ConfigMap')).grafana_dashboard),
      'no grafana_dashboard: "1" label',
    ],
  ])('flags %s', (_name, objects, problem) => {
    expect(monitoringProblems(objects, EXPECTED).join('\n')).toContain(problem);
  });

  it.each([
    ['a misspelt ServiceMonitor field', 'jobLabel: ', 'jobLabels: ', 'unknown field "jobLabels"'],
    ['a misspelt endpoint field', 'honorLabels: true', 'honourLabels: true', 'unknown field "honourLabels"'],
    ['a rule label of the wrong type', 'severity: warning', 'severity: [warning]', 'cannot unmarshal array'],
    ['a misspelt rule field', '  - alert: ', '  - alrt: ', 'unknown field "alrt"'],
    ['an unknown monitoring kind', 'kind: ServiceMonitor', 'kind: ServiceMonitors', 'unknown apiVersion/kind'],
  ])('fails strict decoding on %s', (_name, from, to, message) => {
    const rendered = render('-f', ALL_OPTIONAL);
    const brokenYaml = rendered.replace(from, to);
    expect(brokenYaml).not.toBe(rendered);
    const r = run('k8s-decode', [], brokenYaml);
    expect(r.status).not.toBe(0);
    expect(r.out).toContain(message);
  });
});

/** The copier's script, as the rendered ConfigMap holds it. */
function configMapScript(objects: K8sObject[]): string {
  const data = objects.find((o) => o.kind === 'ConfigMap' && 'sync-secret-files.mjs' in (o.data as object))?.data as
    Record<string, string> | undefined;
  const text = data?.['sync-secret-files.mjs'];
  if (!text) throw new Error('no ConfigMap with sync-secret-files.mjs');
  return text;
}

function asContainerEnv(container: Record<string, unknown> | undefined): { name: string; value?: string }[] {
  return (container?.env ?? []) as { name: string; value?: string }[];
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (condition()) return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
