/**
 * Activation layers with PyTorch's definitions, and a registry by the names
 * XANESNET run files use (`activation: prelu`).
 */
import { tf } from '../engine/tf';
import { Module } from './module';
import { Parameter } from './parameter';
import * as F from './functional';

export class ReLU extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return F.relu(x);
  }
}

/** max(0, x) + slope * min(0, x); PyTorch's default slope is 0.01. */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(x: tf.Tensor): tf.Tensor {
    return F.leakyRelu(x, this.negativeSlope); // one native kernel on wasm with the addon
  }
  extraRepr(): string {
    return `negative_slope=${this.negativeSlope}`;
  }
}

/** Leaky ReLU whose slope is learned: one slope (default) or one per channel (dimension 1), initialised to 0.25. */
export class PReLU extends Module {
  weight: Parameter;
  constructor(
    readonly numParameters = 1,
    init = 0.25,
  ) {
    super();
    this.weight = Parameter.filled([numParameters], init);
  }
  forward(x: tf.Tensor): tf.Tensor {
    if (this.numParameters > 1 && (x.rank < 2 || x.shape[1] !== this.numParameters)) {
      throw new Error(`PReLU(${this.numParameters}): input [${x.shape}] needs ${this.numParameters} channels in dimension 1`);
    }
    // x for x > 0, a * x otherwise (at x = 0 the gradient is a, as in PyTorch)
    return F.prelu(x, this.weight);
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
    return F.elu(x, this.alpha);
  }
  extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/** scale * ELU(x, alpha) with the self-normalising constants of Klambauer et al. (as PyTorch). */
export class SELU extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return F.selu(x);
  }
}

export class Tanh extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return F.tanh(x);
  }
}

export class Sigmoid extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return F.sigmoid(x);
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
    return F.softmax(x, this.dim, this.temperature);
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
