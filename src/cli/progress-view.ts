import type { ExportJobStatus } from '../shared/contract/export-contract';
import { collectionCount } from '../shared/observability/progress-text';

/**
 * What `watch` knows about an export at one moment: the progress query's answer when it has one, else the search
 * attributes, plus what describe() adds (status, next poll).
 */
export interface ProgressView {
  workflowId: string;
  /** Temporal's execution status (`RUNNING`, `COMPLETED`, `FAILED`, …). */
  status: string;
  /** The workflow's phase (`creating`, `polling`, …) when the progress query answered. */
  phase: string | null;
  /** Atlas job state, or the workflow's own (`Creating`, `DeadlineExceeded`, …). */
  state: string | null;
  exportJobId: string | null;
  exportedCollections: number | null;
  totalCollections: number | null;
  components: ExportJobStatus['components'];
  progressPercent: number | null;
  /** Status reads so far, when the progress query answered. */
  polls: number | null;
  /** When the next Atlas status read is due, if one is scheduled (a retry backoff of the poll activity). */
  nextPollAtMs: number | null;
  /** True while a poll activity attempt is running (the read is happening or its first read is deferred). */
  polling: boolean;
  startedAtMs: number;
  /** Set once the workflow closed. */
  closedAtMs: number | null;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** A bar of `width` cells for exported/total, or an empty one while Atlas gives no count. */
export function progressBar(exported: number | null, total: number | null, width = 24): string {
  if (exported === null || total === null || total <= 0) return `[${' '.repeat(width)}]`;
  const filled = Math.max(0, Math.min(width, Math.round((exported / total) * width)));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

function stateOf(v: ProgressView): string {
  return v.state ?? (v.status === 'RUNNING' ? (v.phase ?? 'starting') : v.status);
}

function nextPoll(v: ProgressView, nowMs: number): string | null {
  if (v.closedAtMs !== null || v.phase === 'done') return null;
  if (v.nextPollAtMs !== null) return `next poll in ${formatDuration(v.nextPollAtMs - nowMs)}`;
  return v.polling ? 'polling' : null;
}

/**
 * The parts of a view that say something changed (state, counts, phase), without the clock-driven ones: plain
 * (non-TTY) output prints a line only when this changes.
 */
export function viewKey(v: ProgressView): string {
  return [
    v.status,
    v.phase,
    stateOf(v),
    v.exportedCollections,
    v.totalCollections,
    v.progressPercent,
    v.exportJobId,
  ].join('|');
}

/** Time since the export started, to its close or to `nowMs`. */
export function elapsedMs(v: ProgressView, nowMs: number): number {
  return (v.closedAtMs ?? nowMs) - v.startedAtMs;
}

export interface LineOptions {
  /** Draw a progress bar (in a terminal). */
  bar: boolean;
  /** Columns the line must fit in; it then never wraps (no stale rows when it is redrawn). Default: no limit. */
  width?: number;
  /** Elapsed time to show instead of `elapsedMs(v, nowMs)` (watch keeps it from going backwards). */
  elapsedMs?: number;
}

const MIN_BAR = 10;
const MAX_BAR = 24;

/**
 * One line: bar, state, counts, elapsed time, job, reads and the next poll. With a width it never wraps: the
 * job goes first, then the read count, then the bar narrows, then the next poll; what is left is cut with "…".
 */
export function renderLine(v: ProgressView, nowMs: number, o: LineOptions): string {
  const count = collectionCount(v) ?? (v.progressPercent !== null ? `${v.progressPercent}%` : null);
  const elapsed = formatDuration(o.elapsedMs ?? elapsedMs(v, nowMs));
  const [done, total] =
    v.totalCollections !== null ? [v.exportedCollections, v.totalCollections] : [v.progressPercent, 100];
  const next = nextPoll(v, nowMs);
  const essential = [stateOf(v), count ?? 'no count yet', `elapsed ${elapsed}`];
  const job = v.exportJobId ? [`job ${v.exportJobId}`] : [];
  const reads = v.polls ? [`${v.polls} status reads`] : [];
  const tail = next ? [next] : [];
  const line = (barWidth: number, optional: string[]) =>
    [...(o.bar ? [progressBar(done, total, barWidth)] : []), ...essential, ...optional].join('  ');
  if (o.width === undefined) return line(MAX_BAR, [...job, ...reads, ...tail]);
  // One column spare: a line exactly as wide as the terminal leaves the cursor past its edge on some terminals.
  const room = Math.max(1, o.width - 1);
  // Shown in this order; the job goes first, then the read count, then the bar narrows, then the next poll.
  const bars = o.bar ? Array.from({ length: MAX_BAR - MIN_BAR + 1 }, (_, i) => MAX_BAR - i) : [MAX_BAR];
  const candidates: [number, string[]][] = [
    [MAX_BAR, [...job, ...reads, ...tail]],
    [MAX_BAR, [...reads, ...tail]],
    ...bars.map((bar): [number, string[]] => [bar, tail]),
    ...bars.map((bar): [number, string[]] => [bar, []]),
  ];
  const fit = candidates.find(([bar, optional]) => line(bar, optional).length <= room);
  if (fit) return line(...fit);
  return `${line(MIN_BAR, []).slice(0, room - 1)}…`;
}
