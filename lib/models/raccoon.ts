/**
 * RACCOON (the seed spells the class RACOON), P2 `architectures.py`, for one-channel
 * images of side S (the seed: S = 256) and L = layer_param (default 64):
 *
 *     conv2d1: Conv2d(1 -> L,   k4, s4, p0, bias=False) + BatchNorm2d + act   (L,  64, 64)
 *     conv2d2: Conv2d(L -> 4L,  k4, s4, p0, bias=False) + BatchNorm2d + act   (4L, 16, 16)
 *     conv2d3: Conv2d(4L -> 8L, k4, s4, p0, bias=False) + BatchNorm2d + act   (8L,  4,  4)
 *     fc1:     Flatten + Linear(8L * 4 * 4 -> L) + act + Dropout(p)
 *     output:  Linear(L -> 1) + Identity                                      a logit
 *
 * Parameters at S = 256: 704 L^2 + 44 L + 1 (180,929 at L = 16). For a smaller S
 * the 4 x 4 becomes the size left after the three convolutions (S = 64 leaves 1 x 1);
 * S must be at least 64.
 *
 * Module names are PyTorch's (conv2d1.0.weight, conv2d1.1.running_mean, fc1.1.weight,
 * output.0.bias, ...), so a state dict moves between this class and the seed's.
 * See ./raccoon_common.ts for the shared activation and the size arithmetic.
 */
import { tf } from '../engine/tf';
import { Module } from '../nn/module';
import { Sequential, Flatten, Identity } from '../nn/containers';
import { Conv2d } from '../nn/conv';
import { BatchNorm2d } from '../nn/batchnorm';
import { Linear } from '../nn/linear';
import { Dropout } from '../nn/dropout';
import { CubeNetOptions, checkOptions, convSizes, sharedActivation } from './raccoon_common';

export class Raccoon extends Module {
  /** The activation every layer shares (one instance, as in the seed). */
  readonly activation: Module;
  readonly output_activation: Module;
  readonly conv2d1: Sequential;
  readonly conv2d2: Sequential;
  readonly conv2d3: Sequential;
  readonly fc1: Sequential;
  readonly output: Sequential;
  readonly layerParam: number;
  readonly inputSize: number;
  /** Side of the feature maps after the last convolution (4 at S = 256). */
  readonly finalSize: number;

  constructor(o: CubeNetOptions = {}) {
    super();
    const { layerParam: L = 64, inputSize = 256, dropout = 0.5 } = o;
    checkOptions('RACCOON', L, inputSize, dropout);
    const sizes = convSizes('RACCOON', inputSize, 3, 4, 4, 0);
    this.layerParam = L;
    this.inputSize = inputSize;
    this.finalSize = sizes[2];
    // Fields in the seed's registration order, so namedParameters() lists them as PyTorch does.
    this.activation = sharedActivation(o.activation ?? 'relu', o.negativeSlope);
    this.output_activation = new Identity();
    const act = this.activation;
    const block = (cin: number, cout: number) => new Sequential(new Conv2d(cin, cout, 4, { stride: 4, padding: 0, bias: false }), new BatchNorm2d(cout), act);
    this.conv2d1 = block(1, L);
    this.conv2d2 = block(L, 4 * L);
    this.conv2d3 = block(4 * L, 8 * L);
    this.fc1 = new Sequential(new Flatten(), new Linear(8 * L * this.finalSize ** 2, L), act, new Dropout(dropout));
    this.output = new Sequential(new Linear(L, 1), this.output_activation);
  }

  /** x: (N, 1, S, S) images; returns (N, 1) logits. */
  forward(x: tf.Tensor): tf.Tensor {
    checkImages('RACCOON', x, this.inputSize);
    return tf.tidy(() => {
      let y = x;
      for (const layer of [this.conv2d1, this.conv2d2, this.conv2d3, this.fc1, this.output]) y = layer.forward(y);
      return y;
    });
  }

  extraRepr(): string {
    return `layer_param=${this.layerParam}, input_size=${this.inputSize}`;
  }
}

/** The models take (N, 1, S, S) images of the size they were built for. */
export function checkImages(model: string, x: tf.Tensor, S: number): void {
  if (x.rank !== 4 || x.shape[1] !== 1 || x.shape[2] !== S || x.shape[3] !== S) {
    throw new Error(
      `${model}: expected images of shape (N, 1, ${S}, ${S}), got [${x.shape}]. ` +
        (x.rank === 4 && x.shape[1] === 1 && x.shape[2] === x.shape[3]
          ? `Build the model with input_size ${x.shape[2]} for these images.`
          : 'Slice cubes into one-channel square images first (lib/runs/tasks/raccoon_task.ts).'),
    );
  }
}

/** Parameter count of RACCOON at input 256: 704 L^2 + 44 L + 1. */
export const raccoonParamCount = (L: number): number => 704 * L * L + 44 * L + 1;
