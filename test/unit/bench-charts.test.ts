import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CHART_SOURCES,
  CHARTS_DIR,
  type ChartBench,
  PARETO_POINTS_MARK,
  RESULTS_DIR,
  RSS_POINTS_MARK,
  renderCharts,
  SLIP_POINTS_MARK,
} from '../../bench/lib/charts';

const ROOT = path.resolve(__dirname, '..', '..');
const BENCHES = Object.keys(CHART_SOURCES) as ChartBench[];

function resultJson(bench: ChartBench): unknown {
  return JSON.parse(readFileSync(path.join(RESULTS_DIR, CHART_SOURCES[bench].result), 'utf8'));
}

/** Well-formedness: every tag closes in order, attributes are quoted, text holds no raw `<` or bare `&`. */
function xmlProblems(xml: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  const token =
    /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>|<|&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/g;
  let m: RegExpExecArray | null;
  while ((m = token.exec(xml))) {
    if (m[2] === undefined) {
      problems.push(`stray ${JSON.stringify(m[0])} at ${m.index}: ${xml.slice(m.index, m.index + 60)}`);
      continue;
    }
    if (m[1]) {
      const open = stack.pop();
      if (open !== m[2]) problems.push(`</${m[2]}> closes <${open ?? 'nothing'}> at ${m.index}`);
    } else if (!m[4]) stack.push(m[2]);
  }
  if (stack.length > 0) problems.push(`unclosed: ${stack.join(' > ')}`);
  return problems;
}

/** The number of points drawn in the symbol mark group named `mark` (one `<path>` per item). */
function symbolCount(svg: string, mark: string): number {
  const start = svg.indexOf(`class="mark-symbol role-mark ${mark}"`);
  expect(start, `mark ${mark} in the SVG`).toBeGreaterThan(-1);
  const end = svg.indexOf('</g>', start);
  return svg.slice(start, end).split('<path').length - 1;
}

describe('benchmark charts (docs/charts/*.svg)', () => {
  it.each(BENCHES)('the committed charts of %s are what the generator makes from the committed JSON', async (bench) => {
    const svgs = await renderCharts(bench, resultJson(bench));
    expect([...svgs.keys()]).toEqual(CHART_SOURCES[bench].charts.map((c) => c.file));
    for (const [file, svg] of svgs) {
      const committed = readFileSync(path.join(CHARTS_DIR, file), 'utf8');
      expect(committed === svg, `docs/charts/${file} is stale: run \`npm run bench:charts\` and commit it`).toBe(true);
      expect(xmlProblems(svg), file).toEqual([]);
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'), file).toBe(true);
      expect(svg, `${file} has a white background`).toMatch(
        /^<svg[^>]*><rect width="\d+" height="\d+" fill="white"\/>/
      );
    }
  });

  it('the Pareto chart has its axis titles and one point per cadence and mix in the results', async () => {
    const json = resultJson('cadence-cost') as { summary: { mix: string; cadence: string }[] };
    const svg = (await renderCharts('cadence-cost', json)).get('cadence-pareto.svg') ?? '';
    expect(svg).toContain('Atlas status reads (GETs) per export, median (log scale)');
    expect(svg).toContain('Detection lag p95, seconds (log scale)');
    expect(symbolCount(svg, PARETO_POINTS_MARK)).toBe(json.summary.length);
    // Fewer rows in the results, fewer points: the count follows the data.
    const fewer = { ...json, summary: json.summary.slice(0, 3) };
    const fewerSvg = (await renderCharts('cadence-cost', fewer)).get('cadence-pareto.svg') ?? '';
    expect(symbolCount(fewerSvg, PARETO_POINTS_MARK)).toBe(3);
  });

  it('the scale charts have their axis titles and one point per run, worker and figure', async () => {
    const json = resultJson('scale') as { runs: Record<string, { workers: unknown[]; baselineRssMiB: unknown[] }> };
    const svgs = await renderCharts('scale', json);
    const memory = svgs.get('scale-memory.svg') ?? '';
    const slip = svgs.get('scale-timer-slip.svg') ?? '';
    expect(memory).toContain('RSS per worker, MiB');
    expect(slip).toContain('Timer slip, ms (log scale)');
    const runs = Object.values(json.runs);
    // Per worker: steady mean and peak, plus the idle baseline where one was recorded.
    const rssPoints = runs.reduce(
      (n, r) => n + r.workers.length * 2 + Math.min(r.baselineRssMiB.length, r.workers.length),
      0
    );
    expect(symbolCount(memory, RSS_POINTS_MARK)).toBe(rssPoints);
    expect(symbolCount(slip, SLIP_POINTS_MARK)).toBe(runs.length * 3);
  });

  it('a result missing a field a chart needs fails with zod naming the field', async () => {
    const cadence = resultJson('cadence-cost') as { summary: Record<string, unknown>[] };
    delete cadence.summary[1]?.lagP95S;
    await expect(renderCharts('cadence-cost', cadence)).rejects.toThrow(
      /bench\/results\/cadence-cost\.json does not fit its chart schema[\s\S]*summary\[1\]\.lagP95S/
    );
    const scale = resultJson('scale') as { runs: Record<string, Record<string, unknown>> };
    const first = Object.keys(scale.runs)[0] ?? '';
    delete scale.runs[first]?.slip;
    await expect(renderCharts('scale', scale)).rejects.toThrow(/scale\.json does not fit its chart schema[\s\S]*slip/);
  });

  it('docs/benchmarks.md embeds every chart', () => {
    const doc = readFileSync(path.join(ROOT, 'docs', 'benchmarks.md'), 'utf8');
    const embedded = [...doc.matchAll(/!\[[^\]]+\]\(charts\/([\w.-]+\.svg)\)/g)].map((m) => m[1]);
    const charts = BENCHES.flatMap((bench) => CHART_SOURCES[bench].charts.map((c) => c.file));
    expect(charts.filter((file) => !embedded.includes(file))).toEqual([]);
  });
});
