/**
 * fastai's `fine_tune` (callback/schedule.py), exactly:
 *
 *     self.freeze()
 *     self.fit_one_cycle(freeze_epochs, slice(base_lr), pct_start=0.99)
 *     base_lr /= 2
 *     self.unfreeze()
 *     self.fit_one_cycle(epochs, slice(base_lr/lr_mult, base_lr), pct_start=pct_start, div=div)
 *
 * on a Trainer whose optimizer has parameter groups (body first, head last):
 *
 *     const optimizer = new Adam(paramGroups(model), { lr: 1e-3 });
 *     const trainer = new Trainer({ task: supervised({ model, optimizer, loss }) });
 *     console.log(describeFineTune(fineTunePlan(trainer, trainLoader, 3)));  // the two phases, before training
 *     await fineTune(trainer, trainLoader, 3, { validation: valLoader });
 *
 * With the defaults (baseLr 2e-3, lrMult 100): one frozen epoch with the head's lr
 * peaking at 2e-3 (the body's at 2e-4, but it is frozen), then every group trains
 * with peaks geometric from 1e-5 (first group) to 1e-3 (head), warming up over 30%
 * from peak/5. The plan is fastaiFineTune (lib/optim/schedules.ts): its schedules
 * are the per-batch lrs the fit applies.
 */
import { fastaiFineTune, fastaiOneCycle, FineTunePhase } from '../optim/schedules';
import { freeze, FreezeOptions, modelAndOptimizer, unfreeze } from './freeze';
import { fitOneCycle, OneCycleRun, stepsPerEpochOf } from './one_cycle';
import type { BatchSource, Trainer } from '../train/trainer';

export interface FineTuneOptions extends FreezeOptions {
  /** The head's peak lr in the frozen phase; halved for the unfrozen one (default 2e-3). */
  baseLr?: number;
  /** Epochs with the body frozen (default 1). */
  freezeEpochs?: number;
  /** The head's peak lr over the first group's in the unfrozen phase (default 100). */
  lrMult?: number;
  /** Warm-up fraction of the unfrozen phase (default 0.3; the frozen phase uses 0.99). */
  pctStart?: number;
  /** The unfrozen phase starts at peak / div (default 5; the frozen phase uses 25). */
  div?: number;
  /** Both phases end at peak / divFinal (default 1e5). */
  divFinal?: number;
  /** Momentum cycle of both phases (default [0.95, 0.85, 0.95]). */
  moms?: [number, number, number] | null;
  validation?: BatchSource;
  /** Batches per epoch, when the training data has no `length`. */
  stepsPerEpoch?: number;
}

export interface FineTunePlan {
  frozen: FineTunePhase;
  unfrozen: FineTunePhase;
  nGroups: number;
  stepsPerEpoch: number;
}

/** The two phases fineTune will run (peak lrs and per-batch schedules per group), without training. */
export function fineTunePlan(trainer: Trainer, train: BatchSource, epochs: number, opts: FineTuneOptions = {}): FineTunePlan {
  const { optimizer } = modelAndOptimizer(trainer, 'fineTunePlan');
  const nGroups = optimizer.paramGroups.length;
  const stepsPerEpoch = stepsPerEpochOf(train, opts.stepsPerEpoch, 'fineTune');
  const plan = fastaiFineTune({
    epochs,
    stepsPerEpoch,
    nGroups,
    baseLr: opts.baseLr,
    freezeEpochs: opts.freezeEpochs,
    lrMult: opts.lrMult,
    pctStart: opts.pctStart,
    div: opts.div,
  });
  if (opts.divFinal !== undefined) {
    // fastai passes fine_tune's extra arguments (div_final) to both fit_one_cycle calls.
    const divFinal = opts.divFinal;
    plan.frozen.schedules = plan.frozen.lrMax.map((lrMax) => fastaiOneCycle({ lrMax, totalSteps: plan.frozen.steps, pctStart: 0.99, divFinal }));
    plan.unfrozen.schedules = plan.unfrozen.lrMax.map((lrMax) =>
      fastaiOneCycle({ lrMax, totalSteps: plan.unfrozen.steps, pctStart: opts.pctStart ?? 0.3, div: opts.div ?? 5, divFinal }),
    );
  }
  return { ...plan, nGroups, stepsPerEpoch };
}

/** The plan as text, one line per phase and group. */
export function describeFineTune(plan: FineTunePlan): string {
  const e = (v: number) => v.toExponential(2);
  const phase = (name: string, p: FineTunePhase) =>
    [
      `${name}: ${p.epochs} epoch(s), ${p.steps} batches, ${p.frozen ? 'body frozen (only the last group trains)' : 'all groups train'}`,
      ...p.lrMax.map((lr, g) => {
        const s = p.schedules[g];
        return `  group ${g}${g === plan.nGroups - 1 ? ' (head)' : ''}: lr ${e(s(0))} -> peak ${e(lr)} -> ${e(s(p.steps))}`;
      }),
    ].join('\n');
  return `${phase('phase 1', plan.frozen)}\n${phase('phase 2', plan.unfrozen)}`;
}

export interface FineTuneResult {
  plan: FineTunePlan;
  /** What each phase applied (per-batch lrs per group, momentum) and the history after it. */
  frozen: OneCycleRun;
  unfrozen: OneCycleRun;
}

/** fastai's fine_tune on a trainer (see the file comment): freeze, one cycle, unfreeze, one cycle. */
export async function fineTune(trainer: Trainer, train: BatchSource, epochs: number, opts: FineTuneOptions = {}): Promise<FineTuneResult> {
  const plan = fineTunePlan(trainer, train, epochs, opts);
  const common = { validation: opts.validation, stepsPerEpoch: plan.stepsPerEpoch, divFinal: opts.divFinal, moms: opts.moms };
  freeze(trainer, opts);
  const frozen = await fitOneCycle(trainer, train, plan.frozen.epochs, plan.frozen.lrMax, { ...common, pctStart: 0.99 });
  unfreeze(trainer, opts);
  const unfrozen = await fitOneCycle(trainer, train, plan.unfrozen.epochs, plan.unfrozen.lrMax, {
    ...common,
    pctStart: opts.pctStart ?? 0.3,
    div: opts.div ?? 5,
  });
  return { plan, frozen, unfrozen };
}
