/**
 * What every native kernel shares: the view of tfjs-backend-wasm's memory, the
 * loaded addon and whether native kernels are on, and the registration of
 * hyperlab's own kernels.
 *
 * The wasm backend keeps every tensor in one WebAssembly.Memory; a kernel gets
 * each tensor's byte offset there and the memory's ArrayBuffer, and the addon
 * reads and writes the floats in place (no copies). Outputs are allocated
 * first, because allocating may grow the memory and replace the ArrayBuffer.
 */
import { tf } from '../tf';
import { NativeAddon } from './addon';

/** What kernels see of tfjs-backend-wasm's BackendWasm (its fields are public JS, untyped in tfjs' API). */
export interface WasmBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  disposeData(dataId: object): void;
}

export interface KernelArgs {
  inputs: Record<string, tf.TensorInfo | undefined>;
  backend: WasmBackend;
  attrs: Record<string, unknown>;
}

export type Kernel = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];

/** The addon once loaded, and whether the native kernels are switched on (setNativeKernels). */
export const native: { addon: NativeAddon | null; enabled: boolean } = { addon: null, enabled: false };

/**
 * Whether hyperlab's layers should take their native paths now: the addon is
 * loaded and switched on, and tensors live on the wasm backend.
 */
export function nativeOpsActive(): boolean {
  return native.enabled && native.addon !== null && tf.getBackend() === 'wasm';
}

/** The addon, for a kernel that is running (throws if it is not there: the layers check nativeOpsActive first). */
export function addonFor(kernel: string): NativeAddon {
  if (!native.addon) throw new Error(`${kernel}: the native addon is not loaded (npm run build:native)`);
  return native.addon;
}

/** Byte offset of a tensor's data in wasm memory. */
export function offsetOf(backend: WasmBackend, t: tf.TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}

/** Byte offset of an optional tensor, -1 when absent (the addon's "none"). */
export function optionalOffset(backend: WasmBackend, t: tf.TensorInfo | undefined): number {
  return t ? offsetOf(backend, t) : -1;
}

/**
 * The wasm heap, taken after every output is allocated. A shared-memory heap
 * (threaded wasm, browsers only) cannot be handed to the addon.
 */
export function heapOf(backend: WasmBackend): ArrayBuffer {
  const heap = backend.wasm.HEAPU8.buffer;
  if (!(heap instanceof ArrayBuffer))
    throw new Error('hyperlab native: the wasm heap is shared memory (threaded wasm); native kernels need a plain ArrayBuffer');
  return heap;
}

/** Every input of a kernel must be float32 (the addon reads floats). */
export function checkFloat32(kernel: string, inputs: Record<string, tf.TensorInfo | undefined>): void {
  for (const [name, t] of Object.entries(inputs)) {
    if (t && t.dtype !== 'float32') throw new Error(`${kernel}: input '${name}' must be float32, got ${t.dtype}`);
  }
}

/** Register one of hyperlab's own kernels for the wasm backend (once). */
export function registerWasmKernel(kernelName: string, kernelFunc: Kernel): void {
  if (tf.getKernel(kernelName, 'wasm')) return;
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}

/** How many times each of hyperlab's native kernels ran (tests check that the native path was taken). */
export const nativeOpCalls: Record<string, number> = {};

/** Run a registered kernel through tfjs' engine (so it is taped for gradients like any tfjs op). */
export function runKernel<T extends tf.Tensor | tf.Tensor[]>(
  name: string,
  inputs: Record<string, tf.Tensor | undefined>,
  attrs: Record<string, unknown> = {},
): T {
  nativeOpCalls[name] = (nativeOpCalls[name] ?? 0) + 1;
  const present = Object.fromEntries(Object.entries(inputs).filter(([, t]) => t !== undefined)) as tf.NamedTensorMap;
  return tf.engine().runKernel(name, present, attrs as tf.NamedAttrMap) as T;
}
