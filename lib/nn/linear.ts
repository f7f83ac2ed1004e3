/**
 * `Linear(inFeatures, outFeatures)`: y = x W^T + b, weight stored as PyTorch does, [out, in].
 * On wasm with the native addon, product and bias are one native kernel (F.linear chooses it).
 */
import { tf } from '../engine/tf';
import { Module } from './module';
import { Parameter } from './parameter';
import { defaultBiasInit_, defaultWeightInit_ } from './init';
import * as F from './functional';

export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    bias = true,
  ) {
    super();
    if (!(inFeatures > 0 && outFeatures > 0) || !Number.isInteger(inFeatures) || !Number.isInteger(outFeatures)) {
      throw new Error(`Linear(${inFeatures}, ${outFeatures}): feature counts must be positive integers`);
    }
    this.weight = defaultWeightInit_(Parameter.filled([outFeatures, inFeatures], 0));
    this.bias = bias ? defaultBiasInit_(Parameter.filled([outFeatures], 0), inFeatures) : null;
  }

  forward(x: tf.Tensor): tf.Tensor {
    const last = x.shape[x.rank - 1];
    if (last !== this.inFeatures) {
      throw new Error(
        `Linear(${this.inFeatures}, ${this.outFeatures}): input has ${last} features in its last dimension [${x.shape}], expected ${this.inFeatures}`,
      );
    }
    return F.linear(x, this.weight, this.bias);
  }

  extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}
