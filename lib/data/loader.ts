/**
 * DataLoader, like `torch.utils.data.DataLoader`: batches of a Dataset as tensors.
 *
 *     const loader = new DataLoader(ds, {batchSize: 32, shuffle: true, seed: 42});
 *     for (const batch of loader) {          // batch = {x: Tensor[32, 49], y: Tensor[32, 226]}
 *       ...
 *       tf.dispose(batch);                   // the caller owns the batch tensors
 *     }
 *     loader.forEachBatch((batch) => { ... });  // or: disposed for you after each call
 *     for await (const batch of loader) ...      // datasets whose get() returns a Promise (HDF5 files)
 *
 * Each field of a batch is made by one `tf.tensor` call on a typed array that holds
 * the stacked samples, so the only tensors a batch creates are the ones it returns.
 *
 * Shuffling: every epoch (every new iteration over the loader) draws a fresh
 * permutation from the loader's own seeded Generator. `stateDict()` records the
 * generator state at the start of the current epoch and how many batches were
 * already handed out; `loadStateDict()` restores it, so a resumed run draws the
 * same permutations and, mid-epoch, skips the batches already seen.
 */
import { tf } from '../engine/tf';
import { Generator, GeneratorState, defaultGenerator } from '../engine/random';
import { Dataset, Sample, sizeOf } from './dataset';

/** One batch: a tensor per field (the same type as lib/train/task.ts's Batch). */
type Batch = Record<string, tf.Tensor>;

export interface DataLoaderOptions {
  /** Samples per batch (PyTorch's default is 1). */
  batchSize?: number;
  /** Draw a new random order every epoch (default false). */
  shuffle?: boolean;
  /** Drop the last, incomplete batch (default false). */
  dropLast?: boolean;
  /**
   * The generator that shuffles. Default: a new Generator seeded with `seed`, or,
   * without `seed`, with a number drawn from the global generator (so
   * `manualSeed(n)` before building the loader makes it reproducible; like
   * PyTorch, a shuffling loader built that way advances the global stream).
   */
  generator?: Generator;
  seed?: number;
}

/** What a checkpoint stores to resume a loader exactly. */
export interface DataLoaderState {
  /** Epochs started before the saved point (the epoch in progress is not counted). */
  epoch: number;
  /** Batches of the epoch in progress already handed out (0 at an epoch boundary). */
  batch: number;
  /** Generator state just before the permutation of the epoch in progress (or of the next epoch) was drawn. */
  generator: GeneratorState;
}

export class DataLoader<S extends Sample = Sample> implements Iterable<Batch>, AsyncIterable<Batch> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly generator: Generator;
  /** Epochs started so far (an epoch starts when an iteration over the loader begins). */
  epoch = 0;

  private epochStart: GeneratorState; // generator state before this epoch's permutation
  private batchInEpoch = 0; // batches handed out in the epoch in progress
  private inProgress = false;
  private skipOnNextEpoch = 0; // set by loadStateDict for a mid-epoch resume

  constructor(
    readonly dataset: Dataset<S>,
    options: DataLoaderOptions = {},
  ) {
    const { batchSize = 1, shuffle = false, dropLast = false } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new Error(`DataLoader: batchSize must be a positive integer, got ${batchSize}`);
    }
    if (!dataset || typeof dataset.get !== 'function' || !Number.isInteger(dataset.length)) {
      throw new Error('DataLoader: the first argument must be a Dataset (an object with `length` and `get(i)`)');
    }
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    // An unshuffled loader leaves the global generator alone (its own generator is never used).
    this.generator = options.generator ?? new Generator(options.seed ?? (shuffle ? defaultGenerator.nextUint32() : 0));
    this.epochStart = this.generator.getState();
  }

  /** Number of batches per epoch, like `len(loader)`. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  stateDict(): DataLoaderState {
    if (this.inProgress) return { epoch: this.epoch - 1, batch: this.batchInEpoch, generator: this.epochStart };
    return { epoch: this.epoch, batch: this.skipOnNextEpoch, generator: this.generator.getState() };
  }

  /** Restore a state from stateDict(): the next iteration continues exactly where the saved run was. */
  loadStateDict(state: DataLoaderState): void {
    if (!state || !Number.isInteger(state.epoch) || !Number.isInteger(state.batch) || !state.generator) {
      throw new Error('DataLoader.loadStateDict: expected {epoch, batch, generator} as returned by stateDict()');
    }
    if (state.batch < 0 || state.batch > this.length) {
      throw new Error(
        `DataLoader.loadStateDict: batch ${state.batch} is outside this loader's ${this.length} batches per epoch; was the state saved with another dataset or batch size?`,
      );
    }
    this.generator.setState(state.generator);
    this.epochStart = this.generator.getState();
    this.epoch = state.epoch;
    this.skipOnNextEpoch = state.batch;
    this.batchInEpoch = 0;
    this.inProgress = false;
  }

  /** The same as stateDict(), under the names Trainer's `stateful` option calls. */
  getState(): DataLoaderState {
    return this.stateDict();
  }

  /** The same as loadStateDict(). */
  setState(state: DataLoaderState): void {
    this.loadStateDict(state);
  }

  /** Start an epoch: draw its order and return the index groups of its remaining batches. */
  private startEpoch(): Int32Array[] {
    const n = this.dataset.length;
    this.epochStart = this.generator.getState();
    const order = this.shuffle ? this.generator.permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
    const groups: Int32Array[] = [];
    for (let b = 0; b < this.length; b++) groups.push(order.subarray(b * this.batchSize, Math.min(n, (b + 1) * this.batchSize)));
    const skip = this.skipOnNextEpoch;
    this.skipOnNextEpoch = 0;
    this.epoch += 1;
    this.batchInEpoch = skip;
    this.inProgress = true;
    return groups.slice(skip);
  }

  private handedOut(): void {
    this.batchInEpoch += 1;
    if (this.batchInEpoch >= this.length) this.inProgress = false;
  }

  *[Symbol.iterator](): Iterator<Batch> {
    const groups = this.startEpoch();
    if (groups.length === 0) this.inProgress = false;
    for (const indices of groups) {
      const samples: S[] = [];
      for (const i of indices) {
        const s = this.dataset.get(i);
        if (s instanceof Promise) {
          throw new Error(
            'DataLoader: this dataset reads asynchronously (get() returns a Promise); iterate with `for await (const batch of loader)` or use forEachBatchAsync',
          );
        }
        samples.push(s);
      }
      const batch = collate(samples);
      this.handedOut();
      yield batch;
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    const groups = this.startEpoch();
    if (groups.length === 0) this.inProgress = false;
    for (const indices of groups) {
      // get() returns a sample or a Promise of one (S | Promise<S>); the rule wants every element to be a Promise.
      // eslint-disable-next-line @typescript-eslint/await-thenable
      const samples = await Promise.all(Array.from(indices, (i) => this.dataset.get(i)));
      const batch = collate(samples);
      this.handedOut();
      yield batch;
    }
  }

  /**
   * Run `fn` on every batch of one epoch; each batch's tensors are disposed after
   * `fn` returns (keep what you need with tf.keep or by copying). Returns what
   * each call returned, e.g. the batch losses as numbers.
   */
  forEachBatch<T>(fn: (batch: Batch, index: number) => T): T[] {
    const out: T[] = [];
    let i = 0;
    for (const batch of this) {
      try {
        out.push(fn(batch, i++));
      } finally {
        tf.dispose(batch);
      }
    }
    return out;
  }

  /** forEachBatch for async datasets and async callbacks; each batch is disposed after `fn` settles. */
  async forEachBatchAsync<T>(fn: (batch: Batch, index: number) => T | Promise<T>): Promise<T[]> {
    const out: T[] = [];
    let i = 0;
    for await (const batch of this) {
      try {
        out.push(await fn(batch, i++));
      } finally {
        tf.dispose(batch);
      }
    }
    return out;
  }
}

/**
 * Stack samples into one tensor per field, shape [B, ...sampleShape]. Float
 * fields become float32, integer fields int32. The caller disposes the result.
 */
export function collate(samples: Sample[]): Batch {
  if (samples.length === 0) throw new Error('collate: no samples');
  const first = samples[0];
  const batch: Batch = {};
  for (const name of Object.keys(first)) {
    const { shape } = first[name];
    const size = sizeOf(shape);
    const isInt = !(first[name].data instanceof Float32Array || first[name].data instanceof Float64Array);
    const stacked: Float32Array | Int32Array = isInt ? new Int32Array(samples.length * size) : new Float32Array(samples.length * size);
    samples.forEach((s, k) => {
      const f = s[name];
      if (!f) throw new Error(`collate: sample ${k} of the batch has no field '${name}' (sample 0 has ${Object.keys(first).join(', ')})`);
      if (f.data.length !== size || f.shape.length !== shape.length || f.shape.some((d, j) => d !== shape[j])) {
        throw new Error(
          `collate: field '${name}' of sample ${k} in the batch has shape [${f.shape}] (${f.data.length} values), sample 0 has [${shape}]; samples of a batch must have equal shapes`,
        );
      }
      stacked.set(f.data, k * size);
    });
    batch[name] = tf.tensor(stacked, [samples.length, ...shape], isInt ? 'int32' : 'float32');
  }
  return batch;
}
