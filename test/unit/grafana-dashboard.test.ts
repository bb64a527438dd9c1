import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DASHBOARD_FILE, DASHBOARD_UID, dashboardJson } from '../../scripts/grafana-dashboard';

/**
 * The dashboard file the compose stack provisions is what scripts/grafana-dashboard.ts builds with Grafana's
 * foundation SDK, and holds together as Grafana needs it. Whether each query returns data from a real worker is
 * test/monitoring/prometheus-scrape.test.ts's part.
 */
interface Panel {
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { uid?: string };
  targets?: { expr: string; refId: string; datasource?: { uid?: string } }[];
}
interface DashboardModel {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string }[] };
}
const ROOT = resolve(__dirname, '..', '..');
const committed = readFileSync(DASHBOARD_FILE, 'utf8');
const dashboard = JSON.parse(committed) as DashboardModel;
const panels = dashboard.panels.filter((p) => p.type !== 'row');

/** Problems of a dashboard model: empty when Grafana would load it as intended. */
function dashboardProblems(d: DashboardModel): string[] {
  const problems: string[] = [];
  const variables = new Set(d.templating.list.map((v) => v.name));
  const seen = new Set<string>();
  const cells = new Map<string, string>();
  for (const p of d.panels) {
    if (p.type === 'row') continue;
    if (seen.has(p.title)) problems.push(`${p.title}: title used twice`);
    seen.add(p.title);
    if (!p.targets?.length) problems.push(`${p.title}: no query`);
    const refIds = (p.targets ?? []).map((t) => t.refId);
    if (new Set(refIds).size !== refIds.length) problems.push(`${p.title}: repeated refId`);
    for (const ds of [p.datasource, ...(p.targets ?? []).map((t) => t.datasource)]) {
      if (ds?.uid !== '${datasource}')
        problems.push(`${p.title}: data source ${JSON.stringify(ds)} is not $datasource`);
    }
    for (const t of p.targets ?? []) {
      for (const [, name] of t.expr.matchAll(/\$(?!__)(\w+)/g)) {
        if (!variables.has(name!)) problems.push(`${p.title}: $${name} is not a dashboard variable`);
      }
    }
    const { x, y, w, h } = p.gridPos;
    if (x < 0 || x + w > 24) problems.push(`${p.title}: outside the 24-column grid`);
    for (let i = x; i < x + w; i++) {
      for (let j = y; j < y + h; j++) {
        const other = cells.get(`${i},${j}`);
        if (other) problems.push(`${p.title}: overlaps ${other}`);
        cells.set(`${i},${j}`, p.title);
      }
    }
  }
  return [...new Set(problems)];
}

describe('the Grafana dashboard', () => {
  it('is what scripts/grafana-dashboard.ts builds (run `npm run dashboard` after changing it)', () => {
    expect(committed, 'deploy/grafana/dashboards/atlas-export.json is stale: run `npm run dashboard`').toBe(
      dashboardJson()
    );
  });

  it('holds together: queries on $datasource, known variables, unique titles and refIds, no overlapping panels', () => {
    expect(dashboard.uid).toBe(DASHBOARD_UID);
    expect(panels.length).toBeGreaterThanOrEqual(11);
    expect(dashboardProblems(dashboard)).toEqual([]);
  });

  it('shows the required views: in flight by state, outcomes, duration, polls, Atlas requests and latency, stalls, slots, schedule-to-start', () => {
    const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
    for (const metric of [
      'atlas_exports_in_flight',
      'atlas_exports_failed',
      'atlas_export_duration_seconds_bucket',
      'atlas_export_polls_bucket',
      'atlas_requests',
      'atlas_request_duration_seconds_bucket',
      'atlas_exports_stalled',
      'temporal_worker_task_slots_used',
      'temporal_workflow_task_schedule_to_start_latency_bucket',
      'temporal_activity_schedule_to_start_latency_bucket',
    ]) {
      expect(exprs).toContain(metric);
    }
  });

  it.each([
    ['a query on another data source', (d: DashboardModel) => (d.panels[1]!.targets![0]!.datasource = { uid: 'x' })],
    ['an unknown variable', (d: DashboardModel) => (d.panels[1]!.targets![0]!.expr += ' + $cluster')],
    ['overlapping panels', (d: DashboardModel) => (d.panels[2]!.gridPos = { ...d.panels[1]!.gridPos })],
    ['a panel without queries', (d: DashboardModel) => (d.panels[1]!.targets = [])],
  ])('flags %s', (_, breakIt) => {
    const broken = structuredClone(dashboard);
    breakIt(broken);
    expect(dashboardProblems(broken).length).toBeGreaterThan(0);
  });

  it("is provisioned by the compose stack's Grafana from the folder the compose file mounts", () => {
    const provider = parse(
      readFileSync(resolve(ROOT, 'deploy/grafana/provisioning/dashboards/atlas-export.yml'), 'utf8')
    ) as {
      providers: { options: { path: string } }[];
    };
    const compose = parse(readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: { grafana: { volumes: string[]; environment: Record<string, string> } };
    };
    const path = provider.providers[0]!.options.path;
    expect(compose.services.grafana.volumes).toContain(`./deploy/grafana/dashboards:${path}:ro`);
    expect(compose.services.grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(
      `${path}/atlas-export.json`
    );
  });
});
