/**
 * Activation layers with PyTorch's definitions, and a registry by the names
 * XANESNET run files use (`activation: prelu`).
 */
import { tf } from '../engine/tf';
import { Module } from './module';
import { Parameter } from './parameter';
import { noGrad } from '../engine/autograd';
import { nativeOpsActive } from '../engine/native/wasm';
import { leakyReluNative } from '../engine/native/activations';

/** The mask x > 0, outside the gradient tape (a comparison has no gradient). */
const positive = (x: tf.Tensor) => noGrad(() => tf.greater(x, 0));

export class ReLU extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.relu(x);
  }
}

/** max(0, x) + slope * min(0, x); PyTorch's default slope is 0.01. */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(x: tf.Tensor): tf.Tensor {
    // on wasm with the native addon, one kernel each way (lib/engine/native/activations.ts)
    if (nativeOpsActive() && x.dtype === 'float32') return leakyReluNative(x, this.negativeSlope);
    return tf.leakyRelu(x, this.negativeSlope);
  }
  extraRepr(): string {
    return `negative_slope=${this.negativeSlope}`;
  }
}

/** Leaky ReLU whose slope is learned: one slope (default) or one per channel (dimension 1), initialised to 0.25. */
export class PReLU extends Module {
  weight: Parameter;
  constructor(readonly numParameters = 1, init = 0.25) {
    super();
    this.weight = Parameter.filled([numParameters], init);
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let a: tf.Tensor = this.weight;
      if (this.numParameters > 1) {
        if (x.rank < 2 || x.shape[1] !== this.numParameters) {
          throw new Error(`PReLU(${this.numParameters}): input [${x.shape}] needs ${this.numParameters} channels in dimension 1`);
        }
        a = a.reshape([this.numParameters, ...new Array(x.rank - 2).fill(1)]);
      }
      // x for x > 0, a * x otherwise (at x = 0 the gradient is a, as in PyTorch)
      return tf.where(positive(x), x, tf.mul(a, x));
    });
  }
  extraRepr(): string {
    return `num_parameters=${this.numParameters}`;
  }
}

/** x for x > 0, alpha * (exp(x) - 1) otherwise. */
export class ELU extends Module {
  constructor(readonly alpha = 1) {
    super();
  }
  forward(x: tf.Tensor): tf.Tensor {
    if (this.alpha === 1) return tf.elu(x);
    return tf.tidy(() => tf.where(positive(x), x, tf.mul(this.alpha, tf.sub(tf.exp(tf.minimum(x, 0)), 1))));
  }
  extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/** scale * ELU(x, alpha) with the self-normalising constants of Klambauer et al. (as PyTorch). */
export class SELU extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.selu(x);
  }
}

/**
 * tanh whose gradient 1 - y² is computed as (1 - y)(1 + y), y = tanh(x). Near saturation y is close
 * to 1, and float32's y * y rounds away the digits that 1 - y * y keeps: tfjs's own gradient gives
 * tanh'(5) = 1.8155575e-4, while PyTorch (float32, 1 - y² rounded once) gives 1.8154751e-4, the float32
 * nearest to 1 - y² for the float32 y = tanh(5). 1 - y is exact for y in [0.5, 1], so the product is
 * within an ulp of PyTorch's value (test/layers.test.ts checks it).
 */
const tanhWithAccurateGrad = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  const y = tf.tanh(x);
  save([y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, [ys]: tf.Tensor[]) => tf.mul(dy, tf.mul(tf.sub(1, ys), tf.add(1, ys))),
  };
});

export class Tanh extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return tanhWithAccurateGrad(x) as tf.Tensor;
  }
}

export class Sigmoid extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.sigmoid(x);
  }
}

/** softmax(x / temperature) along `dim` (default the last). Temperature > 1 flattens, < 1 sharpens. */
export class Softmax extends Module {
  constructor(
    readonly dim = -1,
    readonly temperature = 1,
  ) {
    super();
    if (!(temperature > 0)) throw new Error(`Softmax: temperature must be > 0, got ${temperature}`);
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const dim = this.dim < 0 ? x.rank + this.dim : this.dim;
      const z = this.temperature === 1 ? x : tf.div(x, this.temperature);
      if (dim === x.rank - 1) return tf.softmax(z);
      // tf.softmax works on the last axis only: move `dim` there and back.
      const perm = [...Array(x.rank).keys()];
      [perm[dim], perm[x.rank - 1]] = [perm[x.rank - 1], perm[dim]];
      return tf.transpose(tf.softmax(tf.transpose(z, perm)), perm);
    });
  }
  extraRepr(): string {
    return `dim=${this.dim}` + (this.temperature !== 1 ? `, temperature=${this.temperature}` : '');
  }
}

/** Activations by XANESNET name; each call makes a fresh module (PReLU has its own slope). */
export const activations: Record<string, () => Module> = {
  relu: () => new ReLU(),
  prelu: () => new PReLU(),
  tanh: () => new Tanh(),
  sigmoid: () => new Sigmoid(),
  elu: () => new ELU(),
  leakyrelu: () => new LeakyReLU(),
  selu: () => new SELU(),
  softmax: () => new Softmax(),
};

export function getActivation(name: string): Module {
  const make = activations[name.toLowerCase().replace(/[_-]/g, '')];
  if (!make) {
    throw new Error(`unknown activation '${name}'; use one of: ${Object.keys(activations).join(', ')}`);
  }
  return make();
}
