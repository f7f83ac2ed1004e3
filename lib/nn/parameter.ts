/**
 * `Parameter`: a trainable tensor with a `.grad`, like `torch.nn.Parameter`.
 *
 * It *is* a `tf.Variable` (so every tfjs op and chained method works on it) with
 * two PyTorch additions:
 * - `grad`: filled (and accumulated) by `backward()`, cleared by `zeroGrad()`;
 * - `requiresGrad`: false freezes it (maps to the variable's `trainable` flag,
 *   so `backward()` computes no gradient for it and optimizers leave it alone).
 */
import { tf } from '../engine/tf';
import type { GradAccumulator } from '../engine/autograd';

interface EngineInternals {
  nextVariableId(): number;
  nextTensorId(): number;
  incRef(t: tf.Tensor, backend: unknown): void;
  backend: unknown;
  state: { registeredVariables: Record<string, tf.Variable> };
}

export class Parameter extends tf.Variable implements GradAccumulator {
  /** The accumulated gradient, in the same shape as the parameter, or null. */
  grad: tf.Tensor | null = null;

  constructor(data: tf.Tensor, requiresGrad = true) {
    const engine = tf.engine() as unknown as EngineInternals;
    const value = data.dtype === 'float32' ? data : tf.cast(data, 'float32');
    // Same steps as tf.variable(), so the engine tracks this variable like any other.
    super(value, requiresGrad, `param_${engine.nextVariableId()}`, engine.nextTensorId());
    if (value !== data) value.dispose();
    engine.state.registeredVariables[this.name] = this;
    engine.incRef(this, engine.backend);
  }

  /**
   * A new parameter of `shape` filled with `value` (layers then initialise it).
   * Unlike `new Parameter(tf.zeros(shape))`, no temporary tensor is left behind.
   */
  static filled(shape: number[], value = 0, requiresGrad = true): Parameter {
    const t = tf.fill(shape, value);
    const p = new Parameter(t, requiresGrad);
    t.dispose(); // the parameter holds its own reference to the data
    return p;
  }

  get requiresGrad(): boolean {
    return this.trainable;
  }

  set requiresGrad(flag: boolean) {
    this.trainable = flag;
  }

  /** Drop the gradient (PyTorch's `zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  /** Add `g` to `.grad` (gradients accumulate until zeroGrad, as in PyTorch). Takes ownership of `g`. */
  accumulateGrad(g: tf.Tensor): void {
    if (this.grad === null) {
      this.grad = g;
    } else {
      const sum = tf.add(this.grad, g);
      this.grad.dispose();
      g.dispose();
      this.grad = sum;
    }
  }

  /** Copy `value` into this parameter in place (`p.data.copy_(value)`). */
  copy_(value: tf.Tensor): this {
    if (value.shape.join(',') !== this.shape.join(',')) {
      throw new Error(`Parameter.copy_: shape [${value.shape}] does not match the parameter's [${this.shape}]`);
    }
    const copy = tf.tidy(() => tf.cast(value, 'float32').clone());
    this.assign(copy); // the variable now shares copy's data ...
    copy.dispose(); // ... so dropping our handle frees nothing
    return this;
  }

  dispose(): void {
    this.zeroGrad();
    super.dispose();
  }
}

/**
 * A tensor from values; with `requiresGrad` it is a Parameter, so `backward()`
 * fills its `.grad` (`torch.tensor([1, 2, 3.], requires_grad=True)`).
 */
export function tensor(values: tf.TensorLike, options: { requiresGrad: true; shape?: number[] }): Parameter;
export function tensor(values: tf.TensorLike, options?: { requiresGrad?: false; shape?: number[] }): tf.Tensor;
export function tensor(values: tf.TensorLike, options?: { requiresGrad?: boolean; shape?: number[] }): tf.Tensor | Parameter;
export function tensor(values: tf.TensorLike, options: { requiresGrad?: boolean; shape?: number[] } = {}): tf.Tensor | Parameter {
  const t = tf.tensor(values, options.shape, 'float32');
  if (!options.requiresGrad) return t;
  const p = new Parameter(t, true);
  t.dispose();
  return p;
}
