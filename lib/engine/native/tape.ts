/**
 * Lighter saves for the backward pass on the wasm backend (issue 10: small networks, where
 * tfjs' fixed cost per engine call is most of a training step).
 *
 * While recording gradients, tfjs keeps every tensor a kernel's gradient needs (Linear's input
 * and weight, ReLU's output, ...) as `Engine.clone(t)`: an `Identity` kernel run through the
 * engine, plus a tape node from t to the clone, so that a gradient of the gradient can flow
 * through the saved tensor. hyperlab's wasm `Identity` already shares the data (./gaps.ts), but
 * each save still costs a full engine call and a tape node: 7 of the 24 engine calls of the
 * 1000-100-10 MLP's step.
 *
 * At the first level of recording (`gradientDepth` 1: inside `backward()` or `tf.grad`, not
 * inside a gradient of a gradient), the saved tensors are only read by the gradient functions,
 * which then run unrecorded, so that tape node is never used: the clone's output is no op's input,
 * and tfjs drops such nodes before backpropagating. There a save is made as Identity makes it
 * (a new tensor on the same data, its reference count raised), without the kernel call and the
 * node. Nested recording (depth 2 and more), other backends and strings keep tfjs' own clone.
 */
import { tf } from '../tf';

interface EngineInternals {
  state: { gradientDepth: number };
  backendName: string;
  backend: { incRef(dataId: object): void };
  saveTensorsForBackwardMode(tensors: tf.Tensor[]): tf.Tensor[];
  makeTensorFromTensorInfo(info: { dataId: object; shape: number[]; dtype: tf.DataType }): tf.Tensor;
  keep<T extends tf.Tensor>(t: T): T;
}

let installed = false;

/** Replace the engine's saveTensorsForBackwardMode (once); see above. */
export function installLightSaves(): void {
  if (installed) return;
  installed = true;
  const engine = tf.engine() as unknown as EngineInternals;
  const original = engine.saveTensorsForBackwardMode;
  if (typeof original !== 'function' || typeof engine.makeTensorFromTensorInfo !== 'function') return; // another tfjs: leave it
  engine.saveTensorsForBackwardMode = function (this: EngineInternals, tensors: tf.Tensor[]): tf.Tensor[] {
    if (this.state.gradientDepth !== 1 || this.backendName !== 'wasm' || tensors.some((t) => t.dtype === 'string')) {
      return original.call(this, tensors);
    }
    return tensors.map((t) => {
      const saved = this.makeTensorFromTensorInfo({ dataId: t.dataId, shape: t.shape, dtype: t.dtype });
      this.backend.incRef(t.dataId); // as ./gaps.ts' Identity: freed when both are disposed
      return this.keep(saved);
    });
  };
}
