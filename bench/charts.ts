/**
 * Regenerates every benchmark chart (docs/charts/*.svg) from the committed results in bench/results/:
 *
 *   npm run bench:charts
 *
 * The benches regenerate their own charts after a full run; this is for a result edited or merged by hand, or a
 * change to the chart specs in bench/lib/charts.ts.
 */
import { relative, resolve } from 'node:path';
import { CHART_SOURCES, type ChartBench, writeCharts } from './lib/charts';

const ROOT = resolve(__dirname, '..');

async function main(): Promise<void> {
  for (const bench of Object.keys(CHART_SOURCES) as ChartBench[]) {
    for (const path of await writeCharts(bench)) console.log(`wrote ${relative(ROOT, path)}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
