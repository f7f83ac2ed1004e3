/**
 * Seeded random numbers, like `torch.manual_seed` / `torch.Generator`.
 *
 * One global generator feeds every initializer and every dropout mask, so the
 * same seed gives the same weights and the same run on the same backend. Its
 * state is four 32-bit words (sfc32) and can be saved into a checkpoint and
 * restored, so a resumed run continues the same random stream.
 */

export interface GeneratorState {
  words: [number, number, number, number];
  /** Second value of the last Box-Muller pair, or null. */
  spareNormal: number | null;
}

export class Generator {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;
  private spare: number | null = null;

  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  /** Restart the stream from `seed` (any integer, negative values and >2^32 allowed). */
  manualSeed(seed: number): this {
    if (!Number.isFinite(seed)) {
      throw new Error(`manualSeed: the seed must be a finite number, got ${seed}`);
    }
    const lo = Math.floor(seed) >>> 0;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    this.a = 0x9e3779b9;
    this.b = lo;
    this.c = hi;
    this.d = 1;
    this.spare = null;
    for (let i = 0; i < 15; i++) this.nextUint32(); // mix the seed in
    return this;
  }

  /** A uniformly distributed unsigned 32-bit integer (sfc32). */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1) with 24 random bits, so it is exact in float32 and never rounds up to 1. */
  random(): number {
    return (this.nextUint32() >>> 8) / 16777216;
  }

  /** A standard normal value (Box-Muller, the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** `n` values uniform in [low, high). */
  uniformArray(n: number, low = 0, high = 1): Float32Array {
    const out = new Float32Array(n);
    const span = high - low;
    for (let i = 0; i < n; i++) out[i] = low + span * this.random();
    return out;
  }

  /** `n` values from N(mean, std^2). */
  normalArray(n: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** A random permutation of 0..n-1 (Fisher-Yates), like `torch.randperm`. */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      const t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
    return out;
  }

  getState(): GeneratorState {
    return { words: [this.a, this.b, this.c, this.d], spareNormal: this.spare };
  }

  setState(state: GeneratorState): void {
    if (!state || !Array.isArray(state.words) || state.words.length !== 4) {
      throw new Error('Generator.setState: expected {words: [4 integers], spareNormal}, as returned by getState()');
    }
    [this.a, this.b, this.c, this.d] = state.words.map((w) => w | 0) as [number, number, number, number];
    this.spare = state.spareNormal ?? null;
  }
}

/** The global generator, like PyTorch's default generator. */
export const defaultGenerator = new Generator(0);

/** Seed the global generator: `manualSeed(2023)` is `torch.manual_seed(2023)`. */
export function manualSeed(seed: number): void {
  defaultGenerator.manualSeed(seed);
}
