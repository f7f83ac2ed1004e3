/**
 * hyperlab's native kernels beyond matrix products (lib/engine/native: conv,
 * batch norm, LSTM, Adam) against the plain kernels: every layer and optimizer
 * that has a native path runs the same computation (forward, the loss, every
 * gradient, state after optimizer steps) on
 *
 *   - tfjs' cpu backend (the reference: the plain tfjs code of lib/nn),
 *   - wasm with the native kernels (checked to have run),
 *   - wasm with the native kernels switched off (the plain code on wasm),
 *
 * and the results must agree. Without the addon the native runs are skipped,
 * unless HYPERLAB_REQUIRE_NATIVE=1 (CI), which makes them fail.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import * as hl from '../lib';
import { tf } from '../lib';
import { nativeOpCalls } from '../lib/engine/native/wasm';
import { assertClose, Tolerance } from './helpers';

const available = hl.setNativeKernels(true);
const requireNative = process.env.HYPERLAB_REQUIRE_NATIVE === '1';
const withNative = available || requireNative;

/** float32 sums in a different order (im2col + sgemm, double accumulators, polynomial exp). */
const TOL: Tolerance = { rtol: 2e-4, atol: 2e-5 };

/** A parameter holding random normal data (the temporary tensor freed). */
function param(seed: number, shape: number[]): hl.Parameter {
  const t = normal(seed, shape);
  const p = new hl.Parameter(t);
  t.dispose();
  return p;
}

/** Random normal data, the same on every backend. */
function normal(seed: number, shape: number[]): tf.Tensor {
  return tf.tensor(new hl.Generator(seed).normalArray(shape.reduce((p, d) => p * d, 1)), shape, 'float32');
}

type Run = () => tf.Tensor[];

/** The run's tensors as one flat array (disposed), checking that no tensor leaked. */
function collect(run: Run): number[] {
  const before = tf.memory().numTensors;
  const outs = run();
  const values = outs.flatMap((t) => Array.from(t.dataSync()));
  tf.dispose(outs);
  assert.equal(tf.memory().numTensors, before, `tensors leaked on ${tf.getBackend()} (native ${hl.nativeKernelsActive()})`);
  return values;
}

/**
 * Run on cpu, on wasm with native kernels (checking that `kernel` ran) and on
 * plain wasm, and compare with the cpu results.
 */
async function compareBackends(where: string, kernel: string | null, run: Run, tol: Tolerance = TOL): Promise<void> {
  await hl.useBackend('cpu');
  const expected = collect(run);
  await hl.useBackend('wasm');
  hl.setNativeKernels(false);
  try {
    const plain = collect(run);
    assertClose(plain, expected, tol, `${where}: plain wasm vs cpu`);
  } finally {
    hl.setNativeKernels(true);
  }
  if (!withNative) return;
  assert.ok(available, `native kernels ${hl.device().native}`);
  const calls = kernel ? (nativeOpCalls[kernel] ?? 0) : 0;
  const actual = collect(run);
  if (kernel) assert.ok((nativeOpCalls[kernel] ?? 0) > calls, `${where}: the native kernel ${kernel} did not run`);
  assertClose(actual, expected, tol, `${where}: native wasm vs cpu`);
}

/**
 * A module's output, its loss sum(output * r) and the gradients of the input
 * and of every parameter, from fresh parameters (seed 5) and fixed data.
 */
function moduleRun(make: () => hl.Module, inputShape: number[], forward?: (m: hl.Module, x: tf.Tensor) => tf.Tensor): Run {
  return () => {
    hl.manualSeed(5);
    const m = make();
    m.train();
    const x = param(1, inputShape);
    let out: tf.Tensor | null = null;
    const f = forward ?? ((mod: hl.Module, t: tf.Tensor) => mod.forward(t) as tf.Tensor);
    const loss = hl.backward(() => {
      const y = f(m, x);
      out = tf.keep(hl.detach(y));
      return tf.sum(tf.mul(y, normal(2, y.shape)));
    });
    const results = [out!, tf.scalar(loss), x.grad!.clone(), ...m.parameters().map((p) => p.grad!.clone())];
    x.dispose();
    m.dispose();
    return results;
  };
}

const skipWithout = { skip: withNative ? false : `native kernels ${hl.device().native}` };

test('Linear (2-D and 3-D input, with and without bias): native matches the plain kernels', async () => {
  await compareBackends(
    'Linear(13, 7)',
    'HyperlabLinear',
    moduleRun(() => new hl.Linear(13, 7), [5, 13]),
  );
  await compareBackends(
    'Linear(4, 65) on (2, 3, 4), no bias',
    'HyperlabLinear',
    moduleRun(() => new hl.Linear(4, 65, false), [2, 3, 4]),
  );
  await compareBackends(
    'Linear(9, 1) on one row',
    'HyperlabLinear',
    moduleRun(() => new hl.Linear(9, 1), [1, 9]),
  );
});

test('Linear: parameter gradients from one kernel (frozen weight or bias, a shared layer) and second order match the plain kernels', async () => {
  // a layer used twice (its gradients add up) and frozen parameters (the fused kernel skips or drops one)
  const twice =
    (freeze: 'weight' | 'bias' | null): Run =>
    () => {
      hl.manualSeed(5);
      const m = new hl.Linear(6, 6);
      if (freeze) m[freeze]!.requiresGrad = false;
      const x = normal(1, [4, 6]);
      const loss = hl.backward(() => tf.sum(tf.mul(m.forward(tf.relu(m.forward(x))), normal(2, [4, 6]))));
      const grads = m
        .parameters()
        .filter((p) => p.requiresGrad)
        .map((p) => p.grad!.clone());
      x.dispose();
      m.dispose();
      return [tf.scalar(loss), ...grads];
    };
  await compareBackends('Linear used twice', 'HyperlabLinearGrad', twice(null));
  await compareBackends('Linear used twice, frozen weight', 'HyperlabLinearGrad', twice('weight'));
  await compareBackends('Linear used twice, frozen bias', 'HyperlabLinearGrad', twice('bias'));
  // second order through the weight gradient: d/dw sum((d/dw sum(linear(x; w, b)^2))^2)
  await compareBackends('Linear second order', 'HyperlabLinear', () => {
    const [x, w, b] = [normal(1, [5, 4]), normal(2, [3, 4]), normal(3, [3])];
    const inner = (v: tf.Tensor) => tf.grad((u: tf.Tensor) => tf.sum(tf.square(hl.F.linear(x, u, b))))(v);
    const gg = tf.grad((v: tf.Tensor) => tf.sum(tf.square(inner(v))))(w);
    tf.dispose([x, w, b]);
    return [gg];
  });
});

test('ReLU (zeros in the input) matches the plain kernels; its second-order gradient is right', async () => {
  await compareBackends(
    'ReLU',
    'HyperlabRelu',
    moduleRun(() => new hl.ReLU(), [3, 4, 5]),
  );
  await compareBackends(
    'ReLU with zeros',
    'HyperlabReluGrad',
    moduleRun(() => new hl.Sequential(new hl.ReLU(), new hl.ReLU()), [40]),
  );
  if (!withNative) return;
  // d/dx sum((d/dx sum(relu(x) * x))^2) = d/dx sum((2 relu(x))^2) = 8 relu(x)
  await hl.useBackend('wasm');
  const values = new hl.Generator(4).normalArray(17);
  const x = tf.tensor(values);
  const gg = tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.grad((u: tf.Tensor) => tf.sum(tf.mul(hl.F.relu(u), u)))(v))))(x);
  assertClose(
    gg,
    Array.from(values, (v) => 8 * Math.max(v, 0)),
    TOL,
    'ReLU second order',
  );
  tf.dispose([x, gg]);
});

test('crossEntropyLoss on class indices (mean, sum, int32 targets): loss and gradient match the plain kernels', async () => {
  const ceRun =
    (M: number, C: number, opts: { reduction?: 'mean' | 'sum'; int?: boolean }): Run =>
    () => {
      const logits = param(1, [M, C]);
      const g = new hl.Generator(9);
      const target = tf.tensor(
        Array.from({ length: M }, () => g.nextUint32() % C),
        [M],
        opts.int ? 'int32' : 'float32',
      );
      const loss = hl.backward(() => hl.crossEntropyLoss(tf.mul(logits, 3), target, { reduction: opts.reduction }));
      const out = [tf.scalar(loss), logits.grad!.clone()];
      tf.dispose([logits, target]);
      return out;
    };
  await compareBackends('cross-entropy mean', 'HyperlabCrossEntropy', ceRun(64, 10, {}));
  await compareBackends('cross-entropy sum, int32 targets', 'HyperlabCrossEntropy', ceRun(7, 3, { reduction: 'sum', int: true }));
  await compareBackends('cross-entropy two classes, one row', 'HyperlabCrossEntropy', ceRun(1, 2, {}));
});

test('bceWithLogitsLoss (mean and sum, logits up to ±1000, target with a gradient) matches the plain kernels, second order too', async () => {
  const bceRun =
    (shape: number[], reduction: 'mean' | 'sum'): Run =>
    () => {
      const g = new hl.Generator(9);
      const x = tf.tidy(() => tf.mul(normal(1, shape), tf.tensor([3, 50, 1000]).reshape([1, 3]))); // logits up to ±1000
      const y = tf.tensor(
        Array.from({ length: x.size }, () => (g.nextUint32() % 1000) / 999),
        shape,
      );
      const loss = hl.bceWithLogitsLoss(x, y, { reduction });
      const out = [loss, ...tf.grads((a: tf.Tensor, b: tf.Tensor) => hl.bceWithLogitsLoss(a, b, { reduction }))([x, y])];
      tf.dispose([x, y]);
      return out;
    };
  await compareBackends('BCE with logits, mean', 'HyperlabBceWithLogits', bceRun([5, 3], 'mean'));
  await compareBackends('BCE with logits, sum', 'HyperlabBceWithLogits', bceRun([2, 3], 'sum'));
  // d/dx and d/dy of sum((d/dx loss)^2): through the gradient kernel's own gradient
  const second: Run = () => {
    const x = normal(3, [4, 3]);
    const y = tf.tidy(() => tf.sigmoid(normal(4, [4, 3])));
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.grad((u: tf.Tensor) => hl.bceWithLogitsLoss(u, b))(a)));
    const out = tf.grads(f)([x, y]);
    tf.dispose([x, y]);
    return out;
  };
  await compareBackends('BCE with logits, second order', 'HyperlabBceWithLogitsGrad', second);
});

test('LeakyReLU (slopes 0.2 and 0.01, zeros in the input) matches the plain kernels; its second-order gradient is right', async () => {
  await compareBackends(
    'LeakyReLU(0.2)',
    'HyperlabLeakyRelu',
    moduleRun(() => new hl.LeakyReLU(0.2), [3, 4, 5]),
  );
  await compareBackends(
    'LeakyReLU() with zeros',
    'HyperlabLeakyRelu',
    moduleRun(() => new hl.Sequential(new hl.ReLU(), new hl.LeakyReLU()), [40]),
  );
  if (!withNative) return;
  // second order (tfjs' own LeakyRelu gradient cannot be differentiated: no gradient for Greater):
  // d/dx sum((d/dx sum(f(x) * x))^2) = d/dx sum((2 s x)^2) = 8 s^2 x, s = 1 or the slope
  await hl.useBackend('wasm');
  const values = new hl.Generator(4).normalArray(17);
  const x = tf.tensor(values);
  const m = new hl.LeakyReLU(0.3);
  const gg = tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.grad((u: tf.Tensor) => tf.sum(tf.mul(m.forward(u), u)))(v))))(x);
  assertClose(
    gg,
    Array.from(values, (v) => 8 * (v > 0 ? 1 : 0.09) * v),
    TOL,
    'LeakyReLU second order',
  );
  tf.dispose([x, gg]);
});

test('ReLU at NaN and zero matches PyTorch: NaN kept forward, gradient from the output (threshold_backward)', { skip: skipWithout.skip }, async () => {
  await hl.useBackend('wasm');
  // PyTorch 1.13: relu([nan, -1, 0, 2]) = [nan, 0, 0, 2]; with upstream gradient [1, 2, 3, 4], x.grad = [1, 0, 0, 4]
  const x = tf.tensor([NaN, -1, 0, 2]);
  const y = hl.F.relu(x);
  const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(hl.F.relu(v), tf.tensor([1, 2, 3, 4]))))(x);
  assert.deepEqual(Array.from(y.dataSync()), [NaN, 0, 0, 2]);
  assert.deepEqual(Array.from(g.dataSync()), [1, 0, 0, 4]);
  tf.dispose([x, y, g]);
});

test('PReLU (one slope, per channel on 2-D and 4-D input, zeros in the input) matches the plain kernels', async () => {
  await compareBackends(
    'PReLU()',
    'HyperlabPrelu',
    moduleRun(() => new hl.PReLU(), [16, 37]),
  );
  await compareBackends(
    'PReLU(3) on [4, 3]',
    'HyperlabPrelu',
    moduleRun(() => new hl.PReLU(3, 0.1), [4, 3]),
  );
  await compareBackends(
    'PReLU(5) on [2, 5, 3, 4]',
    'HyperlabPrelu',
    moduleRun(() => new hl.PReLU(5), [2, 5, 3, 4]),
  );
  await compareBackends(
    'ReLU then PReLU (exact zeros)',
    'HyperlabPrelu',
    moduleRun(() => new hl.Sequential(new hl.ReLU(), new hl.PReLU()), [40]),
  );
  await compareBackends('PReLU on an empty batch', 'HyperlabPrelu', () => {
    const m = new hl.PReLU(4);
    const x = tf.zeros([0, 4]);
    const y = m.forward(x);
    const out = [y.clone()];
    tf.dispose([x, y]);
    m.dispose();
    return out;
  });
});

test('L2 regularisation (per tensor and global, a zero tensor among them): value and gradients match the plain kernels', async () => {
  const regRun =
    (variant: 'per-tensor' | 'global'): Run =>
    () => {
      const ps = [param(1, [7, 5]), param(2, [5]), param(3, [1])];
      const zero = hl.Parameter.filled([3], 0);
      const all = [...ps, zero];
      const loss = hl.backward(() => tf.mul(hl.regularization(all, 'L2', 0.3, { variant }), 2));
      const out = [tf.scalar(loss), ...all.map((p) => p.grad!.clone())];
      tf.dispose(all);
      return out;
    };
  await compareBackends('L2 per tensor', 'HyperlabNormSum', regRun('per-tensor'));
  await compareBackends('L2 global', 'HyperlabNormSum', regRun('global'));
});

test('Conv2d: strides, padding (also same and asymmetric), dilation, bias, unbatched: native matches the plain kernels', async () => {
  const cases: [string, () => hl.Module, number[]][] = [
    ['k4 s2 p1 (CNN (c))', () => new hl.Conv2d(3, 8, 4, { stride: 2, padding: 1 }), [4, 3, 16, 16]],
    ['k4 s4 no bias (RACCOON)', () => new hl.Conv2d(2, 5, 4, { stride: 4, bias: false }), [3, 2, 16, 16]],
    ['k3 s1 same', () => new hl.Conv2d(3, 4, 3, { padding: 'same' }), [2, 3, 7, 9]],
    ['k4 same (odd total padding)', () => new hl.Conv2d(2, 3, [4, 2], { padding: 'same' }), [2, 2, 6, 5]],
    ['k3 dilation 2 stride [2,1]', () => new hl.Conv2d(3, 4, 3, { stride: [2, 1], dilation: 2, padding: [1, 2] }), [2, 3, 11, 10]],
    ['k [2,5] stride 3 (unused trailing rows)', () => new hl.Conv2d(2, 3, [2, 5], { stride: 3 }), [2, 2, 10, 13]],
    ['1x1', () => new hl.Conv2d(5, 3, 1), [2, 5, 4, 4]],
    ['many small images (grouped sgemm)', () => new hl.Conv2d(4, 6, 3, { padding: 1 }), [40, 4, 3, 3]],
    // rows of whole 8-float vectors run the direct (AVX2) forward: an odd number of vectors, O not a multiple of 4
    ['direct: k3 dilation 2 p1, 5 channels, 3x8 outputs', () => new hl.Conv2d(3, 5, 3, { padding: 1, dilation: 2 }), [2, 3, 5, 10]],
    ['direct: k4 s2 p1, 6 channels, 8x16 outputs, no bias', () => new hl.Conv2d(3, 6, 4, { stride: 2, padding: 1, bias: false }), [2, 3, 17, 32]],
    ['unbatched', () => new hl.Conv2d(3, 4, 3, { padding: 1 }), [3, 6, 6]],
  ];
  for (const [name, make, shape] of cases) await compareBackends(`Conv2d ${name}`, 'HyperlabConv2D', moduleRun(make, shape));
});

test('Conv1d, ConvTranspose1d and ConvTranspose2d: native matches the plain kernels', async () => {
  await compareBackends(
    'Conv1d k5 s2 p2 dilation 2',
    'HyperlabConv2D',
    moduleRun(() => new hl.Conv1d(3, 4, 5, { stride: 2, padding: 2, dilation: 2 }), [2, 3, 20]),
  );
  await compareBackends(
    'Conv1d unbatched',
    'HyperlabConv2D',
    moduleRun(() => new hl.Conv1d(3, 2, 3), [3, 9]),
  );
  const transposes: [string, () => hl.Module, number[]][] = [
    ['2d k4 s2 p1', () => new hl.ConvTranspose2d(4, 3, 4, { stride: 2, padding: 1 }), [2, 4, 5, 6]],
    ['2d k3 s2 output_padding 1', () => new hl.ConvTranspose2d(3, 2, 3, { stride: 2, padding: 1, outputPadding: 1 }), [2, 3, 4, 4]],
    ['2d k3 s1 dilation 2 output_padding 1, no bias', () => new hl.ConvTranspose2d(2, 3, 3, { dilation: 2, outputPadding: 1, bias: false }), [2, 2, 5, 4]],
    ['1d k4 s3', () => new hl.ConvTranspose1d(3, 2, 4, { stride: 3, padding: 1 }), [2, 3, 7]],
  ];
  for (const [name, make, shape] of transposes) await compareBackends(`ConvTranspose${name}`, 'HyperlabConv2DBackpropInput', moduleRun(make, shape));
});

test('second-order gradients through the native convolution kernels match the plain path', async () => {
  // d/dw of sum((d/dx sum(conv(x, w) * r))^2): runs the gradients of the input- and filter-gradient kernels
  const run: Run = () => {
    const [x, w, r] = [normal(1, [2, 3, 8, 8]), normal(2, [4, 3, 3, 3]), normal(3, [2, 4, 4, 4])];
    const penalty = (wv: tf.Tensor) => {
      const gx = tf.grad((xv: tf.Tensor) => tf.sum(tf.mul(hl.conv2d(xv, wv, null, { stride: 2, padding: 1 }), r)))(x);
      return tf.sum(tf.square(gx));
    };
    const ww = tf.grad(penalty)(w);
    tf.dispose([x, w, r]);
    return [ww];
  };
  await compareBackends('grad of grad', 'HyperlabConv2DBackpropFilter', run, { rtol: 1e-3, atol: 1e-4 });
});

test('BatchNorm1d/2d in training: output, gradients and running statistics match the plain kernels', async () => {
  const bnRun = (make: () => hl.Module, shape: number[], steps = 2): Run => {
    const grads = moduleRun(make, shape);
    return () => {
      // gradients of one step, then the running statistics after `steps` forward passes
      const out = grads();
      hl.manualSeed(5);
      const m = make();
      const x = normal(1, shape);
      for (let s = 0; s < steps; s++)
        tf.tidy(() => {
          m.forward(tf.mul(x, s + 1));
        });
      const buffers = Object.values(m.stateDict()).map((t) => tf.cast(t, 'float32'));
      tf.dispose(x);
      m.dispose();
      return [...out, ...buffers];
    };
  };
  await compareBackends(
    'BatchNorm2d',
    'HyperlabBatchNormTrain',
    bnRun(() => new hl.BatchNorm2d(4), [3, 4, 5, 6]),
  );
  await compareBackends(
    'BatchNorm2d running statistics (momentum 0.3)',
    'HyperlabBatchNormRunningStats',
    bnRun(() => new hl.BatchNorm2d(3, { momentum: 0.3 }), [4, 3, 2, 5], 3),
  );
  await compareBackends(
    'BatchNorm1d (N, C)',
    'HyperlabBatchNormTrain',
    bnRun(() => new hl.BatchNorm1d(7), [5, 7]),
  );
  await compareBackends(
    'BatchNorm1d (N, C, L), momentum null',
    'HyperlabBatchNormTrain',
    bnRun(() => new hl.BatchNorm1d(3, { momentum: null }), [4, 3, 9], 3),
  );
  await compareBackends(
    'BatchNorm2d affine false',
    'HyperlabBatchNormTrain',
    bnRun(() => new hl.BatchNorm2d(2, { affine: false }), [2, 2, 3, 3]),
  );
  await compareBackends(
    'BatchNorm2d no running stats',
    'HyperlabBatchNormTrain',
    bnRun(() => new hl.BatchNorm2d(2, { trackRunningStats: false }), [3, 2, 2, 2]),
  );
});

test('LSTM: uni- and bidirectional, stacked, batchFirst, unbatched, given state: outputs, states and gradients match', async () => {
  const lstmRun = (make: () => hl.LSTM, shape: number[], withState: number[] | null, useAll: boolean): Run => {
    return moduleRun(make, shape, (m, x) => {
      const lstm = m as hl.LSTM;
      const state = withState ? ([tf.mul(normal(7, withState), 0.5), tf.mul(normal(8, withState), 0.5)] as [tf.Tensor, tf.Tensor]) : undefined;
      const [out, [h, c]] = lstm.forward(x, state);
      // the output alone (d in the bench reads one step), or everything
      return useAll ? tf.concat([out.flatten(), tf.mul(h, 2).flatten(), tf.mul(c, 3).flatten()]) : out;
    });
  };
  const cases: [string, () => hl.LSTM, number[], number[] | null, boolean][] = [
    ['1 layer', () => new hl.LSTM(3, 5), [6, 2, 3], null, false],
    ['1 layer, h and c used, given state', () => new hl.LSTM(3, 5), [6, 2, 3], [1, 2, 5], true],
    ['bidirectional, 2 layers, batchFirst', () => new hl.LSTM(4, 3, { bidirectional: true, numLayers: 2, batchFirst: true }), [2, 5, 4], [4, 2, 3], true],
    ['no bias', () => new hl.LSTM(2, 4, { bias: false }), [3, 2, 2], null, true],
    ['unbatched, length 1', () => new hl.LSTM(3, 2), [1, 3], null, true],
  ];
  for (const [name, make, shape, state, all] of cases) await compareBackends(`LSTM ${name}`, 'HyperlabLSTM', lstmRun(make, shape, state, all));
});

interface Opt {
  zeroGrad(): void;
  step(): void;
  stateDict(): { state: Record<string, Record<string, unknown>> };
  dispose(): void;
}

test('Adam and AdamW (weight decay, amsgrad, maximize): parameters and state after 4 steps match the plain kernels', async () => {
  const adamRun =
    (make: (ps: hl.Parameter[]) => Opt): Run =>
    () => {
      const ps = [param(1, [3, 4]), param(2, [5])];
      const opt = make(ps);
      for (let s = 0; s < 4; s++) {
        opt.zeroGrad();
        hl.backward(() => tf.add(tf.sum(tf.pow(ps[0], 3)), tf.sum(tf.mul(ps[1], normal(10 + s, [5])))));
        opt.step();
      }
      const state = opt.stateDict();
      const moments = Object.values(state.state).flatMap((s) =>
        Object.entries(s)
          .filter(([k]) => k !== 'step')
          .map(([, v]) => tf.tensor((v as { data: number[] }).data ?? (v as number[]))),
      );
      opt.zeroGrad();
      opt.dispose();
      const out = [...ps.map((p) => p.clone()), ...moments];
      tf.dispose(ps);
      return out;
    };
  const opts: [string, (ps: hl.Parameter[]) => Opt][] = [
    ['Adam', (ps) => new hl.Adam(ps, { lr: 0.1 })],
    ['Adam betas (0.5, 0.999), weight decay, amsgrad', (ps) => new hl.Adam(ps, { lr: 0.05, betas: [0.5, 0.999], weightDecay: 0.1, amsgrad: true })],
    ['Adam maximize', (ps) => new hl.Adam(ps, { lr: 0.01, maximize: true })],
    ['AdamW', (ps) => new hl.AdamW(ps, { lr: 0.1, weightDecay: 0.5 })],
  ];
  for (const [name, make] of opts) await compareBackends(name, 'HyperlabAdam', adamRun(make), { rtol: 1e-5, atol: 1e-6 });
});

test('SGD (momentum, dampening, Nesterov, weight decay, maximize) and Adam with a parameter that skips steps: all parameters in one kernel match the plain kernels', async () => {
  // three parameters; the third has no gradient in the first two steps (its state and step count start later)
  const optRun = (make: (ps: hl.Parameter[]) => Opt, kernel: string): [string, Run] => [
    kernel,
    () => {
      const ps = [param(1, [3, 4]), param(2, [5]), param(3, [2, 2])];
      const opt = make(ps);
      for (let s = 0; s < 4; s++) {
        opt.zeroGrad();
        hl.backward(() => {
          const main = tf.add(tf.sum(tf.pow(ps[0], 3)), tf.sum(tf.mul(ps[1], normal(10 + s, [5]))));
          return s < 2 ? main : tf.add(main, tf.sum(tf.square(ps[2])));
        });
        opt.step();
      }
      const state = opt.stateDict();
      const values = Object.values(state.state).flatMap((st) =>
        Object.entries(st)
          .filter(([, v]) => v !== null)
          .map(([, v]) => (typeof v === 'number' ? tf.scalar(v) : tf.tensor((v as { data: number[] }).data ?? (v as number[])))),
      );
      opt.zeroGrad();
      opt.dispose();
      const out = [...ps.map((p) => p.clone()), ...values];
      tf.dispose(ps);
      return out;
    },
  ];
  const cases: [string, [string, Run]][] = [
    ['SGD', optRun((ps) => new hl.SGD(ps, { lr: 0.05 }), 'HyperlabSgdInPlace')],
    ['SGD momentum (in place after the first step)', optRun((ps) => new hl.SGD(ps, { lr: 0.05, momentum: 0.9 }), 'HyperlabSgdInPlace')],
    ['SGD momentum, dampening, weight decay', optRun((ps) => new hl.SGD(ps, { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }), 'HyperlabSgd')],
    ['SGD Nesterov, maximize', optRun((ps) => new hl.SGD(ps, { lr: 0.01, momentum: 0.5, nesterov: true, maximize: true }), 'HyperlabSgd')],
    ['Adam, a late parameter', optRun((ps) => new hl.Adam(ps, { lr: 0.1 }), 'HyperlabAdam')],
    ['Adam (in place after the first step), a late parameter', optRun((ps) => new hl.Adam(ps, { lr: 0.1 }), 'HyperlabAdamInPlace')],
    ['AdamW amsgrad maximize in place', optRun((ps) => new hl.AdamW(ps, { lr: 0.05, weightDecay: 0.3, amsgrad: true, maximize: true }), 'HyperlabAdamInPlace')],
  ];
  for (const [name, [kernel, run]] of cases) await compareBackends(name, kernel, run, { rtol: 1e-5, atol: 1e-6 });
});

test('SGD in place leaves a clone of a parameter (sharing its data) unchanged: that step takes the kernel path', skipWithout, async () => {
  await hl.useBackend('wasm');
  const p = param(1, [4, 3]);
  const before = Array.from(p.dataSync());
  const held = p.clone(); // shares the data (copy-free Identity): an update in place would change it
  const opt = new hl.SGD([p], { lr: 0.5, momentum: 0.9 });
  const inPlace = () => nativeOpCalls.HyperlabSgdInPlace ?? 0;
  const step = () => {
    opt.zeroGrad();
    hl.backward(() => tf.sum(tf.square(p)));
    opt.step();
  };
  const calls = inPlace();
  step(); // shared data (and no momentum buffer yet): the kernel, whose new tensor p then holds alone
  assert.equal(inPlace(), calls, 'updated in place although a clone shares the data');
  const after1 = Array.from(p.dataSync());
  const buffer = opt.snapshot(); // the momentum buffer shared by a clone: kernel path again
  step();
  assert.equal(inPlace(), calls, 'updated in place although a clone shares the momentum buffer');
  const sd = buffer.stateDict();
  const held1 = sd.state['0'].momentum_buffer as { data: number[] }; // after step 1: the gradient (p0 - p1) / lr
  assertClose(
    held1.data,
    after1.map((v, i) => (before[i] - v) / 0.5),
    TOL,
    'the momentum buffer snapshot changed',
  );
  buffer.dispose();
  step();
  assert.equal(inPlace(), calls + 1, 'not in place once nothing shares the data');
  assert.deepEqual(Array.from(held.dataSync()), before, 'the held clone changed');
  held.dispose();
  opt.zeroGrad();
  opt.dispose();
  p.dispose();
});

test('Adam in place leaves a clone of a parameter and a snapshot of its moments unchanged: those steps take the kernel path', skipWithout, async () => {
  await hl.useBackend('wasm');
  const p = param(1, [4, 3]);
  const opt = new hl.Adam([p], { lr: 0.1 });
  const inPlace = () => nativeOpCalls.HyperlabAdamInPlace ?? 0;
  const step = () => {
    opt.zeroGrad();
    hl.backward(() => tf.sum(tf.pow(p, 3)));
    opt.step();
  };
  const calls = inPlace();
  step(); // no moments yet: the kernel
  assert.equal(inPlace(), calls, 'in place on the first step, before the moments exist');
  const held = p.clone(); // shares the data: an update in place would change it
  const before = Array.from(held.dataSync());
  step();
  assert.equal(inPlace(), calls, 'updated in place although a clone shares the data');
  const snapshot = opt.snapshot(); // the moments shared by a clone
  const moments = (o: { stateDict(): hl.OptimizerStateDict }) => {
    const st = o.stateDict().state['0'];
    return [(st.exp_avg as { data: number[] }).data, (st.exp_avg_sq as { data: number[] }).data];
  };
  const kept = moments(snapshot);
  step();
  assert.equal(inPlace(), calls, 'updated in place although a snapshot shares the moments');
  step();
  assert.equal(inPlace(), calls + 1, 'not in place once nothing shares the data');
  assert.deepEqual(moments(snapshot), kept, 'the snapshot of the moments changed');
  assert.deepEqual(Array.from(held.dataSync()), before, 'the held clone changed');
  assert.notDeepEqual(moments(opt), kept, 'the moments did not move');
  snapshot.dispose();
  held.dispose();
  opt.zeroGrad();
  opt.dispose();
  p.dispose();
});

test('mseLoss (mean and sum, 1-D to 3-D, target with a gradient) matches the plain kernels', async () => {
  const mseRun =
    (shape: number[], reduction: 'mean' | 'sum'): Run =>
    () => {
      const pred = param(1, shape);
      const target = param(2, shape);
      const loss = hl.backward(() => tf.mul(hl.mseLoss(tf.mul(pred, 2), target, { reduction }), 3));
      const out = [tf.scalar(loss), pred.grad!.clone(), target.grad!.clone()];
      tf.dispose([pred, target]);
      return out;
    };
  await compareBackends('mse mean [16, 226]', 'HyperlabMse', mseRun([16, 226], 'mean'));
  await compareBackends('mse sum [64, 10]', 'HyperlabMse', mseRun([64, 10], 'sum'));
  await compareBackends('mse mean [2, 3, 5]', 'HyperlabMse', mseRun([2, 3, 5], 'mean'));
  await compareBackends('mse mean [1]', 'HyperlabMse', mseRun([1], 'mean'));
});

test('a small CNN with batch norm trains to the same losses with native kernels, plain wasm and cpu', async () => {
  const train: Run = () => {
    hl.manualSeed(0);
    const net = new hl.Sequential(
      new hl.Conv2d(1, 4, 4, { stride: 2, padding: 1 }),
      new hl.BatchNorm2d(4),
      new hl.ReLU(),
      new hl.Conv2d(4, 8, 4, { stride: 2, padding: 1 }),
      new hl.BatchNorm2d(8),
      new hl.LeakyReLU(0.2),
      new hl.Flatten(),
      new hl.Linear(8 * 4 * 4, 1),
    );
    const x = normal(1, [6, 1, 16, 16]);
    const y = tf.tensor([[0], [1], [1], [0], [1], [0]]);
    const opt = new hl.Adam(net.parameters(), { lr: 1e-2 });
    const losses: number[] = [];
    for (let s = 0; s < 5; s++) {
      opt.zeroGrad();
      losses.push(hl.backward(() => hl.bceWithLogitsLoss(net.forward(x), y)));
      opt.step();
    }
    opt.zeroGrad();
    tf.dispose([x, y]);
    net.dispose();
    opt.dispose();
    return [tf.tensor(losses)];
  };
  await compareBackends('CNN training', 'HyperlabConv2DBackpropFilter', train, { rtol: 1e-4, atol: 1e-5 });
});

test("tfjs-backend-wasm's gaps: tf.conv2d's filter gradient (missing) and Tile (slow) match the cpu backend", async () => {
  const pads: [string, number[], [number, number], 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]]][] = [
    ['valid stride 2', [3, 9, 10, 2], [2, 2], 'valid'],
    ['same stride 2', [2, 9, 7, 3], [2, 2], 'same'],
    ['same stride 1', [2, 6, 6, 2], [1, 1], 'same'],
    [
      'explicit padding, strides [3, 1]',
      [2, 8, 7, 2],
      [3, 1],
      [
        [0, 0],
        [1, 2],
        [2, 0],
        [0, 0],
      ],
    ],
    ["padding 1 (square: tfjs sizes a numeric padding's output with the filter height and stride in both dimensions)", [1, 5, 5, 4], [2, 2], 1],
  ];
  for (const [name, xShape, strides, pad] of pads) {
    const run: Run = () => {
      const x = normal(1, xShape);
      const w = normal(2, [3, typeof pad === 'number' ? 3 : 2, xShape[3], 4]);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad))))([x, w]);
      tf.dispose([x, w]);
      return [dx, dw];
    };
    await compareBackends(`tf.conv2d gradients, ${name}`, null, run);
  }
  const tiles: [number[], number[], 'float32' | 'int32' | 'bool'][] = [
    [[1, 4, 1, 1], [3, 1, 5, 2], 'float32'],
    [[2, 3], [2, 3], 'int32'],
    [[3, 1, 2], [1, 4, 1], 'bool'],
    [[5], [3], 'float32'],
    [[2, 2, 2], [1, 1, 1], 'float32'],
  ];
  for (const [shape, reps, dtype] of tiles) {
    await compareBackends(`tf.tile [${shape}] x [${reps}] ${dtype}`, null, () => [
      tf.tidy(() => {
        const x = dtype === 'bool' ? tf.greater(normal(3, shape), 0) : tf.cast(tf.round(tf.mul(normal(4, shape), 9)), dtype);
        return tf.cast(tf.tile(x, reps), 'float32');
      }),
    ]);
  }
  await compareBackends('tf.batchNorm gradients (Tile inside)', null, () => {
    const [x, m, v, o, s] = [normal(1, [4, 5, 6]), normal(2, [6]), tf.tidy(() => tf.abs(normal(3, [6]))), normal(4, [6]), normal(5, [6])];
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.square(tf.batchNorm(a, m, v, c, b, 1e-3))))([x, s, o]);
    tf.dispose([x, m, v, o, s]);
    return g;
  });
});

test('tf.clone on wasm shares the data (Identity without a copy): values survive disposing either tensor, memory is freed with both', async () => {
  await hl.useBackend('wasm');
  const before = tf.memory();
  const a = tf.tensor([1, 2, 3, 4], [2, 2]);
  const b = tf.clone(a);
  assert.equal(tf.memory().numDataBuffers - before.numDataBuffers, 1, 'one buffer for both');
  a.dispose();
  assert.deepEqual(Array.from(b.dataSync()), [1, 2, 3, 4]);
  const c = tf.add(b, 1); // reads the shared buffer
  assert.deepEqual(Array.from(c.dataSync()), [2, 3, 4, 5]);
  tf.dispose([b, c]);
  assert.equal(tf.memory().numDataBuffers, before.numDataBuffers);
  assert.equal(tf.memory().numTensors, before.numTensors);
});

test('without the addon (HYPERLAB_NATIVE=0) a CNN with batch norm, an LSTM and Adam train on wasm', skipWithout, () => {
  const lib = path.join(__dirname, '..', 'lib');
  const script = `
    const hl = require(${JSON.stringify(lib)});
    const tf = hl.tf;
    hl.useBackend('wasm').then(() => {
      hl.manualSeed(0);
      const cnn = new hl.Sequential(new hl.Conv2d(1, 3, 3, { stride: 2, padding: 1 }), new hl.BatchNorm2d(3), new hl.ReLU(), new hl.Flatten(), new hl.Linear(3 * 4 * 4, 1));
      const lstm = new hl.LSTM(2, 3);
      const params = [...cnn.parameters(), ...lstm.parameters()];
      const opt = new hl.Adam(params, { lr: 0.01 });
      const x = tf.ones([2, 1, 8, 8]).mul(tf.range(0, 64).reshape([1, 1, 8, 8]).div(64));
      const s = tf.ones([4, 2, 2]).mul(0.5);
      const losses = [];
      for (let i = 0; i < 3; i++) {
        opt.zeroGrad();
        losses.push(hl.backward(() => tf.add(tf.sum(cnn.forward(x)), tf.sum(lstm.forward(s)[0]))));
        opt.step();
      }
      console.log(JSON.stringify({ native: hl.device().native, losses }));
    });`;
  const runWith = (env: Record<string, string>) => {
    const base = { ...process.env };
    delete base.HYPERLAB_NATIVE;
    const out = execFileSync(process.execPath, ['-e', script], { env: { ...base, ...env }, encoding: 'utf8' });
    return JSON.parse(out.trim().split('\n').pop()!) as { native: string; losses: number[] };
  };
  const off = runWith({ HYPERLAB_NATIVE: '0' });
  assert.equal(off.native, 'unavailable: turned off by HYPERLAB_NATIVE=0');
  const on = runWith({});
  assert.match(on.native, /^openblas sgemm/);
  assertClose(on.losses, off.losses, { rtol: 1e-4, atol: 1e-5 }, 'losses with and without the addon');
});
