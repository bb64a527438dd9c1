/**
 * What an operator's manifest linter (kube-linter, Polaris, kubesec) would flag in the Helm chart's rendered
 * objects, written out because kube-linter is not served by the Go module proxy here: each check returns its
 * problems, empty when the rendering is fine, and test/deploy/helm-chart.test.ts feeds each a broken rendering.
 */

import { isDeepStrictEqual } from 'node:util';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const asRec = (v: unknown): Rec => (isRec(v) ? v : {});
const asList = (v: unknown): Rec[] => (Array.isArray(v) ? v.filter(isRec) : []);

/** A rendered Kubernetes object (one document of `helm template`). */
export type K8sObject = Rec & { kind: string; metadata: { name: string } };

/** Variables that hold a secret: never set by value or from a Secret key in a container's environment. */
export const SECRET_VARIABLES = [
  'ATLAS_CLIENT_SECRET',
  'ATLAS_PRIVATE_KEY',
  'MONGODB_ATLAS_CLIENT_SECRET',
  'MONGODB_ATLAS_PRIVATE_API_KEY',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'PAYLOAD_ENCRYPTION_KEYS',
  'CODEC_SERVER_TOKEN',
];
/** Variables naming a secret file, which the worker checks for an owner-only mode. */
const SECRET_FILE_VARIABLES = /^(?:[A-Z_]+_FILE|TEMPORAL_TLS_CLIENT_KEY_PATH)$/;
/** Where the chart's copier puts the owner-only copies (the raw Secret volumes are 0440 under an fsGroup). */
export const OWNER_ONLY_DIR = '/var/run/atlas-export/secrets/';
/** Text that looks like a credential, whatever key holds it. */
const SECRET_TEXT = /-----BEGIN [A-Z ]*PRIVATE KEY-----|\bBearer [A-Za-z0-9._~+/-]{16,}/;

/** Set on every container: the scheduler's reservation, and the limit that keeps a leak from the node. */
const REQUIRED_RESOURCES = [
  ['requests', 'cpu'],
  ['requests', 'memory'],
  ['limits', 'memory'],
] as const;

export interface PodWorkload {
  object: K8sObject;
  pod: Rec;
  containers: Rec[];
}

/** Deployments with their pod spec and every container (init containers and native sidecars included). */
export function workloads(objects: K8sObject[]): PodWorkload[] {
  return objects
    .filter((o) => o.kind === 'Deployment')
    .map((object) => {
      const pod = asRec(asRec(asRec(object.spec).template).spec);
      return { object, pod, containers: [...asList(pod.initContainers), ...asList(pod.containers)] };
    });
}

const where = (w: PodWorkload, c?: Rec) =>
  `${w.object.kind}/${w.object.metadata.name}${c ? ` container ${String(c.name)}` : ''}`;

/** Non-root, read-only root file system, no privilege escalation, all capabilities dropped, RuntimeDefault seccomp. */
export function securityProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of workloads(objects)) {
    const podSc = asRec(w.pod.securityContext);
    if (w.pod.automountServiceAccountToken !== false) {
      problems.push(`${where(w)}: automountServiceAccountToken must be false (it calls no Kubernetes API)`);
    }
    for (const c of w.containers) {
      const sc = asRec(c.securityContext);
      const at = where(w, c);
      if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) problems.push(`${at}: runAsNonRoot must be true`);
      const uid = sc.runAsUser ?? podSc.runAsUser;
      if (uid === 0) problems.push(`${at}: runAsUser 0 is root`);
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${at}: readOnlyRootFilesystem must be true`);
      if (sc.allowPrivilegeEscalation !== false) problems.push(`${at}: allowPrivilegeEscalation must be false`);
      if (sc.privileged === true) problems.push(`${at}: privileged`);
      const drop = asRec(sc.capabilities).drop;
      if (!Array.isArray(drop) || !drop.includes('ALL')) problems.push(`${at}: capabilities.drop must include ALL`);
      if (Array.isArray(asRec(sc.capabilities).add)) problems.push(`${at}: adds capabilities`);
      const seccomp = asRec(sc.seccompProfile ?? podSc.seccompProfile).type;
      if (seccomp !== 'RuntimeDefault') problems.push(`${at}: seccompProfile must be RuntimeDefault`);
      const resources = asRec(c.resources);
      for (const [group, key] of REQUIRED_RESOURCES) {
        if (asRec(resources[group])[key] === undefined) problems.push(`${at}: resources.${group}.${key} not set`);
      }
      problems.push(...imageProblems(at, c.image));
    }
  }
  return problems;
}

function imageProblems(at: string, image: unknown): string[] {
  const ref = typeof image === 'string' ? image : '';
  if (/@sha256:[0-9a-f]{64}$/.test(ref)) return [];
  const tag = /:([^/:@]+)$/.exec(ref)?.[1];
  if (tag === undefined) return [`${at}: image ${ref} has no tag or digest`];
  return tag === 'latest' ? [`${at}: image ${ref} uses :latest`] : [];
}

/** The worker: readiness on /readyz, liveness on /livez (distinct), and a grace period beyond its 30 s drain. */
export function probeProblems(objects: K8sObject[], drainSeconds: number): string[] {
  const problems: string[] = [];
  for (const w of workloads(objects)) {
    for (const c of asList(w.pod.containers)) {
      const at = where(w, c);
      const readiness = asRec(c.readinessProbe);
      const liveness = asRec(c.livenessProbe);
      if (Object.keys(readiness).length === 0) problems.push(`${at}: no readinessProbe`);
      if (Object.keys(liveness).length === 0) problems.push(`${at}: no livenessProbe`);
      if (JSON.stringify(readiness) === JSON.stringify(liveness)) {
        problems.push(`${at}: readiness and liveness probes are the same (a failing dependency would restart it)`);
      }
      if (c.name !== 'worker') continue;
      if (asRec(readiness.httpGet).path !== '/readyz') problems.push(`${at}: readinessProbe must GET /readyz`);
      if (asRec(liveness.httpGet).path !== '/livez') problems.push(`${at}: livenessProbe must GET /livez`);
      // Killed only after a minute of no answer at all: a drain or a busy event loop must not restart it.
      const period = Number(liveness.periodSeconds ?? 10);
      const failures = Number(liveness.failureThreshold ?? 3);
      if (period * failures < 60) problems.push(`${at}: livenessProbe gives up in under 60 s`);
    }
    const grace = Number(w.pod.terminationGracePeriodSeconds ?? 30);
    const isWorker = asList(w.pod.containers).some((c) => c.name === 'worker');
    if (isWorker && grace <= drainSeconds) {
      problems.push(`${where(w)}: terminationGracePeriodSeconds ${grace} must exceed the ${drainSeconds} s drain`);
    }
  }
  return problems;
}

/**
 * No secret in a container's environment (by value or from a Secret key) or in a ConfigMap; secret files come from
 * the owner-only copies, and Secret volumes are mounted whole (a subPath mount never sees a rotated Secret).
 */
export function secretProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of workloads(objects)) {
    const secretVolumes = new Set(
      asList(w.pod.volumes)
        .filter((v) => isRec(v.secret))
        .map((v) => String(v.name))
    );
    for (const c of w.containers) {
      const at = where(w, c);
      for (const e of asList(c.env)) {
        const name = String(e.name);
        if (SECRET_VARIABLES.includes(name)) problems.push(`${at}: env ${name} holds a secret; use ${name}_FILE`);
        if (isRec(asRec(e.valueFrom).secretKeyRef)) problems.push(`${at}: env ${name} comes from a Secret key`);
        if (typeof e.value === 'string' && SECRET_TEXT.test(e.value))
          problems.push(`${at}: env ${name} holds a credential`);
        if (SECRET_FILE_VARIABLES.test(name) && !(typeof e.value === 'string' && e.value.startsWith(OWNER_ONLY_DIR))) {
          problems.push(`${at}: env ${name} must name an owner-only copy under ${OWNER_ONLY_DIR}`);
        }
      }
      if (asList(c.envFrom).some((e) => isRec(e.secretRef))) problems.push(`${at}: envFrom a Secret`);
      for (const m of asList(c.volumeMounts)) {
        if (secretVolumes.has(String(m.name)) && m.subPath !== undefined) {
          problems.push(`${at}: Secret volume ${String(m.name)} mounted with subPath (never updated)`);
        }
      }
    }
  }
  for (const o of objects.filter((x) => x.kind === 'ConfigMap')) {
    for (const [key, value] of Object.entries(asRec(o.data))) {
      if (SECRET_VARIABLES.includes(key) || SECRET_TEXT.test(String(value))) {
        problems.push(`ConfigMap/${o.metadata.name}: ${key} holds a secret`);
      }
    }
  }
  if (objects.some((o) => o.kind === 'Secret')) problems.push('the chart renders a Secret: secrets are never values');
  return problems;
}

/** Bytes of a Kubernetes quantity such as 640Mi or 1Gi; cores of one such as 500m or 2. */
export function quantity(value: unknown): number {
  const match = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi)?$/.exec(String(value));
  if (!match) return Number.NaN;
  const scale = { m: 1e-3, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 }[match[2] ?? ''] ?? 1;
  return Number(match[1]) * scale;
}

const labelsMatch = (selector: unknown, labels: unknown) =>
  Object.entries(asRec(selector)).every(([k, v]) => asRec(labels)[k] === v);

/**
 * Selectors that select something: a Deployment's own pods, and every Service, PodDisruptionBudget and
 * NetworkPolicy some Deployment's pods (a mismatch is valid YAML, and silently guards or routes to nothing).
 */
export function selectorProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const podLabels = workloads(objects).map((w) => asRec(asRec(asRec(w.object.spec).template).metadata).labels);
  for (const w of workloads(objects)) {
    const own = asRec(asRec(asRec(w.object.spec).template).metadata).labels;
    if (!labelsMatch(asRec(asRec(w.object.spec).selector).matchLabels, own)) {
      problems.push(`${where(w)}: selector does not match its pod template's labels`);
    }
  }
  for (const o of objects) {
    const spec = asRec(o.spec);
    const selector =
      o.kind === 'Service'
        ? spec.selector
        : o.kind === 'PodDisruptionBudget'
          ? asRec(spec.selector).matchLabels
          : o.kind === 'NetworkPolicy'
            ? asRec(spec.podSelector).matchLabels
            : undefined;
    if (selector === undefined) continue;
    if (!podLabels.some((labels) => labelsMatch(selector, labels))) {
      problems.push(`${o.kind}/${o.metadata.name}: selects no pod of the chart`);
    }
  }
  return problems;
}

/** `host:port` → port. */
const portOf = (address: unknown) => Number(/:(\d+)$/.exec(typeof address === 'string' ? address : '')?.[1]);

/**
 * The worker's ports agree: probes and the Service use named ports the container declares, and the bind addresses
 * and the scrape annotation give the same numbers.
 */
export function portProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of workloads(objects)) {
    for (const c of asList(w.pod.containers)) {
      const at = where(w, c);
      const ports = new Map(asList(c.ports).map((p) => [String(p.name), Number(p.containerPort)]));
      for (const probe of ['readinessProbe', 'livenessProbe'] as const) {
        const p = asRec(c[probe]);
        const port = asRec(p.httpGet).port ?? asRec(p.tcpSocket).port;
        if (typeof port === 'string' && !ports.has(port)) problems.push(`${at}: ${probe} uses undeclared port ${port}`);
      }
      if (c.name !== 'worker') continue;
      const env = new Map(asList(c.env).map((e) => [String(e.name), e.value]));
      if (portOf(env.get('WORKER_HEALTH_ADDRESS')) !== ports.get('health')) {
        problems.push(`${at}: WORKER_HEALTH_ADDRESS is not the health port`);
      }
      if (portOf(env.get('WORKER_METRICS_ADDRESS')) !== ports.get('metrics')) {
        problems.push(`${at}: WORKER_METRICS_ADDRESS is not the metrics port`);
      }
      const annotations = asRec(asRec(asRec(w.object.spec).template).metadata).annotations;
      const scrapePort = asRec(annotations)['prometheus.io/port'];
      if (scrapePort !== undefined && Number(scrapePort) !== ports.get('metrics')) {
        problems.push(`${at}: prometheus.io/port is not the metrics port`);
      }
    }
  }
  for (const o of objects.filter((x) => x.kind === 'Service')) {
    const pods = workloads(objects).filter((w) =>
      labelsMatch(asRec(o.spec).selector, asRec(asRec(asRec(w.object.spec).template).metadata).labels)
    );
    const names = new Set(
      pods.flatMap((w) => asList(w.pod.containers).flatMap((c) => asList(c.ports))).map((p) => p.name)
    );
    for (const p of asList(asRec(o.spec).ports)) {
      if (typeof p.targetPort === 'string' && !names.has(p.targetPort)) {
        problems.push(`Service/${o.metadata.name}: targetPort ${p.targetPort} is no port of its pods`);
      }
    }
  }
  return problems;
}

/** The job the alert rules select (deploy/prometheus/alerts.yml: up{job="atlas-export-worker"}). */
export const SCRAPE_JOB = 'atlas-export-worker';

/** What the chart's monitoring objects must carry: the alert groups and the dashboard, parsed, and its label. */
export interface MonitoringExpectations {
  alertGroups: unknown;
  dashboard: unknown;
  dashboardLabel: readonly [name: string, value: string];
}

/** The job label a scrape ends with: the last relabeling of `job`, when it sets a fixed value whatever the target. */
function forcedJob(endpoint: Rec): string | undefined {
  const last = asList(endpoint.relabelings)
    .filter((r) => r.targetLabel === 'job')
    .at(-1);
  if (!last) return undefined;
  const unconditional =
    [undefined, 'replace', 'Replace'].includes(last.action as string | undefined) &&
    (last.regex === undefined || last.regex === '(.*)') &&
    !(Array.isArray(last.sourceLabels) && last.sourceLabels.length > 0);
  return unconditional && typeof last.replacement === 'string' ? last.replacement : undefined;
}

/** A ServiceMonitor's Service, or a PodMonitor's worker pods: the named ports they offer, or undefined if none. */
function scrapedPorts(monitor: K8sObject, objects: K8sObject[]): Set<unknown> | undefined {
  const selector = asRec(asRec(monitor.spec).selector).matchLabels;
  if (monitor.kind === 'ServiceMonitor') {
    const services = objects.filter((o) => o.kind === 'Service' && labelsMatch(selector, asRec(o.metadata).labels));
    if (services.length === 0) return undefined;
    return new Set(services.flatMap((s) => asList(asRec(s.spec).ports).map((p) => p.name)));
  }
  const pods = workloads(objects).filter((w) =>
    labelsMatch(selector, asRec(asRec(asRec(w.object.spec).template).metadata).labels)
  );
  if (pods.length === 0) return undefined;
  return new Set(pods.flatMap((w) => asList(w.pod.containers).flatMap((c) => asList(c.ports))).map((p) => p.name));
}

/**
 * The Prometheus Operator and Grafana objects do what the alert rules and the dashboard rely on: each
 * ServiceMonitor or PodMonitor selects the chart's metrics Service (or worker pods) and scrapes its `metrics` port
 * with the job label the alerts select and the worker's own `namespace` label kept (honorLabels: the Temporal
 * namespace the rules group by); a PrometheusRule holds exactly the alert groups; a dashboard ConfigMap holds the
 * dashboard with the sidecar's label.
 */
export function monitoringProblems(objects: K8sObject[], expected: MonitoringExpectations): string[] {
  const problems: string[] = [];
  for (const o of objects.filter((x) => x.kind === 'ServiceMonitor' || x.kind === 'PodMonitor')) {
    const at = `${o.kind}/${o.metadata.name}`;
    const ports = scrapedPorts(o, objects);
    if (!ports) problems.push(`${at}: selects no ${o.kind === 'ServiceMonitor' ? 'Service' : 'pod'} of the chart`);
    const spec = asRec(o.spec);
    const endpoints = asList(o.kind === 'ServiceMonitor' ? spec.endpoints : spec.podMetricsEndpoints);
    if (endpoints.length === 0) problems.push(`${at}: no endpoint`);
    for (const e of endpoints) {
      if (e.port !== 'metrics') problems.push(`${at}: scrapes port ${String(e.port)}, not metrics`);
      else if (ports && !ports.has('metrics')) problems.push(`${at}: what it selects has no port named metrics`);
      if (forcedJob(e) !== SCRAPE_JOB) problems.push(`${at}: the job label is not forced to ${SCRAPE_JOB}`);
      if (e.honorLabels !== true) problems.push(`${at}: without honorLabels the worker's namespace label is lost`);
    }
  }
  for (const o of objects.filter((x) => x.kind === 'PrometheusRule')) {
    if (!isDeepStrictEqual(asRec(o.spec).groups, expected.alertGroups)) {
      problems.push(`PrometheusRule/${o.metadata.name}: groups differ from deploy/prometheus/alerts.yml`);
    }
  }
  const [labelName, labelValue] = expected.dashboardLabel;
  for (const o of objects.filter((x) => x.kind === 'ConfigMap')) {
    const text = asRec(o.data)['atlas-export.json'];
    if (text === undefined) continue;
    if (!isDeepStrictEqual(JSON.parse(typeof text === 'string' ? text : ''), expected.dashboard)) {
      problems.push(`ConfigMap/${o.metadata.name}: dashboard differs from deploy/grafana/dashboards/atlas-export.json`);
    }
    if (asRec(asRec(o.metadata).labels)[labelName] !== labelValue) {
      problems.push(`ConfigMap/${o.metadata.name}: no ${labelName}: "${labelValue}" label for the Grafana sidecar`);
    }
  }
  return problems;
}
