import { type SimClock } from './clock';

/** Token bucket configuration: `capacity` tokens, refilled at `refillPerMinute` per simulated minute. */
export interface RateLimitConfig {
  capacity: number;
  refillPerMinute: number;
}

/** Result of taking one token. */
export type RateLimitDecision =
  { allowed: true; limit: number; remaining: number } | { allowed: false; limit: number; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  /** Simulated ms of the last refill. */
  updatedAt: number;
}

/** Per-key token buckets that refill continuously on the simulated clock. */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly config: RateLimitConfig,
    private readonly clock: SimClock
  ) {
    if (!(config.capacity >= 1) || !(config.refillPerMinute > 0)) {
      throw new RangeError('rateLimit needs capacity >= 1 and refillPerMinute > 0');
    }
  }

  /** Takes one token from the bucket of `key`. `retryAfterSeconds` is in real seconds, rounded up. */
  take(key: string): RateLimitDecision {
    const now = this.clock.now();
    const { capacity, refillPerMinute } = this.config;
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: capacity, updatedAt: now };
      this.buckets.set(key, bucket);
    } else {
      const refilled = ((now - bucket.updatedAt) * refillPerMinute) / 60_000;
      bucket.tokens = Math.min(capacity, bucket.tokens + refilled);
      bucket.updatedAt = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, limit: capacity, remaining: Math.floor(bucket.tokens) };
    }
    const simulatedWaitMs = ((1 - bucket.tokens) * 60_000) / refillPerMinute;
    const retryAfterSeconds = Math.max(1, Math.ceil(this.clock.realMsFor(simulatedWaitMs) / 1000));
    return { allowed: false, limit: capacity, retryAfterSeconds };
  }
}
