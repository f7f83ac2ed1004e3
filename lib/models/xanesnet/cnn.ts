/**
 * XANESNET's `cnn` (v2023-08; names of v2024-03, shared/specs/models-from-seeds.md):
 *
 *     x (B, L)  ->  (B, 1, L)
 *     for l = 0 .. n_cl-1:  Conv1d(C_{l-1}, C_l, k, stride, padding 0) -> BatchNorm1d(C_l) -> act -> Dropout(p)
 *     flatten (B, C_{n_cl-1} * L_{n_cl})  ->  Linear(., hidden_size) -> act  ->  Linear(hidden_size, nOut)
 *
 * with C_{-1} = 1, C_0 = out_channel, C_{l+1} = C_l * channel_mul and the lengths
 * L_0 = L, L_{l+1} = floor((L_l - k) / stride) + 1. There is no dropout in the dense
 * part (the 2024 docs say there is; the code has none). Example, 49 wACSF features,
 * k 3, stride 1, n_cl 3, out_channel 32, channel_mul 2, hidden 64: lengths
 * 49 -> 47 -> 45 -> 43, channels 32/64/128, flatten 5504 -> 64 -> 226.
 *
 * Parameter names as XANESNET 2024: conv_layers.{l}.{0 conv, 1 bn, 2 act},
 * dense_layers.0.{0 linear, 1 act}, dense_layers.1.0.
 */
import { tf } from '../../engine/tf';
import { Module } from '../../nn/module';
import { Sequential } from '../../nn/containers';
import { Linear } from '../../nn/linear';
import { Conv1d } from '../../nn/conv';
import { BatchNorm1d } from '../../nn/batchnorm';
import { Dropout } from '../../nn/dropout';
import { getActivation } from '../../nn/activations';

export interface XanesCNNOptions {
  nIn: number;
  nOut: number;
  /** The dense layer's width (2023: hidden_layer). */
  hiddenSize?: number;
  numConvLayers?: number;
  outChannel?: number;
  channelMul?: number;
  kernelSize?: number;
  stride?: number;
  dropout?: number;
  activation?: string;
}

/**
 * The lengths L_0 .. L_n of an unpadded Conv1d stack: L_{l+1} = floor((L_l - k) / stride) + 1
 * (XANESNET writes int((L - k) / stride + 1)). Throws, naming the layer, when a layer has no output.
 */
export function convLengths(model: string, L: number, kernelSize: number, stride: number, layers: number): number[] {
  const lengths = [L];
  for (let l = 0; l < layers; l++) {
    const Lin = lengths[l];
    const Lout = Lin >= kernelSize ? Math.floor((Lin - kernelSize) / stride) + 1 : 0;
    if (Lout < 1) {
      throw new Error(
        `${model}: conv layer ${l + 1} of ${layers} gets a length-${Lin} input, shorter than kernel_size ${kernelSize}, so it has no output ` +
          `(lengths so far: ${lengths.join(' -> ')}, stride ${stride}). Lower kernel_size, stride or num_conv_layers (n_cl), or use a longer input.`,
      );
    }
    lengths.push(Lout);
  }
  return lengths;
}

/** Checks shared by the cnn and ae_cnn builders: positive integers where XANESNET needs them. */
export function checkConvOptions(model: string, o: Record<string, number>): void {
  for (const [name, v] of Object.entries(o)) {
    if (!(Number.isInteger(v) && v >= 1)) throw new Error(`${model}: ${name} must be a positive integer, got ${v}`);
  }
}

/** (B, L) -> (B, 1, L), with an error that names the model when the input is not (B, nIn). */
export function asOneChannel(model: string, x: tf.Tensor, nIn: number): tf.Tensor {
  if (x.rank !== 2 || x.shape[1] !== nIn) {
    throw new Error(`${model}: expected input of shape (batch, ${nIn}), got [${x.shape}]`);
  }
  return x.expandDims(1);
}

export class XanesCNN extends Module {
  readonly conv_layers: Sequential;
  readonly dense_layers: Sequential;
  readonly nIn: number;
  /** L_0 .. L_n of the conv stack. */
  readonly lengths: number[];

  constructor(o: XanesCNNOptions) {
    super();
    const {
      nIn,
      nOut,
      hiddenSize = 64,
      numConvLayers = 3,
      outChannel = 32,
      channelMul = 2,
      kernelSize = 3,
      stride = 1,
      dropout = 0.2,
      activation = 'prelu',
    } = o;
    checkConvOptions('cnn', {
      nIn,
      nOut,
      hidden_size: hiddenSize,
      num_conv_layers: numConvLayers,
      out_channel: outChannel,
      channel_mul: channelMul,
      kernel_size: kernelSize,
      stride,
    });
    this.nIn = nIn;
    this.lengths = convLengths('cnn', nIn, kernelSize, stride, numConvLayers);
    const blocks: Module[] = [];
    let cIn = 1;
    let cOut = outChannel;
    for (let l = 0; l < numConvLayers; l++) {
      blocks.push(new Sequential(new Conv1d(cIn, cOut, kernelSize, { stride }), new BatchNorm1d(cOut), getActivation(activation), new Dropout(dropout)));
      cIn = cOut;
      cOut *= channelMul;
    }
    this.conv_layers = new Sequential(...blocks);
    const flat = cIn * this.lengths[numConvLayers];
    this.dense_layers = new Sequential(new Sequential(new Linear(flat, hiddenSize), getActivation(activation)), new Sequential(new Linear(hiddenSize, nOut)));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const h = this.conv_layers.forward(asOneChannel('cnn', x, this.nIn));
      return this.dense_layers.forward(h.reshape([h.shape[0], -1]));
    });
  }
}
