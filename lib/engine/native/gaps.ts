/**
 * Three gaps of tfjs-backend-wasm 4.22 filled, with or without the native addon
 * (shared/PLATFORM.md), so that plain tfjs code also trains on wasm, faster:
 *
 * - `Conv2DBackpropFilter` is missing: tf.conv2d's gradient with respect to its
 *   filter throws on wasm. Registered here: with the addon, as the native NCHW
 *   filter gradient (./conv.ts) between transposes; without it, as a dilated
 *   convolution of the transposed input with the transposed output gradient
 *   (the same identity as lib/nn/conv_ops.ts' conv2dFilterGrad), all wasm kernels.
 * - `Tile` takes ~1 µs per output element (tf.batchNorm's gradient uses it).
 *   Replaced by block copies in wasm memory (copyWithin), ~100x faster.
 * - `Identity` (tf.clone, and every tensor autograd saves for the backward
 *   pass) copies the data. Replaced by sharing it, with a reference count, as
 *   the cpu backend's Identity and the wasm backend's own Reshape do (tensors
 *   are immutable: no kernel writes into its inputs).
 *
 * hyperlab's own layers do not depend on either (they have their own paths);
 * these are for tfjs ops called directly.
 */
import { tf } from '../tf';
import { KernelArgs, native, offsetOf, WasmBackend } from './wasm';

type Info = tf.TensorInfo;
type AnyKernel = (args: KernelArgs) => Info;

/** Run a wasm kernel by name on tensor infos (the caller disposes intermediates). */
function wasmKernel(name: string, backend: WasmBackend, inputs: Record<string, Info>, attrs: Record<string, unknown> = {}): Info {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`tfjs-backend-wasm has no '${name}' kernel`);
  return (kernel.kernelFunc as unknown as AnyKernel)({ inputs, backend, attrs });
}

// ---- Conv2DBackpropFilter -------------------------------------------------------------------

/** dw [kh, kw, Cin, Cout] of y = conv2d(x [N, H, W, Cin], w, strides, pad) from dy [N, OH, OW, Cout]. */
function conv2DBackpropFilter({ inputs, backend, attrs }: KernelArgs): Info {
  const { x, dy } = inputs as Record<string, Info>;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as {
    strides: number | [number, number];
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  if (dataFormat === 'NCHW') throw new Error("Conv2DBackpropFilter on wasm: only dataFormat NHWC (as tfjs-backend-wasm's Conv2D)");
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: O } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padInfo } = info;
  const temps: Info[] = [];
  const keep = (t: Info) => (temps.push(t), t);
  try {
    if (native.enabled && native.addon && x.dtype === 'float32' && dy.dtype === 'float32') {
      const xT = keep(wasmKernel('Transpose', backend, { x }, { perm: [0, 3, 1, 2] })); // NCHW
      const dyT = keep(wasmKernel('Transpose', backend, { x: dy }, { perm: [0, 3, 1, 2] }));
      const dwT = keep(backend.makeOutput([O, C, kh, kw], 'float32'));
      const heap = backend.wasm.HEAPU8.buffer as ArrayBuffer;
      native.addon.conv2dBackpropFilter(
        heap,
        offsetOf(backend, xT),
        offsetOf(backend, dyT),
        offsetOf(backend, dwT),
        N,
        C,
        H,
        W,
        O,
        kh,
        kw,
        OH,
        OW,
        sh,
        sw,
        padInfo.top,
        padInfo.left,
        1,
        1,
      );
      return wasmKernel('Transpose', backend, { x: dwT }, { perm: [2, 3, 1, 0] }); // [kh, kw, C, O]
    }
    // dw[a, b, ci, co] = sum_{n, oh, ow} xp[n, oh*sh + a, ow*sw + b, ci] dy[n, oh, ow, co]: with ci as the
    // batch and n as the channels, a convolution of xp^T with dy^T dilated by the strides.
    const padded = padInfo.top || padInfo.bottom || padInfo.left || padInfo.right;
    const xp = padded
      ? keep(
          wasmKernel(
            'PadV2',
            backend,
            { x },
            {
              paddings: [
                [0, 0],
                [padInfo.top, padInfo.bottom],
                [padInfo.left, padInfo.right],
                [0, 0],
              ],
              constantValue: 0,
            },
          ),
        )
      : x;
    const xT = keep(wasmKernel('Transpose', backend, { x: xp }, { perm: [3, 1, 2, 0] })); // [C, Hp, Wp, N]
    const dyT = keep(wasmKernel('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] })); // [OH, OW, N, O]
    const g = keep(wasmKernel('Conv2D', backend, { x: xT, filter: dyT }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [sh, sw] }));
    const gk = keep(wasmKernel('Slice', backend, { x: g }, { begin: [0, 0, 0, 0], size: [C, kh, kw, O] })); // rows no output used
    return wasmKernel('Transpose', backend, { x: gk }, { perm: [1, 2, 0, 3] });
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

// ---- Tile -----------------------------------------------------------------------------------

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

/**
 * out = x repeated reps[d] times along each dimension d. Built from the inside
 * out: along dimension d the output holds x's s[d] slices once (each built by
 * the next dimension), then that block copied reps[d] - 1 more times, by
 * doubling copies.
 */
function tile({ inputs, backend, attrs }: KernelArgs): Info {
  const { x } = inputs as Record<string, Info>;
  const reps = attrs.reps as number[];
  const bytes = BYTES[x.dtype];
  const shape = x.shape;
  const outShape = shape.map((s, d) => s * reps[d]);
  const out = backend.makeOutput(outShape, x.dtype as 'float32');
  const size = outShape.reduce((p, d) => p * d, 1);
  if (size === 0) return out;
  const heap = backend.wasm.HEAPU8;
  const x0 = offsetOf(backend, x);
  const o0 = offsetOf(backend, out);
  const rank = shape.length;
  if (rank === 0) {
    heap.copyWithin(o0, x0, x0 + bytes);
    return out;
  }
  // strides in elements
  const inStride = new Array<number>(rank).fill(1);
  const outStride = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) {
    inStride[d] = inStride[d + 1] * shape[d + 1];
    outStride[d] = outStride[d + 1] * outShape[d + 1];
  }
  /** Copy [start, start + len) bytes so that it repeats `times` times in a row. */
  const repeat = (start: number, len: number, times: number) => {
    let filled = len;
    const total = len * times;
    while (filled < total) {
      const n = Math.min(filled, total - filled);
      heap.copyWithin(start + filled, start, start + n);
      filled += n;
    }
  };
  const build = (d: number, inOff: number, outOff: number): void => {
    const s = shape[d];
    if (d === rank - 1) {
      heap.copyWithin(o0 + outOff * bytes, x0 + inOff * bytes, x0 + (inOff + s) * bytes);
    } else {
      for (let j = 0; j < s; j++) build(d + 1, inOff + j * inStride[d], outOff + j * outStride[d]);
    }
    if (reps[d] > 1) repeat(o0 + outOff * bytes, s * outStride[d] * bytes, reps[d]);
  };
  build(0, 0, 0);
  return out;
}

// ---- Identity -------------------------------------------------------------------------------

function identity({ inputs, backend }: KernelArgs): Info {
  const { x } = inputs as Record<string, Info>;
  (backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

let installed = false;

/** Register the filled kernels (once, whether or not the addon loads). */
export function installWasmGaps(): void {
  if (installed) return;
  installed = true;
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc });
  }
  replace('Identity', (args, original) => (args.inputs.x!.dtype === 'string' ? original(args) : identity(args)));
  replace('Tile', (args, original) => (BYTES[args.inputs.x!.dtype] ? tile(args) : original(args)));
}

/** Put `kernel` in place of the wasm backend's kernel `name` (which it may call for cases it leaves alone). */
function replace(name: string, kernel: (args: KernelArgs, original: AnyKernel) => Info): void {
  const original = tf.getKernel(name, 'wasm');
  if (!original) return;
  const originalFunc = original.kernelFunc as unknown as AnyKernel;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({
    kernelName: name,
    backendName: 'wasm',
    setupFunc: original.setupFunc,
    kernelFunc: ((args: KernelArgs) => kernel(args, originalFunc)) as unknown as tf.KernelFunc,
  });
}
