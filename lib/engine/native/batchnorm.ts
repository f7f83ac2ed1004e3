/**
 * Batch norm in training as one native kernel forward and one backward
 * (fused.cc), for the wasm backend. tfjs needs ~10 kernels forward and ~25
 * backward for the same (means over every dimension but the channel one are
 * transposes plus reductions there); lib/nn/batchnorm.ts has the formulas and
 * uses this when nativeOpsActive().
 *
 *     HyperlabBatchNormTrain      x [N, C, ...], weight [C], bias [C]  -> y, mean [C], var [C] (biased)
 *     HyperlabBatchNormTrainGrad  dy, x, mean, var, weight             -> dx, dweight, dbias
 *     HyperlabBatchNormRunningStats  running_mean, running_var, mean, var -> the updated running_mean, running_var
 *
 * The statistics are outputs for the running averages; gradients flow through
 * y only (the layer updates its running statistics outside the tape, in one
 * kernel instead of ~12 small ones when the momentum is a number).
 */
import { tf } from '../tf';
import { addonFor, checkFloat32, heapOf, KernelArgs, offsetOf, registerWasmKernel, runKernel } from './wasm';

const TRAIN = 'HyperlabBatchNormTrain';
const TRAIN_GRAD = 'HyperlabBatchNormTrainGrad';
const RUNNING = 'HyperlabBatchNormRunningStats';

/** [N, C, S]: batch, channels, values per channel per example. */
function sizes(shape: number[]): [number, number, number] {
  const [N, C, ...rest] = shape;
  return [N, C, rest.reduce((p, d) => p * d, 1)];
}

function trainKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const { x, weight, bias } = inputs as Record<string, tf.TensorInfo>;
  checkFloat32(TRAIN, inputs);
  const [N, C, S] = sizes(x.shape);
  const y = backend.makeOutput(x.shape, 'float32');
  const mean = backend.makeOutput([C], 'float32');
  const variance = backend.makeOutput([C], 'float32');
  const heap = heapOf(backend);
  const off = (t: tf.TensorInfo) => offsetOf(backend, t);
  addonFor(TRAIN).batchNormTrain(heap, off(x), off(weight), off(bias), off(y), off(mean), off(variance), N, C, S, attrs.eps as number);
  return [y, mean, variance];
}

function trainGradKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const { dy, x, mean, variance, weight } = inputs as Record<string, tf.TensorInfo>;
  checkFloat32(TRAIN_GRAD, inputs);
  const [N, C, S] = sizes(x.shape);
  const dx = backend.makeOutput(x.shape, 'float32');
  const dw = backend.makeOutput([C], 'float32');
  const db = backend.makeOutput([C], 'float32');
  const heap = heapOf(backend);
  const off = (t: tf.TensorInfo) => offsetOf(backend, t);
  addonFor(TRAIN_GRAD).batchNormTrainGrad(
    heap,
    off(dy),
    off(x),
    off(mean),
    off(variance),
    off(weight),
    off(dx),
    off(dw),
    off(db),
    N,
    C,
    S,
    attrs.eps as number,
  );
  return [dx, dw, db];
}

function runningStatsKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const { runningMean, runningVar, mean, variance } = inputs as Record<string, tf.TensorInfo>;
  checkFloat32(RUNNING, inputs);
  const C = runningMean.shape[0];
  const meanOut = backend.makeOutput([C], 'float32');
  const varOut = backend.makeOutput([C], 'float32');
  const heap = heapOf(backend);
  const off = (t: tf.TensorInfo) => offsetOf(backend, t);
  addonFor(RUNNING).batchNormRunningStats(
    heap,
    off(runningMean),
    off(runningVar),
    off(mean),
    off(variance),
    off(meanOut),
    off(varOut),
    C,
    attrs.momentum as number,
    attrs.unbias as number,
  );
  return [meanOut, varOut];
}

let registered = false;

export function registerBatchNormKernels(): void {
  if (registered) return;
  registered = true;
  registerWasmKernel(TRAIN, trainKernel);
  registerWasmKernel(TRAIN_GRAD, trainGradKernel);
  registerWasmKernel(RUNNING, runningStatsKernel);
  tf.registerGradient({
    kernelName: TRAIN,
    inputsToSave: ['x', 'weight'],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved, attrs) => {
      const [x, weight, mean, variance] = saved;
      const dy = (dys as (tf.Tensor | null)[])[0] ?? tf.zerosLike(x);
      // One kernel gives all three gradients; the thunks hand them out.
      const [dx, dw, db] = runKernel<tf.Tensor[]>(TRAIN_GRAD, { dy, x, mean, variance, weight }, attrs);
      return { x: () => dx, weight: () => dw, bias: () => db };
    },
  });
}

/**
 * Batch norm with the batch's statistics, for x [N, C, ...]: returns y and the
 * batch mean and biased variance per channel. weight and bias are [C] (pass
 * ones and zeros for a layer without affine parameters).
 */
export function batchNormTrainNative(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  const [y, mean, variance] = runKernel<tf.Tensor[]>(TRAIN, { x, weight, bias }, { eps });
  return { y, mean, variance };
}

/**
 * running = (1 - momentum) * running + momentum * batch for running_mean and
 * running_var [C], the batch variance made unbiased (times `unbias`, n / (n - 1)).
 * Not differentiable: call it outside the tape.
 */
export function batchNormRunningStatsNative(
  runningMean: tf.Tensor,
  runningVar: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  momentum: number,
  unbias: number,
): [tf.Tensor, tf.Tensor] {
  const [m, v] = runKernel<tf.Tensor[]>(RUNNING, { runningMean, runningVar, mean, variance }, { momentum, unbias });
  return [m, v];
}
