/**
 * Callbacks: code that runs at fixed points of `Trainer.fit`, with Keras' hook
 * names. `logs` holds the numbers of the moment: `loss` and the metrics for the
 * training data, the same with a `val_` prefix for validation, and `lr`.
 */
import type { Module } from '../nn/module';
import type { Task } from './task';

export type Logs = Record<string, number>;

/** Per-epoch numbers: history.loss[i], history.val_loss[i], ... and the epochs they belong to. */
export interface History {
  epoch: number[];
  [metric: string]: number[];
}

/**
 * The training loop as a callback sees it (`this.trainer`): where it is, what it
 * recorded, and the flags a callback sets to stop it. `Trainer` is one.
 */
export interface TrainLoop {
  readonly task: Task;
  readonly model: Module;
  /** Epochs completed (the next epoch to run). */
  readonly epoch: number;
  readonly globalStep: number;
  readonly history: History;
  /** The learning rate of the first optimizer's first group. */
  readonly lr: number;
  /** Batches per epoch when the training data says, else null. */
  readonly batchesPerEpoch: number | null;
  /** The epochs fit() was asked to reach. */
  readonly targetEpochs: number;
  /** Whether fit() was given validation data. */
  readonly hasValidation: boolean;
  /** Set to true to stop after the current batch. */
  stopTraining: boolean;
  /** Why training stopped early, if it did. */
  stopReason: string | null;
  /** Everything needed to continue exactly where the loop is (what a checkpoint keeps). */
  getState(): unknown;
}

export abstract class Callback {
  /** Set by the trainer before training starts. */
  trainer!: TrainLoop;

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
