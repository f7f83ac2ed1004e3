/**
 * The WebGPU code path (the `webgpu` package = Dawn, tfjs-backend-webgpu) against
 * the cpu backend, and the device report.
 *
 * Without a GPU (CI, development machines) this runs on WebGPU's software adapter:
 * Mesa's llvmpipe through EGL (Debian: libegl-dev libegl-mesa0 libgl1-mesa-dri,
 * installed by scripts/setup.sh). It is ~50x slower than wasm, so the models are
 * tiny. The tests are skipped, saying why, only when the webgpu package or those
 * libraries are missing; anything else that stops WebGPU fails them.
 *
 * Tolerance: float32 on the GPU sums in another order than tfjs' cpu kernels (and
 * its shaders use their own exp/sqrt), so values agree to ~1e-6 relative; we
 * allow 1e-4 relative with a 1e-5 absolute floor (values are O(0.01)-O(1)) for
 * the loss, every gradient and every parameter after each step.
 */
import { strict as assert } from 'node:assert';
import { after, test, TestContext } from 'node:test';
import * as hl from '../lib';
import { tf } from '../lib';
import { missingSoftwarePackages, probeWebGPU, releaseWebGPU, webgpuInstalled } from '../lib/engine/webgpu';
import { mergePadAxes, mergeReverseAxes } from '../lib/engine/webgpu_kernels';
import { assertClose, Tolerance } from './helpers';

const GPU_TOL: Tolerance = { rtol: 1e-4, atol: 1e-5 };

/**
 * Why the WebGPU tests cannot run here (false: they run): only a missing `webgpu`
 * package, or no GPU and no Mesa EGL for the software adapter.
 */
async function skipReason(): Promise<string | false> {
  if (!webgpuInstalled()) return 'the webgpu package is not installed (npm install: it is an optional dependency)';
  if ((await probeWebGPU()).ok) return false; // a real GPU
  const missing = missingSoftwarePackages();
  if (missing.length)
    return `no GPU, and Mesa's EGL / llvmpipe libraries for the software adapter are missing (apt-get install ${missing.join(' ')}; scripts/setup.sh does it)`;
  return false;
}
let skipWhy: Promise<string | false> | null = null;

/** Skip test `t` (saying why) where WebGPU cannot run; true when skipped. */
async function skipped(t: TestContext): Promise<boolean> {
  skipWhy ??= skipReason();
  const why = await skipWhy;
  if (why) t.skip(`webgpu: ${why}`);
  return why !== false;
}

// The software adapter is used where there is no GPU; a real one is used first when present.
after(async () => {
  await releaseWebGPU();
  await hl.useBackend('cpu');
});

type Arrays = Record<string, { shape: number[]; data: Float32Array }>;

/** Copy a state dict out of the backend (plain arrays: nothing to dispose). */
function snapshot(sd: Record<string, tf.Tensor>): Arrays {
  return Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, { shape: [...t.shape], data: Float32Array.from(t.dataSync()) }]));
}

function load(model: hl.Module, state: Arrays): void {
  const tensors = Object.fromEntries(Object.entries(state).map(([k, v]) => [k, tf.tensor(v.data, v.shape, 'float32')]));
  model.loadStateDict(tensors);
  tf.dispose(Object.values(tensors));
}

interface StepRecord {
  loss: number;
  grads: Arrays;
  state: Arrays;
}

/**
 * Build a model from `init` on `backend`, take `steps` training steps on (x, y) and
 * record the loss, the gradients and the state (parameters and buffers) after each.
 * Checks that the tensor count is flat from the second step on.
 */
async function train(
  backend: hl.BackendName,
  make: () => hl.Module,
  makeOpt: (m: hl.Module) => hl.Optimizer,
  lossFn: (pred: tf.Tensor, y: tf.Tensor) => tf.Tensor,
  init: Arrays,
  x: Arrays[string],
  y: Arrays[string],
  steps: number,
): Promise<StepRecord[]> {
  await hl.useBackend(backend);
  assert.equal(tf.getBackend(), backend);
  const model = make();
  load(model, init);
  model.train();
  const opt = makeOpt(model);
  const xt = tf.tensor(x.data, x.shape);
  const yt = tf.tensor(y.data, y.shape);
  const records: StepRecord[] = [];
  let afterFirst = -1;
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    const loss = hl.backward(() => lossFn(model.forward(xt), yt));
    const grads = Object.fromEntries([...model.namedParameters()].map(([n, p]) => [n, { shape: [...p.shape], data: Float32Array.from(p.grad!.dataSync()) }]));
    opt.step();
    records.push({ loss, grads, state: snapshot(model.stateDict()) });
    if (s === 0)
      afterFirst = tf.memory().numTensors; // optimizer state exists from here on
    else assert.equal(tf.memory().numTensors, afterFirst, `${backend}: tensors leaked in training step ${s + 1}`);
  }
  opt.zeroGrad();
  opt.dispose();
  model.dispose();
  tf.dispose([xt, yt]);
  return records;
}

function compare(gpu: StepRecord[], cpu: StepRecord[], where: string): void {
  assert.equal(gpu.length, cpu.length);
  for (let s = 0; s < cpu.length; s++) {
    assertClose(gpu[s].loss, cpu[s].loss, GPU_TOL, `${where}: loss at step ${s + 1} (webgpu vs cpu)`);
    for (const [n, g] of Object.entries(cpu[s].grads)) {
      assertClose(Array.from(gpu[s].grads[n].data), Array.from(g.data), GPU_TOL, `${where}: grad of ${n} at step ${s + 1} (webgpu vs cpu)`);
    }
    for (const [n, v] of Object.entries(cpu[s].state)) {
      assertClose(Array.from(gpu[s].state[n].data), Array.from(v.data), GPU_TOL, `${where}: ${n} after step ${s + 1} (webgpu vs cpu)`);
    }
  }
}

/** Deterministic inputs in [-1, 1) (a fixed LCG: identical on every run and backend). */
function data(shape: number[], seed: number): Arrays[string] {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return { shape, data: out };
}

function fromData(shape: number[], seed: number): tf.Tensor {
  const d = data(shape, seed);
  return tf.tensor(d.data, d.shape);
}

/** Initial weights made once on cpu with hyperlab's own initialisers (seeded). */
async function initialState(make: () => hl.Module, seed: number): Promise<Arrays> {
  await hl.useBackend('cpu');
  hl.manualSeed(seed);
  const m = make();
  const state = snapshot(m.stateDict());
  m.dispose();
  return state;
}

test('webgpu: MLP training steps (Linear-ReLU-Linear, MSE, Adam) match the cpu backend; tensor count flat', async (t) => {
  if (await skipped(t)) return;
  const make = () => new hl.Sequential(new hl.Linear(6, 8), new hl.ReLU(), new hl.Linear(8, 3));
  const init = await initialState(make, 1);
  const x = data([5, 6], 11);
  const y = data([5, 3], 12);
  const makeOpt = (m: hl.Module) => new hl.Adam(m.parameters(), { lr: 0.01 });
  const mse = (p: tf.Tensor, t: tf.Tensor) => tf.mean(tf.square(tf.sub(p, t)));
  const cpu = await train('cpu', make, makeOpt, mse, init, x, y, 3);
  const gpu = await train('webgpu', make, makeOpt, mse, init, x, y, 3);
  compare(gpu, cpu, 'MLP');
  assert.ok(cpu[2].loss < cpu[0].loss, 'the loss goes down (the test trains something)');
  const report = hl.device();
  assert.equal(report.backend, 'webgpu');
  assert.ok(report.adapter, 'the report names the adapter');
});

test('webgpu: conv + batch-norm training steps (Conv2d-BatchNorm2d-ReLU-Linear, BCE with logits, SGD momentum) match the cpu backend', async (t) => {
  if (await skipped(t)) return;
  const make = () =>
    new hl.Sequential(new hl.Conv2d(2, 4, 3, { stride: 2, padding: 1 }), new hl.BatchNorm2d(4), new hl.ReLU(), new hl.Flatten(), new hl.Linear(4 * 3 * 3, 1));
  const init = await initialState(make, 2);
  const x = data([3, 2, 6, 6], 21);
  const y = { shape: [3, 1], data: Float32Array.from([1, 0, 1]) };
  const makeOpt = (m: hl.Module) => new hl.SGD(m.parameters(), { lr: 0.05, momentum: 0.9 });
  const bce = (p: tf.Tensor, t: tf.Tensor) => hl.bceWithLogitsLoss(p, t);
  const cpu = await train('cpu', make, makeOpt, bce, init, x, y, 2);
  const gpu = await train('webgpu', make, makeOpt, bce, init, x, y, 2);
  // state includes BatchNorm's running mean/var and num_batches_tracked
  compare(gpu, cpu, 'conv+BN');
});

test('webgpu: dataSync, arraySync and data() read GPU tensors; a GPU tensor count stays flat', async (t) => {
  if (await skipped(t)) return;
  await hl.useBackend('webgpu');
  const startCount = tf.memory().numTensors;
  const a = tf.tensor2d([
    [1, 2],
    [3, 4],
  ]);
  const b = tf.matMul(a, a);
  assert.deepEqual(Array.from(b.dataSync()), [7, 10, 15, 22]);
  const c = tf.add(b, 1);
  assert.deepEqual(c.arraySync(), [
    [8, 11],
    [16, 23],
  ]);
  const d = tf.mul(c, 2);
  assert.deepEqual(Array.from(await d.data()), [16, 22, 32, 46]);
  tf.dispose([a, b, c, d]);
  assert.equal(tf.memory().numTensors, startCount);
});

test('webgpu kernel repairs: reverse and pad of rank 5-6, reverse cumsum over a long axis equal the cpu backend; a rejected shader throws', async (t) => {
  if (await skipped(t)) return;
  const ops: Record<string, () => tf.Tensor> = {
    'reverse rank 6, axes [0, 2] (conv transpose)': () => tf.reverse(fromData([2, 3, 2, 3, 2, 2], 1), [0, 2]),
    'reverse rank 6, axes [0, 2, 4] (5 runs)': () => tf.reverse(fromData([2, 3, 2, 3, 2, 2], 2), [0, 2, 4]),
    'pad rank 6 (dilated kernel)': () =>
      tf.pad(fromData([2, 1, 3, 1, 2, 2], 3), [
        [0, 0],
        [0, 1],
        [0, 0],
        [0, 1],
        [0, 0],
        [0, 0],
      ]),
    'pad rank 6, every axis': () =>
      tf.pad(fromData([2, 2, 2, 2, 2, 2], 4), [
        [1, 0],
        [0, 1],
        [1, 0],
        [0, 1],
        [1, 0],
        [0, 1],
      ]),
    'pad rank 5': () =>
      tf.pad(fromData([2, 3, 1, 2, 2], 5), [
        [1, 0],
        [0, 0],
        [0, 2],
        [0, 0],
        [1, 1],
      ]),
    'cumsum reverse, 200 long (gradient of cumsum)': () => tf.cumsum(fromData([3, 200], 6), 1, false, true),
    'cumsum reverse exclusive, axis 0': () => tf.cumsum(fromData([150, 3], 7), 0, true, true),
  };
  const results: Record<string, Record<string, number[]>> = {};
  for (const b of ['cpu', 'webgpu'] as const) {
    await hl.useBackend(b);
    const before = tf.memory().numTensors;
    results[b] = Object.fromEntries(
      Object.entries(ops).map(([k, f]) => {
        const t = tf.tidy(f);
        const v = Array.from(t.dataSync());
        t.dispose();
        return [k, v];
      }),
    );
    assert.equal(tf.memory().numTensors, before, `${b}: no tensor left behind`);
  }
  // cumulative sums of 200 values in [-1, 1) run in another order on the GPU: absolute 1e-5
  for (const k of Object.keys(ops)) assertClose(results.webgpu[k], results.cpu[k], { rtol: 1e-5, atol: 1e-5 }, k);

  await hl.useBackend('webgpu');
  const x = tf.ones([4, 4, 4, 4, 4]);
  // tfjs-backend-webgpu 4.22 writes an invalid shader (vec5) for a rank-5 strided slice: an error, not zeros
  assert.throws(
    () => tf.stridedSlice(x, [0, 1, 0, 1, 0], [4, 4, 4, 4, 4], [2, 1, 2, 1, 3]),
    /webgpu: the GPU rejected tfjs-backend-webgpu's StridedSliceProgram/,
  );
  const y = tf.add(tf.ones([3]), 1);
  assert.deepEqual(Array.from(y.dataSync()), [2, 2, 2], 'the next operation runs normally');
  tf.dispose([x, y]);
});

test('axis merging for the repaired kernels', () => {
  assert.deepEqual(mergeReverseAxes([2, 3, 2, 3, 2, 2], [0, 2]), [
    [2, true],
    [3, false],
    [2, true],
    [12, false],
  ]);
  assert.deepEqual(mergeReverseAxes([2, 1, 3], [0, 2]), [[6, true]]);
  assert.deepEqual(mergeReverseAxes([1, 1], [0]), [[1, false]]);
  assert.deepEqual(
    mergePadAxes(
      [3, 1, 4, 1, 2, 5],
      [
        [0, 0],
        [0, 1],
        [0, 0],
        [0, 1],
        [0, 0],
        [0, 0],
      ],
    ),
    [
      { size: 3, pad: [0, 0] },
      { size: 4, pad: [0, 4] },
      { size: 10, pad: [0, 10] },
    ],
  );
});

test('device report: the backend, why, and a reason for every backend passed over', async (t) => {
  if (await skipped(t)) return;
  const saved = { backend: process.env.HYPERLAB_BACKEND, soft: process.env.HYPERLAB_WEBGPU_SOFTWARE };
  delete process.env.HYPERLAB_BACKEND;
  delete process.env.HYPERLAB_WEBGPU_SOFTWARE;
  try {
    const report = await hl.autoBackend();
    const names = report.passedOver.map((p) => p.backend);
    for (const p of report.passedOver) assert.ok(p.why.length > 0, `a reason for ${p.backend}`);
    // tfjs-node-gpu comes first; when it is not installed the report says how to install it
    assert.ok(names.includes('tensorflow (tfjs-node-gpu)') || report.backend === 'tensorflow', `tfjs-node-gpu is reported: ${names}`);
    const tfGpu = report.passedOver.find((p) => p.backend === 'tensorflow (tfjs-node-gpu)');
    if (tfGpu && tfGpu.why.startsWith('not installed')) assert.match(tfGpu.why, /npm install @tensorflow\/tfjs-node-gpu.*CUDA 11\.2/);
    if (report.backend !== 'webgpu' && report.backend !== 'tensorflow') {
      // no real GPU here: webgpu is passed over, and the software adapter is only offered
      const w = report.passedOver.find((p) => p.backend === 'webgpu');
      assert.ok(w, `webgpu is in the passed-over list: ${JSON.stringify(report.passedOver)}`);
      assert.match(w!.why, /software adapter only.*HYPERLAB_BACKEND=webgpu/);
      assert.ok(['wasm', 'cpu'].includes(report.backend));
      if (report.backend === 'wasm') assert.ok(names.includes('cpu'), 'cpu is listed as not tried');
    }

    // HYPERLAB_BACKEND=webgpu forces WebGPU (the software adapter where there is no GPU) and the report describes the adapter
    process.env.HYPERLAB_BACKEND = 'webgpu';
    const forced = await hl.autoBackend();
    assert.equal(forced.backend, 'webgpu');
    assert.match(forced.reason, /HYPERLAB_BACKEND/);
    const a = forced.adapter!;
    for (const k of ['vendor', 'architecture', 'device', 'description', 'isFallbackAdapter', 'software', 'api'] as const) {
      assert.ok(k in a, `adapter report has ${k}`);
    }
    if (a.software) assert.match(forced.reason, /software adapter/);

    process.env.HYPERLAB_BACKEND = 'gpu';
    await assert.rejects(hl.autoBackend(), /HYPERLAB_BACKEND: unknown backend 'gpu'; use one of: tensorflow, webgpu, wasm, cpu/);
  } finally {
    if (saved.backend === undefined) delete process.env.HYPERLAB_BACKEND;
    else process.env.HYPERLAB_BACKEND = saved.backend;
    if (saved.soft === undefined) delete process.env.HYPERLAB_WEBGPU_SOFTWARE;
    else process.env.HYPERLAB_WEBGPU_SOFTWARE = saved.soft;
    await hl.useBackend('cpu');
  }
});

test('device report without the GPU packages: tensorflow and webgpu say why they cannot start', async () => {
  // runs everywhere, also where the webgpu tests are skipped
  try {
    await hl.useBackend('tensorflow');
    assert.equal(hl.device().backend, 'tensorflow'); // tfjs-node(-gpu) is installed here
  } catch (e) {
    // tfjs-node(-gpu) cannot install on CI (its install downloads libtensorflow)
    assert.match(
      (e as Error).message,
      /'tensorflow' backend cannot start: @tensorflow\/tfjs-node-gpu: (not installed: npm install @tensorflow\/tfjs-node-gpu|failed)/,
    );
  }
  await hl.useBackend('cpu');
  if (!webgpuInstalled()) {
    await assert.rejects(hl.useBackend('webgpu'), /webgpu' backend cannot start: not installed: npm install webgpu/);
  }
});
