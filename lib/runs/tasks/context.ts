/**
 * What a model's own training step is built from (the autoencoders, aegan_mlp and
 * RACCOON/PENGUIN have one; every other model trains with `supervised()`).
 */
import type { Tensor } from '../../engine/tf';
import type { Module } from '../../nn/module';
import type { Parameter } from '../../nn/parameter';
import type { RunSpec } from '../../config';
import type { Optimizerlike, Task } from '../../train/task';

export interface TaskContext {
  model: Module;
  /** The run's loss (and, for aegan_mlp, the discriminator's). */
  loss: (pred: Tensor, target: Tensor) => Tensor;
  lossDis?: (pred: Tensor, target: Tensor) => Tensor;
  /** Make an optimizer of the run's kind over `params` (lr and options from the run file unless given). */
  makeOptimizer: (params: Parameter[], which?: 'gen' | 'dis') => Optimizerlike;
  gradClip: { maxNorm?: number; value?: number } | null;
  originalBugs: string[];
  /** The whole run, for tasks with settings of their own (RACCOON/PENGUIN: transforms, slicing; aegan_mlp: which loss_dis). */
  spec?: RunSpec;
}

export type TaskBuilder = (ctx: TaskContext) => Task;
