/**
 * Callbacks: code that runs at fixed points of `Trainer.fit`, with Keras' hook
 * names. `logs` holds the numbers of the moment: `loss` and the metrics for the
 * training data, the same with a `val_` prefix for validation, and `lr`.
 */
import type { Trainer } from './trainer';

export type Logs = Record<string, number>;

export abstract class Callback {
  /** Set by the trainer before training starts. */
  trainer!: Trainer;

  onTrainBegin(_logs: Logs): void | Promise<void> {}
  onEpochBegin(_epoch: number): void | Promise<void> {}
  onBatchEnd(_step: number, _logs: Logs): void | Promise<void> {}
  onEpochEnd(_epoch: number, _logs: Logs): void | Promise<void> {}
  onTrainEnd(_logs: Logs): void | Promise<void> {}

  /** What must survive a resume (e.g. early stopping's best value); JSON-serialisable. */
  getState(): unknown {
    return undefined;
  }
  setState(_state: unknown): void {}
}

/** A callback from plain functions, for a notebook cell: `lambdaCallback({onEpochEnd: (e, l) => ...})`. */
export function lambdaCallback(hooks: Partial<Pick<Callback, 'onTrainBegin' | 'onEpochBegin' | 'onBatchEnd' | 'onEpochEnd' | 'onTrainEnd'>>): Callback {
  const cb = new (class extends Callback {})();
  Object.assign(cb, hooks);
  return cb;
}
