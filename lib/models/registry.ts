/**
 * Building a model of the zoo by its run-file name, with the parameter names of
 * XANESNET 2024 (run files in the 2023 style are renamed by lib/config).
 */
import { Module } from '../nn/module';
import { XanesMLP } from './xanesnet/mlp';
import { XanesCNN } from './xanesnet/cnn';
import { XanesLSTM } from './xanesnet/lstm';
import { XanesAEMLP } from './xanesnet/ae_mlp';
import { XanesAECNN } from './xanesnet/ae_cnn';
import { XanesAEGAN } from './xanesnet/aegan_mlp';
import { autoencoderTask } from './xanesnet/ae_task';
import { aeganTask } from './xanesnet/aegan_task';
import { Raccoon } from './raccoon';
import { Penguin } from './penguin';
import { cubeTaskFor } from './raccoon_task';

export interface ModelDims {
  /** Input features (descriptor length, or spectrum length for spectrum -> structure). */
  nIn: number;
  /** Output size. */
  nOut: number;
}

export type ModelBuilder = (params: Record<string, any>, dims: ModelDims, originalBugs: string[]) => Module;

/** The mlp and ae_mlp settings from a run's model params (2024 names). */
const mlpOptions = (p: Record<string, any>, d: ModelDims) => ({
  nIn: d.nIn,
  nOut: d.nOut,
  hiddenSize: p.hidden_size,
  numHiddenLayers: p.num_hidden_layers,
  shrinkRate: p.shrink_rate,
  dropout: p.dropout,
  activation: p.activation,
});

/** The cnn and ae_cnn settings from a run's model params (2024 names). */
const cnnOptions = (p: Record<string, any>, d: ModelDims) => ({
  nIn: d.nIn,
  nOut: d.nOut,
  hiddenSize: p.hidden_size,
  numConvLayers: p.num_conv_layers,
  outChannel: p.out_channel,
  channelMul: p.channel_mul,
  kernelSize: p.kernel_size,
  stride: p.stride,
  dropout: p.dropout,
  activation: p.activation,
});

/** The zoo: add a model by adding a builder here. */
export const MODELS: Record<string, ModelBuilder> = {
  mlp: (p, d) => new XanesMLP(mlpOptions(p, d)),
  // XANESNET's other five modes (lib/models/xanesnet/*.ts); `bugs` holds the run's original_bugs.
  cnn: (p, d) => new XanesCNN(cnnOptions(p, d)),
  lstm: (p, d, bugs) =>
    new XanesLSTM({
      nIn: d.nIn,
      nOut: d.nOut,
      hiddenSize: p.hidden_size,
      hiddenOutSize: p.hidden_out_size,
      numLayers: p.num_layers,
      dropout: p.dropout,
      activation: p.activation,
      batchAsSequence: hasBug(bugs, 'lstm_batch_sequence'),
    }),
  ae_mlp: (p, d) => new XanesAEMLP(mlpOptions(p, d)),
  ae_cnn: (p, d, bugs) =>
    new XanesAECNN({
      ...cnnOptions(p, d),
      originalPadding: hasBug(bugs, 'ae_cnn_padding'),
    }),
  aegan_mlp: (p, d) =>
    new XanesAEGAN({
      nIn: d.nIn,
      nOut: d.nOut,
      hiddenSize: p.hidden_size,
      numHiddenLayersGen: p.num_hidden_layers_gen,
      numHiddenLayersShared: p.num_hidden_layers_shared,
      numHiddenLayersDis: p.num_hidden_layers_dis,
      activation: p.activation,
    }),
  // RACCOON/PENGUIN (lib/models/raccoon.ts, penguin.ts): run files default to LeakyReLU(0.2), as the seed's runs.
  raccoon: (p) => new Raccoon({ layerParam: p.layer_param, dropout: p.dropout, activation: p.activation ?? 'leakyrelu', inputSize: p.input_size }),
  penguin: (p) => new Penguin({ layerParam: p.layer_param, dropout: p.dropout, activation: p.activation ?? 'leakyrelu', inputSize: p.input_size }),
};

/** Whether the run asks for one of XANESNET's original bugs (run-file `original_bugs`, any case). */
function hasBug(bugs: string[] | undefined, name: string): boolean {
  return (bugs ?? []).some((b) => String(b).toLowerCase() === name);
}

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
  /** The whole run, for tasks with settings of their own (RACCOON/PENGUIN: transforms, slicing; aegan_mlp: which loss_dis). */
  spec?: import('../config').RunSpec;
}

export type TaskBuilder = (ctx: TaskContext) => import('../train/task').Task;

/** Models that train with their own step; every other model is trained by `supervised()`. */
export const TASKS: Record<string, TaskBuilder> = {
  // XANESNET's autoencoders: loss(recon, x) + loss(pred, y), one optimizer (lib/models/xanesnet/ae_task.ts)
  ae_mlp: autoencoderTask,
  ae_cnn: autoencoderTask,
  // generator and discriminator updates with two optimizers (lib/models/xanesnet/aegan_task.ts)
  aegan_mlp: aeganTask,
  // 8 transforms with an optimizer step each per batch of cubes (lib/models/raccoon_task.ts)
  raccoon: cubeTaskFor,
  penguin: cubeTaskFor,
};
