/**
 * `Linear(inFeatures, outFeatures)`: y = x W^T + b, weight stored as PyTorch does, [out, in].
 * On wasm with the native addon, product and bias are one native kernel (lib/engine/native/linear.ts).
 */
import { tf } from '../engine/tf';
import { nativeOpsActive } from '../engine/native/wasm';
import { linearNative } from '../engine/native/linear';
import { Module } from './module';
import { Parameter } from './parameter';
import { defaultBiasInit_, defaultWeightInit_ } from './init';

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
      throw new Error(`Linear(${this.inFeatures}, ${this.outFeatures}): input has ${last} features in its last dimension [${x.shape}], expected ${this.inFeatures}`);
    }
    return tf.tidy(() => {
      const x2 = x.rank === 2 ? x : x.reshape([-1, last]);
      let y: tf.Tensor;
      if (nativeOpsActive() && x.dtype === 'float32') {
        y = linearNative(x2, this.weight, this.bias);
      } else {
        y = tf.matMul(x2, this.weight, false, true);
        if (this.bias) y = tf.add(y, this.bias);
      }
      return x.rank === 2 ? y : y.reshape([...x.shape.slice(0, -1), this.outFeatures]);
    });
  }

  extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}
