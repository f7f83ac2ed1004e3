/**
 * `Trainer`: the training loop shared by notebook cells and week-long runs.
 *
 *     const trainer = new Trainer({ task: supervised({ model, optimizer, loss: getLoss('mse') }),
 *                                   metrics: 'regression', callbacks: [new EarlyStopping({ patience: 5 })] });
 *     const history = await trainer.fit(trainLoader, { epochs: 20, validation: valLoader });
 *
 * Per epoch: model.train(), one task.trainStep per batch (the batch is disposed
 * after it), optional validation in eval mode, schedules stepped per batch or per
 * epoch, callbacks called with the epoch's numbers. `trainer.stopTraining = true`
 * (early stopping, the NaN guard, Ctrl-C) ends the loop after the current batch.
 */
import { tf } from '../engine/tf';
import { defaultGenerator, GeneratorState } from '../engine/random';
import { Callback, History, Logs, StopKind, StopReason, TrainLoop } from './callback';
import { MetricAccumulator, MetricTask } from './metrics';
import { Batch, StepResult, Task } from './task';

/** Anything that yields batches: a DataLoader, an array, a generator (sync or async). */
export type BatchSource = Iterable<Batch | tf.Tensor[]> | AsyncIterable<Batch | tf.Tensor[]>;

export interface SchedulerLike {
  step(): void;
  stateDict(): unknown;
  loadStateDict(state: any): void;
}

export interface TrainerOptions {
  task: Task;
  /** Which metrics to accumulate besides the loss (none by default). */
  metrics?: MetricTask | null;
  /** Logits (default) or probabilities, for binary metrics. */
  metricsFromLogits?: boolean;
  callbacks?: Callback[];
  /** Learning-rate schedulers and when they step. */
  schedulers?: { scheduler: SchedulerLike; per: 'epoch' | 'batch' }[];
  /** Objects whose random state must be restored on resume (data loaders with their own generators). */
  stateful?: { getState(): unknown; setState(s: any): void }[];
  /** Validate every n epochs (and always after the last). */
  validateEvery?: number;
}

export interface FitOptions {
  epochs: number;
  validation?: BatchSource;
  /** Start from this epoch (set by resume). */
  initialEpoch?: number;
}

export type { History } from './callback';

/** Everything a checkpoint needs to continue a run exactly. */
export interface TrainerState {
  epoch: number;
  globalStep: number;
  history: History;
  rng: GeneratorState;
  optimizers: unknown[];
  schedulers: unknown[];
  callbacks: unknown[];
  stateful: unknown[];
}

function asBatch(b: Batch | tf.Tensor[]): Batch {
  if (Array.isArray(b)) {
    const [x, y, ...rest] = b;
    return { x, y, ...Object.fromEntries(rest.map((t, i) => [`extra${i}`, t])) };
  }
  return b;
}

/**
 * Batches from a DataLoader or a generator are made for one step and disposed after it;
 * batches in a plain array are the caller's, reused every epoch, and left alone.
 */
export function ownsBatches(source: BatchSource): boolean {
  return !Array.isArray(source);
}

async function* iterate(source: BatchSource): AsyncGenerator<Batch> {
  if (Symbol.asyncIterator in source) {
    for await (const b of source as AsyncIterable<Batch | tf.Tensor[]>) yield asBatch(b);
  } else {
    for (const b of source as Iterable<Batch | tf.Tensor[]>) yield asBatch(b);
  }
}

function disposeStep(r: StepResult): void {
  r.pred?.dispose();
  r.target?.dispose();
}

/** Yield to the event loop so signals (Ctrl-C) and notebook output get through. */
const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));

export class Trainer implements TrainLoop {
  readonly task: Task;
  readonly callbacks: Callback[];
  /** Set to true to stop after the current batch (stop() also says why). */
  stopTraining = false;
  /** Why training stopped early, if it did (early stopping, Ctrl-C, a non-finite loss, or a callback's own reason). */
  stopped: StopReason | null = null;
  /** Epochs completed (the next epoch to run). */
  epoch = 0;
  globalStep = 0;
  history: History = { epoch: [] };
  /** Batches per epoch when the training data says (a DataLoader's length), else null. */
  batchesPerEpoch: number | null = null;
  /** The epochs fit() was asked to reach. */
  targetEpochs = 0;
  /** Whether fit() was given validation data (validation may still run only every n epochs). */
  hasValidation = false;
  private readonly opts: TrainerOptions;
  /** When the loop last yielded to the event loop (Ctrl-C and notebook output get through). */
  private lastBreath = 0;

  constructor(opts: TrainerOptions) {
    this.opts = opts;
    this.task = opts.task;
    this.callbacks = opts.callbacks ?? [];
    for (const cb of this.callbacks) cb.trainer = this;
  }

  get model() {
    return this.task.model;
  }

  /** Stop after the current batch, for this reason. */
  stop(kind: StopKind, message: string): void {
    this.stopTraining = true;
    this.stopped = { kind, message };
  }

  /** Whether a stop of this kind ended (or is ending) the fit. */
  stoppedBy(kind: StopKind): boolean {
    return this.stopped?.kind === kind;
  }

  /** Why training stopped, as one line to print; setting a string records a callback's own reason ('requested'). */
  get stopReason(): string | null {
    return this.stopped?.message ?? null;
  }

  set stopReason(message: string | null) {
    this.stopped = message === null ? null : { kind: 'requested', message };
  }

  /** The learning rate of the first optimizer's first group. */
  get lr(): number {
    return this.task.optimizers[0]?.paramGroups[0]?.lr ?? NaN;
  }

  addCallback(cb: Callback): this {
    cb.trainer = this;
    this.callbacks.push(cb);
    return this;
  }

  private async call<K extends 'onTrainBegin' | 'onEpochBegin' | 'onBatchEnd' | 'onEpochEnd' | 'onTrainEnd'>(
    hook: K,
    ...args: Parameters<Callback[K]>
  ): Promise<void> {
    for (const cb of this.callbacks) await (cb[hook] as (...a: unknown[]) => unknown)(...args);
  }

  private newMetrics(): MetricAccumulator | null {
    return this.opts.metrics ? new MetricAccumulator(this.opts.metrics, { fromLogits: this.opts.metricsFromLogits ?? true }) : null;
  }

  /** Mean losses and metrics of one pass over `source` in eval mode. */
  async evaluate(source: BatchSource): Promise<Logs> {
    const wasTraining = this.model.training;
    this.model.eval();
    const metrics = this.newMetrics();
    const sums: Record<string, number> = {};
    let batches = 0;
    const owned = ownsBatches(source);
    try {
      for await (const batch of iterate(source)) {
        const r = this.task.evalStep(batch);
        if (owned) tf.dispose(Object.values(batch));
        for (const [k, v] of Object.entries(r.losses)) sums[k] = (sums[k] ?? 0) + v;
        if (metrics && r.pred && r.target) metrics.update(r.pred, r.target);
        disposeStep(r);
        batches++;
      }
    } finally {
      this.model.train(wasTraining);
    }
    if (batches === 0) throw new Error('Trainer.evaluate: the validation data gave no batches; check its size and batch size (drop_last?)');
    const logs: Logs = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / batches]));
    return { ...logs, ...(metrics?.result() ?? {}) };
  }

  /** Train for `epochs` epochs in total (continuing from `initialEpoch` or the restored state). */
  async fit(train: BatchSource, opts: FitOptions): Promise<History> {
    if (!(Number.isInteger(opts.epochs) && opts.epochs >= 0)) {
      throw new Error(`Trainer.fit: epochs must be a whole number >= 0, got ${opts.epochs}`);
    }
    if (opts.initialEpoch !== undefined) this.epoch = opts.initialEpoch;
    this.stopTraining = false;
    this.stopped = null;
    const len = (train as { length?: unknown }).length;
    this.batchesPerEpoch = typeof len === 'number' ? len : null;
    this.targetEpochs = opts.epochs;
    this.hasValidation = opts.validation !== undefined;
    await this.call('onTrainBegin', {});
    let last: Logs = {};
    this.lastBreath = Date.now();
    while (this.epoch < opts.epochs && !this.stopTraining) {
      const epoch = this.epoch;
      await this.call('onEpochBegin', epoch);
      this.model.train();
      const metrics = this.newMetrics();
      const { sums, batches } = await this.trainEpoch(train, metrics);
      if (batches === 0) {
        if (this.stopTraining) break; // stopped before the epoch's first batch: there is no epoch to record
        throw new Error('Trainer.fit: the training data gave no batches; check the dataset size and the batch size (drop_last?)');
      }
      if (this.stopTraining && this.stoppedBy('interrupted')) {
        // An interrupted epoch is not complete: it is not logged, and a resume repeats it.
        break;
      }
      const logs = await this.epochLogs(epoch, opts, sums, batches, metrics);
      for (const s of this.opts.schedulers ?? []) if (s.per === 'epoch') s.scheduler.step();
      this.epoch = epoch + 1;
      this.record(epoch, logs);
      last = logs;
      await this.call('onEpochEnd', epoch, logs);
    }
    await this.call('onTrainEnd', last);
    return this.history;
  }

  /** One pass over the training data, a task step per batch (until a stop): the summed losses and the batch count. */
  private async trainEpoch(train: BatchSource, metrics: MetricAccumulator | null): Promise<{ sums: Record<string, number>; batches: number }> {
    const sums: Record<string, number> = {};
    let batches = 0;
    for await (const batch of iterate(train)) {
      let r: StepResult;
      try {
        r = this.task.trainStep(batch);
      } finally {
        if (ownsBatches(train)) tf.dispose(Object.values(batch));
      }
      if (metrics && r.pred && r.target) metrics.update(r.pred, r.target);
      disposeStep(r);
      for (const [k, v] of Object.entries(r.losses)) sums[k] = (sums[k] ?? 0) + v;
      batches++;
      this.globalStep++;
      for (const s of this.opts.schedulers ?? []) if (s.per === 'batch') s.scheduler.step();
      await this.call('onBatchEnd', this.globalStep, { ...r.losses, lr: this.lr });
      if (Date.now() - this.lastBreath > 50) {
        await breathe();
        this.lastBreath = Date.now();
      }
      if (this.stopTraining) break;
    }
    return { sums, batches };
  }

  /** The numbers of a finished epoch: mean losses, metrics, validation (every validateEvery epochs and the last), lr. */
  private async epochLogs(epoch: number, opts: FitOptions, sums: Record<string, number>, batches: number, metrics: MetricAccumulator | null): Promise<Logs> {
    const logs: Logs = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / batches]));
    Object.assign(logs, metrics?.result() ?? {});
    const isLast = epoch + 1 >= opts.epochs;
    if (opts.validation && ((epoch + 1) % (this.opts.validateEvery ?? 1) === 0 || isLast)) {
      const v = await this.evaluate(opts.validation);
      for (const [k, val] of Object.entries(v)) logs[`val_${k}`] = val;
    }
    logs.lr = this.lr;
    return logs;
  }

  private record(epoch: number, logs: Logs): void {
    const n = this.history.epoch.length;
    this.history.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) {
      // A metric seen for the first time (validation every n epochs) is padded with NaN.
      if (!this.history[k]) this.history[k] = new Array(n).fill(NaN);
      this.history[k].push(v);
    }
    for (const k of Object.keys(this.history)) if (this.history[k].length < n + 1) this.history[k].push(NaN);
  }

  /** Everything needed to continue exactly where this trainer is (see checkpoint.ts). */
  getState(): TrainerState {
    const snap = this.snapshotState();
    try {
      return snap.state();
    } finally {
      snap.dispose();
    }
  }

  /**
   * getState() as it is now, to be read later: the optimizers' tensors are held
   * (sharing their data, no copy) and turned into arrays only when state() is
   * called, everything else is taken at once. dispose() frees the held tensors.
   */
  snapshotState(): { state(): TrainerState; dispose(): void } {
    const optimizers = this.task.optimizers.map((o) => {
      if (o.snapshot) return o.snapshot();
      const sd = o.stateDict();
      return { stateDict: () => sd, dispose: () => {} };
    });
    const epoch = this.epoch;
    const globalStep = this.globalStep;
    // The history only grows during a fit: keep its length now, copy the rows when state() is read
    // (a copy per epoch would cost O(epochs) each epoch; checkpoints are written far less often).
    const rows = this.history.epoch.length;
    const live = this.history;
    const keys = Object.keys(live); // a column a later epoch adds is not this snapshot's
    const history = () => {
      const upTo = Object.fromEntries(keys.map((k) => [k, live[k].slice(0, rows)]));
      return JSON.parse(JSON.stringify(upTo, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)));
    };
    const rng = defaultGenerator.getState();
    const schedulers = (this.opts.schedulers ?? []).map((s) => s.scheduler.stateDict());
    const callbacks = this.callbacks.map((c) => c.getState() ?? null);
    const stateful = (this.opts.stateful ?? []).map((s) => s.getState());
    return {
      state: () => ({ epoch, globalStep, history: history(), rng, optimizers: optimizers.map((o) => o.stateDict()), schedulers, callbacks, stateful }),
      dispose: () => optimizers.forEach((o) => o.dispose()),
    };
  }

  setState(s: TrainerState): void {
    const expect = (what: string, have: number, got: number) => {
      if (have !== got) throw new Error(`Trainer.setState: the checkpoint has ${got} ${what}, this trainer ${have}; resume with the same run settings`);
    };
    expect('optimizers', this.task.optimizers.length, s.optimizers.length);
    expect('schedulers', (this.opts.schedulers ?? []).length, s.schedulers.length);
    this.epoch = s.epoch;
    this.globalStep = s.globalStep;
    this.history = JSON.parse(JSON.stringify(s.history), (_k, v) => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v));
    defaultGenerator.setState(s.rng);
    this.task.optimizers.forEach((o, i) => o.loadStateDict(s.optimizers[i]));
    (this.opts.schedulers ?? []).forEach((sch, i) => sch.scheduler.loadStateDict(s.schedulers[i]));
    this.callbacks.forEach((c, i) => {
      if (s.callbacks[i] !== null && s.callbacks[i] !== undefined) c.setState(s.callbacks[i]);
    });
    (this.opts.stateful ?? []).forEach((o, i) => o.setState(s.stateful[i]));
  }
}
