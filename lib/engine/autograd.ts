/**
 * Gradients the way PyTorch teaches them, on top of tfjs' functional autograd.
 *
 * PyTorch records operations as they run and `loss.backward()` walks back.
 * tfjs needs the computation as a function, so the forward pass goes inside
 * `backward(() => ...)`:
 *
 *     optimizer.zeroGrad();
 *     const loss = backward(() => lossFn(model.forward(x), y)); // fills p.grad
 *     optimizer.step();
 *
 * Every intermediate tensor of the forward pass is freed when backward returns.
 */
import { tf } from './tf';

/**
 * A variable that keeps its own gradient (nn's `Parameter`): `backward()` hands it
 * every gradient it computes. Any other variable's gradient is freed.
 */
export interface GradAccumulator {
  accumulateGrad(g: tf.Tensor): void;
}

function accumulatesGrad(v: unknown): v is GradAccumulator {
  return typeof (v as Partial<GradAccumulator> | undefined)?.accumulateGrad === 'function';
}

/**
 * Run `f` (which must return a scalar tensor), compute d(result)/d(p) for every
 * Parameter with requiresGrad that the result depends on, and add it to `p.grad`.
 * Returns the scalar's value.
 */
export function backward(f: () => tf.Tensor): number {
  let result: { value: tf.Scalar; grads: tf.NamedTensorMap };
  try {
    // tidy: if tfjs throws after computing the value, the value is freed too.
    result = tf.tidy(() => tf.variableGrads(f as () => tf.Scalar));
  } catch (e) {
    const msg = (e as Error).message;
    if (/Cannot find a connection|at least one of the input variables/.test(msg)) {
      throw new Error(
        'backward(): the result does not depend on any Parameter with requiresGrad = true. ' +
          'Compute the loss from the model inside the function passed to backward(), ' +
          'and check that not every parameter is frozen.',
      );
    }
    if (/must return a scalar/.test(msg)) {
      throw new Error(`backward(): the function must return a scalar (reduce it with .sum() or .mean()). ${msg}`);
    }
    throw e;
  }
  const registered = tf.engine().registeredVariables;
  for (const [name, g] of Object.entries(result.grads)) {
    const v = registered[name];
    if (accumulatesGrad(v) && g) v.accumulateGrad(g);
    else g?.dispose();
  }
  const value = result.value.dataSync()[0];
  result.value.dispose();
  return value;
}

interface TapeState {
  state: { gradientDepth: number };
}

/**
 * Run `f` without recording it for gradients (`with torch.no_grad():`).
 * Inside `backward(...)`, what `f` returns is a constant: no gradient flows through it.
 */
export function noGrad<T>(f: () => T): T {
  const engine = tf.engine() as unknown as TapeState;
  const saved = engine.state.gradientDepth;
  engine.state.gradientDepth = 0;
  try {
    return f();
  } finally {
    engine.state.gradientDepth = saved;
  }
}

/** A copy of `t` that gradients do not flow through (`t.detach()`). */
export function detach<T extends tf.Tensor>(t: T): T {
  return noGrad(() => t.clone());
}
