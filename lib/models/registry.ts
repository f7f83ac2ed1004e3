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
import { Raccoon } from './raccoon';
import { Penguin } from './penguin';

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
