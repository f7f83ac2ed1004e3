/**
 * `LRScheduler`: binds pure schedules (./schedules.ts) to an optimizer's groups,
 * like `torch.optim.lr_scheduler`:
 *
 *     const opt = new SGD(model.parameters(), { lr: 0.1 });
 *     const sched = new LRScheduler(opt, stepLR({ lr: 0.1, stepSize: 30 }));
 *     for (let epoch = 0; epoch < 100; epoch++) {
 *       trainOneEpoch();   // uses group.lr = schedule(epoch)
 *       sched.step();      // epoch + 1
 *     }
 *
 * As in PyTorch, building it sets the lr of step 0, and step() moves to the next
 * step. `interval` says whether the trainer should call step() after each epoch
 * (default) or after each batch (one-cycle schedules).
 */
import { Optimizer } from './optimizer';
import { Schedule, scheduleFromConfig } from './schedules';

type AnyOptimizer = Optimizer;

/** Set the learning rate of every group (one number), or of each group (one per group). */
export function setLr(optimizer: AnyOptimizer, lr: number | number[]): void {
  const lrs = Array.isArray(lr) ? lr : optimizer.paramGroups.map(() => lr);
  if (lrs.length !== optimizer.paramGroups.length) {
    throw new Error(`setLr: got ${lrs.length} learning rates for ${optimizer.paramGroups.length} parameter groups; give one per group or a single number`);
  }
  lrs.forEach((v, i) => {
    if (!(Number.isFinite(v) && v >= 0)) throw new Error(`setLr: the lr of parameter group ${i} must be a number >= 0, got ${v}`);
  });
  optimizer.paramGroups.forEach((g, i) => (g.lr = lrs[i]));
}

/** The learning rate of each group. */
export function getLr(optimizer: AnyOptimizer): number[] {
  return optimizer.paramGroups.map((g) => g.lr);
}

export type ScheduleInterval = 'epoch' | 'batch';

/** The scheduler's state in PyTorch's spirit (last_epoch is the number of step() calls). */
export interface LRSchedulerStateDict {
  last_epoch: number;
  base_lrs: number[];
  _last_lr: number[];
  interval: ScheduleInterval;
}

export class LRScheduler {
  /** Number of step() calls so far (PyTorch's last_epoch): the schedules are at this step. */
  lastEpoch = 0;
  readonly schedules: Schedule[];
  /** The lr each group had when the scheduler was built (PyTorch's base_lrs / initial_lr). */
  readonly baseLrs: number[];

  /**
   * @param schedule one schedule for every group, or one per group
   * @param options.interval 'epoch' (default) or 'batch': when the trainer calls step()
   */
  constructor(
    readonly optimizer: AnyOptimizer,
    schedule: Schedule | Schedule[],
    readonly options: { interval?: ScheduleInterval } = {},
  ) {
    const groups = optimizer.paramGroups;
    const list = Array.isArray(schedule) ? schedule : groups.map(() => schedule);
    if (list.length !== groups.length) {
      throw new Error(`LRScheduler: got ${list.length} schedules for ${groups.length} parameter groups; give one per group or a single schedule`);
    }
    list.forEach((s, i) => {
      if (typeof s !== 'function') throw new Error(`LRScheduler: schedule ${i} is not a function t => lr (got ${typeof s})`);
    });
    const interval = options.interval ?? 'epoch';
    if (interval !== 'epoch' && interval !== 'batch') throw new Error(`LRScheduler: interval must be 'epoch' or 'batch', got '${interval}'`);
    this.schedules = list;
    for (const g of groups) if (g.initialLr === undefined) g.initialLr = g.lr;
    this.baseLrs = groups.map((g) => g.initialLr!);
    this.apply();
  }

  /** A scheduler from a run file's type and PyTorch kwargs, one schedule per group from its initial lr. */
  static fromConfig(
    optimizer: AnyOptimizer,
    type: string,
    params: Record<string, unknown> | null | undefined,
    epochs: number,
    options: { interval?: ScheduleInterval } = {},
  ): LRScheduler {
    const schedules = optimizer.paramGroups.map((g) => scheduleFromConfig(type, params, g.initialLr ?? g.lr, epochs));
    const interval = options.interval ?? (String(type).toLowerCase() === 'onecycle' ? 'batch' : 'epoch');
    return new LRScheduler(optimizer, schedules, { interval });
  }

  get interval(): ScheduleInterval {
    return this.options.interval ?? 'epoch';
  }

  /** Move to the next step and set every group's lr from its schedule. */
  step(): void {
    this.lastEpoch += 1;
    this.apply();
  }

  /** The lr of each group as last set by the scheduler (`get_last_lr()`). */
  getLastLr(): number[] {
    return this.schedules.map((s) => s(this.lastEpoch));
  }

  private apply(): void {
    const lrs = this.getLastLr();
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = lrs[i]));
  }

  stateDict(): LRSchedulerStateDict {
    return { last_epoch: this.lastEpoch, base_lrs: [...this.baseLrs], _last_lr: this.getLastLr(), interval: this.interval };
  }

  /** Continue from a saved state: the schedules move to last_epoch and set the lr. */
  loadStateDict(sd: LRSchedulerStateDict): void {
    if (typeof sd !== 'object' || sd === null || !(Number.isInteger(sd.last_epoch) && sd.last_epoch >= 0)) {
      throw new Error(`LRScheduler.loadStateDict: expected { last_epoch: integer >= 0, ... } as written by stateDict(), got ${JSON.stringify(sd)}`);
    }
    this.lastEpoch = sd.last_epoch;
    this.apply();
  }
}
