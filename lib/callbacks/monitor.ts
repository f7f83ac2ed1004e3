/**
 * Watching one logged number for improvement (Keras' MonitorCallback): which way is
 * better, by how much it must beat the best, and the best so far. EarlyStopping and
 * ModelCheckpoint are MonitorCallbacks; the report's "best" column uses the same rule.
 *
 *     const m = new Monitor('val_loss');        // mode 'auto': min for losses, max for accuracies
 *     m.update(0.5);  // true: the first value is an improvement
 *     m.update(0.6);  // false; m.best === 0.5
 */
import { Callback } from '../train/callback';

export type MonitorMode = 'auto' | 'min' | 'max';

/**
 * 'max' for accuracy-like names (acc, accuracy, auc, f1, precision, recall, tpr), 'min'
 * for names with 'loss' (and mse, mae, fpr), with or without a val_ prefix; otherwise an error.
 */
export function inferMode(monitor: string): 'min' | 'max' {
  const name = monitor.replace(/^val_/, '');
  if (/(^|_)(acc|accuracy|auc|f1|precision|recall|tpr)$/.test(name)) return 'max';
  if (/loss|^(mse|mae|fpr)$/.test(name)) return 'min';
  throw new Error(`monitor '${monitor}': cannot tell whether it should go up or down; pass mode: 'min' or mode: 'max'`);
}

/** One monitored quantity: its direction, the margin an improvement needs, and the best value seen. */
export class Monitor {
  readonly mode: 'min' | 'max';
  /** How much a value must beat the reference by (always >= 0). */
  readonly minDelta: number;
  /** The best value so far (+Infinity or -Infinity before the first). */
  best: number;

  constructor(
    readonly name: string,
    mode: MonitorMode = 'auto',
    minDelta = 0,
  ) {
    this.mode = mode === 'auto' ? inferMode(name) : mode;
    this.minDelta = Math.abs(minDelta);
    this.best = this.worst;
  }

  /** The value every real value improves on. */
  get worst(): number {
    return this.mode === 'min' ? Infinity : -Infinity;
  }

  /** Keras' `_is_improvement`: current < reference - minDelta (min) or current > reference + minDelta (max). */
  isImprovement(current: number, reference: number = this.best): boolean {
    return this.mode === 'min' ? current + this.minDelta < reference : current - this.minDelta > reference;
  }

  /** Record `value`; true when it improved on the best (which it then becomes). */
  update(value: number): boolean {
    if (!this.isImprovement(value)) return false;
    this.best = value;
    return true;
  }

  reset(): void {
    this.best = this.worst;
  }
}

/** A callback that watches one logged number (Keras' MonitorCallback): EarlyStopping, ModelCheckpoint. */
export abstract class MonitorCallback extends Callback {
  protected readonly monitorOf: Monitor;

  constructor(monitor: string, mode: MonitorMode = 'auto', minDelta = 0) {
    super();
    this.monitorOf = new Monitor(monitor, mode, minDelta);
  }

  get monitor(): string {
    return this.monitorOf.name;
  }

  get mode(): 'min' | 'max' {
    return this.monitorOf.mode;
  }

  get minDelta(): number {
    return this.monitorOf.minDelta;
  }

  get best(): number {
    return this.monitorOf.best;
  }

  set best(v: number) {
    this.monitorOf.best = v;
  }

  /** Keras' `_is_improvement(monitor_value, reference_value)`. */
  isImprovement(current: number, reference: number = this.best): boolean {
    return this.monitorOf.isImprovement(current, reference);
  }
}
