/**
 * PENGUIN, P2 `architectures.py`, for one-channel images of side S (the seed: 256)
 * and L = layer_param (default 64). Six halving convolutions, then three Linear layers:
 *
 *     conv2d1..conv2d6: Conv2d(k4, s2, p1, bias=False) + BatchNorm2d + act
 *         channels 1 -> L -> 2L -> 4L -> 6L -> 8L -> 10L, sides 128 -> 64 -> 32 -> 16 -> 8 -> 4
 *     fc1:    Flatten + Linear(10L * 4 * 4 -> 10L) + BatchNorm1d + act + Dropout(p)
 *     fc2:    Linear(10L -> L) + BatchNorm1d + act + Dropout(p)
 *     output: Linear(L -> 1) + Identity                                     a logit
 *
 * Parameters at S = 256: 4202 L^2 + 112 L + 1 (1,077,505 at L = 16). A smaller S
 * leaves S / 64 x S / 64 after the convolutions (rounded down per layer); S must be
 * at least 64. BatchNorm1d in training needs at least two images per batch.
 *
 * Module names are PyTorch's (conv2d6.1.weight, fc1.2.running_var, output.0.weight...).
 */
import { tf } from '../engine/tf';
import { Module } from '../nn/module';
import { Sequential, Flatten, Identity } from '../nn/containers';
import { Conv2d } from '../nn/conv';
import { BatchNorm1d, BatchNorm2d } from '../nn/batchnorm';
import { Linear } from '../nn/linear';
import { Dropout } from '../nn/dropout';
import { CubeNetOptions, checkOptions, convSizes, sharedActivation } from './raccoon_common';
import { checkImages } from './raccoon';

/** Output channels of the six convolutions, in units of L. */
const WIDTHS = [1, 2, 4, 6, 8, 10];

export class Penguin extends Module {
  readonly activation: Module;
  readonly output_activation: Module;
  readonly conv2d1: Sequential;
  readonly conv2d2: Sequential;
  readonly conv2d3: Sequential;
  readonly conv2d4: Sequential;
  readonly conv2d5: Sequential;
  readonly conv2d6: Sequential;
  readonly fc1: Sequential;
  readonly fc2: Sequential;
  readonly output: Sequential;
  readonly layerParam: number;
  readonly inputSize: number;
  /** Side of the feature maps after the last convolution (4 at S = 256). */
  readonly finalSize: number;

  constructor(o: CubeNetOptions = {}) {
    super();
    const { layerParam: L = 64, inputSize = 256, dropout = 0.5 } = o;
    checkOptions('PENGUIN', L, inputSize, dropout);
    const sizes = convSizes('PENGUIN', inputSize, 6, 4, 2, 1);
    this.layerParam = L;
    this.inputSize = inputSize;
    this.finalSize = sizes[5];
    this.activation = sharedActivation(o.activation ?? 'relu', o.negativeSlope);
    this.output_activation = new Identity();
    const act = this.activation;
    const convs = WIDTHS.map((w, i) => {
      const cin = i === 0 ? 1 : WIDTHS[i - 1] * L;
      return new Sequential(new Conv2d(cin, w * L, 4, { stride: 2, padding: 1, bias: false }), new BatchNorm2d(w * L), act);
    });
    [this.conv2d1, this.conv2d2, this.conv2d3, this.conv2d4, this.conv2d5, this.conv2d6] = convs;
    this.fc1 = new Sequential(new Flatten(), new Linear(10 * L * this.finalSize ** 2, 10 * L), new BatchNorm1d(10 * L), act, new Dropout(dropout));
    this.fc2 = new Sequential(new Linear(10 * L, L), new BatchNorm1d(L), act, new Dropout(dropout));
    this.output = new Sequential(new Linear(L, 1), this.output_activation);
  }

  /** x: (N, 1, S, S) images; returns (N, 1) logits. */
  forward(x: tf.Tensor): tf.Tensor {
    checkImages('PENGUIN', x, this.inputSize);
    return tf.tidy(() => {
      let y = x;
      const layers = [this.conv2d1, this.conv2d2, this.conv2d3, this.conv2d4, this.conv2d5, this.conv2d6, this.fc1, this.fc2, this.output];
      for (const layer of layers) y = layer.forward(y);
      return y;
    });
  }

  extraRepr(): string {
    return `layer_param=${this.layerParam}, input_size=${this.inputSize}`;
  }
}

/** Parameter count of PENGUIN at input 256: 4202 L^2 + 112 L + 1. */
export const penguinParamCount = (L: number): number => 4202 * L * L + 112 * L + 1;
