/**
 * `F`: the layers as functions, as `torch.nn.functional` (`hl.F.linear`, `hl.F.conv2d`,
 * `hl.F.relu`, ...). A layer's forward is one call of these with its own parameters
 * (`Linear.forward` is `F.linear(x, this.weight, this.bias)`), and this is where the
 * native fast path is chosen: on wasm with the native addon built, linear and leaky
 * ReLU run as one native kernel each (lib/engine/native), elsewhere as tfjs ops; the
 * numbers are the same to float32 rounding.
 *
 *     const y = F.relu(F.linear(x, w1, b1));
 */
import { tf } from '../engine/tf';
import { noGrad } from '../engine/autograd';
import { leakyReluNative, linearNative, nativeOpsActive, preluNative, reluNative } from '../engine/native';

export { conv1d, conv2d, convTranspose1d, convTranspose2d } from './conv';
export type { ConvOptions, ConvTransposeOptions } from './conv';

/** Whether a float32 op on `x` goes to the native kernels. */
const useNative = (x: tf.Tensor) => nativeOpsActive() && x.dtype === 'float32';

/** The mask x > 0, outside the gradient tape (a comparison has no gradient). */
const positive = (x: tf.Tensor) => noGrad(() => tf.greater(x, 0));

/**
 * `F.linear(x, weight, bias)`: y = x W^T + b over the last dimension of x, with the weight
 * [out, in] as PyTorch stores it; x may have any leading dimensions (..., in).
 */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null = null): tf.Tensor {
  const last = x.shape[x.rank - 1];
  const [outFeatures, inFeatures] = weight.shape;
  if (weight.rank !== 2 || last !== inFeatures) {
    throw new Error(
      `F.linear: input [${x.shape}] has ${last} features in its last dimension; the weight [${weight.shape}] expects [out, in] with in = ${last}`,
    );
  }
  return tf.tidy(() => {
    const x2 = x.rank === 2 ? x : x.reshape([-1, last]);
    let y: tf.Tensor;
    if (useNative(x)) {
      y = linearNative(x2, weight, bias);
    } else {
      y = tf.matMul(x2, weight, false, true);
      if (bias) y = tf.add(y, bias);
    }
    return x.rank === 2 ? y : y.reshape([...x.shape.slice(0, -1), outFeatures]);
  });
}

export function relu(x: tf.Tensor): tf.Tensor {
  if (useNative(x)) return reluNative(x); // one native kernel each way (lib/engine/native/activations.ts)
  return tf.relu(x);
}

/** max(0, x) + slope * min(0, x); PyTorch's default slope is 0.01. */
export function leakyRelu(x: tf.Tensor, negativeSlope = 0.01): tf.Tensor {
  // on wasm with the native addon, one kernel each way (lib/engine/native/activations.ts)
  if (useNative(x)) return leakyReluNative(x, negativeSlope);
  return tf.leakyRelu(x, negativeSlope);
}

/**
 * x for x > 0, a * x otherwise, with a learned slope `weight`: one value, or one per channel
 * (dimension 1 of x). At x = 0 the gradient is a, as in PyTorch.
 */
export function prelu(x: tf.Tensor, weight: tf.Tensor): tf.Tensor {
  const n = weight.size;
  if (n > 1 && (x.rank < 2 || x.shape[1] !== n)) throw new Error(`F.prelu: input [${x.shape}] needs ${n} channels in dimension 1 for a weight of ${n} slopes`);
  if (useNative(x)) return preluNative(x, weight); // one native kernel each way (lib/engine/native/prelu.ts)
  return tf.tidy(() => {
    let a: tf.Tensor = weight;
    if (n > 1) {
      a = a.reshape([n, ...new Array(x.rank - 2).fill(1)]);
    }
    return tf.where(positive(x), x, tf.mul(a, x));
  });
}

/** x for x > 0, alpha * (exp(x) - 1) otherwise. */
export function elu(x: tf.Tensor, alpha = 1): tf.Tensor {
  if (alpha === 1) return tf.elu(x);
  return tf.tidy(() => tf.where(positive(x), x, tf.mul(alpha, tf.sub(tf.exp(tf.minimum(x, 0)), 1))));
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

/** scale * ELU(x, alpha) with the self-normalising constants of Klambauer et al. (as PyTorch). */
export function selu(x: tf.Tensor): tf.Tensor {
  return tf.selu(x);
}

export function tanh(x: tf.Tensor): tf.Tensor {
  return tanhWithAccurateGrad(x) as tf.Tensor;
}

export function sigmoid(x: tf.Tensor): tf.Tensor {
  return tf.sigmoid(x);
}

/** softmax(x / temperature) along `dim` (default the last). */
export function softmax(x: tf.Tensor, dim = -1, temperature = 1): tf.Tensor {
  if (!(temperature > 0)) throw new Error(`F.softmax: temperature must be > 0, got ${temperature}`);
  return tf.tidy(() => {
    const d = dim < 0 ? x.rank + dim : dim;
    const z = temperature === 1 ? x : tf.div(x, temperature);
    if (d === x.rank - 1) return tf.softmax(z);
    // tf.softmax works on the last axis only: move `dim` there and back.
    const perm = [...Array(x.rank).keys()];
    [perm[d], perm[x.rank - 1]] = [perm[x.rank - 1], perm[d]];
    return tf.transpose(tf.softmax(tf.transpose(z, perm)), perm);
  });
}
