/**
 * A Task says what one training step and one evaluation step do with a batch.
 * The common case, a model trained on (x, y) with one loss and one optimizer, is
 * `supervised()`; the autoencoders and aegan_mlp bring their own tasks.
 */
import { tf } from '../engine/tf';
import { backward, noGrad } from '../engine/autograd';
import { Module } from '../nn/module';
import { Parameter } from '../nn/parameter';
import { clipGradNorm_, clipGradValue_ } from '../nn/clip';
import type { LossFn } from '../losses/common';

/** A batch: named tensors, `x` and `y` for supervised data. The trainer disposes it after the step. */
export type Batch = Record<string, tf.Tensor>;

export interface StepResult {
  /** Named scalar losses; `loss` is the one reported as the loss. */
  losses: Record<string, number>;
  /** Predictions and targets for metrics (disposed by the trainer). */
  pred?: tf.Tensor;
  target?: tf.Tensor;
}

export interface Optimizerlike {
  zeroGrad(): void;
  step(): void;
  stateDict(): unknown;
  /** The state now, as stateDict() later (Optimizer.snapshot); absent: stateDict() is taken at once. */
  snapshot?(): { stateDict(): unknown; dispose(): void };
  loadStateDict(state: any): void;
  paramGroups: { lr: number; params: Parameter[] }[];
}

export interface Task {
  model: Module;
  /** Every optimizer the task steps (saved in checkpoints, stepped by schedules). */
  optimizers: Optimizerlike[];
  trainStep(batch: Batch): StepResult;
  evalStep(batch: Batch): StepResult;
}

export interface SupervisedOptions {
  model: Module;
  optimizer: Optimizerlike;
  loss: LossFn;
  /** Added to the training loss only (XANESNET's L1/L2): a scalar tensor from the parameters. */
  regularization?: (params: Parameter[]) => tf.Tensor;
  gradClip?: { maxNorm?: number; value?: number } | null;
  /** Keep predictions for metrics (costs a copy per batch). */
  keepPredictions?: boolean;
}

/** pred = model(x); loss(pred, y) (+ regularization); backward; clip; step. */
export function supervised(o: SupervisedOptions): Task {
  const params = () => o.model.parameters();
  return {
    model: o.model,
    optimizers: [o.optimizer],
    trainStep(batch) {
      let pred: tf.Tensor | undefined;
      let dataLoss = 0;
      o.optimizer.zeroGrad();
      const total = backward(() => {
        const out = o.model.forward(batch.x) as tf.Tensor;
        if (o.keepPredictions) pred = tf.keep(out.clone());
        const l = o.loss(out, batch.y);
        if (!o.regularization) return l;
        dataLoss = l.dataSync()[0];
        return tf.add(l, o.regularization(params()));
      });
      if (o.gradClip?.maxNorm !== undefined) clipGradNorm_(params(), o.gradClip.maxNorm);
      if (o.gradClip?.value !== undefined) clipGradValue_(params(), o.gradClip.value);
      o.optimizer.step();
      const losses: Record<string, number> = o.regularization ? { loss: total, data_loss: dataLoss } : { loss: total };
      return { losses, pred, target: pred ? batch.y.clone() : undefined };
    },
    evalStep(batch) {
      return noGrad(() => {
        const pred = o.model.forward(batch.x) as tf.Tensor;
        const l = o.loss(pred, batch.y);
        const loss = l.dataSync()[0];
        l.dispose();
        return { losses: { loss }, pred, target: batch.y.clone() };
      });
    },
  };
}
