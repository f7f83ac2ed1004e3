/**
 * One Adam / AdamW update of one parameter as one native kernel (fused.cc) on
 * the wasm backend, instead of ~12 elementwise tfjs kernels. lib/optim/adam.ts
 * has the update rule and uses this when nativeOpsActive(); the arithmetic is
 * the same, in the same order, in float32.
 *
 *     HyperlabAdam  param, grad, expAvg?, expAvgSq?, maxExpAvgSq?  -> param', expAvg', expAvgSq' (, maxExpAvgSq')
 *
 * Absent moments are zeros (the first step). Not differentiable (optimizers
 * run outside the gradient tape).
 */
import { tf } from '../tf';
import { addonFor, checkFloat32, heapOf, KernelArgs, offsetOf, optionalOffset, registerWasmKernel, runKernel } from './wasm';

const ADAM = 'HyperlabAdam';

export interface AdamStepOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** The step count t, from 1 (for the bias corrections). */
  step: number;
  /** AdamW's decay of the parameter itself instead of an L2 term in the gradient. */
  decoupled: boolean;
  amsgrad: boolean;
  maximize: boolean;
}

function adamKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const { param, grad, expAvg, expAvgSq, maxExpAvgSq } = inputs;
  checkFloat32(ADAM, inputs);
  const o = attrs as unknown as AdamStepOptions;
  const shape = param!.shape;
  const outs = [backend.makeOutput(shape, 'float32'), backend.makeOutput(shape, 'float32'), backend.makeOutput(shape, 'float32')];
  if (o.amsgrad) outs.push(backend.makeOutput(shape, 'float32'));
  const heap = heapOf(backend);
  const off = (t: tf.TensorInfo | undefined) => optionalOffset(backend, t);
  const flags = (o.decoupled ? 1 : 0) | (o.amsgrad ? 2 : 0) | (o.maximize ? 4 : 0);
  addonFor(ADAM).adam(
    heap, offsetOf(backend, param!), offsetOf(backend, grad!), off(expAvg), off(expAvgSq), off(maxExpAvgSq),
    off(outs[0]), off(outs[1]), off(outs[2]), off(outs[3]), tf.util.sizeFromShape(shape),
    o.lr, o.beta1, o.beta2, o.eps, o.weightDecay, o.step, flags,
  );
  return outs;
}

let registered = false;

export function registerAdamKernels(): void {
  if (registered) return;
  registered = true;
  registerWasmKernel(ADAM, adamKernel);
}

/**
 * The new parameter, first and second moments (and running maximum of the
 * second, with amsgrad) after one step. Moments absent on the first step.
 */
export function adamStepNative(
  param: tf.Tensor, grad: tf.Tensor, expAvg: tf.Tensor | undefined, expAvgSq: tf.Tensor | undefined,
  maxExpAvgSq: tf.Tensor | undefined, o: AdamStepOptions,
): tf.Tensor[] {
  return runKernel<tf.Tensor[]>(ADAM, { param, grad, expAvg, expAvgSq, maxExpAvgSq }, o as unknown as Record<string, unknown>);
}
