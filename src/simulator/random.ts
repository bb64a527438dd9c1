/**
 * Seeded pseudo-random generator (mulberry32) for ids and plan jitter. Its whole state is one 32-bit
 * integer, so it can be persisted and resumed.
 */
export class SeededRandom {
  private current: number;

  constructor(seed: number) {
    this.current = seed >>> 0;
  }

  /** The internal state, for persistence. */
  get state(): number {
    return this.current;
  }

  set state(value: number) {
    this.current = value >>> 0;
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    this.current = (this.current + 0x6d2b79f5) >>> 0;
    let t = this.current;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform float in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  /** 24 lowercase hex characters, the shape of Atlas ids. */
  nextId(): string {
    let id = '';
    for (let i = 0; i < 3; i++) {
      id += this.nextUint32().toString(16).padStart(8, '0');
    }
    return id;
  }
}

/** Issues unique Atlas-style ids from a {@link SeededRandom}. */
export class IdGenerator {
  private readonly issued = new Set<string>();

  constructor(private readonly random: SeededRandom) {}

  /** A new id, never returned before by this generator nor registered through {@link reserve}. */
  next(): string {
    for (;;) {
      const id = this.random.nextId();
      if (!this.issued.has(id)) {
        this.issued.add(id);
        return id;
      }
    }
  }

  /** Marks an externally chosen or restored id as taken. */
  reserve(id: string): void {
    this.issued.add(id);
  }
}
