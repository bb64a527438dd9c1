import { performance } from 'node:perf_hooks';

/**
 * Simulated wall clock: `simulatedNow = anchorSim + (realNow - anchorReal) * scale`. Changing the scale
 * re-anchors at the current simulated time, so simulated time never jumps backwards.
 */
export class SimClock {
  private anchorReal: number;
  private anchorSim: number;
  private currentScale: number;

  /**
   * @param scale simulated ms per real ms
   * @param startAt simulated epoch ms to start from; default the real time
   */
  constructor(scale = 1, startAt: number = Date.now()) {
    assertScale(scale);
    this.currentScale = scale;
    this.anchorReal = performance.now();
    this.anchorSim = startAt;
  }

  /** Simulated epoch milliseconds. */
  now(): number {
    return this.anchorSim + (performance.now() - this.anchorReal) * this.currentScale;
  }

  /** Simulated ms per real ms. */
  get scale(): number {
    return this.currentScale;
  }

  /** Changes the speed from now on. */
  setScale(scale: number): void {
    assertScale(scale);
    const simNow = this.now();
    this.anchorReal = performance.now();
    this.anchorSim = simNow;
    this.currentScale = scale;
  }

  /** Real milliseconds until `simulatedMs` of simulated time have passed at the current scale. */
  realMsFor(simulatedMs: number): number {
    return simulatedMs / this.currentScale;
  }
}

function assertScale(scale: number): void {
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new RangeError(`timeScale must be a positive finite number, got ${scale}`);
  }
}

/** Simulated ms of `days` days. */
export function daysMs(days: number): number {
  return days * 86_400_000;
}
