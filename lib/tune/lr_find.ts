/**
 * `lrFind`: fastai's learning-rate finder (`Learner.lr_find` and the `LRFinder`
 * callback in fastai's callback/schedule.py): an `LRFinder` callback on the one
 * `Trainer.fit` loop, run by an async function that leaves the model, the optimizer,
 * the random stream and the data loader as it found them.
 *
 *     const r = await lrFind({ model, optimizer, loss: getLoss('mse'), data: trainLoader });
 *     r.suggestions.valley   // fastai's default suggestion
 *     // r.lrs and r.losses are the curve to plot (log x axis)
 *
 * What happens, exactly as fastai does it:
 * - Training steps on the training data (no validation), with the learning rate of
 *   step i = 0, 1, ... set before the step to the exponential sweep
 *       lr_i = startLr · (endLr / startLr)^(i / numIt)          (fastai's SchedExp)
 *   for numIt steps (numIt < 6 is raised to 6, as fastai does). The data is iterated
 *   again from the start when one pass has fewer batches than numIt.
 * - The recorded loss is fastai's smooth loss (AvgSmoothLoss, β = 0.98), debiased:
 *       avg_i = β · avg_{i−1} + (1 − β) · loss_i   (avg_{−1} = 0)
 *       smooth_i = avg_i / (1 − β^(i+1))
 * - With stopDiv (the default) it stops after the step where smooth > 4 · best smooth
 *   so far (the diverged point is still recorded, as fastai's Recorder does). It also
 *   stops at a NaN or infinite loss (fastai would carry on with NaNs: NaN > x is false).
 * - Before the sweep the model (parameters and buffers), every optimizer's state dict
 *   (lr, momentum buffers, Adam moments), the global random generator, the data
 *   loader's position and every module's train/eval mode are saved; afterwards they are
 *   all restored, so lrFind changes nothing (fastai saves the model with its optimizer
 *   to `_tmp` and loads it back). Gradients are cleared (fastai calls opt.zero_grad()).
 *
 * Parameter groups: with one startLr/endLr, every group follows the sweep scaled by
 * its current lr relative to the last group's, so discriminative ratios (a small body
 * lr, a larger head lr) are kept and the last group (the head) sees exactly lr_i.
 * (fastai sets every group to lr_i for a single start_lr; pass arrays, one per group,
 * for fastai's per-group sweeps.) The recorded lr is the last group's, as fastai's
 * Recorder records `opt.hypers[-1]['lr']`.
 *
 * Suggestions (fastai's suggestion functions, on lrs[numIt//10 : −5] and the losses
 * likewise, cut at the first NaN): valley (the default), minimum (the lr of the lowest
 * loss / 10), steep (the steepest descent of loss against log lr) and slide.
 */
import { tf } from '../engine/tf';
import { defaultGenerator } from '../engine/random';
import { Module } from '../nn/module';
import type { LossFn } from '../losses/common';
import { Callback, Logs } from '../train/callback';
import { Batch, Optimizerlike, supervised, Task } from '../train/task';
import { Trainer } from '../train/trainer';
import type { BatchSource } from '../train/trainer';

export interface LrFindOptions {
  /** What to train: a task, a trainer (its task), or a model with an optimizer and a loss. */
  task?: Task;
  trainer?: { task: Task };
  model?: Module;
  optimizer?: Optimizerlike;
  loss?: LossFn;
  /** Training batches: a DataLoader, an array, a (re-iterable) generator. */
  data: BatchSource;
  /** First lr of the sweep (default 1e-7); an array gives one per parameter group. */
  startLr?: number | number[];
  /** The lr the sweep would reach at step numIt (default 10); an array gives one per group. */
  endLr?: number | number[];
  /** Number of steps (default 100). */
  numIt?: number;
  /** Stop when the smooth loss exceeds 4 × its best (default true). */
  stopDiv?: boolean;
  /** Smoothing of the loss (default 0.98). */
  beta?: number;
}

/** A suggested lr and the point (lr, loss) to mark on the curve. */
export interface LrSuggestion {
  lr: number;
  point: { lr: number; loss: number };
}

export interface LrSuggestions {
  valley: number;
  minimum: number;
  steep: number;
  slide: number;
  /** Where each suggestion sits on the curve, for plot markers. */
  points: Record<'valley' | 'minimum' | 'steep' | 'slide', { lr: number; loss: number }>;
}

export interface LrFindResult {
  /** The lr of each step (the last parameter group's). */
  lrs: number[];
  /** The smoothed, debiased loss of each step. */
  losses: number[];
  /** The loss of each step as the task reported it. */
  rawLosses: number[];
  suggestions: LrSuggestions;
  /** Why the sweep ended: all numIt steps, divergence, a NaN loss, or a one-shot data source that ran out. */
  stopReason: 'numIt' | 'diverged' | 'nan' | 'data exhausted';
  numIt: number;
}

// ---- the suggestion functions (fastai callback/schedule.py) ------------------------

const NO_POINT = { lr: NaN, loss: NaN };

function argmin(xs: number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] < xs[best]) best = i;
  return best;
}

/**
 * fastai's valley (by ESRI): the longest run of decreasing losses (longest decreasing
 * subsequence ending at each point, O(n²)), then the point a third plus a sixth of the
 * way in, i.e. about halfway along it (fastai: idx = start + int(L/3) + int(L/3/2)).
 */
export function suggestValley(lrs: number[], losses: number[]): LrSuggestion {
  const n = losses.length;
  if (n === 0) return { lr: NaN, point: NO_POINT };
  let maxStart = 0;
  let maxEnd = 0;
  const lds = new Array(n).fill(1);
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (losses[i] < losses[j] && lds[i] < lds[j] + 1) lds[i] = lds[j] + 1;
      if (lds[maxEnd] < lds[i]) {
        maxEnd = i;
        maxStart = maxEnd - lds[maxEnd];
      }
    }
  }
  const sections = (maxEnd - maxStart) / 3;
  const idx = maxStart + Math.trunc(sections) + Math.trunc(sections / 2);
  return { lr: lrs[idx], point: { lr: lrs[idx], loss: losses[idx] } };
}

/** fastai's minimum: one tenth of the lr with the lowest loss. */
export function suggestMinimum(lrs: number[], losses: number[]): LrSuggestion {
  if (losses.length === 0) return { lr: NaN, point: NO_POINT };
  const i = argmin(losses);
  return { lr: lrs[i] / 10, point: { lr: lrs[i], loss: losses[i] } };
}

/** fastai's steep: the lr where (loss[i+1] − loss[i]) / (log lr[i+1] − log lr[i]) is lowest. */
export function suggestSteep(lrs: number[], losses: number[]): LrSuggestion {
  if (losses.length < 2) return { lr: NaN, point: NO_POINT };
  const grads = losses.slice(1).map((l, i) => (l - losses[i]) / (Math.log(lrs[i + 1]) - Math.log(lrs[i])));
  const i = argmin(grads);
  return { lr: lrs[i], point: { lr: lrs[i], loss: losses[i] } };
}

/** numpy.gradient of equally spaced values: central differences inside, one-sided at the ends. */
function gradient(y: number[]): number[] {
  const n = y.length;
  return y.map((_, i) => (i === 0 ? y[1] - y[0] : i === n - 1 ? y[n - 1] - y[n - 2] : (y[i + 1] - y[i - 1]) / 2));
}

/** numpy.interp: linear interpolation of (xs, ys) at x (xs increasing), clamped at the ends. */
function interp(x: number, xs: number[], ys: number[]): number {
  if (x <= xs[0]) return ys[0];
  for (let i = 1; i < xs.length; i++) {
    if (x <= xs[i]) return ys[i - 1] + ((ys[i] - ys[i - 1]) * (x - xs[i - 1])) / (xs[i] - xs[i - 1]);
  }
  return ys[ys.length - 1];
}

/**
 * fastai's slide (by Andrew Chang): walk a window of lrDiff points left from the end
 * while the loss gradients at its two ends differ by more than thresh; suggest the lr
 * at the window's left end (× adjustValue). Needs more than lrDiff points.
 */
export function suggestSlide(lrs: number[], losses: number[], { lrDiff = 15, thresh = 0.005, adjustValue = 1 } = {}): LrSuggestion {
  const n = losses.length;
  if (n < lrDiff + 1) return { lr: NaN, point: NO_POINT };
  const g = gradient(losses);
  const at = <T>(xs: T[], negIdx: number) => xs[n + negIdx]; // Python's xs[-k]
  let r = -1;
  let l = r - lrDiff;
  let localMinLr = at(lrs, l);
  while (l >= -n && Math.abs(at(g, r) - at(g, l)) > thresh) {
    localMinLr = at(lrs, l);
    r -= 1;
    l -= 1;
  }
  const lr = localMinLr * adjustValue;
  const loss = interp(Math.log10(lr), lrs.map(Math.log10), losses);
  return { lr, point: { lr, loss } };
}

/**
 * All four suggestions from a recorded sweep, as fastai's lr_find computes them: on
 * lrs[numIt//10 : −5] and losses[numIt//10 : −5], cut at the first NaN loss. Too few
 * points give NaN suggestions (run more steps, or lower startLr so divergence comes later).
 */
export function lrSuggestions(lrs: number[], losses: number[], numIt: number): LrSuggestions {
  const from = Math.floor(numIt / 10);
  let l = lrs.slice(from, -5);
  let s = losses.slice(from, -5);
  const firstNaN = s.findIndex((v) => Number.isNaN(v));
  if (firstNaN >= 0) {
    l = l.slice(0, firstNaN);
    s = s.slice(0, firstNaN);
  }
  const valley = suggestValley(l, s);
  const minimum = suggestMinimum(l, s);
  const steep = suggestSteep(l, s);
  const slide = suggestSlide(l, s);
  return {
    valley: valley.lr,
    minimum: minimum.lr,
    steep: steep.lr,
    slide: slide.lr,
    points: { valley: valley.point, minimum: minimum.point, steep: steep.point, slide: slide.point },
  };
}

// ---- the sweep: a callback on Trainer.fit ------------------------------------------

function taskOf(o: LrFindOptions): Task {
  if (o.task) return o.task;
  if (o.trainer) return o.trainer.task;
  if (o.model && o.optimizer && o.loss) return supervised({ model: o.model, optimizer: o.optimizer, loss: o.loss });
  throw new Error('lrFind: give { task }, { trainer } or { model, optimizer, loss } (the model, the optimizer it trains with, and the loss function)');
}

/** Per optimizer, per group: the lr of step i. */
function lrPlan(optimizers: Optimizerlike[], startLr: number | number[], endLr: number | number[], numIt: number): (i: number) => number[][] {
  const check = (v: number, what: string) => {
    if (!(Number.isFinite(v) && v > 0)) throw new Error(`lrFind: ${what} must be a number > 0, got ${v}`);
  };
  if (Array.isArray(startLr) || Array.isArray(endLr)) {
    // fastai's listy start_lr / end_lr: an exponential sweep per group.
    const sweeps = optimizers.map((o) => {
      const n = o.paramGroups.length;
      const starts = Array.isArray(startLr) ? startLr : new Array<number>(n).fill(startLr);
      const ends = Array.isArray(endLr) ? endLr : new Array<number>(n).fill(endLr);
      if (starts.length !== n || ends.length !== n) {
        throw new Error(
          `lrFind: got ${starts.length} startLr and ${ends.length} endLr values for ${n} parameter groups; give one per group or a single number`,
        );
      }
      starts.forEach((v, g) => check(v, `startLr of group ${g}`));
      ends.forEach((v, g) => check(v, `endLr of group ${g}`));
      return { starts, ends };
    });
    return (i) => sweeps.map(({ starts, ends }) => starts.map((s, g) => s * (ends[g] / s) ** (i / numIt)));
  }
  check(startLr, 'startLr');
  check(endLr, 'endLr');
  // One sweep; each group keeps its ratio to the last group's lr.
  const ratios = optimizers.map((o) => {
    const last = o.paramGroups[o.paramGroups.length - 1].lr;
    return o.paramGroups.map((g) => (last > 0 && Number.isFinite(g.lr / last) ? g.lr / last : 1));
  });
  return (i) => {
    const lr = startLr * (endLr / startLr) ** (i / numIt);
    return ratios.map((rs) => rs.map((r) => lr * r));
  };
}

/**
 * fastai's LRFinder callback: before step i the learning rates of the sweep, after it the
 * smoothed loss; it stops the fit after numIt steps, at divergence (stopDiv) or at a
 * non-finite loss. lrFind attaches it to a Trainer and restores everything afterwards.
 */
export interface LRFinderOptions {
  /** First lr of the sweep (default 1e-7); an array gives one per parameter group. */
  startLr?: number | number[];
  /** The lr the sweep would reach at step numIt (default 10); an array gives one per group. */
  endLr?: number | number[];
  /** Number of steps (default 100; fewer than 6 become 6). */
  numIt?: number;
  /** Stop when the smooth loss exceeds 4 × its best (default true). */
  stopDiv?: boolean;
  /** Smoothing of the loss (default 0.98). */
  beta?: number;
}

export class LRFinder extends Callback {
  /** The lr of each step (the first optimizer's last parameter group's). */
  readonly lrs: number[] = [];
  /** The smoothed, debiased loss of each step. */
  readonly losses: number[] = [];
  readonly rawLosses: number[] = [];
  stopReason: LrFindResult['stopReason'] = 'numIt';
  readonly numIt: number;
  readonly beta: number;
  readonly stopDiv: boolean;
  private avg = 0;
  private best = Infinity;
  private plan: ((i: number) => number[][]) | null = null;
  private planned: number[][] = [];

  constructor(private readonly options: LRFinderOptions = {}) {
    super();
    this.numIt = Math.max(6, options.numIt ?? 100); // fastai: if num_it < 6: num_it = 6
    if (!Number.isInteger(this.numIt)) throw new Error(`lrFind: numIt must be a whole number, got ${options.numIt}`);
    this.beta = options.beta ?? 0.98;
    if (!(this.beta >= 0 && this.beta < 1)) throw new Error(`lrFind: beta must be in [0, 1), got ${this.beta}`);
    this.stopDiv = options.stopDiv ?? true;
  }

  /** Fix the sweep for these optimizers (checks startLr/endLr against their groups); done at the start of fit otherwise. */
  prepare(optimizers: Optimizerlike[]): void {
    this.plan = lrPlan(optimizers, this.options.startLr ?? 1e-7, this.options.endLr ?? 10, this.numIt);
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.lrs.length;
  }

  private setLrs(i: number): void {
    this.planned = this.plan!(i);
    this.trainer.task.optimizers.forEach((o, oi) => o.paramGroups.forEach((g, gi) => (g.lr = this.planned[oi][gi])));
  }

  onTrainBegin(): void {
    if (!this.plan) this.prepare(this.trainer.task.optimizers);
    this.setLrs(0);
  }

  onBatchEnd(_step: number, logs: Logs): void {
    const i = this.steps;
    const loss = logs.loss;
    this.avg = this.beta * this.avg + (1 - this.beta) * loss;
    const smooth = this.avg / (1 - this.beta ** (i + 1));
    const first = this.planned[0];
    this.lrs.push(first[first.length - 1]);
    this.rawLosses.push(loss);
    this.losses.push(smooth);
    if (!Number.isFinite(smooth)) return this.end('nan');
    if (smooth < this.best) this.best = smooth;
    if (this.stopDiv && smooth > 4 * this.best) return this.end('diverged');
    if (this.steps >= this.numIt) return this.end('numIt');
    this.setLrs(this.steps);
  }

  /** A pass over the data gave no batch: a one-shot source ran out (or it was empty). */
  dataExhausted(): void {
    if (this.steps === 0) throw new Error('lrFind: the data gave no batches; check the dataset size and the batch size (drop_last?)');
    this.end('data exhausted'); // a one-shot generator: pass an array or a DataLoader to sweep past one epoch
  }

  private end(reason: LrFindResult['stopReason']): void {
    this.stopReason = reason;
    this.trainer.stop('requested', `lrFind: ${reason} after ${this.steps} steps`);
  }
}

/**
 * The data as the Trainer sees it: an array as it is (the caller's batches, reused every
 * pass), anything else through a pass that tells the finder when it gave no batch.
 */
function passesOver(data: BatchSource, finder: LRFinder): BatchSource {
  if (Array.isArray(data)) return data;
  return {
    async *[Symbol.asyncIterator]() {
      let n = 0;
      for await (const b of data as AsyncIterable<Batch | tf.Tensor[]>) {
        n++;
        yield b;
      }
      if (n === 0) finder.dataExhausted();
    },
  };
}

/** What an object that can be saved and restored looks like (a DataLoader). */
interface Restorable {
  getState(): unknown;
  setState(s: unknown): void;
}

const isRestorable = (x: unknown): x is Restorable => typeof (x as Restorable).getState === 'function' && typeof (x as Restorable).setState === 'function';

/** Run the lr sweep (Trainer.fit with an LRFinder) and return the curve and fastai's suggestions (see the file comment). */
export async function lrFind(opts: LrFindOptions): Promise<LrFindResult> {
  const task = taskOf(opts);
  const { model, optimizers } = task;
  const data = opts.data;
  if (!data || !(Symbol.iterator in data || Symbol.asyncIterator in data)) {
    throw new Error('lrFind: data must be iterable batches (a DataLoader, an array or a generator of {x, y})');
  }
  const finder = new LRFinder(opts);
  finder.prepare(optimizers);
  const numIt = finder.numIt;
  if (Array.isArray(data) && data.length === 0) finder.dataExhausted();

  // Save everything the sweep changes.
  const savedModel = Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, t.clone()]));
  const savedOptimizers = optimizers.map((o) => o.stateDict());
  const savedRng = defaultGenerator.getState();
  const savedData = isRestorable(data) ? data.getState() : undefined;
  const modules = [...model.modules()];
  const modes = modules.map((m) => m.training);
  try {
    // Every epoch gives at least one step (or ends the sweep), so numIt epochs are enough.
    await new Trainer({ task, callbacks: [finder] }).fit(passesOver(data, finder), { epochs: numIt });
  } finally {
    for (const o of optimizers) o.zeroGrad();
    model.loadStateDict(savedModel);
    tf.dispose(Object.values(savedModel));
    optimizers.forEach((o, oi) => o.loadStateDict(savedOptimizers[oi]));
    defaultGenerator.setState(savedRng);
    if (isRestorable(data)) data.setState(savedData);
    modules.forEach((m, mi) => (m.training = modes[mi]));
  }
  const { lrs, losses, rawLosses, stopReason } = finder;
  return { lrs, losses, rawLosses, suggestions: lrSuggestions(lrs, losses, numIt), stopReason, numIt };
}
