/**
 * One Adam / AdamW update of every parameter of a parameter group as one tfjs
 * kernel on the wasm backend (the addon's `adam` loop of fused.cc, once per
 * parameter, inside the one kernel), instead of ~12 elementwise tfjs kernels per
 * parameter: a small MLP's 8 parameters cost one dispatch instead of ~100.
 * lib/optim/adam.ts has the update rule and uses this when nativeOpsActive();
 * the arithmetic is the same, in the same order, in float32.
 *
 *     HyperlabAdam  inputs, per parameter: param, grad, then expAvg, expAvgSq, maxExpAvgSq where present
 *                   outputs, per parameter: param', expAvg', expAvgSq' (, maxExpAvgSq' with amsgrad)
 *
 * Absent moments are zeros (the first step). Not differentiable (optimizers
 * run outside the gradient tape).
 *
 * `adamStepsInPlaceNative` does the same update in place, as PyTorch's `p.addcdiv_(...)`, with no
 * tfjs kernel, no new tensors and no `assign`, where nothing else can see the change: each
 * parameter and moment must hold its data alone (reference count 1 in the wasm backend), as for
 * SGD (sgd.ts).
 */
import { tf } from '../tf';
import { addonFor, checkFloat32, heapOf, KernelArgs, nativeOpCalls, offsetOf, optionalOffset, registerWasmKernel, WasmBackend } from './wasm';

const ADAM = 'HyperlabAdam';
/** Counted in nativeOpCalls (not a tfjs kernel). */
const ADAM_IN_PLACE = 'HyperlabAdamInPlace';

export interface AdamStepOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW's decay of the parameter itself instead of an L2 term in the gradient. */
  decoupled: boolean;
  amsgrad: boolean;
  maximize: boolean;
}

/** One parameter's part of the update: its tensors and its step count t, from 1 (for the bias corrections). */
export interface AdamItem {
  param: tf.Tensor;
  grad: tf.Tensor;
  expAvg?: tf.Tensor;
  expAvgSq?: tf.Tensor;
  maxExpAvgSq?: tf.Tensor;
  step: number;
}

interface AdamAttrs extends AdamStepOptions {
  /** Per parameter: which optional inputs follow param and grad (bits 1 expAvg, 2 expAvgSq, 4 maxExpAvgSq). */
  present: number[];
  steps: number[];
}

function adamKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  checkFloat32(ADAM, inputs);
  const o = attrs as unknown as AdamAttrs;
  const list = inputs as unknown as tf.TensorInfo[];
  // read each parameter's inputs, and allocate every output before taking the heap (allocating may grow it)
  const parts: { ins: (tf.TensorInfo | undefined)[]; outs: tf.TensorInfo[]; size: number }[] = [];
  let k = 0;
  for (const present of o.present) {
    const param = list[k++];
    const grad = list[k++];
    const expAvg = present & 1 ? list[k++] : undefined;
    const expAvgSq = present & 2 ? list[k++] : undefined;
    const maxExpAvgSq = present & 4 ? list[k++] : undefined;
    const outs = [backend.makeOutput(param.shape, 'float32'), backend.makeOutput(param.shape, 'float32'), backend.makeOutput(param.shape, 'float32')];
    if (o.amsgrad) outs.push(backend.makeOutput(param.shape, 'float32'));
    parts.push({ ins: [param, grad, expAvg, expAvgSq, maxExpAvgSq], outs, size: tf.util.sizeFromShape(param.shape) });
  }
  const heap = heapOf(backend);
  const addon = addonFor(ADAM);
  const off = (t: tf.TensorInfo | undefined) => optionalOffset(backend, t);
  const flags = (o.decoupled ? 1 : 0) | (o.amsgrad ? 2 : 0) | (o.maximize ? 4 : 0);
  parts.forEach(({ ins, outs, size }, i) => {
    addon.adam(
      heap,
      offsetOf(backend, ins[0]!),
      offsetOf(backend, ins[1]!),
      off(ins[2]),
      off(ins[3]),
      off(ins[4]),
      off(outs[0]),
      off(outs[1]),
      off(outs[2]),
      off(outs[3]),
      size,
      o.lr,
      o.beta1,
      o.beta2,
      o.eps,
      o.weightDecay,
      o.steps[i],
      flags,
    );
  });
  return parts.flatMap((p) => p.outs);
}

let registered = false;

export function registerAdamKernels(): void {
  if (registered) return;
  registered = true;
  registerWasmKernel(ADAM, adamKernel);
}

/**
 * Per parameter, the new parameter, first and second moments (and running
 * maximum of the second, with amsgrad) after one step, all from one kernel.
 */
export function adamStepsNative(items: AdamItem[], o: AdamStepOptions): tf.Tensor[][] {
  const inputs: tf.Tensor[] = [];
  const present: number[] = [];
  for (const it of items) {
    inputs.push(it.param, it.grad);
    let bits = 0;
    if (it.expAvg) {
      bits |= 1;
      inputs.push(it.expAvg);
    }
    if (it.expAvgSq) {
      bits |= 2;
      inputs.push(it.expAvgSq);
    }
    if (it.maxExpAvgSq && o.amsgrad) {
      bits |= 4;
      inputs.push(it.maxExpAvgSq);
    }
    present.push(bits);
  }
  nativeOpCalls[ADAM] = (nativeOpCalls[ADAM] ?? 0) + 1;
  const attrs = { ...o, present, steps: items.map((it) => it.step) };
  const outs = tf.engine().runKernel(ADAM, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  const per = o.amsgrad ? 4 : 3;
  return items.map((_, i) => outs.slice(i * per, (i + 1) * per));
}

/**
 * The update of adamStepsNative written into each parameter and its moments in place. Returns
 * false, changing nothing, unless every parameter and every moment it needs (both, and the running
 * maximum with amsgrad) exists and owns its data; the caller then takes the kernel path (always
 * on a parameter's first step, when its moments do not exist yet).
 */
export function adamStepsInPlaceNative(items: AdamItem[], o: AdamStepOptions): boolean {
  const backend = tf.backend() as unknown as WasmBackend & { refCount(dataId: object): number };
  const owns = (t: tf.Tensor | undefined) => t !== undefined && t.dtype === 'float32' && !t.isDisposed && backend.refCount(t.dataId) === 1;
  for (const it of items) {
    if (!owns(it.param) || !owns(it.expAvg) || !owns(it.expAvgSq) || (o.amsgrad && !owns(it.maxExpAvgSq)) || it.grad.dtype !== 'float32') return false;
  }
  nativeOpCalls[ADAM_IN_PLACE] = (nativeOpCalls[ADAM_IN_PLACE] ?? 0) + 1;
  const heap = heapOf(backend); // no allocation below
  const addon = addonFor(ADAM_IN_PLACE);
  const flags = (o.decoupled ? 1 : 0) | (o.amsgrad ? 2 : 0) | (o.maximize ? 4 : 0);
  for (const it of items) {
    const p = offsetOf(backend, it.param);
    const m = offsetOf(backend, it.expAvg!);
    const v = offsetOf(backend, it.expAvgSq!);
    const vMax = o.amsgrad ? offsetOf(backend, it.maxExpAvgSq!) : -1;
    addon.adam(heap, p, offsetOf(backend, it.grad), m, v, vMax, p, m, v, vMax, it.param.size, o.lr, o.beta1, o.beta2, o.eps, o.weightDecay, it.step, flags);
  }
  return true;
}
