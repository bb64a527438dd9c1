/**
 * The Grafana dashboard of the worker's metrics, built with Grafana's foundation SDK (Apache-2.0) rather than
 * written by hand: `npm run dashboard` writes deploy/grafana/dashboards/atlas-export.json, which the compose
 * stack's Grafana provisions and test/monitoring/prometheus-scrape.test.ts runs query by query against a real
 * Prometheus scraping a real worker (test/unit/grafana-dashboard.test.ts fails when the file is stale).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  GraphDrawStyle,
  LegendDisplayMode,
  LegendPlacement,
  StackingConfigBuilder,
  StackingMode,
  VizLegendOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardBuilder,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  RowBuilder,
  VariableRefresh,
  VariableSort,
  type Dashboard,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { ATLAS_REQUEST_METRICS, EXPORT_METRICS, IN_FLIGHT_METRICS } from '../src/shared/observability/metric-names';

export const DASHBOARD_FILE = resolve(__dirname, '..', 'deploy', 'grafana', 'dashboards', 'atlas-export.json');
export const DASHBOARD_UID = 'atlas-export-worker';

/** One query of a panel, and what its legend shows. */
export interface PanelQuery {
  expr: string;
  legend: string;
}
/** One panel: its title, what it tells an operator, its unit and its queries. */
export interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  queries: PanelQuery[];
  stacked?: boolean;
  /** Bars: counts per interval rather than a level. */
  bars?: boolean;
}

// Label selectors. The project's export metrics carry camelCase labels from the workflow meter, the SDK's
// temporal_* metrics snake_case ones; the Atlas request metrics are per process, so only the scrape job applies.
const EXPORTS = '{job=~"$job", namespace=~"$namespace", taskQueue=~"$task_queue"}';
const SDK = '{job=~"$job", namespace=~"$namespace", task_queue=~"$task_queue"}';
const REQUESTS = '{job=~"$job"}';
const WFT_FAILED = `temporal_workflow_task_execution_failed${SDK}`;
/** The smallest step of a panel that counts events per interval (`increase(…[$__interval])`). */
export const MIN_COUNT_INTERVAL = '1m';
/** Exports end minutes to hours apart: duration and poll quantiles over an hour, not over a scrape window. */
const EXPORT_WINDOW = '1h';

/**
 * A visibility gauge summed over task queues: each worker of a queue reports the same count, so one value per
 * (namespace, taskQueue) is kept (the largest), and only from workers whose last reading is under 5 minutes old:
 * a worker whose visibility calls fail keeps its last values, which must not outvote the others.
 */
const inFlight = (metric: string, by?: string) =>
  `sum${by ? ` by (${by})` : ''} (max by (namespace, taskQueue${by ? `, ${by}` : ''}) (${metric}${EXPORTS} and on (instance, namespace, taskQueue) (time() - ${IN_FLIGHT_METRICS.readAt.name}${EXPORTS} < 300)))`;

const quantile = (q: number, metric: string, selector: string, window: string, by = '') =>
  `histogram_quantile(${q}, sum by (le${by}) (rate(${metric}_bucket${selector}[${window}])))`;

export const ROWS: { title: string; panels: PanelSpec[] }[] = [
  {
    title: 'Exports',
    panels: [
      {
        title: 'Exports in flight by state',
        description:
          'Running export workflows by AtlasExportState, counted in Temporal visibility by every worker (WORKER_IN_FLIGHT_METRICS_INTERVAL); max across workers. Other: not yet labelled, or finished in Atlas and still reporting.',
        unit: 'short',
        stacked: true,
        queries: [{ expr: inFlight(IN_FLIGHT_METRICS.inFlight.name, 'state'), legend: '{{state}}' }],
      },
      {
        title: 'Outcomes',
        description:
          'Exports started and ended per interval, by outcome. Anything but Successful needs a look (docs/alerts.md).',
        unit: 'short',
        bars: true,
        queries: [
          { expr: `sum(increase(${EXPORT_METRICS.started.name}${EXPORTS}[$__interval]))`, legend: 'started' },
          {
            expr: `sum(increase(${EXPORT_METRICS.succeeded.name}${EXPORTS}[$__interval]))`,
            legend: 'Successful',
          },
          {
            expr: `sum by (outcome) (increase(${EXPORT_METRICS.failed.name}${EXPORTS}[$__interval]))`,
            legend: '{{outcome}}',
          },
        ],
      },
      {
        title: 'Stalls',
        description:
          'Exports whose stall alarm is raised now (polling.stallAfter passed without progress), and stall alarms raised per interval.',
        unit: 'short',
        queries: [
          { expr: inFlight(IN_FLIGHT_METRICS.stalled.name), legend: 'stalled now' },
          {
            expr: `sum(increase(${EXPORT_METRICS.stalled.name}${EXPORTS}[$__interval]))`,
            legend: 'stall alarms raised',
          },
        ],
      },
      {
        title: 'Export duration (successful, 1 h window)',
        description: 'Workflow start to the end of the export, for the exports that ended Successful in the last hour.',
        unit: 's',
        queries: [
          {
            expr: quantile(
              0.5,
              EXPORT_METRICS.duration.name,
              EXPORTS.replace('}', ', outcome="Successful"}'),
              EXPORT_WINDOW
            ),
            legend: 'p50',
          },
          {
            expr: quantile(
              0.95,
              EXPORT_METRICS.duration.name,
              EXPORTS.replace('}', ', outcome="Successful"}'),
              EXPORT_WINDOW
            ),
            legend: 'p95',
          },
        ],
      },
      {
        title: 'Status reads per export (1 h window)',
        description:
          'Atlas GETs each export spent following its job, recorded when it ends: what the poll cadence costs (docs/poll-cadence.md).',
        unit: 'short',
        queries: [
          { expr: quantile(0.5, EXPORT_METRICS.polls.name, EXPORTS, EXPORT_WINDOW), legend: 'p50' },
          { expr: quantile(0.95, EXPORT_METRICS.polls.name, EXPORTS, EXPORT_WINDOW), legend: 'p95' },
          {
            expr: `sum(rate(${EXPORT_METRICS.polls.name}_sum${EXPORTS}[${EXPORT_WINDOW}])) / sum(rate(${EXPORT_METRICS.polls.name}_count${EXPORTS}[${EXPORT_WINDOW}]))`,
            legend: 'mean',
          },
        ],
      },
    ],
  },
  {
    title: 'Atlas Admin API',
    panels: [
      {
        title: 'Atlas requests by operation and status',
        description: 'Requests per second. 401s include the digest challenge each new connection answers.',
        unit: 'reqps',
        stacked: true,
        queries: [
          {
            expr: `sum by (operation, status) (rate(${ATLAS_REQUEST_METRICS.requests.name}${REQUESTS}[$__rate_interval]))`,
            legend: '{{operation}} {{status}}',
          },
        ],
      },
      {
        title: 'Atlas request latency p95 by operation',
        description: 'How long Atlas took to answer, per operation (the request timeout is ATLAS_REQUEST_TIMEOUT).',
        unit: 's',
        queries: [
          {
            expr: quantile(0.95, ATLAS_REQUEST_METRICS.duration.name, REQUESTS, '$__rate_interval', ', operation'),
            legend: '{{operation}}',
          },
        ],
      },
      {
        title: 'Rate limits and refused credentials',
        description:
          'Atlas 429s (the worker waits and retries) and calls refused for their credentials (401/403: a rotated or revoked key, a missing role).',
        unit: 'reqps',
        queries: [
          {
            expr: `sum by (operation) (rate(${ATLAS_REQUEST_METRICS.requests.name}{job=~"$job", status="429"}[$__rate_interval]))`,
            legend: '429 {{operation}}',
          },
          {
            expr: `sum by (operation, status) (rate(${ATLAS_REQUEST_METRICS.authFailures.name}${REQUESTS}[$__rate_interval]))`,
            legend: '{{status}} {{operation}}',
          },
        ],
      },
    ],
  },
  {
    title: 'Workers',
    panels: [
      {
        title: 'Task slots in use',
        description: 'Workflow and activity task slots in use, against those free: no free slot means add workers.',
        unit: 'short',
        queries: [
          { expr: `sum by (worker_type) (temporal_worker_task_slots_used${SDK})`, legend: '{{worker_type}} used' },
          {
            expr: `sum by (worker_type) (temporal_worker_task_slots_available${SDK})`,
            legend: '{{worker_type}} free',
          },
        ],
      },
      {
        title: 'Schedule-to-start latency p95',
        description:
          'How long tasks waited on the queue for a worker: rising means too few workers or slots (docs/kubernetes.md, "Scaling out").',
        unit: 'ms',
        queries: [
          {
            expr: quantile(0.95, 'temporal_workflow_task_schedule_to_start_latency', SDK, '$__rate_interval'),
            legend: 'workflow tasks',
          },
          {
            expr: quantile(0.95, 'temporal_activity_schedule_to_start_latency', SDK, '$__rate_interval'),
            legend: 'activity tasks',
          },
        ],
      },
      {
        title: 'Pollers and workflow task failures',
        description:
          'Pollers each worker keeps open, and failed workflow tasks by reason (NonDeterminismError after a bad deploy: docs/alerts.md).',
        unit: 'short',
        queries: [
          { expr: `sum by (poller_type) (temporal_num_pollers${SDK})`, legend: '{{poller_type}} pollers' },
          {
            // The SDK creates this series at its first failure, at 1, which increase() never shows (it counts
            // the retries after it): the interval in which the series appears shows its value instead.
            expr: `sum by (failure_reason) ((${WFT_FAILED} unless ${WFT_FAILED} offset $__interval) or increase(${WFT_FAILED}[$__interval]))`,
            legend: 'failed: {{failure_reason}}',
          },
        ],
      },
    ],
  },
];

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

function labelVariable(name: string, label: string, query: string): QueryVariableBuilder {
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(DATASOURCE)
    .query({ qryType: 1, query, refId: 'PrometheusVariableQueryEditor-VariableQuery' })
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .current({ selected: true, text: 'All', value: '$__all' });
}

function panel(spec: PanelSpec): TimeseriesPanel {
  const p = new TimeseriesPanel()
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .min(0)
    .height(8)
    .span(12)
    .legend(
      new VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(LegendDisplayMode.Table)
        .placement(LegendPlacement.Bottom)
        .calcs(['lastNotNull', 'max'])
    );
  if (spec.stacked) p.stacking(new StackingConfigBuilder().mode(StackingMode.Normal)).fillOpacity(40);
  if (spec.bars) p.drawStyle(GraphDrawStyle.Bars).fillOpacity(80);
  // Counts per $__interval: at least four 15 s scrapes per step, and no step counted in two bars.
  if (spec.queries.some((q) => q.expr.includes('$__interval'))) p.interval(MIN_COUNT_INTERVAL);
  spec.queries.forEach((q, i) =>
    p.withTarget(
      new DataqueryBuilder()
        .datasource(DATASOURCE)
        .expr(q.expr)
        .legendFormat(q.legend)
        .range()
        .refId(String.fromCharCode(65 + i))
    )
  );
  return p;
}

/** The dashboard as Grafana's JSON model. */
export function buildDashboard(): Dashboard {
  const d = new DashboardBuilder('Atlas export worker')
    .uid(DASHBOARD_UID)
    .description(
      'Exports of MongoDB Atlas snapshots on Temporal: exports in flight, outcomes, Atlas API calls, worker capacity.'
    )
    .tags(['atlas-export', 'temporal'])
    .editable()
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .timezone('browser')
    .withVariable(new DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus'))
    .withVariable(labelVariable('job', 'Job', 'label_values(temporal_num_pollers, job)'))
    .withVariable(labelVariable('namespace', 'Namespace', 'label_values(temporal_num_pollers{job=~"$job"}, namespace)'))
    .withVariable(
      labelVariable(
        'task_queue',
        'Task queue',
        'label_values(temporal_num_pollers{job=~"$job", namespace=~"$namespace"}, task_queue)'
      )
    );
  for (const row of ROWS) {
    d.withRow(new RowBuilder(row.title));
    for (const spec of row.panels) d.withPanel(panel(spec));
  }
  return d.build();
}

/** The file's text: stable key order as the SDK builds it, two-space indent, trailing newline. */
export function dashboardJson(): string {
  return `${JSON.stringify(buildDashboard(), null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(DASHBOARD_FILE, dashboardJson());
  console.log(`wrote ${DASHBOARD_FILE}`);
}
