/**
 * numpy's legacy `RandomState` (MT19937), just enough to reproduce the row order XANESNET
 * gets from scikit-learn: `sklearn.utils.shuffle(x, y, random_state=RandomState(seed))` and
 * `train_test_split(x, y, test_size, random_state=42)` both shuffle `np.arange(n)` with
 * `RandomState.shuffle`.
 *
 *   seeding (integer seed, numpy's mt19937_seed = Matsumoto's init_genrand):
 *     key[0] = seed;  key[i] = 1812433253 * (key[i-1] ^ (key[i-1] >>> 30)) + i   (mod 2^32)
 *   shuffle (numpy's legacy _shuffle_raw):
 *     for i = n-1 .. 1:  j = random_interval(i);  swap x[i], x[j]
 *   random_interval(max): mask = max with every lower bit set; draw (next32 & mask) until <= max
 *
 * Checked against numpy 1.24 and scikit-learn 1.2 (test/parity/gen_interop.py).
 */
const N = 624;
const M = 397;

export class NumpyRandomState {
  private readonly key = new Uint32Array(N);
  private pos = N;

  constructor(seed: number) {
    if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
      throw new Error(`NumpyRandomState: the seed must be an integer between 0 and 2**32 - 1 (as numpy requires), got ${seed}`);
    }
    let s = seed >>> 0;
    for (let i = 0; i < N; i++) {
      this.key[i] = s;
      s = (Math.imul(1812433253, s ^ (s >>> 30)) + i + 1) >>> 0;
    }
  }

  /** genrand_int32: the next 32 random bits. */
  nextUint32(): number {
    const k = this.key;
    if (this.pos >= N) {
      for (let i = 0; i < N; i++) {
        const y = (k[i] & 0x80000000) | (k[(i + 1) % N] & 0x7fffffff);
        k[i] = k[(i + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.pos = 0;
    }
    let y = k[this.pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** An integer in [0, max] (numpy's random_interval, for max < 2^32). */
  randomInterval(max: number): number {
    if (max === 0) return 0;
    let mask = max;
    for (const s of [1, 2, 4, 8, 16]) mask |= mask >>> s;
    mask >>>= 0;
    let v: number;
    do v = (this.nextUint32() & mask) >>> 0;
    while (v > max);
    return v;
  }

  /** `RandomState.permutation(n)`: np.arange(n) shuffled in place. */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.randomInterval(i);
      const t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
    return out;
  }
}

/**
 * `sklearn.utils.shuffle(..., random_state=RandomState(seed), n_samples=m)`: the first m of
 * a permutation (XANESNET core_data.py, with the run file's `seed`).
 */
export function sklearnShuffleIndices(n: number, seed: number, nSamples = n): Int32Array {
  return new NumpyRandomState(seed).permutation(n).slice(0, nSamples);
}

/**
 * `sklearn.model_selection.train_test_split(range(n), test_size, random_state=seed)`:
 * test = p[:nTest], train = p[nTest:], p = RandomState(seed).permutation(n), with
 * sklearn's sizes (nTest = ceil(test_size * n)). XANESNET: test_size 0.2, seed 42.
 */
export function sklearnTrainTestSplit(n: number, testSize: number, seed: number, state?: NumpyRandomState): { train: Int32Array; test: Int32Array } {
  const nTest = Math.ceil(testSize * n);
  if (!(testSize > 0 && testSize < 1) || nTest >= n) {
    throw new Error(`sklearnTrainTestSplit: test_size ${testSize} of ${n} samples leaves no training rows; use a fraction in (0, 1) and more samples`);
  }
  const p = (state ?? new NumpyRandomState(seed)).permutation(n);
  return { test: p.slice(0, nTest), train: p.slice(nTest) };
}
