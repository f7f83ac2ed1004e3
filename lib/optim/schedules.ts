/**
 * Learning-rate schedules as pure functions `t => lr`, so they can be plotted
 * before training:
 *
 *     const s = stepLR({ lr: 0.1, stepSize: 30, gamma: 0.1 });
 *     scheduleValues(s, 100);  // the lr of steps 0..99
 *
 * `t` counts calls of `scheduler.step()`: epochs for the per-epoch schedules,
 * batches for the one-cycle ones. `LRScheduler` (./lr_scheduler.ts) binds a
 * schedule to an optimizer.
 *
 * Three families:
 * - PyTorch's `torch.optim.lr_scheduler` (closed forms; the same values as its
 *   recursive `step()` when nothing else changes the lr): stepLR, multiStepLR,
 *   exponentialLR, linearLR, constantLR, cosineAnnealingLR, oneCycleLR.
 * - EpyNN's per-epoch schedules: steady, exp_decay, lin_decay (epynnSchedule).
 * - fastai's one-cycle and fine_tune (fastaiOneCycle, fastaiFineTune).
 */

/** The lr at step (or epoch) t = 0, 1, 2, ... */
export type Schedule = (t: number) => number;

function checkT(t: number, name: string): void {
  if (!(Number.isFinite(t) && t >= 0)) throw new RangeError(`${name}: the step must be a number >= 0, got ${t}`);
}

function positiveInt(value: number, what: string, name: string): void {
  if (!(Number.isInteger(value) && value > 0)) throw new Error(`${name}: ${what} must be a positive integer, got ${value}`);
}

function inUnit(value: number, what: string, name: string): void {
  if (!(value >= 0 && value <= 1)) throw new Error(`${name}: ${what} must be between 0 and 1, got ${value}`);
}

function checkLr(lr: number, name: string, what = 'lr'): void {
  if (!(Number.isFinite(lr) && lr >= 0)) throw new Error(`${name}: ${what} must be a number >= 0, got ${lr}`);
}

/** The values of a schedule at steps start, start+1, ..., start+n−1 (for plotting). */
export function scheduleValues(schedule: Schedule, n: number, start = 0): number[] {
  return Array.from({ length: n }, (_, i) => schedule(start + i));
}

// ---- PyTorch ---------------------------------------------------------------------

/** StepLR: lr · γ^⌊t / stepSize⌋ (decay by γ every stepSize steps). */
export function stepLR({ lr, stepSize, gamma = 0.1 }: { lr: number; stepSize: number; gamma?: number }): Schedule {
  checkLr(lr, 'stepLR');
  positiveInt(stepSize, 'stepSize', 'stepLR');
  return (t) => (checkT(t, 'stepLR'), lr * gamma ** Math.floor(t / stepSize));
}

/** MultiStepLR: lr · γ^(number of milestones ≤ t); a milestone listed twice decays twice. */
export function multiStepLR({ lr, milestones, gamma = 0.1 }: { lr: number; milestones: number[]; gamma?: number }): Schedule {
  checkLr(lr, 'multiStepLR');
  if (!Array.isArray(milestones) || milestones.some((m) => !Number.isInteger(m) || m < 0)) {
    throw new Error(`multiStepLR: milestones must be a list of step numbers (integers >= 0), got ${JSON.stringify(milestones)}`);
  }
  const sorted = [...milestones].sort((a, b) => a - b);
  return (t) => (checkT(t, 'multiStepLR'), lr * gamma ** sorted.filter((m) => m <= t).length);
}

/** ExponentialLR: lr · γ^t. */
export function exponentialLR({ lr, gamma }: { lr: number; gamma: number }): Schedule {
  checkLr(lr, 'exponentialLR');
  if (!(gamma > 0)) throw new Error(`exponentialLR: gamma must be > 0, got ${gamma}`);
  return (t) => (checkT(t, 'exponentialLR'), lr * gamma ** t);
}

/** LinearLR: lr · (s + (e − s) · min(t, T) / T), factor s at t = 0 moving linearly to e at t = T. */
export function linearLR({
  lr,
  startFactor = 1 / 3,
  endFactor = 1,
  totalIters = 5,
}: {
  lr: number;
  startFactor?: number;
  endFactor?: number;
  totalIters?: number;
}): Schedule {
  checkLr(lr, 'linearLR');
  inUnit(startFactor, 'startFactor', 'linearLR');
  inUnit(endFactor, 'endFactor', 'linearLR');
  positiveInt(totalIters, 'totalIters', 'linearLR');
  return (t) => (checkT(t, 'linearLR'), lr * (startFactor + ((endFactor - startFactor) * Math.min(totalIters, t)) / totalIters));
}

/** ConstantLR: lr · factor for t < T, then lr. */
export function constantLR({ lr, factor = 1 / 3, totalIters = 5 }: { lr: number; factor?: number; totalIters?: number }): Schedule {
  checkLr(lr, 'constantLR');
  inUnit(factor, 'factor', 'constantLR');
  if (!(Number.isInteger(totalIters) && totalIters >= 0)) throw new Error(`constantLR: totalIters must be an integer >= 0, got ${totalIters}`);
  return (t) => (checkT(t, 'constantLR'), lr * (factor + (t >= totalIters ? 1 - factor : 0)));
}

/**
 * CosineAnnealingLR, closed form: η_min + (lr − η_min) · (1 + cos(π t / T_max)) / 2.
 * Past T_max it climbs back up (period 2·T_max), as PyTorch's does.
 */
export function cosineAnnealingLR({ lr, tMax, etaMin = 0 }: { lr: number; tMax: number; etaMin?: number }): Schedule {
  checkLr(lr, 'cosineAnnealingLR');
  if (!(tMax > 0)) throw new Error(`cosineAnnealingLR: tMax must be > 0, got ${tMax}`);
  return (t) => (checkT(t, 'cosineAnnealingLR'), etaMin + ((lr - etaMin) * (1 + Math.cos((Math.PI * t) / tMax))) / 2);
}

export interface OneCycleOptions {
  /** The peak learning rate. */
  maxLr: number;
  /** Number of steps in the cycle; or give epochs and stepsPerEpoch. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent increasing the lr (default 0.3). */
  pctStart?: number;
  /** 'cos' (default) or 'linear'. */
  annealStrategy?: 'cos' | 'linear';
  /** Start at maxLr / divFactor (default 25). */
  divFactor?: number;
  /** End at maxLr / divFactor / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Up, back down to the start, then down to the minimum (default false: up, then down). */
  threePhase?: boolean;
}

interface Phase {
  endStep: number;
  from: 'initial' | 'max' | 'min';
  to: 'initial' | 'max' | 'min';
}

/** The phases of PyTorch's OneCycleLR, and its annealing function. */
function oneCyclePhases(
  o: Omit<OneCycleOptions, 'maxLr'>,
  name: string,
): { total: number; phases: Phase[]; anneal: (a: number, b: number, pct: number) => number } {
  const { totalSteps, epochs, stepsPerEpoch, pctStart = 0.3, annealStrategy = 'cos', threePhase = false } = o;
  let total: number;
  if (totalSteps !== undefined) {
    positiveInt(totalSteps, 'totalSteps', name);
    total = totalSteps;
  } else if (epochs !== undefined && stepsPerEpoch !== undefined) {
    positiveInt(epochs, 'epochs', name);
    positiveInt(stepsPerEpoch, 'stepsPerEpoch', name);
    total = epochs * stepsPerEpoch;
  } else {
    throw new Error(`${name}: give totalSteps, or epochs and stepsPerEpoch`);
  }
  inUnit(pctStart, 'pctStart', name);
  if (annealStrategy !== 'cos' && annealStrategy !== 'linear') {
    throw new Error(`${name}: annealStrategy must be 'cos' or 'linear', got '${annealStrategy}'`);
  }
  const phases: Phase[] = threePhase
    ? [
        { endStep: pctStart * total - 1, from: 'initial', to: 'max' },
        { endStep: 2 * pctStart * total - 2, from: 'max', to: 'initial' },
        { endStep: total - 1, from: 'initial', to: 'min' },
      ]
    : [
        { endStep: pctStart * total - 1, from: 'initial', to: 'max' },
        { endStep: total - 1, from: 'max', to: 'min' },
      ];
  // cos: end + (start − end)/2 · (1 + cos(π·pct));  linear: start + (end − start)·pct
  const anneal =
    annealStrategy === 'cos'
      ? (a: number, b: number, pct: number) => b + ((a - b) / 2) * (Math.cos(Math.PI * pct) + 1)
      : (a: number, b: number, pct: number) => (b - a) * pct + a;
  return { total, phases, anneal };
}

/** A schedule evaluating the one-cycle phases with the given start/peak/end values. */
function oneCycleSchedule(name: string, o: Omit<OneCycleOptions, 'maxLr'>, values: Record<Phase['from'], number>): Schedule {
  const { total, phases, anneal } = oneCyclePhases(o, name);
  return (t) => {
    checkT(t, name);
    if (t > total) throw new RangeError(`${name}: tried to step ${t + 1} times; the cycle has ${total} steps (totalSteps)`);
    let start = 0;
    for (let i = 0; ; i++) {
      const { endStep, from, to } = phases[i];
      if (t <= endStep || i === phases.length - 1) return anneal(values[from], values[to], (t - start) / (endStep - start));
      start = endStep;
    }
  };
}

/**
 * OneCycleLR (per batch): from maxLr/divFactor up to maxLr over pctStart of the
 * cycle, then down to maxLr/divFactor/finalDivFactor (PyTorch's phases and
 * step numbering: phase 1 ends at step pctStart·total − 1, the last at total − 1).
 */
export function oneCycleLR(o: OneCycleOptions): Schedule {
  const name = 'oneCycleLR';
  checkLr(o.maxLr, name, 'maxLr');
  const initial = o.maxLr / (o.divFactor ?? 25);
  return oneCycleSchedule(name, o, { initial, max: o.maxLr, min: initial / (o.finalDivFactor ?? 1e4) });
}

/** The momentum PyTorch's OneCycleLR cycles with the lr: maxMomentum → baseMomentum → maxMomentum. */
export function oneCycleMomentum(
  o: Omit<OneCycleOptions, 'maxLr' | 'divFactor' | 'finalDivFactor'> & { baseMomentum?: number; maxMomentum?: number },
): Schedule {
  const base = o.baseMomentum ?? 0.85;
  const max = o.maxMomentum ?? 0.95;
  // The lr's initial → max → (initial) → min is the momentum's max → base → (max) → max.
  return oneCycleSchedule('oneCycleMomentum', o, { initial: max, max: base, min: max });
}

// ---- EpyNN (shared/specs/teaching-anchors.md, section 4) ----------------------------

export type EpynnScheduleName = 'steady' | 'exp_decay' | 'lin_decay';

export interface EpynnOptions {
  schedule: EpynnScheduleName;
  /** The initial learning rate (EpyNN's learning_rate). */
  lr: number;
  /** Number of training epochs. */
  epochs: number;
  /** Decay rate k; 0 (the default) means k = 5 / epc ("~1% of initial lr for last epoch in cycle"). */
  decayK?: number;
  /** Epochs per cycle, epc; 0 (the default) means one cycle of all the epochs. */
  cycleEpochs?: number;
  /** d: each cycle restarts at lr · (1 − d)^cycle (default 0). */
  cycleDescent?: number;
}

/**
 * EpyNN's per-epoch schedules, for epoch x (EpyNN precomputes them for x in [0, epochs)):
 *
 *     epc = cycleEpochs || epochs;   k = decayK || 5 / epc;   d = cycleDescent
 *     steady:    lr
 *     exp_decay: lr · (1 − d)^⌊x / epc⌋ · exp(−k · (x mod epc))
 *     lin_decay: lr / (1 + 100 · k · x)          (ignores cycles)
 */
export function epynnSchedule({ schedule, lr, epochs, decayK = 0, cycleEpochs = 0, cycleDescent = 0 }: EpynnOptions): Schedule {
  const name = `epynnSchedule('${schedule}')`;
  checkLr(lr, name);
  positiveInt(epochs, 'epochs', name);
  if (!(Number.isInteger(cycleEpochs) && cycleEpochs >= 0)) throw new Error(`${name}: cycleEpochs must be an integer >= 0, got ${cycleEpochs}`);
  if (!(decayK >= 0)) throw new Error(`${name}: decayK must be >= 0, got ${decayK}`);
  inUnit(cycleDescent, 'cycleDescent', name);
  const epc = cycleEpochs || epochs;
  const k = decayK !== 0 ? decayK : 5 / epc;
  const d = cycleDescent;
  switch (schedule) {
    case 'steady':
      return (x) => (checkT(x, name), lr);
    case 'exp_decay':
      return (x) => (checkT(x, name), lr * (1 - d) ** Math.floor(x / epc) * Math.exp(-k * (x % epc)));
    case 'lin_decay':
      return (x) => (checkT(x, name), lr / (1 + 100 * k * x));
    default:
      throw new Error(`epynnSchedule: unknown schedule '${schedule}'; use one of: steady, exp_decay, lin_decay`);
  }
}

// ---- fastai (shared/specs/teaching-anchors.md, section 2) ---------------------------

/** fastai's sched_cos: cosine from start (pos 0) to end (pos 1). */
function schedCos(start: number, end: number, pos: number): number {
  return start + ((1 + Math.cos(Math.PI * (1 - pos))) * (end - start)) / 2;
}

/** fastai's combined_cos: cosine start → middle over [0, pct), then middle → end over [pct, 1]. */
function combinedCos(pct: number, start: number, middle: number, end: number): (pos: number) => number {
  return (pos) => (pos < pct ? schedCos(start, middle, pos / pct) : schedCos(middle, end, (pos - pct) / (1 - pct)));
}

export interface FastaiOneCycleOptions {
  lrMax: number;
  /** Batches in the whole fit (epochs × batches per epoch). */
  totalSteps: number;
  /** Fraction spent warming up (fastai's default 0.25). */
  pctStart?: number;
  /** Start at lrMax / div (default 25). */
  div?: number;
  /** End at lrMax / divFinal (default 1e5). */
  divFinal?: number;
}

function fastaiChecks(o: { totalSteps: number; pctStart?: number }, name: string): void {
  positiveInt(o.totalSteps, 'totalSteps', name);
  const pct = o.pctStart ?? 0.25;
  if (!(pct > 0 && pct < 1)) throw new Error(`${name}: pctStart must be between 0 and 1 (exclusive), got ${pct}`);
}

/**
 * fastai's fit_one_cycle lr, per batch t (position t / totalSteps): cosine from
 * lrMax/div up to lrMax over pctStart, then cosine down to lrMax/divFinal.
 */
export function fastaiOneCycle({ lrMax, totalSteps, pctStart = 0.25, div = 25, divFinal = 1e5 }: FastaiOneCycleOptions): Schedule {
  const name = 'fastaiOneCycle';
  checkLr(lrMax, name, 'lrMax');
  fastaiChecks({ totalSteps, pctStart }, name);
  const f = combinedCos(pctStart, lrMax / div, lrMax, lrMax / divFinal);
  return (t) => {
    checkT(t, name);
    if (t > totalSteps) throw new RangeError(`${name}: step ${t} is past the cycle's ${totalSteps} steps`);
    return f(t / totalSteps);
  };
}

/** fastai's fit_one_cycle momentum: moms[0] → moms[1] → moms[2] (default 0.95, 0.85, 0.95). */
export function fastaiOneCycleMomentum({
  totalSteps,
  pctStart = 0.25,
  moms = [0.95, 0.85, 0.95],
}: {
  totalSteps: number;
  pctStart?: number;
  moms?: [number, number, number];
}): Schedule {
  const name = 'fastaiOneCycleMomentum';
  fastaiChecks({ totalSteps, pctStart }, name);
  const f = combinedCos(pctStart, moms[0], moms[1], moms[2]);
  return (t) => (checkT(t, name), f(t / totalSteps));
}

/**
 * fastai's learning rates for n parameter groups from `slice(stop)` (start omitted:
 * [stop/10, ..., stop/10, stop]) or `slice(start, stop)` (geometric from start to stop).
 */
export function lrSlice(nGroups: number, stop: number, start?: number): number[] {
  positiveInt(nGroups, 'nGroups', 'lrSlice');
  if (start) {
    if (nGroups === 1) return [stop];
    const step = (stop / start) ** (1 / (nGroups - 1));
    return Array.from({ length: nGroups }, (_, i) => start * step ** i);
  }
  return [...Array(nGroups - 1).fill(stop / 10), stop];
}

export interface FineTunePhase {
  /** Epochs in this phase. */
  epochs: number;
  /** Batches in this phase (epochs × stepsPerEpoch); each schedule runs over t = 0..steps−1. */
  steps: number;
  /** Whether the body is frozen (only the last group trains). */
  frozen: boolean;
  /** The peak lr of each parameter group. */
  lrMax: number[];
  /** One schedule per parameter group. */
  schedules: Schedule[];
}

/**
 * fastai's fine_tune as two inspectable phases (callback/schedule.py):
 *
 *     freeze();   fit_one_cycle(freezeEpochs, slice(baseLr), pct_start=0.99)
 *     baseLr /= 2; unfreeze()
 *     fit_one_cycle(epochs, slice(baseLr/lrMult, baseLr), pct_start=pctStart, div=div)
 */
export function fastaiFineTune({
  epochs,
  stepsPerEpoch,
  nGroups = 1,
  baseLr = 2e-3,
  freezeEpochs = 1,
  lrMult = 100,
  pctStart = 0.3,
  div = 5,
}: {
  epochs: number;
  stepsPerEpoch: number;
  nGroups?: number;
  baseLr?: number;
  freezeEpochs?: number;
  lrMult?: number;
  pctStart?: number;
  div?: number;
}): { frozen: FineTunePhase; unfrozen: FineTunePhase } {
  const name = 'fastaiFineTune';
  positiveInt(epochs, 'epochs', name);
  positiveInt(stepsPerEpoch, 'stepsPerEpoch', name);
  positiveInt(freezeEpochs, 'freezeEpochs', name);
  checkLr(baseLr, name, 'baseLr');
  const frozenMax = lrSlice(nGroups, baseLr);
  const frozenSteps = freezeEpochs * stepsPerEpoch;
  const half = baseLr / 2;
  const unfrozenMax = lrSlice(nGroups, half, half / lrMult);
  const unfrozenSteps = epochs * stepsPerEpoch;
  return {
    frozen: {
      epochs: freezeEpochs,
      steps: frozenSteps,
      frozen: true,
      lrMax: frozenMax,
      schedules: frozenMax.map((lrMax) => fastaiOneCycle({ lrMax, totalSteps: frozenSteps, pctStart: 0.99 })),
    },
    unfrozen: {
      epochs,
      steps: unfrozenSteps,
      frozen: false,
      lrMax: unfrozenMax,
      schedules: unfrozenMax.map((lrMax) => fastaiOneCycle({ lrMax, totalSteps: unfrozenSteps, pctStart, div })),
    },
  };
}

// ---- by name, for run files ---------------------------------------------------------

interface ConfigEntry {
  /** PyTorch keyword arguments this type accepts, and which of them are required. */
  kwargs: string[];
  required: string[];
  make: (p: Record<string, any>, lr: number, epochs: number) => Schedule;
}

const CONFIG_SCHEDULES: Record<string, ConfigEntry> = {
  step: {
    kwargs: ['step_size', 'gamma'],
    required: ['step_size'],
    make: (p, lr) => stepLR({ lr, stepSize: p.step_size, gamma: p.gamma }),
  },
  multistep: {
    kwargs: ['milestones', 'gamma'],
    required: ['milestones'],
    make: (p, lr) => multiStepLR({ lr, milestones: p.milestones, gamma: p.gamma }),
  },
  exponential: {
    kwargs: ['gamma'],
    required: ['gamma'],
    make: (p, lr) => exponentialLR({ lr, gamma: p.gamma }),
  },
  linear: {
    kwargs: ['start_factor', 'end_factor', 'total_iters'],
    required: [],
    make: (p, lr) => linearLR({ lr, startFactor: p.start_factor, endFactor: p.end_factor, totalIters: p.total_iters }),
  },
  constant: {
    kwargs: ['factor', 'total_iters'],
    required: [],
    make: (p, lr) => constantLR({ lr, factor: p.factor, totalIters: p.total_iters }),
  },
  cosine: {
    kwargs: ['T_max', 'eta_min'],
    required: [],
    make: (p, lr, epochs) => cosineAnnealingLR({ lr, tMax: p.T_max ?? epochs, etaMin: p.eta_min }),
  },
  onecycle: {
    kwargs: ['max_lr', 'total_steps', 'epochs', 'steps_per_epoch', 'pct_start', 'anneal_strategy', 'div_factor', 'final_div_factor', 'three_phase'],
    required: [],
    make: (p, lr, epochs) =>
      oneCycleLR({
        maxLr: p.max_lr ?? lr,
        totalSteps: p.total_steps ?? (p.epochs === undefined ? epochs : undefined),
        epochs: p.epochs,
        stepsPerEpoch: p.steps_per_epoch,
        pctStart: p.pct_start,
        annealStrategy: p.anneal_strategy,
        divFactor: p.div_factor,
        finalDivFactor: p.final_div_factor,
        threePhase: p.three_phase,
      }),
  },
  steady: { kwargs: [], required: [], make: (_, lr, epochs) => epynnSchedule({ schedule: 'steady', lr, epochs }) },
  exp_decay: {
    kwargs: ['decay_k', 'cycle_epochs', 'cycle_descent'],
    required: [],
    make: (p, lr, epochs) =>
      epynnSchedule({ schedule: 'exp_decay', lr, epochs, decayK: p.decay_k, cycleEpochs: p.cycle_epochs, cycleDescent: p.cycle_descent }),
  },
  lin_decay: {
    kwargs: ['decay_k', 'cycle_epochs', 'cycle_descent'],
    required: [],
    make: (p, lr, epochs) =>
      epynnSchedule({ schedule: 'lin_decay', lr, epochs, decayK: p.decay_k, cycleEpochs: p.cycle_epochs, cycleDescent: p.cycle_descent }),
  },
};

/** The schedule types scheduleFromConfig knows. */
export const scheduleTypes = (): string[] => Object.keys(CONFIG_SCHEDULES);

/**
 * A schedule from a run file: XANESNET's `scheduler_type` (step, multistep,
 * exponential, linear, constant) with PyTorch's keyword arguments
 * (`scheduler_param: { step_size: 100, gamma: 0.5 }`), and also cosine
 * (T_max defaults to `epochs`), onecycle (max_lr defaults to `baseLr`,
 * total_steps to `epochs`) and EpyNN's steady / exp_decay / lin_decay.
 * An unknown type, an unknown keyword or a missing required one throws.
 */
export function scheduleFromConfig(type: string, params: Record<string, unknown> | null | undefined, baseLr: number, epochs: number): Schedule {
  const entry = CONFIG_SCHEDULES[String(type).toLowerCase()];
  if (!entry) throw new Error(`unknown lr scheduler type '${type}'; use one of: ${scheduleTypes().join(', ')}`);
  const p = params ?? {};
  for (const key of Object.keys(p)) {
    if (!entry.kwargs.includes(key)) {
      throw new Error(
        `lr scheduler '${type}': unknown parameter '${key}'; ` + (entry.kwargs.length ? `it takes ${entry.kwargs.join(', ')}` : 'it takes no parameters'),
      );
    }
  }
  for (const key of entry.required) {
    if (p[key] === undefined) throw new Error(`lr scheduler '${type}': missing parameter '${key}' (it takes ${entry.kwargs.join(', ')})`);
  }
  return entry.make(p, baseLr, epochs);
}
