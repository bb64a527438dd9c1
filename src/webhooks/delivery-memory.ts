/**
 * The deliveries a receiver has acted on, remembered for `ttlMs` and at most `maxEntries` of them (the oldest
 * are forgotten first), so memory stays bounded whatever Atlas or an attacker sends. Forgetting early costs at
 * most one extra wake-up, never a wrong state: a wake-up is a hint the workflow confirms.
 */
export class DeliveryMemory {
  /** Key → when it expires; a Map keeps insertion order, so the first entries are the oldest. */
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000
  ) {}

  has(key: string, now: number): boolean {
    this.expire(now);
    return this.entries.has(key);
  }

  remember(key: string, now: number): void {
    this.expire(now);
    this.entries.delete(key);
    this.entries.set(key, now + this.ttlMs);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  forget(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private expire(now: number): void {
    for (const [key, expiresAt] of this.entries) {
      if (expiresAt > now) break;
      this.entries.delete(key);
    }
  }
}
