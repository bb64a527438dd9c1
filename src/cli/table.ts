/** Aligned text tables that fit the terminal: flexible columns are cut in the middle ("atlas-exp…c0-6a1f"). */

export interface Column {
  header: string;
  /** May be narrowed to fit the width (its cells are then cut in the middle); at least `min` (default 12). */
  flex?: boolean;
  min?: number;
  /** Flexible columns of a lower rank narrow first (default 0); within a rank, the widest. */
  rank?: number;
}

const GAP = '  ';

/** `text` cut to `width` characters with "…" in the middle, keeping both ends (ids differ at either end). */
export function middleTruncate(text: string, width: number): string {
  if (text.length <= width) return text;
  if (width <= 1) return '…'.slice(0, width);
  const tail = Math.floor((width - 1) / 2);
  return `${text.slice(0, width - 1 - tail)}…${text.slice(text.length - tail)}`;
}

/**
 * `values` with the start and the end that all of them share (cut at a "-") replaced by "…", so what tells
 * them apart is left: `atlas-export-<group>-Cluster0-<snapshot>-<bucket>` becomes `…Cluster0-<snapshot>…`
 * when the group and bucket are the same in every row. Fewer than two values are returned as they are.
 */
export function elideShared(values: readonly string[]): string[] {
  if (values.length < 2) return [...values];
  const shortest = Math.min(...values.map((v) => v.length));
  let p = 0;
  while (p < shortest && values.every((v) => v[p] === values[0]![p])) p++;
  let q = 0;
  while (q < shortest - p && values.every((v) => v[v.length - 1 - q] === values[0]![values[0]!.length - 1 - q])) q++;
  const prefix = values[0]!.slice(0, p).lastIndexOf('-') + 1;
  const tail = values[0]!.slice(values[0]!.length - q);
  const suffix = tail.includes('-') ? tail.length - tail.indexOf('-') : 0;
  return values.map((v) => `${prefix > 0 ? '…' : ''}${v.slice(prefix, v.length - suffix)}${suffix > 0 ? '…' : ''}`);
}

/**
 * The header and rows as aligned lines; with `width`, the flexible columns narrow (by rank, then widest first)
 * until each line fits. `truncated` tells whether any cell was cut.
 */
export function renderTable(
  columns: readonly Column[],
  rows: readonly string[][],
  width?: number
): { lines: string[]; truncated: boolean } {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)));
  const total = () => widths.reduce((a, b) => a + b, 0) + GAP.length * (columns.length - 1);
  while (width !== undefined && total() > width) {
    let widest = -1;
    const rank = (i: number) => columns[i]!.rank ?? 0;
    columns.forEach((c, i) => {
      const floor = Math.max(c.min ?? 12, c.header.length);
      if (!c.flex || widths[i]! <= floor) return;
      if (widest < 0 || rank(i) < rank(widest) || (rank(i) === rank(widest) && widths[i]! > widths[widest]!))
        widest = i;
    });
    if (widest < 0) break;
    widths[widest] = widths[widest]! - 1;
  }
  let truncated = false;
  const format = (cells: readonly string[]) =>
    cells
      .map((cell, i) => {
        const fitted = middleTruncate(cell, widths[i]!);
        if (fitted !== cell) truncated = true;
        return fitted.padEnd(widths[i]!);
      })
      .join(GAP)
      .trimEnd();
  const lines = [format(columns.map((c) => c.header)), ...rows.map(format)];
  return { lines, truncated };
}

/** `2026-12-03T13:41:28.123Z` as `12-03 13:41` (UTC): a start time in a narrow column. */
export function shortTime(iso: string): string {
  return iso.slice(5, 16).replace('T', ' ');
}

/** `Label: a, b, c` wrapped to `width` columns, continuation lines indented by two. */
export function wrapList(label: string, items: readonly string[], width = 80): string {
  const lines = [label];
  for (const [i, item] of items.entries()) {
    const text = `${item}${i < items.length - 1 ? ',' : ''}`;
    if (`${lines.at(-1)!} ${text}`.length > width) lines.push(`  ${text}`);
    else lines[lines.length - 1] = `${lines.at(-1)!} ${text}`;
  }
  return lines.join('\n');
}
