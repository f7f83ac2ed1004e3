/**
 * RACCOON / PENGUIN: architectures against the spec's parameter counts and PyTorch
 * (test/parity/gen_raccoon.py), the seed's cube slicing and 8 transforms against numpy,
 * the training step, the synthetic cube generator, and whole runs (metrics, resume by name).
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as hl from '../lib';
import { tf } from '../lib';
import { Raccoon, raccoonParamCount } from '../lib/models/raccoon';
import { Penguin, penguinParamCount } from '../lib/models/penguin';
import { TRANSFORMS, cubeImages, cubeImageTargets, cubeTask, cubeTaskFor, sliceCubes, sliceTargets } from '../lib/runs/tasks/raccoon_task';
import { MODELS } from '../lib/models/registry';
import { TASKS } from '../lib/runs/tasks';
import { EMBEDDED_CUBES, fft3, makeSyntheticCubes, syntheticCubePair } from '../lib/data/synthetic_cubes';
import { prepareCubes } from '../lib/runs/cubes_data';
import { DATA_PREPARERS, runFromText, inputShapeOf } from '../lib/runs/run';
import { loadRunSpec } from '../lib/config';
import { readSafetensors, rawToTensor, RawTensor } from '../lib/io/safetensors';
import { assertClose, fromFixture, loadFixture, testOnBackends } from './helpers';

const fx = loadFixture('raccoon');
const fixtureDir = path.join(__dirname, '..', '..', 'test', 'fixtures');
const weights = readSafetensors(path.join(fixtureDir, 'raccoon_models.safetensors')).tensors;
const embedded = path.join(hl.packageRoot(), 'datasets', 'cubes', 'cubes_s64.h5');

// Until run.ts lists it (see the report), the test registers the cube data preparer itself.
DATA_PREPARERS.cubes ??= prepareCubes;

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-raccoon-'));

/** The raw tensors of one fixture case: its state dict, input and gradients. */
function fixtureCase(name: string): { state: Record<string, RawTensor>; x: RawTensor; grads: Record<string, RawTensor> } {
  const state: Record<string, RawTensor> = {};
  const grads: Record<string, RawTensor> = {};
  let x: RawTensor | undefined;
  for (const [k, v] of Object.entries(weights)) {
    if (!k.startsWith(`${name}/`)) continue;
    const key = k.slice(name.length + 1);
    if (key === '__x') x = v;
    else if (key.startsWith('__grad/')) grads[key.slice(7)] = v;
    else state[key] = v;
  }
  if (!x) throw new Error(`raccoon_models.safetensors has no input for ${name}: run \`npm run fixtures raccoon\``);
  return { state, x, grads };
}

function build(arch: string, L: number, S: number, dropout = 0.5): hl.Module {
  const o = { layerParam: L, inputSize: S, dropout, activation: 'leakyrelu' as const };
  return arch === 'raccoon' ? new Raccoon(o) : new Penguin(o);
}

const countParams = (m: hl.Module) => m.parameters().reduce((n, p) => n + p.size, 0);

// ---- architectures ------------------------------------------------------------------------

test('parameter counts at input 256: 704L^2+44L+1 and 4202L^2+112L+1, as PyTorch', () => {
  for (const L of [1, 2, 3, 4, 16]) {
    for (const [arch, formula] of [
      ['raccoon', raccoonParamCount],
      ['penguin', penguinParamCount],
    ] as const) {
      const m = build(arch, L, 256);
      assert.equal(countParams(m), formula(L), `${arch} L=${L}`);
      const torch = fx.counts_at_256[arch][String(L)];
      if (torch !== undefined) assert.equal(countParams(m), torch, `${arch} L=${L} vs PyTorch`);
      m.dispose();
    }
  }
  assert.equal(raccoonParamCount(16), 180929);
  assert.equal(penguinParamCount(16), 1077505);
});

test('the flatten size follows the input size; too small an input is a clear error', () => {
  const r = new Raccoon({ layerParam: 2, inputSize: 128 });
  assert.equal(r.finalSize, 2);
  assert.deepEqual(r.fc1[1].toString(), 'Linear(in_features=64, out_features=2, bias=true)');
  r.dispose();
  const p = new Penguin({ layerParam: 2, inputSize: 100 }); // 100 -> 50 -> 25 -> 12 -> 6 -> 3 -> 1
  assert.equal(p.finalSize, 1);
  p.dispose();
  assert.throws(() => new Raccoon({ inputSize: 32 }), /RACCOON: input size 32 is too small: convolution 3 of 3 .* Use input_size >= 64/);
  assert.throws(() => new Penguin({ inputSize: 63 }), /PENGUIN: input size 63 is too small: convolution 6 of 6 .* Use input_size >= 64/);
  assert.throws(() => new Raccoon({ activation: 'tanh' as any }), /activation must be 'relu' or 'leakyrelu'/);
  assert.throws(() => new Penguin({ layerParam: 0 }), /layer_param must be a positive integer/);
  const m = new Raccoon({ layerParam: 1, inputSize: 64 });
  const x = tf.zeros([2, 1, 32, 32]);
  assert.throws(() => m.forward(x), /RACCOON: expected images of shape \(N, 1, 64, 64\), got \[2,1,32,32\]. Build the model with input_size 32/);
  x.dispose();
  m.dispose();
});

test('one activation instance shared by every layer; LeakyReLU(0.2) from the registry', () => {
  const m = MODELS.penguin({ layer_param: 2, dropout: 0.25, input_size: 64 }, { nIn: 1, nOut: 1 }, []) as Penguin;
  assert.ok(m.activation instanceof hl.LeakyReLU && (m.activation as hl.LeakyReLU).negativeSlope === 0.2);
  for (const block of [m.conv2d1, m.conv2d6]) assert.equal(block[2], m.activation);
  assert.equal(m.fc1[3], m.activation);
  assert.equal(m.fc2[2], m.activation);
  assert.equal((m.fc2[3] as hl.Dropout).p, 0.25);
  m.dispose();
  const r = new Raccoon({ layerParam: 2, inputSize: 64 });
  assert.ok(r.activation instanceof hl.ReLU, 'the class default is ReLU, as the seed class');
  r.dispose();
  assert.equal(typeof TASKS.raccoon, 'function');
  assert.equal(typeof TASKS.penguin, 'function');
});

for (const [name, c] of Object.entries<any>(fx.models)) {
  testOnBackends(`${name}: state dict as PyTorch, eval forward with PyTorch's weights`, () => {
    const { state, x } = fixtureCase(name);
    const m = build(c.arch, c.L, c.S);
    assert.equal(countParams(m), c.params, 'parameter count');
    const sd = m.stateDict();
    assert.deepEqual(Object.keys(sd), c.keys, 'state-dict keys in PyTorch order');
    for (const [k, t] of Object.entries(sd)) assert.deepEqual(t.shape, c.shapes[k], `shape of ${k}`);
    const tensors = Object.fromEntries(Object.entries(state).map(([k, v]) => [k, rawToTensor(v, k)]));
    m.loadStateDict(tensors);
    tf.dispose(Object.values(tensors));
    const xt = rawToTensor(x);
    m.eval();
    const y = m.forward(xt);
    assertClose(y, c.y_eval, { rtol: 1e-5, atol: 1e-5 }, `${name} eval logits`);
    tf.dispose([y, xt]);
    m.dispose();
  });
}

for (const [name, c] of Object.entries<any>(fx.models).filter(([, c]) => c.with_grads)) {
  testOnBackends(`${name}: train-mode logits, BCE loss, parameter gradients and running statistics as PyTorch`, () => {
    const { state, x, grads } = fixtureCase(name);
    const m = build(c.arch, c.L, c.S, 0); // dropout 0, as the fixture's train-mode pass
    const tensors = Object.fromEntries(Object.entries(state).map(([k, v]) => [k, rawToTensor(v, k)]));
    m.loadStateDict(tensors);
    tf.dispose(Object.values(tensors));
    const xt = rawToTensor(x);
    const target = fromFixture(c.target);
    let logits: tf.Tensor | undefined;
    const loss = hl.backward(() => {
      const out = m.forward(xt);
      logits = tf.keep(out.clone());
      return hl.bceWithLogitsLoss(out, target);
    });
    assertClose(logits!, c.y_train, { rtol: 1e-4, atol: 1e-5 }, `${name} train logits`);
    assertClose(loss, c.loss, { rtol: 1e-5, atol: 1e-6 }, `${name} loss`);
    for (const [k, p] of m.namedParameters()) {
      const g = rawToTensor(grads[k], k);
      // Train-mode batch norm divides by the batch's standard deviation at every layer, so
      // float32 rounding (different summation orders in the conv kernels) grows through the
      // net: the absolute floor is 1e-3 of the tensor's largest gradient.
      const data = Array.from(g.dataSync());
      const scale = Math.max(...data.map(Math.abs));
      assertClose(p.grad!, { shape: g.shape, data }, { rtol: 1e-3, atol: Math.max(1e-5, 1e-3 * scale) }, `${name} grad ${k}`);
      g.dispose();
    }
    const sd = m.stateDict();
    for (const [k, v] of Object.entries<any>(c.running_after)) assertClose(sd[k], v, { rtol: 1e-5, atol: 1e-6 }, `${name} ${k}`);
    tf.dispose([logits!, xt, target]);
    m.dispose();
  });
}

// ---- slicing and transforms -------------------------------------------------------------

testOnBackends('the seed slicing quirk and the three-axes alternative, against numpy transposes', () => {
  const s = fx.slicing;
  const cubes = fromFixture(s.cubes);
  const labels = fromFixture(s.labels);
  const seed = sliceCubes(cubes, 'seed');
  assertClose(seed, s.seed_images, { rtol: 0, atol: 0 }, 'seed slicing (cube[:,k,:]^T, cube[k,:,:]^T, cube[k,:,:])');
  const axes = sliceCubes(cubes, 'axes');
  assertClose(axes, s.axes_images, { rtol: 0, atol: 0 }, 'axes slicing (cube[k,:,:], cube[:,k,:], cube[:,:,k])');
  const targets = sliceTargets(labels, s.S);
  assertClose(targets, s.seed_targets, { rtol: 0, atol: 0 }, 'targets');
  // The task's one-pass index map gives the same images, in any order.
  const data = cubes.dataSync() as Float32Array;
  const natural = Array.from({ length: 3 * s.S * s.N }, (_, i) => i);
  assert.deepEqual(Array.from(cubeImages(data, s.S, 'seed', 0, natural)), s.seed_images.data);
  assert.deepEqual(Array.from(cubeImages(data, s.S, 'axes', 0, natural)), s.axes_images.data);
  assert.deepEqual(Array.from(cubeImageTargets(labels.dataSync(), s.S, natural)), s.seed_targets.data);
  const order = [5, 0, 23, 12];
  const picked = cubeImages(data, s.S, 'seed', 0, order);
  order.forEach((img, m) => assert.deepEqual(Array.from(picked.subarray(m * 16, m * 16 + 16)), s.seed_images.data.slice(img * 16, img * 16 + 16)));
  assert.throws(() => sliceCubes(cubes, 'diagonal' as any), /slicing must be 'seed' or 'axes'/);
  tf.dispose([cubes, labels, seed, axes, targets]);
});

testOnBackends('the 8 transforms equal numpy rot90 / flip, as tensors and in the index map', () => {
  const s = fx.slicing;
  assert.deepEqual(
    TRANSFORMS.map((t) => t.name),
    ['identity', 'rot90', 'rot180', 'rot270', 'hflip', 'hflip+rot90', 'hflip+rot180', 'hflip+rot270'],
  );
  const images = fromFixture(s.seed_images);
  const data = fromFixture(s.cubes).dataSync() as Float32Array;
  const natural = Array.from({ length: 3 * s.S * s.N }, (_, i) => i);
  TRANSFORMS.forEach((t, i) => {
    const out = t.apply(images);
    assertClose(out, s.transforms[t.name], { rtol: 0, atol: 0 }, t.name);
    out.dispose();
    assert.deepEqual(Array.from(cubeImages(data, s.S, 'seed', i, natural)), s.transforms[t.name].data, `${t.name} (index map)`);
  });
  images.dispose();
});

// ---- the training step ------------------------------------------------------------------------

/** A batch of N random cubes of side S, labels 1, 0, 1, ... */
function randomBatch(N: number, S: number, seed: number): hl.Batch {
  const g = new hl.Generator(seed);
  return { cube: tf.tensor4d(g.normalArray(N * S ** 3), [N, S, S, S]), label: tf.tensor2d(Array.from({ length: N }, (_, i) => [1 - (i % 2)])) };
}

/** An optimizer that counts its steps. */
function counting(o: hl.Optimizerlike): hl.Optimizerlike & { steps: number } {
  const c = Object.assign(Object.create(o), { steps: 0 });
  c.step = () => {
    c.steps++;
    o.step();
  };
  return c;
}

test('a batch of N cubes: 8 optimizer steps on 3SN images each, metrics data for all, no tensor leaks', async () => {
  await hl.useBackend('wasm');
  hl.manualSeed(1);
  const model = new Raccoon({ layerParam: 2, inputSize: 64, activation: 'leakyrelu' });
  const opt = counting(hl.optimizerFromConfig('adam', model.parameters(), { lr: 1e-3, betas: [0.5, 0.999], weight_decay: 1e-11 }) as any);
  const task = cubeTask({ model, optimizer: opt });
  const batch = randomBatch(2, 64, 3);
  const first = task.trainStep(batch);
  assert.equal(opt.steps, 8, 'one step per transform');
  assert.deepEqual(first.pred!.shape, [8 * 3 * 64 * 2, 1]);
  assert.deepEqual(first.target!.shape, [8 * 3 * 64 * 2, 1]);
  // Targets are paired with their (permuted) predictions: half of each step's images are GR.
  assert.equal(first.target!.sum().dataSync()[0], 8 * 3 * 64);
  tf.dispose([first.pred!, first.target!]);
  const before = tf.memory().numTensors;
  const r = task.trainStep(batch);
  tf.dispose([r.pred!, r.target!]);
  assert.equal(tf.memory().numTensors, before, 'trainStep leaves no tensor behind');
  assert.ok(Number.isFinite(r.losses.loss) && r.losses.loss > 0);
  // Evaluation: no step, no state change, the same numbers twice.
  model.eval();
  const state = Object.fromEntries(Object.entries(model.stateDict()).map(([k, v]) => [k, Array.from(v.dataSync())]));
  const e1 = task.evalStep(batch);
  const e2 = task.evalStep(batch);
  assert.equal(e1.losses.loss, e2.losses.loss);
  assert.deepEqual(e1.pred!.shape, [8 * 3 * 64 * 2, 1]);
  for (const [k, v] of Object.entries(model.stateDict())) assert.deepEqual(Array.from(v.dataSync()), state[k], `${k} unchanged by evaluation`);
  assert.equal(opt.steps, 16);
  tf.dispose([e1.pred!, e1.target!, e2.pred!, e2.target!]);
  assert.equal(tf.memory().numTensors, before, 'evalStep leaves no tensor behind');
  tf.dispose(Object.values(batch));
  model.dispose();
});

test('micro-batches accumulate gradients exactly (BatchNorm on running statistics); transforms: false steps once', async () => {
  await hl.useBackend('wasm');
  const batch = randomBatch(2, 64, 5);
  const after = (microBatch: number) => {
    hl.manualSeed(7);
    const model = new Raccoon({ layerParam: 2, inputSize: 64, dropout: 0 });
    const opt = hl.optimizerFromConfig('sgd', model.parameters(), { lr: 0.1 }) as any;
    const task = cubeTask({ model, optimizer: opt, microBatch, generator: new hl.Generator(3) });
    model.eval(); // per-image outputs: one big batch and its chunks see the same function
    const r = task.trainStep(batch);
    tf.dispose([r.pred!, r.target!]);
    const w = Object.fromEntries([...model.namedParameters()].map(([k, p]) => [k, Array.from(p.dataSync())]));
    model.dispose();
    return { w, loss: r.losses.loss };
  };
  const whole = after(0);
  const chunked = after(50); // 384 images in chunks of 50 (the last holds 34)
  assertClose(chunked.loss, whole.loss, { rtol: 1e-5, atol: 1e-7 }, 'loss');
  for (const k of Object.keys(whole.w)) assertClose(chunked.w[k], whole.w[k], { rtol: 1e-4, atol: 1e-6 }, `weights ${k} after 8 steps`);

  hl.manualSeed(7);
  const model = new Raccoon({ layerParam: 2, inputSize: 64 });
  let made: ReturnType<typeof counting> | undefined;
  const task = cubeTaskFor({
    model,
    loss: hl.getLoss('bce'),
    makeOptimizer: (params) => (made = counting(hl.optimizerFromConfig('adam', params) as any)),
    gradClip: null,
    originalBugs: [],
    spec: { data: { kind: 'cubes', transforms: false }, raw: {} } as any,
  });
  const r = task.trainStep(batch);
  assert.equal(made!.steps, 1, 'HEAD behaviour: one step per batch');
  assert.deepEqual(r.pred!.shape, [3 * 64 * 2, 1]);
  tf.dispose([r.pred!, r.target!]);
  const e = task.evalStep(batch);
  assert.deepEqual(e.pred!.shape, [3 * 64 * 2, 1]);
  tf.dispose([e.pred!, e.target!, ...Object.values(batch)]);
  model.dispose();
  assert.throws(() => cubeTask({ model, optimizer: made!, microBatch: -1 }), /microBatch must be a whole number/);
});

// ---- synthetic cubes ---------------------------------------------------------------------------

test('synthetic cubes: deterministic per seed, GR has (1 + eps (kH/k)^2) times the power with the same phases', () => {
  const o = { size: 16, spectralIndex: -2, epsilon: 0.5, kH: 3, noiseSeed: 4 };
  const a = syntheticCubePair(2, o);
  const b = syntheticCubePair(2, o);
  assert.deepEqual(a.gr, b.gr);
  assert.deepEqual(a.newton, b.newton);
  assert.notDeepEqual(syntheticCubePair(3, o).gr, a.gr, 'another seed, another field');
  assert.notDeepEqual(syntheticCubePair(2, { ...o, noiseSeed: 5 }).gr, a.gr, 'another noise seed, another field');
  // In Fourier space GR / Newton = sqrt(1 + eps (kH / k)^2), real and positive: same phases, more large-scale power.
  const S = 16;
  const ft = (c: Float32Array) => {
    const re = Float64Array.from(c);
    const im = new Float64Array(c.length);
    fft3(re, im, S);
    return { re, im };
  };
  const g = ft(a.gr);
  const n = ft(a.newton);
  const f = (i: number) => (i < S / 2 ? i : i - S);
  let checked = 0;
  for (let i = 0; i < S ** 3; i++) {
    const k = Math.hypot(f(Math.floor(i / S ** 2)), f(Math.floor(i / S) % S), f(i % S));
    const pn = n.re[i] ** 2 + n.im[i] ** 2;
    if (k === 0) {
      assert.ok(pn < 1e-12 && g.re[i] ** 2 < 1e-12, 'no k = 0 mode');
      continue;
    }
    if (pn < 1e-8) continue;
    const ratio = (g.re[i] * n.re[i] + g.im[i] * n.im[i]) / pn; // Re(G / N)
    const cross = (g.im[i] * n.re[i] - g.re[i] * n.im[i]) / pn; // Im(G / N)
    assertClose(ratio, Math.sqrt(1 + 0.5 * (3 / k) ** 2), { rtol: 1e-4, atol: 0 }, `|G/N| at k = ${k.toFixed(2)}`);
    assert.ok(Math.abs(cross) < 1e-4, `same phase at k = ${k.toFixed(2)}`);
    checked++;
  }
  assert.ok(checked > 4000);
  assert.throws(() => syntheticCubePair(0, { size: 24 }), /size must be a power of two/);
});

test('synthetic cube file: the seed layout, standardised over the file, readable by CubeDataset', async () => {
  const dir = tmp();
  const file = path.join(dir, 'c.h5');
  const t0 = Date.now();
  const info = await makeSyntheticCubes(file, { seeds: 20, size: 32 });
  const ms = Date.now() - t0;
  assert.ok(ms < 10000, `20 seeds at 32^3 took ${ms} ms`);
  const f = await hl.H5File.open(file);
  assert.equal(f.names().length, 40);
  let sum = 0;
  let sq = 0;
  const vars = { gr: 0, newton: 0 };
  for (let s = 0; s < 20; s++) {
    for (const kind of ['gr', 'newton'] as const) {
      const a = f.dataset(hl.cubeNames(s)[kind], { shape: [32, 32, 32] });
      assert.equal(a.dtype, 'float32');
      const v = a.read() as Float32Array;
      let m = 0;
      for (const x of v) {
        sum += x;
        sq += x * x;
        m += x * x;
      }
      vars[kind] += m / v.length / 20;
    }
  }
  const n = 40 * 32 ** 3;
  assertClose(sum / n, 0, { rtol: 0, atol: 1e-5 }, 'mean over the file');
  assertClose(Math.sqrt(sq / n - (sum / n) ** 2), 1, { rtol: 1e-5, atol: 0 }, 'std over the file');
  assert.ok(vars.gr > 1.1 * vars.newton, `GR cubes carry more variance (large-scale power): ${vars.gr} vs ${vars.newton}`);
  assert.match(String(f.attrs().description), /SYNTHETIC/);
  f.close();
  // The same seed set again: the same file contents; the raw cube of a seed does not depend on the set.
  const again = await makeSyntheticCubes(path.join(dir, 'd.h5'), { seeds: 20, size: 32 });
  assert.equal(again.std, info.std);
  const split = await hl.CubeDataset.openSplit(file, { nTrain: 16, nTest: 4 });
  assert.equal(split.train.cubeSize, 32);
  const raw = syntheticCubePair(17, { size: 32 });
  const stored = split.test.get(2).cube.data; // test seeds 16..19: item 2 = GR of seed 17
  for (let i = 0; i < 50; i++) assertClose(stored[i], (raw.gr[i] - info.mean) / info.std, { rtol: 1e-5, atol: 1e-6 }, `value ${i}`);
  split.close();
  await assert.rejects(makeSyntheticCubes(file, { seeds: 2, size: 32 }), /already exists; pass overwrite: true/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the embedded file datasets/cubes/cubes_s64.h5 is what EMBEDDED_CUBES makes', async () => {
  const f = await hl.H5File.open(embedded);
  const attrs = f.attrs();
  assert.equal(f.names().length, 12);
  const stored = f.dataset('newton_seed0003', { shape: [64, 64, 64] }).read() as Float32Array;
  f.close();
  const raw = syntheticCubePair(3, EMBEDDED_CUBES);
  const q = EMBEDDED_CUBES.quantum!;
  const mean = Number(attrs.mean);
  const std = Number(attrs.std);
  let worst = 0;
  for (let i = 0; i < stored.length; i += 97) worst = Math.max(worst, Math.abs(stored[i] - Math.round((raw.newton[i] - mean) / std / q) * q));
  assert.ok(worst < 1e-6, `regenerated values differ by ${worst}`);
});

// ---- whole runs ----------------------------------------------------------------------------------

test('runfiles/raccoon.yaml and penguin.yaml: the seed model names, batch sizes and a model summary', async () => {
  for (const [arch, L, batch] of [
    ['raccoon', 4, 4],
    ['penguin', 4, 2],
  ] as const) {
    const spec = loadRunSpec(path.join(hl.packageRoot(), 'runfiles', `${arch}.yaml`));
    assert.equal(spec.name, `demo_cubes_s64_${arch}_lp${L}_do0.5_na1.0_ts4`);
    assert.equal(spec.train.batchSize, batch, 'the seed table: RACCOON L<=16: 4 cubes, PENGUIN L<=16: 2');
    assert.equal(spec.train.testEvery, 2);
    assert.deepEqual(spec.train.optimizerOptions, { betas: [0.5, 0.999], weight_decay: 1e-11 });
    assert.equal(spec.model.params.activation, 'leakyrelu');
    const { inputShape } = await inputShapeOf(spec);
    const model = MODELS[arch](spec.model.params, { nIn: 1, nOut: 1 }, []);
    const s = hl.summary(model, inputShape);
    assert.equal(s.total, countParams(model));
    assert.deepEqual(s.rows[s.rows.length - 1].outputShape, [2, 1], 'a logit per image');
    model.dispose();
  }
});

const runText = (o: { L: number; train: number; test: number; epochs: number; runsDir: string; batch?: number }) => `
model_params: {architecture: raccoon, layer_param: ${o.L}, dropout: 0.5, name: t, activation: leakyrelu, input_size: 64}
data_params: {datafile: hyperlab:datasets/cubes/cubes_s64.h5, train_seeds: ${o.train}, test_seeds: ${o.test}${o.batch ? `, batch_size: ${o.batch}` : ''}}
train_params: {epochs: ${o.epochs}, lr: 0.001}
hyperlab: {runs_dir: ${o.runsDir}, progress: false, backend: wasm}
`;

test('a RACCOON run on the embedded cubes: falling loss over 3 epochs, the seed metrics per epoch, no leaks', async () => {
  const dir = tmp();
  const file = path.join(dir, 'raccoon.yaml');
  const before = tf.memory().numTensors;
  const r = await runFromText(runText({ L: 4, train: 4, test: 2, epochs: 3, runsDir: dir }), file, { verbose: false });
  assert.equal(path.basename(r.runDir), 't_cubes_s64_raccoon_lp4_do0.5_na1.0_ts4', 'the run directory is the seed model name');
  const h = r.history;
  assert.ok(h.loss[1] < h.loss[0] && h.loss[2] < h.loss[1], `loss falls: ${h.loss.join(', ')}`);
  for (const m of ['accuracy', 'precision', 'recall', 'f1', 'tpr', 'fpr']) {
    assert.equal(h[m].length, 3, m);
    assert.ok(
      h[m].every((v) => v >= 0 && v <= 1),
      `${m}: ${h[m]}`,
    );
    assert.ok(Number.isFinite(h[`val_${m}`][2]), `val_${m} at the last epoch`);
  }
  assert.ok(Number.isNaN(h.val_loss[0]) && Number.isFinite(h.val_loss[1]), 'tested every 2 epochs and at the end');
  // (metrics.csv takes its columns from epoch 1, which has no validation when testing every 2 epochs.)
  const csv = fs.readFileSync(path.join(r.runDir, 'metrics.csv'), 'utf8').split('\n')[0];
  for (const m of ['loss', 'accuracy', 'precision', 'recall', 'f1', 'tpr', 'fpr']) assert.ok(csv.split(',').includes(m), `metrics.csv has ${m}`);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(r.runDir, 'split.json'), 'utf8')).testSeeds, [4, 5]);
  r.dispose();
  // RunResult.dispose frees the model; the optimizer's state (Adam's m and v) is freed here.
  for (const opt of r.trainer.task.optimizers) (opt as unknown as { dispose(): void }).dispose();
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(tf.memory().numTensors, before, 'no tensor outlives the run');
});

test('resume by name: 2 epochs, then the same file with 4 resumes at 2 and matches an uninterrupted run', async () => {
  const dir = tmp();
  const file = path.join(dir, 'r.yaml');
  const o = { L: 2, train: 2, test: 1, batch: 4 };
  const first = await runFromText(runText({ ...o, epochs: 2, runsDir: path.join(dir, 'a') }), file, { verbose: false });
  assert.equal(first.resumedFrom, null);
  first.dispose();
  const resumed = await runFromText(runText({ ...o, epochs: 4, runsDir: path.join(dir, 'a') }), file, { verbose: false });
  assert.equal(resumed.resumedFrom, 2);
  assert.equal(resumed.runDir, first.runDir);
  resumed.dispose();
  const straight = await runFromText(runText({ ...o, epochs: 4, runsDir: path.join(dir, 'b') }), file, { verbose: false });
  straight.dispose();
  assert.deepEqual(resumed.history.epoch, [0, 1, 2, 3]);
  for (const k of ['loss', 'accuracy', 'val_loss', 'val_accuracy']) {
    assert.deepEqual(resumed.history[k].map(String), straight.history[k].map(String), `${k}: resumed vs uninterrupted`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('train_params.transforms: false reaches the task through the run: one optimizer step per batch (HEAD)', async () => {
  const dir = tmp();
  const text = runText({ L: 1, train: 2, test: 1, epochs: 1, runsDir: dir, batch: 4 }).replace('lr: 0.001}', 'lr: 0.001, transforms: false}');
  const r = await runFromText(text, path.join(dir, 'head.yaml'), { verbose: false });
  const state = r.trainer.task.optimizers[0].stateDict() as { state: Record<string, { step: number }> };
  assert.equal(state.state['0'].step, 1, '4 cubes in one batch, one step');
  r.dispose();
  for (const opt of r.trainer.task.optimizers) (opt as unknown as { dispose(): void }).dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});
