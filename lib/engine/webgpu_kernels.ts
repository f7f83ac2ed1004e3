/**
 * Repairs to tfjs-backend-webgpu 4.22's kernels that hyperlab's layers need.
 *
 * - `Reverse` handles rank <= 4 only (it reshapes to 4-d and throws "Size(n)
 *   must match the product of shape ..." otherwise); hyperlab's transposed
 *   convolution (the gradient of every Conv layer, lib/nn/conv_ops.ts) reverses
 *   a rank-6 tensor. Reversing several neighbouring axes at once is reversing
 *   their flattened axis, so runs of axes that are all reversed (or all kept)
 *   are merged first; that leaves at most 4 axes in every case hyperlab has.
 *   Anything still longer is reversed one axis at a time as [before, axis, after].
 *
 * - `PadV2` (tf.pad) writes WGSL with `vec5`/`vec6` types for rank 5 and 6, which
 *   do not exist: the shader fails to compile and the result is all zeros
 *   (hyperlab's dilated convolutions pad a rank-6 view of the kernel). An
 *   unpadded axis is merged into the padded axis before it (its padding scaled
 *   by the unpadded size), leading unpadded axes into one.
 * - `Cumsum` / `Cumprod` with reverse=true give wrong sums beyond ~64 elements
 *   along the axis (the gradient of cumsum is a reverse cumsum: XANESNET's emd
 *   loss trains wrongly). Computed as reverse(cum(reverse(x))).
 *
 * Each repair wraps the original kernels, which still do the GPU work.
 */
import { tf } from './tf';

type TensorInfo = tf.TensorInfo;
interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  backend: { disposeData(id: object): void };
  attrs?: Record<string, unknown>;
}
type KernelFunc = (args: KernelArgs) => TensorInfo;

let patched = false;

function kernelOf(name: string): KernelFunc {
  const k = tf.getKernel(name, 'webgpu');
  if (!k) throw new Error(`webgpu: tfjs-backend-webgpu has no ${name} kernel`);
  return k.kernelFunc as unknown as KernelFunc;
}

/**
 * Split `shape` into runs of neighbouring axes that are all reversed or all kept:
 * [size, reversed][] (size-1 axes are dropped: they change nothing).
 */
export function mergeReverseAxes(shape: number[], axes: number[]): [number, boolean][] {
  const runs: [number, boolean][] = [];
  shape.forEach((d, i) => {
    if (d === 1) return;
    const rev = axes.includes(i);
    const last = runs[runs.length - 1];
    if (last && last[1] === rev) last[0] *= d;
    else runs.push([d, rev]);
  });
  return runs.length ? runs : [[1, false]];
}

/** Install the repairs (idempotent; call after tfjs-backend-webgpu has registered its kernels). */
export function patchWebGPUKernels(): void {
  if (patched) return;
  const reverse = kernelOf('Reverse');
  const reshape = kernelOf('Reshape');
  const reshapeTo = (x: TensorInfo, shape: number[], backend: KernelArgs['backend']) => reshape({ inputs: { x }, backend, attrs: { shape } });

  const reverseAnyRank: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x;
    if (x.shape.length <= 4) return reverse(args);
    const axes = tf.util.parseAxisParam(attrs!.dims as number | number[], x.shape);
    const runs = mergeReverseAxes(x.shape, axes);
    if (runs.length <= 4) {
      const flat = reshapeTo(
        x,
        runs.map(([d]) => d),
        backend,
      );
      const dims = runs.flatMap(([, rev], i) => (rev ? [i] : []));
      if (!dims.length) {
        backend.disposeData(flat.dataId);
        return reshapeTo(x, x.shape, backend);
      }
      const out = reverse({ inputs: { x: flat }, backend, attrs: { dims } });
      const result = reshapeTo(out, x.shape, backend);
      backend.disposeData(flat.dataId);
      backend.disposeData(out.dataId);
      return result;
    }
    // more than 4 runs: one reversed run at a time, as [before, run, after]
    const sizes = runs.map(([d]) => d);
    let cur: TensorInfo = reshapeTo(x, sizes, backend);
    runs.forEach(([d, rev], i) => {
      if (!rev) return;
      const before = sizes.slice(0, i).reduce((a, b) => a * b, 1);
      const after = sizes.slice(i + 1).reduce((a, b) => a * b, 1);
      const view = reshapeTo(cur, [before, d, after], backend);
      const next = reverse({ inputs: { x: view }, backend, attrs: { dims: [1] } });
      backend.disposeData(view.dataId);
      backend.disposeData(cur.dataId);
      cur = next;
    });
    const result = reshapeTo(cur, x.shape, backend);
    backend.disposeData(cur.dataId);
    return result;
  };

  replaceKernel('Reverse', reverseAnyRank);

  const pad = kernelOf('PadV2');
  const padAnyRank: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x;
    if (x.shape.length <= 4) return pad(args);
    const paddings = attrs!.paddings as [number, number][];
    const constantValue = attrs!.constantValue as number;
    const outShape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
    const runs = mergePadAxes(x.shape, paddings);
    if (runs.length <= 4) {
      const flat = reshapeTo(
        x,
        runs.map((r) => r.size),
        backend,
      );
      const out = pad({ inputs: { x: flat }, backend, attrs: { paddings: runs.map((r) => r.pad), constantValue } });
      const result = reshapeTo(out, outShape, backend);
      backend.disposeData(flat.dataId);
      backend.disposeData(out.dataId);
      return result;
    }
    // more than 4 runs: pad one run at a time, as [before, run, after]
    const sizes = runs.map((r) => r.size);
    let cur: TensorInfo = reshapeTo(x, sizes, backend);
    runs.forEach((r, i) => {
      if (r.pad[0] === 0 && r.pad[1] === 0) return;
      const before = sizes.slice(0, i).reduce((a, b) => a * b, 1);
      const after = sizes.slice(i + 1).reduce((a, b) => a * b, 1);
      const view = reshapeTo(cur, [before, r.size, after], backend);
      const next = pad({ inputs: { x: view }, backend, attrs: { paddings: [[0, 0], r.pad, [0, 0]], constantValue } });
      backend.disposeData(view.dataId);
      backend.disposeData(cur.dataId);
      cur = next;
      sizes[i] = r.pad[0] + r.size + r.pad[1];
    });
    const result = reshapeTo(cur, outShape, backend);
    backend.disposeData(cur.dataId);
    return result;
  };
  replaceKernel('PadV2', padAnyRank);

  for (const name of ['Cumsum', 'Cumprod']) {
    const cum = kernelOf(name);
    const forwardOnly: KernelFunc = (args) => {
      const { inputs, backend, attrs } = args;
      if (!attrs!.reverse) return cum(args);
      const x = inputs.x;
      const axis = attrs!.axis as number;
      const flipped = reverseAnyRank({ inputs: { x }, backend, attrs: { dims: [axis] } });
      const summed = cum({ inputs: { x: flipped }, backend, attrs: { ...attrs, reverse: false } });
      const result = reverseAnyRank({ inputs: { x: summed }, backend, attrs: { dims: [axis] } });
      backend.disposeData(flipped.dataId);
      backend.disposeData(summed.dataId);
      return result;
    };
    replaceKernel(name, forwardOnly);
  }
  patched = true;
}

function replaceKernel(name: string, kernelFunc: KernelFunc): void {
  const config = tf.getKernel(name, 'webgpu')!;
  tf.unregisterKernel(name, 'webgpu');
  tf.registerKernel({ ...config, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}

/**
 * Group axes for a pad: each padded axis starts a run that takes in the unpadded
 * axes after it (padding a run [d, rest] by [a, b] along d is padding the
 * flattened run by [a * rest, b * rest]); leading unpadded axes form one run.
 */
export function mergePadAxes(shape: number[], paddings: [number, number][]): { size: number; pad: [number, number] }[] {
  const runs: { size: number; pad: [number, number] }[] = [];
  shape.forEach((d, i) => {
    const [a, b] = paddings[i];
    const last = runs[runs.length - 1];
    if (a === 0 && b === 0 && last) {
      last.size *= d;
      last.pad = [last.pad[0] * d, last.pad[1] * d];
    } else runs.push({ size: d, pad: [a, b] });
  });
  return runs;
}
