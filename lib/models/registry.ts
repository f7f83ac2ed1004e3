/**
 * Building a model of the zoo by its run-file name, with the parameter names of
 * XANESNET 2024 (run files in the 2023 style are renamed by lib/config).
 */
import { Module } from '../nn/module';
import { XanesMLP } from './xanesnet/mlp';

export interface ModelDims {
  /** Input features (descriptor length, or spectrum length for spectrum -> structure). */
  nIn: number;
  /** Output size. */
  nOut: number;
}

export type ModelBuilder = (params: Record<string, any>, dims: ModelDims, originalBugs: string[]) => Module;

/** The zoo: add a model by adding a builder here. */
export const MODELS: Record<string, ModelBuilder> = {
  mlp: (p, d) =>
    new XanesMLP({
      nIn: d.nIn,
      nOut: d.nOut,
      hiddenSize: p.hidden_size,
      numHiddenLayers: p.num_hidden_layers,
      shrinkRate: p.shrink_rate,
      dropout: p.dropout,
      activation: p.activation,
    }),
};

export function buildModel(type: string, params: Record<string, any>, dims: ModelDims, originalBugs: string[] = []): Module {
  const make = MODELS[type];
  if (!make) throw new Error(`unknown model '${type}'; the zoo has: ${Object.keys(MODELS).join(', ')}`);
  return make(params, dims, originalBugs);
}

/** What a model's own training step needs (the autoencoders and aegan_mlp have one). */
export interface TaskContext {
  model: Module;
  /** The run's loss (and, for aegan_mlp, the discriminator's). */
  loss: (pred: import('../engine/tf').Tensor, target: import('../engine/tf').Tensor) => import('../engine/tf').Tensor;
  lossDis?: (pred: import('../engine/tf').Tensor, target: import('../engine/tf').Tensor) => import('../engine/tf').Tensor;
  /** Make an optimizer of the run's kind over `params` (lr and options from the run file unless given). */
  makeOptimizer: (params: import('../nn/parameter').Parameter[], which?: 'gen' | 'dis') => import('../train/task').Optimizerlike;
  gradClip: { maxNorm?: number; value?: number } | null;
  originalBugs: string[];
}

export type TaskBuilder = (ctx: TaskContext) => import('../train/task').Task;

/** Models that train with their own step; every other model is trained by `supervised()`. */
export const TASKS: Record<string, TaskBuilder> = {};
