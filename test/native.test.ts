/**
 * The native (OpenBLAS) matrix-product kernels of the wasm backend against the
 * plain kernels: every accelerated case is compared with tfjs' cpu backend on
 * the same random inputs, a small MLP trains to the same losses with the native
 * kernels on and off, and with the addon missing or turned off everything still
 * runs and device() says why.
 *
 * Without the addon (not built: `npm run build:native`) the comparisons are
 * skipped, unless HYPERLAB_REQUIRE_NATIVE=1 (CI), which makes them fail.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import * as hl from '../lib';
import { tf } from '../lib';
import { nativeCalls } from '../lib/engine/native/matmul';
import { nativeOpCalls } from '../lib/engine/native/wasm';
import { assertClose, Tolerance } from './helpers';

const available = hl.setNativeKernels(true);
const why = hl.device().native;
const requireNative = process.env.HYPERLAB_REQUIRE_NATIVE === '1';
/** Options for the tests that need the addon: skipped (with the reason) when it is not there. */
const needsAddon = { skip: available || requireNative ? false : `native kernels ${why}` };

test('the native kernels are available (HYPERLAB_REQUIRE_NATIVE=1 makes their absence an error)', needsAddon, () => {
  assert.ok(available, `native kernels ${why}`);
  assert.match(why, /^openblas sgemm \(OpenBLAS [\d.]+, \w+, \d+ threads?\)$/);
});

/** float32 products of up to 65 terms, summed in a different order: a few ulps of the terms' size. */
const TOL: Tolerance = { rtol: 1e-4, atol: 1e-4 };

const gen = new hl.Generator(1234);
type Spec = number[]; // an input's shape

/**
 * Run `f` on fresh random inputs of `shapes` on the cpu backend and on wasm with
 * the native kernels (or, with `kernels` 'plain', without them), and compare.
 * Checks that the native path really ran, and that no tensor leaked.
 */
async function compare(where: string, shapes: Spec[], f: (xs: tf.Tensor[]) => tf.Tensor, kernels: 'native' | 'plain' = 'native'): Promise<void> {
  const data = shapes.map((s) => gen.normalArray(s.reduce((p, d) => p * d, 1)));
  const run = (): { values: Float32Array; shape: number[] } => {
    const before = tf.memory().numTensors;
    const xs = data.map((d, i) => tf.tensor(d, shapes[i], 'float32'));
    const y = tf.tidy(() => f(xs));
    const result = { values: y.dataSync() as Float32Array, shape: y.shape };
    tf.dispose([...xs, y]);
    assert.equal(tf.memory().numTensors, before, `${where}: tensors leaked on ${tf.getBackend()}`);
    return result;
  };
  await hl.useBackend('cpu');
  const expected = run();
  await hl.useBackend('wasm');
  hl.setNativeKernels(kernels === 'native');
  const calls = nativeCalls.native;
  let actual: ReturnType<typeof run>;
  try {
    actual = run();
  } finally {
    hl.setNativeKernels(true);
  }
  if (kernels === 'native') assert.ok(nativeCalls.native > calls, `${where}: the native kernel did not run`);
  else assert.equal(nativeCalls.native, calls, `${where}: the native kernel ran`);
  assert.deepEqual(actual.shape, expected.shape, `${where}: shape`);
  assertClose(Array.from(actual.values), Array.from(expected.values), TOL, where);
}

// Sizes (m, k, n) with 1s (the gemv paths), 7 and 65 (not multiples of any block size).
const SIZES: [number, number, number][] = [
  [1, 1, 1],
  [1, 7, 65],
  [7, 65, 1],
  [65, 7, 7],
  [7, 1, 65],
  [65, 65, 65],
  [1, 65, 7],
  [7, 7, 1],
];
const TRANSPOSES: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];

/** Shapes of a and b for op(a) = [m, k] and op(b) = [k, n] with batch prefixes. */
function shapesFor(m: number, k: number, n: number, ta: boolean, tb: boolean, batchA: number[] = [], batchB: number[] = []): [Spec, Spec] {
  return [
    [...batchA, ...(ta ? [k, m] : [m, k])],
    [...batchB, ...(tb ? [n, k] : [k, n])],
  ];
}

test('matMul: every transpose variant and odd size matches the cpu backend', needsAddon, async () => {
  for (const [ta, tb] of TRANSPOSES) {
    for (const [m, k, n] of SIZES) {
      await compare(`matMul ${m}x${k}x${n} ta=${ta} tb=${tb}`, shapesFor(m, k, n, ta, tb), ([a, b]) => tf.matMul(a, b, ta, tb));
    }
  }
});

test('batched matMul with broadcast batch dimensions matches the cpu backend', needsAddon, async () => {
  const cases: [number[], number[]][] = [
    [[3], [3]], // one matrix per product on both sides
    [[3], []], // b shared by every product
    [[], [2, 3]], // a shared
    [[1], [4]],
    [[2, 3], [3]], // b's batch shape is a suffix of a's
    [
      [2, 3],
      [1, 3],
    ],
  ];
  for (const [ta, tb] of TRANSPOSES) {
    for (const [batchA, batchB] of cases) {
      const [m, k, n] = [7, 5, 3];
      await compare(`matMul [${batchA}] x [${batchB}] ta=${ta} tb=${tb}`, shapesFor(m, k, n, ta, tb, batchA, batchB), ([a, b]) => tf.matMul(a, b, ta, tb));
    }
  }
});

test('matMul broadcasting on both sides ([2,1] x [3]) gives each pair of slices, as numpy does', needsAddon, async () => {
  await hl.useBackend('wasm');
  hl.setNativeKernels(true);
  const a = tf.tensor(gen.normalArray(2 * 1 * 4 * 5), [2, 1, 4, 5]);
  const b = tf.tensor(gen.normalArray(3 * 5 * 6), [3, 5, 6]);
  const y = tf.matMul(a, b);
  assert.deepEqual(y.shape, [2, 3, 4, 6]);
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 3; j++) {
      const [ai, bj, yij, ref] = tf.tidy(() => {
        const ai = a.slice([i, 0, 0, 0], [1, 1, 4, 5]).reshape([4, 5]);
        const bj = b.slice([j, 0, 0], [1, 5, 6]).reshape([5, 6]);
        return [ai, bj, y.slice([i, j, 0, 0], [1, 1, 4, 6]).reshape([4, 6]), tf.matMul(ai, bj)];
      });
      assertClose(yij, Array.from(ref.dataSync()), TOL, `slice [${i}, ${j}]`);
      tf.dispose([ai, bj, yij, ref]);
    }
  }
  tf.dispose([a, b, y]);
});

const ACTIVATIONS = ['linear', 'relu', 'relu6', 'prelu', 'leakyrelu', 'sigmoid', 'elu'] as const;

test('fused matMul: bias shapes, transposes and every fused activation match the cpu backend', needsAddon, async () => {
  const [m, k, n] = [7, 65, 5];
  const biasShapes: Spec[] = [[n], [1, n], [m, n], [1], [m, 1]];
  for (const [ta, tb] of TRANSPOSES) {
    for (const bias of biasShapes) {
      await compare(`fused bias [${bias}] ta=${ta} tb=${tb}`, [...shapesFor(m, k, n, ta, tb), bias], ([a, b, c]) =>
        tf.fused.matMul({ a, b, transposeA: ta, transposeB: tb, bias: c }),
      );
    }
    for (const activation of ACTIVATIONS) {
      // scaled so that every activation sees both signs and relu6 clips
      await compare(`fused ${activation} ta=${ta} tb=${tb}`, [...shapesFor(m, k, n, ta, tb), [n], [n]], ([a, b, c, w]) =>
        tf.fused.matMul({
          a: tf.mul(a, 2),
          b,
          transposeA: ta,
          transposeB: tb,
          bias: c,
          activation,
          preluActivationWeights: activation === 'prelu' ? w : undefined,
          leakyreluAlpha: 0.13,
        }),
      );
    }
  }
  for (const [m2, k2, n2] of SIZES) {
    await compare(`fused relu ${m2}x${k2}x${n2}`, [[m2, k2], [n2, k2], [n2]], ([a, b, c]) =>
      tf.fused.matMul({ a, b, transposeB: true, bias: c, activation: 'relu' }),
    );
  }
  // batched, with a batch-varying bias and PReLU weights over rows
  await compare(
    'fused batched',
    [
      [3, m, k],
      [k, n],
      [3, 1, n],
      [m, 1],
    ],
    ([a, b, c, w]) => tf.fused.matMul({ a, b, bias: c, activation: 'prelu', preluActivationWeights: w }),
  );
  await compare(
    'fused without bias',
    [
      [4, m, k],
      [4, n, k],
    ],
    ([a, b]) => tf.fused.matMul({ a, b, transposeB: true, activation: 'elu' }),
  );
});

test('gradients through matMul and fused matMul match the cpu backend', needsAddon, async () => {
  for (const [ta, tb] of TRANSPOSES) {
    const [m, k, n] = [7, 65, 5];
    const shapes = [...shapesFor(m, k, n, ta, tb), [n]];
    // d/da, d/db and d/dbias of sum(fused(a, b, bias) * w), returned as one flat vector
    const grads = ([a, b, c]: tf.Tensor[]) => {
      const g = tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
        tf.sum(tf.mul(tf.fused.matMul({ a: x, b: y, transposeA: ta, transposeB: tb, bias: z }), tf.range(0, n))),
      )([a, b, c]);
      const flat = tf.concat(g.map((t) => t.flatten()));
      tf.dispose(g);
      return flat;
    };
    await compare(`grads ta=${ta} tb=${tb}`, shapes, grads);
    await compare(`matMul grads ta=${ta} tb=${tb}`, shapes.slice(0, 2), ([a, b]) => {
      const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y, ta, tb))))([a, b]);
      const flat = tf.concat(g.map((t) => t.flatten()));
      tf.dispose(g);
      return flat;
    });
  }
});

/** Train a small MLP with plain SGD for `steps` steps from seed 0; returns the losses. */
function trainMlp(steps: number): number[] {
  hl.manualSeed(0);
  const net = new hl.Sequential(new hl.Linear(13, 65), new hl.ReLU(), new hl.Linear(65, 7), new hl.Tanh(), new hl.Linear(7, 1));
  const g = new hl.Generator(7);
  const x = tf.tensor(g.normalArray(33 * 13), [33, 13]);
  const y = tf.tensor(g.normalArray(33), [33, 1]);
  const before = tf.memory().numTensors;
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    net.zeroGrad();
    losses.push(hl.backward(() => tf.mean(tf.square(tf.sub(net.forward(x), y)))));
    hl.noGrad(() => {
      for (const p of net.parameters()) {
        const next = tf.tidy(() => tf.sub(p, tf.mul(0.05, p.grad!)));
        p.copy_(next);
        next.dispose();
      }
    });
  }
  net.zeroGrad();
  assert.equal(tf.memory().numTensors, before, `tensor count is flat across training on ${hl.device().backend} (native ${hl.device().native})`);
  tf.dispose([x, y]);
  net.dispose();
  return losses;
}

test('a small MLP trains to the same losses with the native kernels on and off (and on cpu)', needsAddon, async () => {
  await hl.useBackend('wasm');
  hl.setNativeKernels(true);
  const calls = nativeCalls.native;
  const linearCalls = nativeOpCalls.HyperlabLinear ?? 0;
  const gradCalls = nativeOpCalls.HyperlabLinearGrad ?? 0;
  const onNative = trainMlp(8);
  // per step: 3 forward products (Linear's own native kernel), 3 weight gradients (with the bias
  // gradient, one native kernel each), 2 input gradients (native matMul; not for the data)
  assert.equal((nativeOpCalls.HyperlabLinear ?? 0) - linearCalls, 8 * 3, 'every Linear forward ran natively');
  assert.equal((nativeOpCalls.HyperlabLinearGrad ?? 0) - gradCalls, 8 * 3, "every Linear's parameter gradients ran natively");
  assert.equal(nativeCalls.native - calls, 8 * 2, 'every input-gradient product of the backward pass ran natively');
  hl.setNativeKernels(false);
  const plain = trainMlp(8);
  hl.setNativeKernels(true);
  await hl.useBackend('cpu');
  const cpu = trainMlp(8);
  assertClose(onNative, plain, { rtol: 1e-5, atol: 1e-6 }, 'losses, native vs plain wasm');
  assertClose(onNative, cpu, { rtol: 1e-5, atol: 1e-6 }, 'losses, native vs cpu');
  assert.ok(onNative[7] < onNative[0], 'the loss goes down');
});

test('setNativeKernels(false) sends products to the plain wasm kernels and device() says so', async () => {
  await hl.useBackend('wasm');
  hl.setNativeKernels(false);
  try {
    assert.match(hl.device().native, available ? /^off: / : /^unavailable: /);
    const before = nativeCalls.fallback;
    const y = tf.matMul(tf.ones([2, 3]), tf.ones([3, 4]));
    assert.deepEqual(Array.from(y.dataSync()), new Array(8).fill(3));
    assert.equal(nativeCalls.fallback, before + 1);
    tf.dispose(y);
  } finally {
    hl.setNativeKernels(true);
  }
});

test('without the native kernels, fused matMul with a bias is still right (tfjs-backend-wasm drops it when transposed or batched)', async () => {
  for (const [ta, tb] of TRANSPOSES) {
    for (const batch of [[], [3]]) {
      for (const activation of ['linear', 'relu', 'prelu', 'leakyrelu'] as const) {
        const [m, k, n] = [7, 5, 3];
        await compare(
          `plain fused [${batch}] ta=${ta} tb=${tb} ${activation}`,
          [...shapesFor(m, k, n, ta, tb, batch, batch), [n], [n]],
          ([a, b, c, w]) =>
            tf.fused.matMul({
              a,
              b,
              transposeA: ta,
              transposeB: tb,
              bias: c,
              activation,
              preluActivationWeights: activation === 'prelu' ? w : undefined,
              leakyreluAlpha: 0.13,
            }),
          'plain',
        );
      }
    }
  }
});

/** Run a short script in a fresh node with `env`: a product, a fused product and two training steps on wasm. */
function childRun(env: Record<string, string>): { native: string; product: number[]; fused: number[]; losses: number[] } {
  const lib = path.join(__dirname, '..', 'lib');
  const script = `
    const hl = require(${JSON.stringify(lib)});
    const tf = hl.tf;
    hl.useBackend('wasm').then(() => {
      const a = tf.tensor([[1, 2], [3, 4]]);
      const product = Array.from(tf.matMul(a, a, false, true).dataSync());
      const fused = Array.from(tf.fused.matMul({ a, b: a, bias: tf.tensor([-20, 0]), activation: 'relu' }).dataSync());
      hl.manualSeed(0);
      const net = new hl.Sequential(new hl.Linear(2, 3), new hl.ReLU(), new hl.Linear(3, 1));
      const losses = [];
      for (let s = 0; s < 2; s++) {
        net.zeroGrad();
        losses.push(hl.backward(() => tf.sum(net.forward(a))));
      }
      console.log(JSON.stringify({ native: hl.device().native, product, fused, losses }));
    });`;
  const base = { ...process.env };
  delete base.HYPERLAB_NATIVE; // the child sees only the settings under test
  delete base.HYPERLAB_NATIVE_ADDON;
  const out = execFileSync(process.execPath, ['-e', script], { env: { ...base, ...env }, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!);
}

test('with HYPERLAB_NATIVE=0 or a missing addon everything runs on the plain kernels and device() says why', () => {
  const off = childRun({ HYPERLAB_NATIVE: '0' });
  assert.equal(off.native, 'unavailable: turned off by HYPERLAB_NATIVE=0');
  assert.deepEqual(off.product, [5, 11, 11, 25]);
  assert.deepEqual(off.fused, [0, 10, 0, 22]);
  const missing = childRun({ HYPERLAB_NATIVE_ADDON: '/nonexistent/hyperlab_native.node' });
  assert.match(missing.native, /^unavailable: cannot load \/nonexistent\/hyperlab_native\.node: Cannot find module/);
  assert.deepEqual(missing.product, off.product);
  assert.deepEqual(missing.losses, off.losses);
  if (available) {
    const on = childRun({});
    assert.match(on.native, /^openblas sgemm/);
    assert.deepEqual(on.product, off.product);
    assert.deepEqual(on.fused, off.fused);
    assertClose(on.losses, off.losses, { rtol: 1e-6, atol: 1e-6 }, 'losses with and without the addon');
  }
});
