/**
 * XANESNET's `ae_cnn` (v2023-08; names of v2024-03, shared/specs/models-from-seeds.md):
 *
 *     x (B, L) -> (B, 1, L)
 *     encoder:   for l = 0 .. n-1:  Conv1d(C_{l-1}, C_l, k, stride) -> act         (no BatchNorm, no dropout)
 *     predictor: flatten -> Linear(C_{n-1} * L_n, hidden_size) -> act -> Dropout(p) -> Linear(hidden_size, nOut)
 *     decoder:   for j = 0 .. n-1:  ConvTranspose1d(D_j, D_{j+1}, k, stride) -> act, back up to length L_{n-1-j}
 *     forward(x) = [recon (B, L), pred (B, nOut)]
 *
 * with n = num_conv_layers, C_{-1} = 1, C_l = out_channel * mul^l, the encoder lengths
 * L_{l+1} = floor((L_l - k) / stride) + 1 (see ./cnn.ts), and decoder channels
 * D_0 = out_channel * mul^(n-1), D_1 = out_channel * mul^(n-2), D_{j+1} = D_j // mul,
 * except that the last layer has 1 output channel.
 *
 * Decoder lengths. Layer j maps L_in = L_{n-j} to T = (L_in - 1) * stride + k, and its
 * target is the matching encoder length L_{n-1-j}. XANESNET sets
 *
 *     T < target:  output_padding = target - T
 *     T > target:  padding = T - target    (a bug: padding p removes p rows at EACH end,
 *                                           so the output is T - 2 (T - target), too short)
 *
 * hyperlab's default makes the length match exactly: for T > target it uses
 * padding = floor(d / 2) and crops the one remaining row when d = T - target is odd
 * (the crop keeps the state dict unchanged); `original_bugs: [ae_cnn_padding]`
 * restores XANESNET's rule. Note that for this encoder T <= target always holds
 * (T = floor((L - k) / s) * s + k <= L), so with lengths from ./cnn.ts both rules
 * build the same layers; the difference is only reachable through decoderPadding().
 *
 * Parameter names: encoder_layers.{l}.{0 conv, 1 act}, dense_layers.0.{0 linear, 1 act},
 * dense_layers.1.0, decoder_layers.{j}.{0 conv-transpose, 1 act}.
 */
import { tf } from '../../engine/tf';
import { Module } from '../../nn/module';
import { Sequential } from '../../nn/containers';
import { Linear } from '../../nn/linear';
import { Conv1d, ConvTranspose1d } from '../../nn/conv';
import { Dropout } from '../../nn/dropout';
import { getActivation } from '../../nn/activations';
import { asOneChannel, checkConvOptions, convLengths, XanesCNNOptions } from './cnn';

/** The cnn's settings, plus the choice of decoder padding rule. */
export interface XanesAECNNOptions extends XanesCNNOptions {
  /** XANESNET's padding rule (originalBugs 'ae_cnn_padding'). */
  originalPadding?: boolean;
}

export interface DecoderPadding {
  padding: number;
  outputPadding: number;
  /** Rows cropped from the end after the layer (hyperlab's rule only). */
  crop: number;
}

/**
 * padding / output_padding (and crop) for a ConvTranspose1d whose full output T = (L_in - 1) * stride + k
 * must become `target` long. `original`: XANESNET's rule, which is wrong when T > target.
 */
export function decoderPadding(T: number, target: number, stride: number, original = false): DecoderPadding {
  if (T === target) return { padding: 0, outputPadding: 0, crop: 0 };
  if (T < target) {
    const outputPadding = target - T;
    if (outputPadding >= stride) {
      throw new Error(
        `ae_cnn: the decoder would need output_padding ${outputPadding} to reach length ${target} from ${T}, but output_padding must be smaller than stride ${stride}`,
      );
    }
    return { padding: 0, outputPadding, crop: 0 };
  }
  const d = T - target;
  if (original) return { padding: d, outputPadding: 0, crop: 0 }; // output T - 2d
  const padding = Math.floor(d / 2);
  return { padding, outputPadding: 0, crop: d - 2 * padding }; // output T - 2 floor(d/2) - crop = target
}

/** Drops the last `n` positions of (B, C, L): the odd row a symmetric padding cannot remove. */
export class CropEnd1d extends Module {
  constructor(readonly n: number) {
    super();
  }
  forward(x: tf.Tensor): tf.Tensor {
    const L = x.shape[x.rank - 1];
    return tf.slice(x, new Array(x.rank).fill(0), [...x.shape.slice(0, -1), L - this.n]);
  }
  extraRepr(): string {
    return `${this.n}`;
  }
}

export class XanesAECNN extends Module {
  readonly encoder_layers: Sequential;
  readonly dense_layers: Sequential;
  readonly decoder_layers: Sequential;
  readonly nIn: number;
  /** Encoder lengths L_0 .. L_n. */
  readonly lengths: number[];

  constructor(o: XanesAECNNOptions) {
    super();
    const {
      nIn,
      nOut,
      hiddenSize = 64,
      numConvLayers: n = 3,
      outChannel = 32,
      channelMul = 2,
      kernelSize: k = 3,
      stride = 1,
      dropout = 0.2,
      activation = 'prelu',
      originalPadding = false,
    } = o;
    checkConvOptions('ae_cnn', {
      nIn,
      nOut,
      hidden_size: hiddenSize,
      num_conv_layers: n,
      out_channel: outChannel,
      channel_mul: channelMul,
      kernel_size: k,
      stride,
    });
    this.nIn = nIn;
    const L = convLengths('ae_cnn', nIn, k, stride, n);
    this.lengths = L;
    const act = () => getActivation(activation);

    const enc: Module[] = [];
    for (let l = 0; l < n; l++) {
      enc.push(new Sequential(new Conv1d(l === 0 ? 1 : outChannel * channelMul ** (l - 1), outChannel * channelMul ** l, k, { stride }), act()));
    }
    this.encoder_layers = new Sequential(...enc);

    const top = outChannel * channelMul ** (n - 1);
    this.dense_layers = new Sequential(
      new Sequential(new Linear(top * L[n], hiddenSize), act(), new Dropout(dropout)),
      new Sequential(new Linear(hiddenSize, nOut)),
    );

    const dec: Module[] = [];
    let cIn = top;
    let cOut = Math.floor(top / channelMul); // out_channel * mul^(n-2) (unused when n = 1)
    for (let j = 0; j < n; j++) {
      const T = (L[n - j] - 1) * stride + k;
      const target = L[n - 1 - j];
      const p = decoderPadding(T, target, stride, originalPadding);
      const out = j === n - 1 ? 1 : cOut;
      const layer = new ConvTranspose1d(cIn, out, k, { stride, padding: p.padding, outputPadding: p.outputPadding });
      dec.push(p.crop ? new Sequential(layer, act(), new CropEnd1d(p.crop)) : new Sequential(layer, act()));
      cIn = cOut;
      cOut = Math.floor(cOut / channelMul);
    }
    this.decoder_layers = new Sequential(...dec);
  }

  /** [reconstruction (B, L), prediction (B, nOut)]. */
  forward(x: tf.Tensor): [tf.Tensor, tf.Tensor] {
    return tf.tidy(() => {
      const z = this.encoder_layers.forward(asOneChannel('ae_cnn', x, this.nIn));
      const pred = this.dense_layers.forward(z.reshape([z.shape[0], -1]));
      const recon = this.decoder_layers.forward(z).squeeze([1]);
      return [recon, pred] as [tf.Tensor, tf.Tensor];
    });
  }

  predict(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const z = this.encoder_layers.forward(asOneChannel('ae_cnn', x, this.nIn));
      return this.dense_layers.forward(z.reshape([z.shape[0], -1]));
    });
  }

  reconstruct(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.decoder_layers.forward(this.encoder_layers.forward(asOneChannel('ae_cnn', x, this.nIn))).squeeze([1]));
  }
}
