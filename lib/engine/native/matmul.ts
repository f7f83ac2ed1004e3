/**
 * Native matrix products for the tfjs `wasm` backend.
 *
 * tfjs-backend-wasm runs its matrix products single-threaded in WebAssembly,
 * 10-20x slower than OpenBLAS (shared/PLATFORM.md). We replace its two
 * matrix-product kernels, `BatchMatMul` (tf.matMul) and `_FusedMatMul`
 * (tf.fused.matMul: product + bias + activation), with kernels that call
 * OpenBLAS sgemm from the addon on the tensors where they lie in wasm memory.
 * Gradients need nothing new: tfjs computes them with these same kernels.
 *
 * Every case the addon does not handle (non-float32 data, a bias or PReLU
 * weight that varies along broadcast batch dimensions, an unknown activation,
 * no addon, the kernels switched off) goes to the original wasm kernel, kept
 * aside here, with one repair: tfjs-backend-wasm 4.22's _FusedMatMul ignores
 * the bias unless the product is a single untransposed one, so without the
 * addon such products run as three plain kernels (product, Add, activation).
 *
 * One difference from tfjs: BatchMatMul broadcasts batch dimensions the numpy
 * way, also where both sides broadcast ([2,1,m,k] x [1,3,k,n] gives 6
 * products); tfjs' own kernels index flattened batches modulo their sizes,
 * which is right only when one side's batch shape is a suffix of the other's.
 */
import { tf } from '../tf';
import { loadAddon } from './addon';
import { KernelArgs, native, WasmBackend, offsetOf } from './wasm';
import { registerNativeOps } from './ops';
import { installWasmGaps } from './gaps';
import { installLightSaves } from './tape';

type Kernel = (args: KernelArgs) => tf.TensorInfo;

/** tfjs-backend-wasm's FusableActivation codes (kernels/types.ts), which sgemm.cc's epilogue uses too. */
const ACTIVATION_CODES: Record<string, number> = { linear: 0, relu: 1, relu6: 2, prelu: 3, leakyrelu: 4, sigmoid: 5, elu: 6 };

const KERNEL_NAMES = ['BatchMatMul', '_FusedMatMul'] as const;

let installed = false;
let installError: string | null = null;
const originals: Record<string, Kernel> = {};

/** How many products ran natively and how many went to the original kernels (tests check both). */
export const nativeCalls = { native: 0, fallback: 0 };

const prod = (dims: number[]): number => dims.reduce((p, d) => p * d, 1);

/** The wasm heap, after every output is allocated (allocation may grow memory and replace the buffer). */
function heapOf(backend: WasmBackend): ArrayBuffer {
  return backend.wasm.HEAPU8.buffer as ArrayBuffer;
}

function fallback(name: string, args: KernelArgs): tf.TensorInfo {
  nativeCalls.fallback++;
  if (name === '_FusedMatMul' && wasmDropsBias(args)) return unfusedMatMul(args);
  return originals[name](args);
}

/** Whether tfjs-backend-wasm's own _FusedMatMul would give a wrong answer (it drops the bias; shared/PLATFORM.md). */
function wasmDropsBias({ inputs, attrs }: KernelArgs): boolean {
  const { a, b, bias } = inputs;
  if (!bias || !a || !b) return false;
  return Boolean(attrs.transposeA) || Boolean(attrs.transposeB) || a.shape[0] !== 1 || b.shape[0] !== 1;
}

/** Run a wasm kernel by name (Add, Relu, ...) on tensor infos. */
function wasmKernel(name: string, backend: WasmBackend, inputs: Record<string, tf.TensorInfo>, attrs: Record<string, unknown> = {}): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'wasm').kernelFunc as unknown as Kernel;
  return kernel({ inputs, backend, attrs });
}

/** The plain kernels' tfjs activation kernel names, for the fused activations. */
const ACTIVATION_KERNELS: Record<string, string> = { relu: 'Relu', relu6: 'Relu6', elu: 'Elu', sigmoid: 'Sigmoid', prelu: 'Prelu', leakyrelu: 'LeakyRelu' };

/** activation(op(a) op(b) + bias) as three plain wasm kernels, freeing the intermediates. */
function unfusedMatMul(args: KernelArgs): tf.TensorInfo {
  const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo>;
  const activation = (args.attrs.activation as string | undefined) ?? 'linear';
  const backend = args.backend;
  const product = originals._FusedMatMul({ inputs: { a, b }, backend, attrs: { ...args.attrs, activation: 'linear' } });
  const sum = wasmKernel('Add', backend, { a: product, b: bias });
  backend.disposeData(product.dataId);
  if (activation === 'linear') return sum;
  const kernel = ACTIVATION_KERNELS[activation];
  if (!kernel) throw new Error(`fused matMul: unknown activation '${activation}'; use one of linear, ${Object.keys(ACTIVATION_KERNELS).join(', ')}`);
  const out =
    activation === 'prelu'
      ? wasmKernel(kernel, backend, { x: sum, alpha: preluActivationWeights })
      : wasmKernel(kernel, backend, { x: sum }, { alpha: (args.attrs.leakyreluAlpha as number | undefined) ?? 0.2 });
  backend.disposeData(sum.dataId);
  return out;
}

/** The sizes of op(A) [m, k] and op(B) [k, n] for matrices in the last two dimensions, or null if k differs. */
function productSizes(aShape: number[], bShape: number[], ta: boolean, tb: boolean) {
  const ra = aShape.length;
  const rb = bShape.length;
  const m = ta ? aShape[ra - 1] : aShape[ra - 2];
  const k = ta ? aShape[ra - 2] : aShape[ra - 1];
  const kb = tb ? bShape[rb - 1] : bShape[rb - 2];
  const n = tb ? bShape[rb - 2] : bShape[rb - 1];
  return k === kb ? { m, n, k } : null;
}

/**
 * tf.matMul(a, b, transposeA, transposeB): out[..., m, n] with the batch dimensions
 * of a and b broadcast.
 */
function batchMatMul(args: KernelArgs): tf.TensorInfo {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const ta = Boolean(args.attrs.transposeA);
  const tb = Boolean(args.attrs.transposeB);
  const backend = args.backend;
  const sizes = a.shape.length >= 2 && b.shape.length >= 2 ? productSizes(a.shape, b.shape, ta, tb) : null;
  // The original kernel handles (and words the errors for) everything unusual.
  const addon = native.addon;
  if (!native.enabled || !addon || a.dtype !== 'float32' || b.dtype !== 'float32' || !sizes) return fallback('BatchMatMul', args);
  const { m, n, k } = sizes;
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(aBatch, bBatch);
  const batch = prod(outBatch);
  const batchA = prod(aBatch);
  const batchB = prod(bBatch);

  const out = backend.makeOutput([...outBatch, m, n], 'float32');
  const heap = heapOf(backend);
  if (!(heap instanceof ArrayBuffer)) return disposeAndFallback(backend, out, 'BatchMatMul', args);
  const aOff = offsetOf(backend, a);
  const bOff = offsetOf(backend, b);
  const cOff = offsetOf(backend, out);
  nativeCalls.native++;
  if ((batchA === batch || batchA === 1) && (batchB === batch || batchB === 1)) {
    // Each side is either one matrix for every product (stride 0) or one per product.
    addon.sgemm(heap, batch, m, n, k, ta, tb, aOff, batchA === 1 ? 0 : m * k, bOff, batchB === 1 ? 0 : k * n, cOff);
  } else {
    // Both sides broadcast (e.g. [2,1] against [1,3]): one product per output batch index.
    const [aIndex, bIndex] = [broadcastIndex(aBatch, outBatch), broadcastIndex(bBatch, outBatch)];
    for (let i = 0; i < batch; i++) {
      addon.sgemm(heap, 1, m, n, k, ta, tb, aOff + 4 * aIndex[i] * m * k, 0, bOff + 4 * bIndex[i] * k * n, 0, cOff + 4 * i * m * n);
    }
  }
  return out;
}

/** For each flat index into the batch shape `outShape`, the flat index into `shape`, which broadcasts to it. */
function broadcastIndex(shape: number[], outShape: number[]): number[] {
  const full = [...new Array(outShape.length - shape.length).fill(1), ...shape];
  const result: number[] = [];
  for (let flat = 0; flat < prod(outShape); flat++) {
    let rest = flat;
    let index = 0;
    let stride = 1;
    for (let d = outShape.length - 1; d >= 0; d--) {
      const coord = rest % outShape[d];
      rest = Math.floor(rest / outShape[d]);
      if (full[d] !== 1) index += coord * stride;
      stride *= full[d];
    }
    result.push(index);
  }
  return result;
}

/**
 * Strides (in floats) that read a tensor of `shape` broadcast over an output of
 * [batch, m, n]: [batch stride, row stride, column stride], 0 along broadcast
 * dimensions. Null when the tensor varies along only some of several batch
 * dimensions (it then cannot be read with one batch stride).
 */
function epilogueStrides(shape: number[], batch: number, m: number, n: number): [number, number, number] | null {
  const r = shape.length;
  const sn = r >= 1 ? shape[r - 1] : 1;
  const sm = r >= 2 ? shape[r - 2] : 1;
  const sb = prod(shape.slice(0, Math.max(0, r - 2)));
  if ((sn !== 1 && sn !== n) || (sm !== 1 && sm !== m) || (sb !== 1 && sb !== batch)) return null;
  return [sb === 1 ? 0 : sm * sn, sm === 1 ? 0 : sn, sn === 1 ? 0 : 1];
}

/**
 * tf.fused.matMul: activation(op(a) op(b) + bias), with a and b already rank 3
 * ([batch, rows, cols]; tfjs-core reshapes them) and a [batch, m, n] output.
 */
function fusedMatMul(args: KernelArgs): tf.TensorInfo {
  const { a, b, bias, preluActivationWeights: prelu } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  const ta = Boolean(args.attrs.transposeA);
  const tb = Boolean(args.attrs.transposeB);
  const activation = (args.attrs.activation as string | undefined) ?? 'linear';
  const alpha = (args.attrs.leakyreluAlpha as number | undefined) ?? 0.2;
  const backend = args.backend;
  const code = ACTIVATION_CODES[activation];
  const addon = native.addon;
  if (!native.enabled || !addon || !a || !b || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length !== 3 || b.shape.length !== 3) {
    return fallback('_FusedMatMul', args);
  }
  const sizes = productSizes(a.shape, b.shape, ta, tb);
  const [batchA, batchB] = [a.shape[0], b.shape[0]];
  if (!sizes || code === undefined || (batchA !== batchB && batchA !== 1 && batchB !== 1)) return fallback('_FusedMatMul', args);
  const { m, n, k } = sizes;
  const batch = Math.max(batchA, batchB);
  const none: [number, number, number] = [0, 0, 0];
  const biasStrides = bias ? epilogueStrides(bias.shape, batch, m, n) : none;
  const preluStrides = prelu ? epilogueStrides(prelu.shape, batch, m, n) : none;
  const floats = (t: tf.TensorInfo | undefined) => !t || t.dtype === 'float32';
  if (!biasStrides || !preluStrides || !floats(bias) || !floats(prelu) || (activation === 'prelu' && !prelu)) {
    return fallback('_FusedMatMul', args);
  }

  const out = backend.makeOutput([batch, m, n], 'float32');
  const heap = heapOf(backend);
  if (!(heap instanceof ArrayBuffer)) return disposeAndFallback(backend, out, '_FusedMatMul', args);
  const cOff = offsetOf(backend, out);
  nativeCalls.native++;
  addon.sgemm(heap, batch, m, n, k, ta, tb, offsetOf(backend, a), batchA === 1 ? 0 : m * k, offsetOf(backend, b), batchB === 1 ? 0 : k * n, cOff);
  if (bias || code !== 0) {
    const biasOff = bias ? offsetOf(backend, bias) : -1;
    const preluOff = prelu && code === ACTIVATION_CODES.prelu ? offsetOf(backend, prelu) : -1;
    addon.epilogue(heap, cOff, batch, m, n, biasOff, ...biasStrides, code, preluOff, ...preluStrides, alpha);
  }
  return out;
}

/** A shared-memory heap (threaded wasm, browsers only) cannot be passed to the addon. */
function disposeAndFallback(backend: WasmBackend, out: tf.TensorInfo, name: string, args: KernelArgs): tf.TensorInfo {
  backend.disposeData(out.dataId);
  return fallback(name, args);
}

const KERNELS: Record<(typeof KERNEL_NAMES)[number], Kernel> = { BatchMatMul: batchMatMul, _FusedMatMul: fusedMatMul };

/**
 * Put our kernels in place of the wasm backend's (once) and load the addon.
 * Returns null when the native kernels run, else the reason they do not (the
 * plain kernels, with the bias repair, run then).
 */
export function installNativeMatMul(): string | null {
  if (installed) return installError;
  installed = true;
  try {
    for (const name of KERNEL_NAMES) {
      const original = tf.getKernel(name, 'wasm');
      if (!original) throw new Error(`tfjs-backend-wasm has no '${name}' kernel to replace`);
      originals[name] = original.kernelFunc as unknown as Kernel;
      tf.unregisterKernel(name, 'wasm');
      tf.registerKernel({
        kernelName: name,
        backendName: 'wasm',
        // The original's setup (binding its wasm function) still runs when the wasm backend starts,
        // so the fallback works whether we were installed before or after that.
        setupFunc: original.setupFunc,
        kernelFunc: KERNELS[name] as unknown as tf.KernelFunc,
      });
    }
  } catch (e) {
    return (installError = `could not replace the wasm kernels: ${(e as Error).message}`);
  }
  // tfjs-backend-wasm's missing filter gradient and slow Tile (with or without the addon)
  installWasmGaps();
  installLightSaves(); // tensors saved for the backward pass without an engine call each (./tape.ts)
  // hyperlab's own kernels (Linear, conv, batch norm, LSTM, Adam), which the layers use on wasm when the addon is there
  registerNativeOps();
  const status = loadAddon();
  if (!status.ok) return (installError = status.reason);
  native.addon = status.addon;
  native.enabled = true;
  return null;
}

/** Switch the native kernels on or off (off: the original wasm kernels run). Returns whether they are on. */
export function setNativeKernels(on: boolean): boolean {
  installNativeMatMul();
  native.enabled = on && native.addon !== null;
  return native.enabled;
}

/** Whether wasm matrix products run natively now. */
export function nativeKernelsActive(): boolean {
  return native.enabled;
}

/** One line for device(): 'openblas sgemm (...)', 'off: ...' or 'unavailable: <reason>'. */
export function describeNative(): string {
  const addon = native.addon;
  if (!addon) return `unavailable: ${installError ?? 'not loaded yet'}`;
  if (!native.enabled) return 'off: switched off with setNativeKernels(false)';
  const info = addon.info();
  const version = info.config.split(' ').slice(0, 2).join(' ');
  return `openblas sgemm (${version}, ${info.corename}, ${info.threads} thread${info.threads === 1 ? '' : 's'})`;
}

/** OpenBLAS threads for native products (default 1, or OPENBLAS_NUM_THREADS). */
export function setNativeThreads(n: number): void {
  const addon = native.addon;
  if (!addon) throw new Error(`setNativeThreads: the native kernels are ${describeNative()}`);
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`setNativeThreads: n must be a positive integer, got ${n}`);
  addon.setThreads(n);
}
