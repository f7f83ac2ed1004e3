/**
 * One SGD update of every parameter of a parameter group as one tfjs kernel on
 * the wasm backend (the addon's `sgd` loop of small.cc, once per parameter),
 * instead of 2-6 elementwise tfjs kernels per parameter. lib/optim/sgd.ts has
 * the update rule and uses this when nativeOpsActive(); the arithmetic is the
 * same, in the same order, in float32.
 *
 *     HyperlabSgd  inputs, per parameter: param, grad, then momentumBuffer where present
 *                  outputs, per parameter: param' (, momentumBuffer' with momentum)
 *
 * An absent buffer with momentum is the first step (the buffer starts as the gradient).
 *
 * `sgdStepsInPlaceNative` does the same update in place, as PyTorch's `p.add_(...)`, with no tfjs
 * kernel, no new tensors and no `assign`: for a small network, those engine calls cost more than
 * the arithmetic (issue 10). Only where nothing else can see the change: each parameter and buffer
 * must hold its data alone (reference count 1 in the wasm backend: a clone or reshape shares it).
 */
import { tf } from '../tf';
import { addonFor, checkFloat32, heapOf, KernelArgs, nativeOpCalls, offsetOf, optionalOffset, registerWasmKernel, WasmBackend } from './wasm';

const SGD = 'HyperlabSgd';
/** Counted in nativeOpCalls (not a tfjs kernel). */
const SGD_IN_PLACE = 'HyperlabSgdInPlace';

export interface SgdStepOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

export interface SgdItem {
  param: tf.Tensor;
  grad: tf.Tensor;
  momentumBuffer?: tf.Tensor;
}

function sgdKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  checkFloat32(SGD, inputs);
  const o = attrs as unknown as SgdStepOptions & { present: number[] };
  const list = inputs as unknown as tf.TensorInfo[];
  const parts: { ins: (tf.TensorInfo | undefined)[]; outs: tf.TensorInfo[] }[] = [];
  let k = 0;
  for (const present of o.present) {
    const param = list[k++];
    const grad = list[k++];
    const buf = present ? list[k++] : undefined;
    const outs = [backend.makeOutput(param.shape, 'float32')];
    if (o.momentum !== 0) outs.push(backend.makeOutput(param.shape, 'float32'));
    parts.push({ ins: [param, grad, buf], outs });
  }
  const heap = heapOf(backend); // after every output is allocated
  const addon = addonFor(SGD);
  const off = (t: tf.TensorInfo | undefined) => optionalOffset(backend, t);
  const flags = (o.nesterov ? 1 : 0) | (o.maximize ? 2 : 0);
  for (const { ins, outs } of parts) {
    addon.sgd(
      heap,
      offsetOf(backend, ins[0]!),
      offsetOf(backend, ins[1]!),
      off(ins[2]),
      off(outs[0]),
      off(outs[1]),
      tf.util.sizeFromShape(ins[0]!.shape),
      o.lr,
      o.momentum,
      o.dampening,
      o.weightDecay,
      flags,
    );
  }
  return parts.flatMap((p) => p.outs);
}

let registered = false;

export function registerSgdKernels(): void {
  if (registered) return;
  registered = true;
  registerWasmKernel(SGD, sgdKernel);
}

/** Per parameter, the new parameter (and momentum buffer, with momentum), all from one kernel. */
export function sgdStepsNative(items: SgdItem[], o: SgdStepOptions): tf.Tensor[][] {
  const inputs: tf.Tensor[] = [];
  const present: number[] = [];
  for (const it of items) {
    inputs.push(it.param, it.grad);
    const withBuffer = o.momentum !== 0 && it.momentumBuffer !== undefined;
    if (withBuffer) inputs.push(it.momentumBuffer!);
    present.push(withBuffer ? 1 : 0);
  }
  nativeOpCalls[SGD] = (nativeOpCalls[SGD] ?? 0) + 1;
  const outs = tf.engine().runKernel(SGD, inputs as unknown as tf.NamedTensorMap, { ...o, present } as unknown as tf.NamedAttrMap) as tf.Tensor[];
  const per = o.momentum !== 0 ? 2 : 1;
  return items.map((_, i) => outs.slice(i * per, (i + 1) * per));
}

/** Whether `t` is a float32 tensor whose data lives in wasm memory and no other tensor shares. */
function ownsData(backend: WasmBackend & { refCount(dataId: object): number }, t: tf.Tensor): boolean {
  return t.dtype === 'float32' && !t.isDisposed && backend.refCount(t.dataId) === 1;
}

/**
 * The update of sgdStepsNative written into each parameter (and momentum buffer) in place. Returns
 * false, changing nothing, unless every parameter, and with momentum every buffer, exists and owns
 * its data (see above); the caller then takes the kernel path.
 */
export function sgdStepsInPlaceNative(items: SgdItem[], o: SgdStepOptions): boolean {
  const backend = tf.backend() as unknown as WasmBackend & { refCount(dataId: object): number };
  for (const it of items) {
    if (!ownsData(backend, it.param) || it.grad.dtype !== 'float32') return false;
    if (o.momentum !== 0 && !(it.momentumBuffer && ownsData(backend, it.momentumBuffer))) return false;
  }
  nativeOpCalls[SGD_IN_PLACE] = (nativeOpCalls[SGD_IN_PLACE] ?? 0) + 1;
  const heap = heapOf(backend); // no allocation below
  const addon = addonFor(SGD_IN_PLACE);
  const flags = (o.nesterov ? 1 : 0) | (o.maximize ? 2 : 0);
  for (const { param, grad, momentumBuffer } of items) {
    const p = offsetOf(backend, param);
    const b = o.momentum !== 0 ? offsetOf(backend, momentumBuffer!) : -1;
    addon.sgd(heap, p, offsetOf(backend, grad), b, p, b, param.size, o.lr, o.momentum, o.dampening, o.weightDecay, flags);
  }
  return true;
}
