/**
 * Charts of the bench results, rendered to SVG from the committed JSON in bench/results/ (issue 16, item 5).
 *
 * Each chart is a declarative Vega or Vega-Lite spec built from a result file parsed with zod, rendered headless by
 * Vega's View with `renderer: 'none'` (no DOM, no canvas). Text widths are Vega's pure-JS estimate (canvas off),
 * so the SVG is the same on every machine; a test checks the committed files are what this produces.
 *
 * `npm run bench:charts` regenerates every chart; each bench regenerates its own after writing its JSON.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Spec } from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import { z } from 'zod';

export const RESULTS_DIR = resolve(__dirname, '..', 'results');
/** Beside docs/benchmarks.md, which embeds them. */
export const CHARTS_DIR = resolve(__dirname, '..', '..', 'docs', 'charts');

const FONT = 'Helvetica, Arial, sans-serif';
const MIX_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

// ---- result schemas: only the fields the charts read ----

const num = z.number().finite();

export const CadenceCostResult = z.object({
  mixes: z
    .array(
      z.object({
        key: z.string(),
        title: z.string(),
        timeScale: num,
        exports: num,
        targets: z.object({ getsMedian: num, lagP95S: num }),
      })
    )
    .min(1),
  summary: z
    .array(
      z.object({
        mix: z.string(),
        cadence: z.string(),
        title: z.string(),
        exports: num,
        getsMedian: num.positive(),
        getsP95: num,
        lagMedianS: num,
        lagP95S: num.positive(),
      })
    )
    .min(1),
});
export type CadenceCostResult = z.infer<typeof CadenceCostResult>;

const ScaleRun = z.object({
  options: z.object({ exports: num, workers: num, timeScale: num, perProject: num }),
  inFlightDuringWindow: z.object({ min: num, max: num }),
  workers: z.array(z.object({ peakRssMiB: num, steadyRssMiB: z.object({ mean: num, max: num }) })).min(1),
  baselineRssMiB: z.array(num),
  slip: z.object({ samples: num, p50Ms: num.positive(), p99Ms: num.positive(), maxMs: num.positive() }),
});
export const ScaleResult = z.object({ runs: z.record(z.string(), ScaleRun) });
export type ScaleResult = z.infer<typeof ScaleResult>;

// ---- specs ----

/** A cadence's title without the markdown the tables use (`**ours: adaptive** (default)` → `ours: adaptive (default)`). */
function plain(title: string): string {
  return title.replace(/[*`]/g, '');
}

/** Thousands with a comma, independent of the machine's locale. */
function thousands(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export interface ParetoPoint {
  mix: string;
  cadence: string;
  label: string;
  gets: number;
  getsP95: number;
  lagP95: number;
  lagMedian: number;
  ours: boolean;
}

/** One point per (mix, cadence) in the summary, in the summary's order. */
export function paretoPoints(result: CadenceCostResult): ParetoPoint[] {
  return result.summary.map((s) => ({
    mix: mixLabel(result, s.mix),
    cadence: s.cadence,
    label: plain(s.title),
    gets: s.getsMedian,
    getsP95: s.getsP95,
    lagP95: s.lagP95S,
    lagMedian: s.lagMedianS,
    ours: s.title.startsWith('**ours') || plain(s.title).startsWith('ours'),
  }));
}

function mixLabel(result: CadenceCostResult, key: string): string {
  const mix = result.mixes.find((m) => m.key === key);
  if (!mix) throw new Error(`cadence-cost.json: summary names mix "${key}", which mixes[] does not list`);
  return `${key} mix: ${mix.exports} exports per cadence, ×${mix.timeScale} time`;
}

/** Mark names, so a test can find each chart's points in the SVG (a Vega-Lite unit `x` becomes mark `x_marks`). */
export const PARETO_POINTS_MARK = 'cadence_points';
const RSS_UNIT = 'rss_points';
const SLIP_UNIT = 'slip_points';
export const RSS_POINTS_MARK = `${RSS_UNIT}_marks`;
export const SLIP_POINTS_MARK = `${SLIP_UNIT}_marks`;

const PARETO_W = 760;
const PARETO_H = 460;
const LABEL_FONT_SIZE = 12;

/**
 * GETs per export (median, log) against p95 detection lag (log), one labelled point per cadence and mix, with each
 * mix's target as a shaded corner. Raw Vega, since the labels are placed here (placeLabels): Vega's own `label`
 * transform needs a canvas to rasterise the marks it avoids, which a headless render has not.
 */
export function paretoSpec(result: CadenceCostResult): Spec {
  const points = paretoPoints(result);
  const mixes = [...new Set(points.map((p) => p.mix))];
  const targets = result.mixes
    .filter((m) => mixes.includes(mixLabel(result, m.key)))
    .map((m) => ({ mix: mixLabel(result, m.key), gets: m.targets.getsMedian, lag: m.targets.lagP95S }));
  const gets = points.map((p) => p.gets).concat(targets.map((t) => t.gets));
  const lags = points.map((p) => p.lagP95).concat(targets.map((t) => t.lag));
  const xDomain: [number, number] = [stepBelow(Math.min(...gets) / 1.3), stepAbove(Math.max(...gets) * 1.3)];
  const yDomain: [number, number] = [stepBelow(Math.min(...lags) / 1.3), stepAbove(Math.max(...lags) * 1.3)];
  const placed = placeLabels(points, xDomain, yDomain);
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    width: PARETO_W,
    height: PARETO_H,
    padding: 10,
    background: 'white',
    title: {
      text: 'Status reads per export against p95 detection lag, by poll cadence',
      subtitle: 'Lower left is better. Dashed corner: the mix’s target. Filled points: this project’s cadence.',
      font: FONT,
      fontSize: 17,
      subtitleFont: FONT,
      subtitleFontSize: 13,
      anchor: 'start',
      offset: 12,
    },
    data: [
      { name: 'points', values: placed },
      { name: 'targets', values: targets },
    ],
    scales: [
      { name: 'x', type: 'log', domain: xDomain, range: 'width', nice: false },
      { name: 'y', type: 'log', domain: yDomain, range: 'height', nice: false },
      { name: 'color', type: 'ordinal', domain: mixes, range: MIX_COLORS.slice(0, mixes.length) },
      { name: 'shape', type: 'ordinal', domain: mixes, range: ['circle', 'square', 'triangle-up', 'diamond'] },
    ],
    axes: [
      {
        orient: 'bottom',
        scale: 'x',
        title: 'Atlas status reads (GETs) per export, median (log scale)',
        grid: true,
        gridOpacity: 0.5,
        values: logTicks(xDomain),
        format: '~s',
        ...axisStyle(),
      },
      {
        orient: 'left',
        scale: 'y',
        title: 'Detection lag p95, seconds (log scale)',
        grid: true,
        gridOpacity: 0.5,
        values: logTicks(yDomain),
        format: '~s',
        ...axisStyle(),
      },
    ],
    legends: [
      {
        fill: 'color',
        shape: 'shape',
        stroke: 'color',
        orient: 'bottom',
        direction: 'horizontal',
        labelFont: FONT,
        labelFontSize: 12,
        labelLimit: 600,
        symbolSize: 110,
        symbolFillColor: 'white',
        symbolStrokeWidth: 2,
        encode: { symbols: { update: { fill: { value: 'white' } } } },
      },
    ],
    marks: [
      {
        type: 'rect',
        from: { data: 'targets' },
        encode: {
          enter: {
            x: { value: 0 },
            x2: { scale: 'x', field: 'gets' },
            y: { scale: 'y', field: 'lag' },
            y2: { signal: 'height' },
            fill: { scale: 'color', field: 'mix' },
            fillOpacity: { value: 0.06 },
            stroke: { scale: 'color', field: 'mix' },
            strokeDash: { value: [5, 4] },
            strokeWidth: { value: 1.5 },
          },
        },
      },
      {
        type: 'symbol',
        name: PARETO_POINTS_MARK,
        from: { data: 'points' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'gets' },
            y: { scale: 'y', field: 'lagP95' },
            shape: { scale: 'shape', field: 'mix' },
            size: { value: 110 },
            stroke: { scale: 'color', field: 'mix' },
            strokeWidth: { value: 2 },
            fill: [{ test: 'datum.ours', scale: 'color', field: 'mix' }, { value: 'white' }],
          },
        },
      },
      {
        type: 'text',
        from: { data: 'points' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'gets' },
            y: { scale: 'y', field: 'lagP95' },
            dx: { field: 'dx' },
            dy: { field: 'dy' },
            align: { field: 'align' },
            baseline: { value: 'middle' },
            text: { field: 'label' },
            font: { value: FONT },
            fontSize: { value: LABEL_FONT_SIZE },
            fill: { scale: 'color', field: 'mix' },
            fontWeight: [{ test: 'datum.ours', value: 'bold' }, { value: 'normal' }],
          },
        },
      },
    ],
  };
}

type Align = 'left' | 'right' | 'center';
interface Box {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/**
 * Puts each point's label beside it where it overlaps no other label, no point and no edge, trying right, left,
 * above and below at growing distances (points in summary order, so the placement is stable). Widths are a
 * generous per-character estimate; if no spot is free, the one with the least overlap wins.
 */
export function placeLabels(
  points: ParetoPoint[],
  xDomain: [number, number],
  yDomain: [number, number]
): (ParetoPoint & { dx: number; dy: number; align: Align })[] {
  const px = (v: number, [lo, hi]: [number, number], size: number): number =>
    (size * (Math.log10(v) - Math.log10(lo))) / (Math.log10(hi) - Math.log10(lo));
  const xy = points.map((p) => ({ x: px(p.gets, xDomain, PARETO_W), y: PARETO_H - px(p.lagP95, yDomain, PARETO_H) }));
  const obstacles: Box[] = xy.map(({ x, y }) => ({ x0: x - 7, x1: x + 7, y0: y - 7, y1: y + 7 }));
  const h = LABEL_FONT_SIZE + 2;
  const candidates: { dx: number; dy: number; align: Align }[] = [];
  for (const dy of [0, -14, 14, -28, 28, -42, 42])
    candidates.push({ dx: 10, dy, align: 'left' }, { dx: -10, dy, align: 'right' });
  candidates.push({ dx: 0, dy: -16, align: 'center' }, { dx: 0, dy: 16, align: 'center' });
  const overlap = (a: Box, b: Box): number =>
    Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0)) * Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));
  return points.map((p, i) => {
    const { x, y } = xy[i] ?? { x: 0, y: 0 };
    const w = textWidth(p.label, LABEL_FONT_SIZE, p.ours) + 2;
    let best = { cost: Infinity, c: candidates[0] ?? { dx: 10, dy: 0, align: 'left' as Align }, box: obstacles[0] };
    for (const c of candidates) {
      const left = c.align === 'left' ? x + c.dx : c.align === 'right' ? x + c.dx - w : x - w / 2;
      const box = { x0: left, x1: left + w, y0: y + c.dy - h / 2, y1: y + c.dy + h / 2 };
      const outside = box.x0 < 0 || box.x1 > PARETO_W || box.y0 < 0 || box.y1 > PARETO_H ? 1e6 : 0;
      const cost = outside + obstacles.reduce((sum, o) => sum + overlap(box, o), 0);
      if (cost < best.cost) best = { cost, c, box };
      if (cost === 0) break;
    }
    if (best.box) obstacles.push(best.box);
    return { ...p, ...best.c };
  });
}

function axisStyle(): Record<string, unknown> {
  return {
    labelFont: FONT,
    labelFontSize: 12,
    titleFont: FONT,
    titleFontSize: 13,
    titlePadding: 10,
  };
}

function decadeFloor(v: number): number {
  return 10 ** Math.floor(Math.log10(v));
}
function decadeCeil(v: number): number {
  return 10 ** Math.ceil(Math.log10(v));
}
/** The largest 1, 2 or 5 × 10^k at or below v. */
function stepBelow(v: number): number {
  const d = decadeFloor(v);
  return [5, 2, 1].map((m) => m * d).find((s) => s <= v) ?? d;
}
/** The smallest 1, 2 or 5 × 10^k at or above v. */
function stepAbove(v: number): number {
  const d = decadeFloor(v);
  return [1, 2, 5, 10].map((m) => m * d).find((s) => s >= v) ?? 10 * d;
}

/** 1, 2, 5 × each decade inside the domain: enough ticks to read a log axis without crowding it. */
function logTicks([lo, hi]: number[]): number[] {
  const out: number[] = [];
  for (let d = decadeFloor(lo ?? 1); d <= (hi ?? 1); d *= 10)
    for (const m of [1, 2, 5]) {
      const v = Math.round(m * d * 1e6) / 1e6;
      if (v >= (lo ?? 1) && v <= (hi ?? 1)) out.push(v);
    }
  return out;
}

export interface ScaleRow {
  key: string;
  run: string;
}

/** The runs in a stable order: time scale, then exports per project, then worker count, then key. */
export function scaleRows(result: ScaleResult): (ScaleRow & z.infer<typeof ScaleRun>)[] {
  return Object.entries(result.runs)
    .map(([key, r]) => ({
      key,
      run:
        `${r.options.workers} worker${r.options.workers > 1 ? 's' : ''}, ×${r.options.timeScale}, ` +
        `${r.options.perProject}/project, ${thousands(r.inFlightDuringWindow.max)} in flight`,
      ...r,
    }))
    .sort(
      (a, b) =>
        a.options.timeScale - b.options.timeScale ||
        a.options.perProject - b.options.perProject ||
        a.options.workers - b.options.workers ||
        (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
    );
}

/** One legend entry per kind: its colour and its point shape, in the order of `kinds`. */
function kindLegend(kinds: readonly string[], colors: readonly string[]) {
  return {
    color: { field: 'kind', type: 'nominal', scale: { domain: kinds, range: colors }, title: null },
    shape: { field: 'kind', type: 'nominal', scale: { domain: kinds }, title: null },
  } as const;
}

const RSS_KINDS = ['idle worker (baseline)', 'steady window, mean', 'peak'];
const SLIP_KINDS = ['p50', 'p99', 'max'];

/** Resident memory per worker of each scale run: baseline, steady mean and peak, against the 1 GiB budget. */
export function scaleMemorySpec(result: ScaleResult): TopLevelSpec {
  const rows = scaleRows(result);
  const values = rows.flatMap((r) =>
    r.workers.flatMap((w, i) => {
      const worker = `worker ${i + 1}`;
      const base = r.baselineRssMiB[i];
      return [
        ...(base === undefined ? [] : [{ run: r.run, worker, kind: RSS_KINDS[0], mib: base }]),
        { run: r.run, worker, kind: RSS_KINDS[1], mib: w.steadyRssMiB.mean },
        { run: r.run, worker, kind: RSS_KINDS[2], mib: w.peakRssMiB },
      ];
    })
  );
  const y = {
    field: 'run',
    type: 'nominal',
    sort: null,
    scale: { domain: rows.map((r) => r.run) },
    title: null,
  } as const;
  const yOffset = { field: 'worker', type: 'nominal', sort: null } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...vlBase(
      'Scale runs: resident memory per worker (RSS)',
      'One row per run; two workers show as two lines. Dashed: the 1 GiB per-worker budget.'
    ),
    width: 520,
    height: { step: 40 },
    layer: [
      {
        data: { values },
        transform: [
          {
            aggregate: [
              { op: 'min', field: 'mib', as: 'lo' },
              { op: 'max', field: 'mib', as: 'hi' },
            ],
            groupby: ['run', 'worker'],
          },
        ],
        mark: { type: 'rule', color: '#999999', strokeWidth: 2 },
        encoding: { y, yOffset, x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } },
      },
      {
        name: RSS_UNIT,
        data: { values },
        mark: { type: 'point', filled: true, size: 110, opacity: 1 },
        encoding: {
          y,
          yOffset,
          x: {
            field: 'mib',
            type: 'quantitative',
            title: 'RSS per worker, MiB',
            scale: { domain: [0, 1100] },
            axis: { values: [0, 200, 400, 600, 800, 1000] },
          },
          ...kindLegend(RSS_KINDS, ['#9e9e9e', '#1f77b4', '#ff7f0e']),
        },
      },
      {
        data: { values: [{ mib: 1024 }] },
        mark: { type: 'rule', color: '#d62728', strokeDash: [6, 4], strokeWidth: 1.5 },
        encoding: { x: { field: 'mib', type: 'quantitative' } },
      },
    ],
  };
}

/** Timer slip (a poll's GET arrival minus its due instant) of each scale run: p50, p99 and max, log scale. */
export function scaleSlipSpec(result: ScaleResult): TopLevelSpec {
  const rows = scaleRows(result);
  const values = rows.flatMap((r) => [
    { run: r.run, kind: SLIP_KINDS[0], ms: r.slip.p50Ms, n: r.slip.samples },
    { run: r.run, kind: SLIP_KINDS[1], ms: r.slip.p99Ms, n: r.slip.samples },
    { run: r.run, kind: SLIP_KINDS[2], ms: r.slip.maxMs, n: r.slip.samples },
  ]);
  const all = values.map((v) => v.ms);
  const domain = [decadeFloor(Math.min(...all)), decadeCeil(Math.max(...all))];
  const y = {
    field: 'run',
    type: 'nominal',
    sort: null,
    scale: { domain: rows.map((r) => r.run) },
    title: null,
  } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...vlBase(
      'Scale runs: timer slip, how late each poll reached Atlas',
      'GET arrival minus the instant the cadence asked for, over the steady window (log scale).'
    ),
    width: 520,
    height: { step: 36 },
    data: { values },
    layer: [
      {
        transform: [
          {
            aggregate: [
              { op: 'min', field: 'ms', as: 'lo' },
              { op: 'max', field: 'ms', as: 'hi' },
            ],
            groupby: ['run'],
          },
        ],
        mark: { type: 'rule', color: '#999999', strokeWidth: 2 },
        encoding: { y, x: { field: 'lo', type: 'quantitative', scale: { type: 'log' } }, x2: { field: 'hi' } },
      },
      {
        name: SLIP_UNIT,
        mark: { type: 'point', filled: true, size: 110, opacity: 1 },
        encoding: {
          y,
          x: {
            field: 'ms',
            type: 'quantitative',
            title: 'Timer slip, ms (log scale)',
            scale: { type: 'log', domain, nice: false },
            axis: { values: logTicks(domain), format: '~s' },
          },
          ...kindLegend(SLIP_KINDS, ['#1f77b4', '#ff7f0e', '#d62728']),
          tooltip: [{ field: 'kind' }, { field: 'ms' }, { field: 'n', title: 'samples' }],
        },
      },
    ],
  };
}

function vlBase(title: string, subtitle: string): Record<string, unknown> {
  return {
    title: { text: title, subtitle, anchor: 'start', fontSize: 17, subtitleFontSize: 13, offset: 12 },
    background: 'white',
    padding: 10,
    config: {
      font: FONT,
      axis: { labelFontSize: 12, titleFontSize: 13, titlePadding: 10, labelLimit: 600 },
      legend: { orient: 'bottom', direction: 'horizontal', labelFontSize: 12, labelLimit: 600, symbolSize: 110 },
      view: { stroke: null },
    },
  };
}

// ---- rendering ----

// Helvetica's advance widths in 1/1000 em (its AFM), for a-z, A-Z and 0-9; other characters in CHAR_WIDTHS.
const LOWER = [
  556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722,
  500, 500, 500,
];
const UPPER = [
  667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944,
  667, 667, 611,
];
const CHAR_WIDTHS: Record<string, number> = {
  ' ': 278,
  ',': 278,
  '.': 278,
  ':': 278,
  ';': 278,
  '(': 333,
  ')': 333,
  '-': 333,
  '/': 278,
  '%': 889,
  "'": 191,
  '’': 222,
  '×': 584,
  '…': 1000,
  '~': 584,
  '≤': 584,
};

/** A text's width in px at a font size, from Helvetica's metrics (bold about 7 % wider): deterministic layout. */
export function textWidth(text: string, fontSize: number, bold = false): number {
  let units = 0;
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    units +=
      c >= 97 && c <= 122
        ? (LOWER[c - 97] ?? 556)
        : c >= 65 && c <= 90
          ? (UPPER[c - 65] ?? 667)
          : c >= 48 && c <= 57
            ? 556
            : (CHAR_WIDTHS[ch] ?? 600);
  }
  return (units * fontSize * (bold ? 1.07 : 1)) / 1000;
}

interface ChartDef<T> {
  /** File under docs/charts/. */
  file: string;
  spec: (result: T) => Spec | TopLevelSpec;
}
interface ResultCharts<T> {
  /** File under bench/results/. */
  result: string;
  schema: z.ZodType<T>;
  charts: ChartDef<T>[];
}

function source<T>(s: ResultCharts<T>): ResultCharts<unknown> {
  return s as ResultCharts<unknown>;
}

/** Every chart, keyed by the bench that writes its result. */
export const CHART_SOURCES = {
  'cadence-cost': source({
    result: 'cadence-cost.json',
    schema: CadenceCostResult,
    charts: [{ file: 'cadence-pareto.svg', spec: paretoSpec }],
  }),
  scale: source({
    result: 'scale.json',
    schema: ScaleResult,
    charts: [
      { file: 'scale-memory.svg', spec: scaleMemorySpec },
      { file: 'scale-timer-slip.svg', spec: scaleSlipSpec },
    ],
  }),
} as const;
export type ChartBench = keyof typeof CHART_SOURCES;

/** Parses a result file's JSON with its schema; a missing or mistyped field fails with zod's path and message. */
export function parseResult(bench: ChartBench, json: unknown): unknown {
  const { result, schema } = CHART_SOURCES[bench];
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw new Error(`bench/results/${result} does not fit its chart schema:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

interface TextMetrics {
  canvas(use: boolean): void;
  width: (item: { fontSize?: number; fontWeight?: string | number }, text?: string) => number;
}

/** Renders a Vega or Vega-Lite spec to SVG, headless (renderer 'none'), with text widths estimated in JS. */
export async function renderSvg(spec: Spec | TopLevelSpec): Promise<string> {
  // Vega is ESM-only with a top-level await (its optional node-canvas probe): load it with import(), not require.
  const vega = await import('vega');
  const vegaSpec =
    '$schema' in spec && String(spec.$schema).includes('vega-lite')
      ? (await import('vega-lite')).compile(spec as TopLevelSpec).spec
      : (spec as Spec);
  // Never measure with node-canvas even where it is installed: widths come from a fixed table, the same on every
  // machine (Vega's own estimate, 0.8 em a character, makes labels take half as much room again as they need).
  // (vega-scenegraph's textMetrics, re-exported by vega but missing from its type declarations.)
  const { textMetrics } = vega as unknown as { textMetrics: TextMetrics };
  textMetrics.canvas(false);
  textMetrics.width = (item, text) => textWidth(text ?? '', item.fontSize ?? 11, item.fontWeight === 'bold');
  const view = new vega.View(vega.parse(vegaSpec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return `${svg}\n`;
  } finally {
    view.finalize();
  }
}

/** The charts of one bench's result, rendered from the given JSON: file name → SVG. */
export async function renderCharts(bench: ChartBench, json: unknown): Promise<Map<string, string>> {
  const data = parseResult(bench, json);
  const out = new Map<string, string>();
  for (const chart of CHART_SOURCES[bench].charts) out.set(chart.file, await renderSvg(chart.spec(data)));
  return out;
}

/** Reads bench/results/<result>, renders its charts and writes them to docs/charts/; returns the paths written. */
export async function writeCharts(
  bench: ChartBench,
  resultsDir = RESULTS_DIR,
  chartsDir = CHARTS_DIR
): Promise<string[]> {
  const json: unknown = JSON.parse(readFileSync(resolve(resultsDir, CHART_SOURCES[bench].result), 'utf8'));
  const svgs = await renderCharts(bench, json);
  mkdirSync(chartsDir, { recursive: true });
  const written: string[] = [];
  for (const [file, svg] of svgs) {
    const path = resolve(chartsDir, file);
    writeFileSync(path, svg);
    written.push(path);
  }
  return written;
}
