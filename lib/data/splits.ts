/**
 * Index splits: train/test, train/validation/test, k-fold, repeated k-fold,
 * bootstrap samples and ensemble seeds, with scikit-learn's sizes.
 *
 * Every function returns indices (Int32Array); pick the items with
 * `new Subset(dataset, indices)` or `takeRows`.
 *
 * Randomness: seeded and deterministic (the same seed gives the same split on
 * every machine) but NOT numpy-identical: we use hyperlab's Generator, not
 * numpy's RandomState (Mersenne Twister), so `random_state=42` in sklearn and
 * `seed: 42` here choose different rows. Sizes, fold boundaries and orderings
 * follow sklearn exactly.
 */
import { Generator } from '../engine/random';

export interface SplitIndices {
  train: Int32Array;
  test: Int32Array;
}

/** Random source: a seed (a new Generator is made from it) or a Generator to draw from. */
export type SeedLike = number | Generator;

function generatorOf(seed: SeedLike | undefined, where: string): Generator {
  if (seed instanceof Generator) return seed;
  if (seed === undefined) return new Generator(0);
  if (!Number.isFinite(seed)) throw new Error(`${where}: seed must be a number or a Generator, got ${seed}`);
  return new Generator(seed);
}

function checkCount(n: number, where: string): void {
  if (!Number.isInteger(n) || n < 0) throw new Error(`${where}: the number of samples must be a non-negative integer, got ${n}`);
}

function arange(start: number, stop: number): Int32Array {
  return Int32Array.from({ length: Math.max(0, stop - start) }, (_, i) => start + i);
}

/** An unbiased integer in [0, n) from 32 random bits (rejection sampling). */
export function randomInt(g: Generator, n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) throw new Error(`randomInt: n must be an integer in [1, 2^32], got ${n}`);
  const limit = 2 ** 32 - (2 ** 32 % n); // largest multiple of n not above 2^32
  let x = g.nextUint32();
  while (x >= limit) x = g.nextUint32();
  return x % n;
}

/**
 * sklearn's `_validate_shuffle_split`: a float size is a fraction (test rounded
 * up, train rounded down), an integer size a count; a missing one is the rest.
 */
export function splitSizes(n: number, testSize?: number, trainSize?: number): { nTrain: number; nTest: number } {
  const where = 'trainTestSplit';
  if (testSize === undefined && trainSize === undefined) testSize = 0.25;
  // A non-integer is a fraction in (0, 1); an integer is a count in [1, n - 1].
  const isFrac = (v: number) => !Number.isInteger(v);
  for (const [name, v] of [
    ['testSize', testSize],
    ['trainSize', trainSize],
  ] as const) {
    if (v !== undefined && (isFrac(v) ? !(v > 0 && v < 1) : !(v > 0 && v < n))) {
      throw new Error(`${where}: ${name}=${v} must be a fraction in (0, 1) or a count in [1, ${n - 1}] for ${n} samples`);
    }
  }
  let nTest = testSize === undefined ? undefined : isFrac(testSize) ? Math.ceil(testSize * n) : testSize;
  let nTrain = trainSize === undefined ? undefined : isFrac(trainSize) ? Math.floor(trainSize * n) : trainSize;
  if (nTrain === undefined) nTrain = n - nTest!;
  if (nTest === undefined) nTest = n - nTrain;
  if (nTrain + nTest > n) {
    throw new Error(`${where}: train (${nTrain}) + test (${nTest}) samples exceed the ${n} available; lower trainSize or testSize`);
  }
  if (nTrain === 0) {
    throw new Error(`${where}: with ${n} samples, testSize=${testSize} and trainSize=${trainSize} leave the training set empty; adjust the sizes`);
  }
  return { nTrain, nTest };
}

export interface TrainTestSplitOptions {
  /** Fraction (0..1) or count of test samples; default 0.25 as in sklearn (when trainSize is not given either). */
  testSize?: number;
  trainSize?: number;
  /** Shuffle before splitting (default true); false takes the first rows for training, the next for testing. */
  shuffle?: boolean;
  seed?: SeedLike;
}

/**
 * `sklearn.model_selection.train_test_split` on indices 0..n-1. With shuffle, a
 * permutation p is drawn and test = p[0:nTest], train = p[nTest:nTest+nTrain],
 * like sklearn's ShuffleSplit. Seeded, but not numpy-identical (see top of file).
 */
export function trainTestSplit(n: number, options: TrainTestSplitOptions = {}): SplitIndices {
  checkCount(n, 'trainTestSplit');
  const { nTrain, nTest } = splitSizes(n, options.testSize, options.trainSize);
  if (options.shuffle === false) return { train: arange(0, nTrain), test: arange(nTrain, nTrain + nTest) };
  const p = generatorOf(options.seed, 'trainTestSplit').permutation(n);
  return { test: p.slice(0, nTest), train: p.slice(nTest, nTest + nTrain) };
}

export interface ThreeWaySplit {
  train: Int32Array;
  validation: Int32Array;
  test: Int32Array;
}

/**
 * Train / validation / test split, by default XANESNET's 75/15/10 (`model_eval`):
 * two successive sklearn-style splits, first holding out 1 - train of the data,
 * then splitting that part into validation and test with test fraction
 * test / (validation + test). XANESNET seeds only the first split (random_state=42)
 * and leaves the second unseeded; here both draw from the one seeded generator.
 */
export function trainValTestSplit(n: number, options: { fractions?: [number, number, number]; seed?: SeedLike } = {}): ThreeWaySplit {
  checkCount(n, 'trainValTestSplit');
  const [tr, va, te] = options.fractions ?? [0.75, 0.15, 0.1];
  if (![tr, va, te].every((f) => f > 0 && f < 1) || Math.abs(tr + va + te - 1) > 1e-9) {
    throw new Error(`trainValTestSplit: fractions must be three numbers in (0, 1) summing to 1, got [${tr}, ${va}, ${te}]`);
  }
  const g = generatorOf(options.seed, 'trainValTestSplit');
  const first = trainTestSplit(n, { testSize: 1 - tr, seed: g });
  const second = trainTestSplit(first.test.length, { testSize: te / (te + va), seed: g });
  return {
    train: first.train,
    validation: second.train.map((i) => first.test[i]),
    test: second.test.map((i) => first.test[i]),
  };
}

/**
 * sklearn's KFold fold sizes: n // k each, and the first n % k folds one larger.
 */
export function foldSizes(n: number, nSplits: number): number[] {
  const sizes = new Array(nSplits).fill(Math.floor(n / nSplits));
  for (let i = 0; i < n % nSplits; i++) sizes[i] += 1;
  return sizes;
}

/** Folds from an order of the samples: fold f tests the f-th consecutive chunk. Indices come back sorted, as in sklearn. */
function foldsFromOrder(order: Int32Array, nSplits: number): SplitIndices[] {
  const n = order.length;
  const folds: SplitIndices[] = [];
  let start = 0;
  for (const size of foldSizes(n, nSplits)) {
    const inTest = new Uint8Array(n);
    for (let k = start; k < start + size; k++) inTest[order[k]] = 1;
    const test = new Int32Array(size);
    const train = new Int32Array(n - size);
    for (let i = 0, a = 0, b = 0; i < n; i++) {
      if (inTest[i]) test[a++] = i;
      else train[b++] = i;
    }
    folds.push({ train, test });
    start += size;
  }
  return folds;
}

function checkSplits(n: number, nSplits: number, where: string): void {
  checkCount(n, where);
  if (!Number.isInteger(nSplits) || nSplits < 2) throw new Error(`${where}: nSplits must be an integer >= 2, got ${nSplits}`);
  if (nSplits > n) throw new Error(`${where}: cannot make ${nSplits} folds from ${n} samples; use nSplits <= ${n}`);
}

/**
 * `sklearn.model_selection.KFold(n_splits, shuffle, random_state).split`: k
 * (train, test) pairs; test folds are consecutive chunks of the (shuffled)
 * order, the first n % k of them one larger. Default 5 folds, no shuffle.
 */
export function kFold(n: number, options: { nSplits?: number; shuffle?: boolean; seed?: SeedLike } = {}): SplitIndices[] {
  const { nSplits = 5, shuffle = false } = options;
  checkSplits(n, nSplits, 'kFold');
  const order = shuffle ? generatorOf(options.seed, 'kFold').permutation(n) : arange(0, n);
  return foldsFromOrder(order, nSplits);
}

/**
 * `sklearn.model_selection.RepeatedKFold(n_splits, n_repeats, random_state)`:
 * nRepeats shuffled k-folds, each repeat drawing a new permutation from one seeded
 * stream; nSplits * nRepeats folds in all, repeat by repeat. sklearn's defaults are
 * 5 splits and 10 repeats.
 */
export function repeatedKFold(n: number, options: { nSplits?: number; nRepeats?: number; seed?: SeedLike } = {}): SplitIndices[] {
  const { nSplits = 5, nRepeats = 10 } = options;
  checkSplits(n, nSplits, 'repeatedKFold');
  if (!Number.isInteger(nRepeats) || nRepeats < 1) throw new Error(`repeatedKFold: nRepeats must be a positive integer, got ${nRepeats}`);
  const g = generatorOf(options.seed, 'repeatedKFold');
  const folds: SplitIndices[] = [];
  for (let r = 0; r < nRepeats; r++) folds.push(...foldsFromOrder(g.permutation(n), nSplits));
  return folds;
}

export interface BootstrapOptions {
  /** Sample size as a fraction of n: int(n * nSize) draws (default 1). */
  nSize?: number;
  seed?: SeedLike;
}

/**
 * A bootstrap sample: int(n * nSize) indices drawn uniformly with replacement
 * (XANESNET's bootstrap, which seeds Python's `random` with seed_boot[i]).
 * Inputs and targets are taken at the same indices.
 */
export function bootstrapIndices(n: number, options: BootstrapOptions = {}): Int32Array {
  checkCount(n, 'bootstrapIndices');
  const { nSize = 1 } = options;
  if (!(nSize > 0)) throw new Error(`bootstrapIndices: nSize must be > 0, got ${nSize}`);
  if (n === 0) throw new Error('bootstrapIndices: cannot resample an empty dataset');
  const g = generatorOf(options.seed, 'bootstrapIndices');
  const m = Math.floor(n * nSize);
  const out = new Int32Array(m);
  for (let i = 0; i < m; i++) out[i] = randomInt(g, n);
  return out;
}

/**
 * XANESNET's original bootstrap, kept as an explicit option: it draws the input
 * row and the target row *independently* (`random.choice(xyz)`, then
 * `random.choice(xanes)`), so a resampled input is paired with an unrelated
 * target. Use bootstrapIndices for the intended, paired resampling.
 */
export function bootstrapIndicesUnpaired(n: number, options: BootstrapOptions = {}): { x: Int32Array; y: Int32Array } {
  checkCount(n, 'bootstrapIndicesUnpaired');
  const { nSize = 1 } = options;
  if (!(nSize > 0)) throw new Error(`bootstrapIndicesUnpaired: nSize must be > 0, got ${nSize}`);
  if (n === 0) throw new Error('bootstrapIndicesUnpaired: cannot resample an empty dataset');
  const g = generatorOf(options.seed, 'bootstrapIndicesUnpaired');
  const m = Math.floor(n * nSize);
  const x = new Int32Array(m);
  const y = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    x[i] = randomInt(g, n);
    y[i] = randomInt(g, n);
  }
  return { x, y };
}

/**
 * Seeds for the members of an ensemble (or bootstrap): the explicit list from a
 * run file (XANESNET's `weight_init_seed` / `seed_boot`) when given, checked for
 * length and duplicates; otherwise `count` distinct seeds in [0, 2^31) drawn from
 * `seed`, so one number reproduces the whole ensemble.
 */
export function ensembleSeeds(count: number, options: { seeds?: number[]; seed?: SeedLike } = {}): number[] {
  if (!Number.isInteger(count) || count < 1) throw new Error(`ensembleSeeds: count must be a positive integer, got ${count}`);
  if (options.seeds) {
    const s = options.seeds;
    if (s.length < count)
      throw new Error(`ensembleSeeds: ${count} models need ${count} seeds, the list has ${s.length} (${JSON.stringify(s)}); add seeds or lower the count`);
    if (!s.every(Number.isInteger)) throw new Error(`ensembleSeeds: seeds must be integers, got ${JSON.stringify(s)}`);
    const used = s.slice(0, count);
    if (new Set(used).size !== used.length)
      throw new Error(`ensembleSeeds: the seeds ${JSON.stringify(used)} repeat a value, so two models would be identical`);
    return used;
  }
  const g = generatorOf(options.seed, 'ensembleSeeds');
  const seen = new Set<number>();
  const out: number[] = [];
  while (out.length < count) {
    const v = g.nextUint32() >>> 1;
    if (!seen.has(v)) {
      seen.add(v);
      out.push(v);
    }
  }
  return out;
}

/**
 * `sklearn.utils.shuffle(..., n_samples=nSamples)` on indices: a random order of
 * 0..n-1, cut to its first nSamples (XANESNET's `max_samples`).
 */
export function shuffledIndices(n: number, options: { nSamples?: number; seed?: SeedLike } = {}): Int32Array {
  checkCount(n, 'shuffledIndices');
  const m = options.nSamples ?? n;
  if (!Number.isInteger(m) || m < 0 || m > n) throw new Error(`shuffledIndices: nSamples=${m} must be an integer in [0, ${n}]`);
  return generatorOf(options.seed, 'shuffledIndices').permutation(n).slice(0, m);
}

/** Rows `indices` of a row-major array with `rowSize` values per row, e.g. takeRows(x, 49, split.train). */
export function takeRows<T extends Float32Array | Float64Array | Int32Array>(data: T, rowSize: number, indices: ArrayLike<number>): T {
  const n = Math.floor(data.length / rowSize);
  const out = new (data.constructor as new (len: number) => T)(indices.length * rowSize);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!(i >= 0 && i < n)) throw new RangeError(`takeRows: index ${i} is outside the ${n} rows`);
    out.set(data.subarray(i * rowSize, (i + 1) * rowSize), k * rowSize);
  }
  return out;
}
