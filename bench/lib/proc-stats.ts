import { readFileSync } from 'node:fs';

/** Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ; 100 on every Linux this runs on). */
const CLOCK_TICKS_PER_SECOND = 100;

/** One reading of a Linux process from `/proc`: memory in bytes, CPU time in seconds (user + system). */
export interface ProcReading {
  at: number;
  rssBytes: number;
  /** `VmHWM`: the highest RSS the kernel saw for the process so far. */
  peakRssBytes: number;
  cpuSeconds: number;
}

/** Reads `/proc/<pid>/status` and `/proc/<pid>/stat`; undefined once the process is gone. */
export function readProc(pid: number): ProcReading | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    // The command name (field 2) may contain spaces; utime and stime are fields 14 and 15, counted after it.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return {
      at: Date.now(),
      rssBytes: kb('VmRSS'),
      peakRssBytes: kb('VmHWM'),
      cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND,
    };
  } catch {
    return undefined;
  }
}

/** A Prometheus histogram's cumulative buckets (`le` → count), summed over every label set of the metric. */
export type Buckets = Map<number, number>;

export function histogramBuckets(
  samples: { name: string; labels: Record<string, string>; value: number }[],
  name: string
) {
  const buckets: Buckets = new Map();
  for (const s of samples) {
    if (s.name !== `${name}_bucket`) continue;
    const le = bucketBound(s.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + s.value);
  }
  return buckets;
}

/** A bucket's upper bound from its `le` label (`+Inf` → Infinity). */
export function bucketBound(le: string | undefined): number {
  return le === '+Inf' ? Infinity : Number(le);
}

/** `after − before`, bucket by bucket (the observations made between two scrapes). */
export function bucketDelta(after: Buckets, before: Buckets): Buckets {
  const out: Buckets = new Map();
  for (const [le, n] of after) out.set(le, n - (before.get(le) ?? 0));
  return out;
}

export function addBuckets(a: Buckets, b: Buckets): Buckets {
  const out: Buckets = new Map(a);
  for (const [le, n] of b) out.set(le, (out.get(le) ?? 0) + n);
  return out;
}

/**
 * Percentile of a cumulative histogram, interpolated linearly inside the bucket it falls in (as PromQL's
 * `histogram_quantile`); `count` is the number of observations. Past the last finite bound it returns that bound
 * (so `> bound` is the honest reading).
 */
export function histogramPercentile(buckets: Buckets, p: number): { value: number; count: number; overLast: boolean } {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const count = buckets.get(Infinity) ?? buckets.get(bounds.at(-1) ?? Infinity) ?? 0;
  if (count <= 0) return { value: NaN, count: 0, overLast: false };
  const rank = (p / 100) * count;
  let prevBound = 0;
  let prevCount = 0;
  for (const le of bounds) {
    const c = buckets.get(le) ?? 0;
    if (c >= rank) {
      if (le === Infinity) return { value: prevBound, count, overLast: true };
      const inBucket = c - prevCount;
      const value = inBucket > 0 ? prevBound + ((le - prevBound) * (rank - prevCount)) / inBucket : le;
      return { value, count, overLast: false };
    }
    prevBound = le;
    prevCount = c;
  }
  return { value: prevBound, count, overLast: true };
}
