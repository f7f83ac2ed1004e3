/**
 * A learning-rate schedule drawn before training: the lr at every step.
 *
 *     show(lrSchedule(hl.stepLR({ lr: 0.1, stepSize: 30 }), 100));
 */
import { baseLayout, Figure, Trace } from './figure';

/** The lr at step (or epoch) t = 0, 1, 2, ... (the same shape as lib/optim's schedules). */
export type ScheduleFn = (t: number) => number;

export interface LrScheduleOptions {
  /** 'epoch' or 'batch': what a step is, for the axis label. */
  per?: string;
  logY?: boolean;
  title?: string;
  /** Draw several schedules together: their names in the legend. */
  name?: string;
}

/** One schedule, or several as `{ name: fn }` to compare them. */
export function lrSchedule(schedule: ScheduleFn | Record<string, ScheduleFn>, steps: number, opts: LrScheduleOptions = {}): Figure {
  if (!(Number.isInteger(steps) && steps > 0)) throw new Error(`lrSchedule: steps must be a whole number > 0, got ${steps}`);
  const schedules = typeof schedule === 'function' ? { [opts.name ?? 'lr']: schedule } : schedule;
  const x = Array.from({ length: steps }, (_, t) => t);
  const data: Trace[] = Object.entries(schedules).map(([name, fn]) => {
    if (typeof fn !== 'function') throw new Error(`lrSchedule: '${name}' is not a function t => lr`);
    const y = x.map((t) => {
      const lr = fn(t);
      if (!Number.isFinite(lr)) throw new Error(`lrSchedule: '${name}' gave ${lr} at step ${t}; a schedule must return a finite number`);
      return lr;
    });
    return { type: 'scatter', mode: 'lines', name, x, y, line: { shape: 'hv' } };
  });
  const layout = baseLayout(opts.title ?? 'Learning-rate schedule', opts.per ?? 'step', 'learning rate');
  if (opts.logY) layout.yaxis = { ...layout.yaxis, type: 'log' };
  return { data, layout };
}
