/**
 * The Helm chart's copies of the alert rules and the Grafana dashboard. Helm reads no file outside the chart's
 * directory, so deploy/helm/atlas-export-worker/files holds copies of deploy/prometheus/alerts.yml and
 * deploy/grafana/dashboards/atlas-export.json for its PrometheusRule and dashboard ConfigMap. `npm run chart:sync`
 * refreshes them; test/deploy/helm-chart.test.ts fails while a copy differs from its source.
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
const CHART_FILES = 'deploy/helm/atlas-export-worker/files';

/** Each copy the chart holds, by its source: paths from the repository's root. */
export const CHART_COPIES = [
  { source: 'deploy/prometheus/alerts.yml', copy: `${CHART_FILES}/alerts.yml` },
  { source: 'deploy/grafana/dashboards/atlas-export.json', copy: `${CHART_FILES}/dashboards/atlas-export.json` },
] as const;

const readRepoFile = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/** The copies that differ from their source (read by `read`, a path from the root), each with what to run. */
export function staleChartCopies(read: (path: string) => string = readRepoFile): string[] {
  return CHART_COPIES.filter(({ source, copy }) => read(copy) !== read(source)).map(
    ({ source, copy }) => `${copy} differs from ${source}: run npm run chart:sync`
  );
}

if (require.main === module) {
  for (const { source, copy } of CHART_COPIES) {
    mkdirSync(dirname(join(ROOT, copy)), { recursive: true });
    copyFileSync(join(ROOT, source), join(ROOT, copy));
  }
}
