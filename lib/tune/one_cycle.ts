/**
 * fastai's `fit_one_cycle` (callback/schedule.py) on a Trainer:
 *
 *     await fitOneCycle(trainer, trainLoader, 5, 1e-2, { validation: valLoader });
 *     await fitOneCycle(trainer, trainLoader, 5, sliceLr(1e-5, 1e-3));   // per-group lrs
 *
 * Per batch t of the fit (position t / totalSteps, totalSteps = epochs × batches per
 * epoch), for every parameter group with peak lr lrMax_g:
 *     lr_g  = fastaiOneCycle({ lrMax: lrMax_g, totalSteps, pctStart, div, divFinal })(t)
 *           (cosine lrMax_g/div → lrMax_g over pctStart, then cosine → lrMax_g/divFinal)
 *     mom   = fastaiOneCycleMomentum({ totalSteps, pctStart, moms })(t)   (0.95 → 0.85 → 0.95)
 * set before the batch (fastai's ParamScheduler.before_batch). The momentum is what
 * the optimizer uses as one: SGD's and RMSprop's `momentum` when it was > 0 when the
 * cycle was built, Adam's β1 (`betas[0]`). fastai's SGD and RMSProp built with mom=0
 * ignore the cycled value, and so do ours: their momentum stays 0. As in fastai the
 * lr and momentum are left at their final values after the fit.
 *
 * lrMax: one number for every group, one per group, `sliceLr(stop)` ([stop/10, ...,
 * stop/10, stop]) or `sliceLr(start, stop)` (geometric from start to stop): fastai's
 * `slice`. Left out, each group's current lr is its peak.
 */
import { fastaiOneCycle, fastaiOneCycleMomentum, lrSlice, Schedule } from '../optim/schedules';
import { Callback } from '../train/callback';
import { Optimizerlike } from '../train/task';
import type { BatchSource, History, Trainer } from '../train/trainer';

/** fastai's `slice(stop)` / `slice(start, stop)` for learning rates over parameter groups. */
export interface LrSlice {
  start?: number;
  stop: number;
}

/** `sliceLr(stop)`: stop for the last group, stop/10 for the others; `sliceLr(start, stop)`: geometric. */
export function sliceLr(startOrStop: number, stop?: number): LrSlice {
  return stop === undefined ? { stop: startOrStop } : { start: startOrStop, stop };
}

export type LrSpec = number | number[] | LrSlice;

/** The peak lr of each group of `optimizer` from an LrSpec (or its groups' current lrs). */
export function resolveLrs(optimizer: Optimizerlike, lr: LrSpec | undefined, where: string): number[] {
  const n = optimizer.paramGroups.length;
  let lrs: number[];
  if (lr === undefined) lrs = optimizer.paramGroups.map((g) => g.lr);
  else if (typeof lr === 'number') lrs = new Array(n).fill(lr);
  else if (Array.isArray(lr)) {
    if (lr.length !== n)
      throw new Error(`${where}: got ${lr.length} learning rates for ${n} parameter groups; give one per group, one number, or sliceLr(...)`);
    lrs = [...lr];
  } else if (typeof lr === 'object' && lr !== null && typeof lr.stop === 'number') lrs = lrSlice(n, lr.stop, lr.start);
  else throw new Error(`${where}: the lr must be a number, one number per group or sliceLr(start?, stop), got ${JSON.stringify(lr)}`);
  lrs.forEach((v, i) => {
    if (!(Number.isFinite(v) && v > 0)) throw new Error(`${where}: the lr of parameter group ${i} must be a number > 0, got ${v}`);
  });
  return lrs;
}

// ---- momentum ----------------------------------------------------------------

/** Which option a group uses as its momentum: Adam's betas[0], SGD/RMSprop's momentum (if on), or none. */
export function momentumKey(group: Record<string, unknown>): 'betas' | 'momentum' | null {
  if (Array.isArray(group.betas)) return 'betas';
  if (typeof group.momentum === 'number' && group.momentum > 0) return 'momentum';
  return null;
}

/** The momentum of each group (β1 for Adam), NaN where it has none. */
export function getMomentum(optimizer: Optimizerlike): number[] {
  return optimizer.paramGroups.map((g) => {
    const o = g as unknown as Record<string, unknown>;
    const key = momentumKey(o);
    return key === 'betas' ? (o.betas as number[])[0] : key === 'momentum' ? (o.momentum as number) : NaN;
  });
}

/** Set the momentum (β1 for Adam) of the groups that use one; the others are left alone. */
export function setMomentum(optimizer: Optimizerlike, mom: number): void {
  if (!(mom >= 0 && mom < 1)) throw new Error(`setMomentum: the momentum must be in [0, 1), got ${mom}`);
  for (const g of optimizer.paramGroups) {
    const o = g as unknown as Record<string, unknown>;
    const key = momentumKey(o);
    if (key === 'betas') o.betas = [mom, (o.betas as number[])[1]];
    else if (key === 'momentum') o.momentum = mom;
  }
}

// ---- the schedule as a callback -----------------------------------------------------

export interface OneCycleSchedulerOptions {
  /** Peak lr per group (see LrSpec); default: the groups' current lrs. */
  lrMax?: LrSpec;
  /** Batches in the whole cycle. */
  totalSteps: number;
  /** Fraction of the cycle warming up (default 0.25). */
  pctStart?: number;
  /** Start at lrMax / div (default 25). */
  div?: number;
  /** End at lrMax / divFinal (default 1e5). */
  divFinal?: number;
  /** Momentum start, middle, end (default [0.95, 0.85, 0.95]); null leaves the momentum alone. */
  moms?: [number, number, number] | null;
}

/**
 * The one-cycle schedule as a callback: it sets every group's lr and momentum for
 * batch t before the batch (at the start of training and after each batch). `t`
 * survives a checkpoint (getState), so a resumed run continues the cycle.
 * `record` holds what was applied: per batch, the lr of each group and the momentum.
 */
export class OneCycleScheduler extends Callback {
  /** The batch the next step is (0 at the start). */
  t = 0;
  readonly totalSteps: number;
  /** Per optimizer, per group. */
  readonly lrMax: number[][];
  readonly lrSchedules: Schedule[][];
  readonly momSchedule: Schedule | null;
  /** Applied values per batch: lr[t][g] of the first optimizer's groups, and mom[t]. */
  readonly record: { lr: number[][]; mom: number[] } = { lr: [], mom: [] };

  constructor(
    readonly optimizers: Optimizerlike[],
    opts: OneCycleSchedulerOptions,
  ) {
    super();
    const { totalSteps, pctStart = 0.25, div = 25, divFinal = 1e5, moms = [0.95, 0.85, 0.95] } = opts;
    this.totalSteps = totalSteps;
    this.lrMax = optimizers.map((o) => resolveLrs(o, opts.lrMax, 'OneCycleScheduler'));
    this.lrSchedules = this.lrMax.map((lrs) => lrs.map((lrMax) => fastaiOneCycle({ lrMax, totalSteps, pctStart, div, divFinal })));
    this.momSchedule = moms === null ? null : fastaiOneCycleMomentum({ totalSteps, pctStart, moms });
  }

  /** Set the lrs and momentum of batch t (past the end of the cycle nothing changes). */
  apply(): void {
    if (this.t >= this.totalSteps) return;
    const t = this.t;
    this.optimizers.forEach((o, oi) => o.paramGroups.forEach((g, gi) => (g.lr = this.lrSchedules[oi][gi](t))));
    const mom = this.momSchedule ? this.momSchedule(t) : NaN;
    if (this.momSchedule) for (const o of this.optimizers) setMomentum(o, mom);
    this.record.lr[t] = this.optimizers[0].paramGroups.map((g) => g.lr);
    this.record.mom[t] = mom;
  }

  onTrainBegin(): void {
    this.apply();
  }

  onBatchEnd(): void {
    this.t += 1;
    this.apply();
  }

  getState(): unknown {
    return { t: this.t };
  }

  setState(state: unknown): void {
    const t = (state as { t?: unknown })?.t;
    if (!(Number.isInteger(t) && (t as number) >= 0)) throw new Error(`OneCycleScheduler.setState: expected { t: integer >= 0 }, got ${JSON.stringify(state)}`);
    this.t = t as number;
  }
}

// ---- fitOneCycle ----------------------------------------------------------------------

export interface FitOneCycleOptions extends Omit<OneCycleSchedulerOptions, 'lrMax' | 'totalSteps'> {
  validation?: BatchSource;
  /** Batches per epoch, when the training data has no `length` (a generator). */
  stepsPerEpoch?: number;
}

export interface OneCycleRun {
  history: History;
  /** The lr of each group and the momentum applied at each batch. */
  record: { lr: number[][]; mom: number[] };
  totalSteps: number;
  /** The peak lr of each group (of the first optimizer). */
  lrMax: number[];
}

/** Batches per epoch from the data's length or the option. */
export function stepsPerEpochOf(train: BatchSource, given: number | undefined, where: string): number {
  const len = (train as { length?: unknown }).length;
  const n = given ?? (typeof len === 'number' ? len : undefined);
  if (n === undefined) {
    throw new Error(`${where}: the training data has no length, so the number of batches per epoch is unknown; pass { stepsPerEpoch }`);
  }
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`${where}: batches per epoch must be a positive whole number, got ${n}`);
  return n;
}

/**
 * Train `epochs` more epochs with fastai's one-cycle schedule (per batch) on every
 * group's lr and on the momentum. The trainer's epoch counter and history continue
 * (a second call after a first one adds epochs). Build the trainer without lr
 * schedulers of its own: they would fight over the lr.
 */
export async function fitOneCycle(trainer: Trainer, train: BatchSource, epochs: number, lrMax?: LrSpec, opts: FitOneCycleOptions = {}): Promise<OneCycleRun> {
  if (!(Number.isInteger(epochs) && epochs > 0)) throw new Error(`fitOneCycle: epochs must be a positive whole number, got ${epochs}`);
  const totalSteps = epochs * stepsPerEpochOf(train, opts.stepsPerEpoch, 'fitOneCycle');
  const sched = new OneCycleScheduler(trainer.task.optimizers, { ...opts, lrMax, totalSteps });
  sched.apply(); // batch 0's values before anything else runs
  trainer.addCallback(sched);
  try {
    const history = await trainer.fit(train, { epochs: trainer.epoch + epochs, validation: opts.validation });
    return { history, record: sched.record, totalSteps, lrMax: sched.lrMax[0] };
  } finally {
    const i = trainer.callbacks.indexOf(sched);
    if (i >= 0) trainer.callbacks.splice(i, 1);
  }
}
