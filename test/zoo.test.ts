/**
 * XANESNET's model zoo (lib/models/xanesnet) against PyTorch renderings of the spec
 * (test/parity/gen_zoo.py -> test/fixtures/zoo.json):
 *   - parameter counts and state-dict keys and shapes, for spec-sized and small models
 *     built from 2023- and 2024-style run files;
 *   - eval-mode outputs with PyTorch's weights (small cases) or formula weights (spec-sized);
 *   - training mode: cnn batch statistics, two steps of the autoencoder task, two aegan steps
 *     with the intended and the original discriminator loss;
 *   - the designed differences (lstm batch-as-sequence, ae_cnn padding), errors, leaks;
 *   - every model trains on the embedded Fe data from the shipped run files and inline ones.
 *
 * Tolerances (float32 against PyTorch float32):
 *   forward, small models (PyTorch's state dict)       rtol 1e-5, atol 1e-6       (F32)
 *   forward, spec-sized models (formula weights)       rtol 1e-5, atol 1e-5 * max|expected|
 *   training steps (losses, parameters, BN statistics)  rtol 1e-4, atol 1e-5
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as YAML from 'yaml';
import * as hl from '../lib';
import { tf } from '../lib';
import { buildModel } from '../lib/models/registry';
import { TASKS, TaskContext } from '../lib/runs/tasks';
import { initWeights } from '../lib/models/init_weights';
import { XanesCNN } from '../lib/models/xanesnet/cnn';
import { XanesLSTM } from '../lib/models/xanesnet/lstm';
import { XanesAECNN, decoderPadding } from '../lib/models/xanesnet/ae_cnn';
import { XanesAEGAN } from '../lib/models/xanesnet/aegan_mlp';
import { autoencoderTask } from '../lib/runs/tasks/ae_task';
import { aeganTask } from '../lib/runs/tasks/aegan_task';
import { supervised, Task } from '../lib/train/task';
import { runSpecFromText, RunSpec } from '../lib/config';
import { runFromText } from '../lib/runs/run';
import { assertClose, F32, FixtureTensor, Tolerance, fromFixture, loadFixture, stateDictFromFixture, disposeAll, testOnBackends } from './helpers';

const fx = loadFixture('zoo');
const root = path.join(__dirname, '..', '..');

interface Case {
  name: string;
  type: string;
  style: '2023' | '2024';
  hyperparams: Record<string, unknown>;
  nIn: number;
  nOut: number;
  count: number;
  shapes: [string, number[]][];
  weights: 'state' | 'formula';
  state?: Record<string, FixtureTensor>;
  x: FixtureTensor;
  y?: FixtureTensor;
  eval: Record<string, FixtureTensor>;
}
const cases: Case[] = fx.cases;
const byName = (name: string) => cases.find((c) => c.name === name)!;

/** The RunSpec of a run file of the case's style (paths are not read). */
function specOf(c: Case, originalBugs: string[] = []): RunSpec {
  const hyperlab = originalBugs.length ? { original_bugs: originalBugs } : undefined;
  const doc =
    c.style === '2023'
      ? { x_path: 'x', y_path: 'y', hyperparams: { model: c.type, batch_size: 4, ...c.hyperparams }, epochs: 1, hyperlab }
      : { xyz_path: 'x', xanes_path: 'y', model: { type: c.type, params: c.hyperparams }, hyperparams: { batch_size: 4, epochs: 1 }, hyperlab };
  return runSpecFromText(JSON.stringify(doc), path.join(os.tmpdir(), `${c.name}.yaml`));
}

/** The model a run file of this case builds (2023 names go through lib/config's renaming). */
function modelOf(c: Case, originalBugs: string[] = []): hl.Module {
  const spec = specOf(c, originalBugs);
  return buildModel(spec.model.type, spec.model.params, { nIn: c.nIn, nOut: c.nOut }, spec.originalBugs);
}

/** gen_zoo.py's formula_value: a = sin(0.37 i + 1.3 j) for element i of state-dict entry j. */
function formulaState(model: hl.Module): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  Object.entries(model.stateDict()).forEach(([key, t], j) => {
    const n = t.size;
    const v = new Float64Array(n);
    const fan = t.rank >= 2 ? n / t.shape[0] : 1;
    for (let i = 0; i < n; i++) {
      const a = Math.sin(0.37 * i + 1.3 * j);
      if (key.endsWith('num_batches_tracked')) v[i] = 0;
      else if (key.endsWith('running_var')) v[i] = 1 + 0.25 * a;
      else if (key.endsWith('running_mean')) v[i] = 0.1 * a;
      else if (t.rank >= 2) v[i] = a * Math.sqrt(3 / fan);
      else if (key.endsWith('weight')) v[i] = 1 + 0.1 * a;
      else v[i] = 0.1 * a;
    }
    out[key] = t.dtype === 'int32' ? tf.tensor(Array.from(v), t.shape, 'int32') : tf.tensor(Float32Array.from(v), t.shape, 'float32');
  });
  return out;
}

function loadWeights(model: hl.Module, c: Case): void {
  const sd = c.weights === 'state' ? stateDictFromFixture(c.state!) : formulaState(model);
  model.loadStateDict(sd);
  disposeAll(sd);
}

/** F32 for PyTorch's small models; an absolute floor scaled to the output for the spec-sized ones. */
function tolFor(c: Case, expected: FixtureTensor): Tolerance {
  if (c.weights === 'state') return F32;
  const scale = expected.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return { rtol: 1e-5, atol: 1e-5 * scale };
}

const TRAIN_TOL: Tolerance = { rtol: 1e-4, atol: 1e-5 };

function paramCount(m: hl.Module): number {
  return m.parameters().reduce((s, p) => s + p.size, 0);
}

test('parameter counts and state-dict keys and shapes match PyTorch for every case (2023 and 2024 run files)', async () => {
  await hl.useBackend('cpu');
  assert.ok(cases.length >= 15);
  for (const c of cases) {
    const m = modelOf(c);
    assert.equal(paramCount(m), c.count, `${c.name}: parameter count`);
    const shapes = Object.entries(m.stateDict()).map(([k, t]) => [k, t.shape]);
    assert.deepEqual(shapes, c.shapes, `${c.name}: state-dict keys and shapes in PyTorch's order`);
    m.dispose();
  }
  // The spec's examples, spelled out.
  assert.equal(byName('mlp_spec_2023').count, 49 * 512 + 512 + 512 * 256 + 256 + 256 * 128 + 128 + 128 * 64 + 64 + 64 * 226 + 226 + 4);
  const cnn = modelOf(byName('cnn_spec_2023')) as XanesCNN;
  assert.deepEqual(cnn.lengths, [49, 47, 45, 43]);
  assert.deepEqual(cnn.stateDict()['dense_layers.0.0.weight'].shape, [64, 5504], 'flatten 5504 -> 64');
  cnn.dispose();
  const ae = modelOf(byName('ae_mlp_spec_2023'));
  const widths = Object.entries(ae.stateDict())
    .filter(([k]) => /^encoder_layers\.\d+\.0\.weight$/.test(k))
    .map(([, t]) => t.shape[0]);
  assert.deepEqual(widths, [512, 256, 128, 64, 32], 'encoder 49-512-256-128-64-32');
  assert.deepEqual(ae.stateDict()['dense_layers.0.0.weight'].shape, [512, 32], 'prediction 32 -> 512');
  ae.dispose();
  const aecnn = modelOf(byName('ae_cnn_spec_s2_2024')) as XanesAECNN;
  assert.deepEqual(aecnn.lengths, [49, 24, 11, 5]);
  aecnn.dispose();
});

testOnBackends('eval-mode forward matches PyTorch for every model mode (loaded state dicts and formula weights)', () => {
  for (const c of cases) {
    const before = tf.memory().numTensors;
    const m = modelOf(c);
    loadWeights(m, c);
    m.eval();
    const x = fromFixture(c.x);
    const check = (t: tf.Tensor, key: string) => assertClose(t, c.eval[key], tolFor(c, c.eval[key]), `${c.name} ${key}`);
    if (c.type === 'aegan_mlp') {
      const y = fromFixture(c.y!);
      const g = m as XanesAEGAN;
      const o = hl.noGrad(() => g.generateAll(x, y));
      check(o.reconA, 'recon_a');
      check(o.reconB, 'recon_b');
      check(o.predA, 'pred_a');
      check(o.predB, 'pred_b');
      const [da, db] = hl.noGrad(() => [g.dis_a.forward(x), g.dis_b.forward(y)]);
      check(da, 'dis_a');
      check(db, 'dis_b');
      tf.dispose([o.reconA, o.reconB, o.predA, o.predB, da, db, y]);
    } else if (c.type === 'ae_mlp' || c.type === 'ae_cnn') {
      const [recon, pred] = hl.noGrad(() => m.forward(x)) as tf.Tensor[];
      check(recon, 'recon');
      check(pred, 'pred');
      tf.dispose([recon, pred]);
    } else {
      const pred = hl.noGrad(() => m.forward(x)) as tf.Tensor;
      check(pred, 'pred');
      pred.dispose();
      if (c.type === 'lstm') {
        const orig = modelOf(c, ['lstm_batch_sequence']);
        loadWeights(orig, c);
        orig.eval();
        const p2 = hl.noGrad(() => orig.forward(x)) as tf.Tensor;
        check(p2, 'pred_original');
        p2.dispose();
        orig.dispose();
      }
    }
    x.dispose();
    m.dispose();
    assert.equal(tf.memory().numTensors, before, `${c.name}: no tensor left behind`);
  }
});

testOnBackends('cnn in training mode: batch statistics and running-statistics updates match PyTorch', () => {
  const c = byName(fx.cnn_train.case);
  const m = modelOf(c);
  loadWeights(m, c);
  m.train();
  const x = fromFixture(c.x);
  const y = m.forward(x) as tf.Tensor;
  assertClose(y, fx.cnn_train.pred, F32, 'cnn train-mode output');
  for (const [k, v] of Object.entries(m.stateDict())) assertClose(v, fx.cnn_train.state_after[k], F32, `cnn ${k} after one training forward`);
  tf.dispose([x, y]);
  m.dispose();
});

/** A TaskContext as run.ts builds it, with Adam (or SGD) at the given learning rates. */
function contextFor(
  model: hl.Module,
  lr: { gen: number; dis?: number },
  opts: { disLoss?: string; originalBugs?: string[]; weightDecay?: number; sgd?: boolean } = {},
): TaskContext {
  const spec = { train: { dis: opts.disLoss ? { loss: { fn: opts.disLoss, args: null } } : null } } as unknown as RunSpec;
  const Opt = opts.sgd ? hl.SGD : hl.Adam;
  return {
    model,
    loss: hl.getLoss('mse'),
    lossDis: opts.disLoss ? hl.getLoss(opts.disLoss) : undefined,
    makeOptimizer: (params, which = 'gen') => new Opt(params, { lr: which === 'dis' ? lr.dis! : lr.gen, weightDecay: opts.weightDecay ?? 0 }) as any,
    gradClip: null,
    originalBugs: opts.originalBugs ?? [],
    spec,
  };
}

function assertState(m: hl.Module, expected: Record<string, FixtureTensor>, where: string): void {
  for (const [k, v] of Object.entries(m.stateDict())) assertClose(v, expected[k], TRAIN_TOL, `${where}: ${k}`);
}

testOnBackends('ae task: two Adam steps on mse(recon, x) + mse(pred, y) follow PyTorch', () => {
  const t = fx.ae_train;
  const c = byName(t.case);
  const m = modelOf(c);
  loadWeights(m, c);
  const task = autoencoderTask(contextFor(m, { gen: t.lr }));
  m.train();
  for (let step = 0; step < 2; step++) {
    const batch = { x: fromFixture(t.x), y: fromFixture(t.y) };
    const r = task.trainStep(batch);
    assertClose(r.losses.loss, t.losses[step], TRAIN_TOL, `ae loss at step ${step}`);
    assert.ok(Math.abs(r.losses.loss_recon + r.losses.loss_pred - r.losses.loss) < 1e-5);
    assert.deepEqual(r.pred!.shape, [6, 5], 'predictions of y for the metrics');
    tf.dispose([r.pred!, r.target!, batch.x, batch.y]);
  }
  assertState(m, t.state_after, 'ae_mlp after 2 steps');
  m.dispose();
});

/*
 * Adam (XANESNET's optimizer) is checked on the losses of both steps; SGD on the losses and every
 * parameter and batch-norm statistic afterwards. Some gradients are zero in exact arithmetic
 * (a Linear bias before a BatchNorm, a BatchNorm shift feeding Linear -> BatchNorm), so their
 * float32 values are rounding noise, which Adam scales up to lr-sized steps in either library.
 */
testOnBackends('aegan task: gen_update, dis_update and the logging pass follow PyTorch, intended and original loss_dis', () => {
  const t = fx.aegan_train;
  const c = byName(t.case);
  for (const label of ['intended', 'original'] as const) {
    for (const opt of ['adam', 'sgd'] as const) {
      const m = modelOf(c);
      loadWeights(m, c);
      const lr = opt === 'sgd' ? { gen: t.sgd_lr_gen, dis: t.sgd_lr_dis } : { gen: t.lr_gen, dis: t.lr_dis };
      const bugs = label === 'original' ? ['aegan_double_sigmoid'] : [];
      const task = aeganTask(contextFor(m, lr, { disLoss: 'bce', weightDecay: 1e-5, originalBugs: bugs, sgd: opt === 'sgd' }));
      assert.equal(task.optimizers.length, 2);
      m.train();
      t.batches.forEach(([a, b]: FixtureTensor[], step: number) => {
        const batch = { x: fromFixture(a), y: fromFixture(b) };
        const r = task.trainStep(batch);
        const want = t[label][opt].steps[step];
        const where = `aegan ${label} ${opt} step ${step}`;
        assertClose(r.losses.loss_gen, want.loss_gen, TRAIN_TOL, `${where} loss_gen`);
        assertClose(r.losses.loss_dis, want.loss_dis, TRAIN_TOL, `${where} loss_dis`);
        const logged = [r.losses.loss_recon_x, r.losses.loss_recon_y, r.losses.loss_pred_x, r.losses.loss_pred_y];
        assertClose(logged, want.parts, TRAIN_TOL, `${where} logged losses`);
        assertClose(
          r.losses.loss,
          want.parts.reduce((s: number, v: number) => s + v, 0),
          TRAIN_TOL,
          `${where} loss`,
        );
        assert.deepEqual(r.pred!.shape, [6, 7], 'y predicted from x for the metrics');
        tf.dispose([r.pred!, r.target!, batch.x, batch.y]);
      });
      if (opt === 'sgd') assertState(m, t[label].sgd.state_after, `aegan ${label} after 2 SGD steps`);
      m.dispose();
    }
  }
  assert.notEqual(t.intended.adam.steps[0].loss_dis, t.original.adam.steps[0].loss_dis, 'the two discriminator losses differ');
});

test("mlp and lstm state-dict keys are XANESNET's (dense_layers.<last>.0.*, fc.*); hyperlab's older keys still load", async () => {
  await hl.useBackend('cpu');
  const mlp = modelOf(byName('mlp_spec_2023'));
  const keys = Object.keys(mlp.stateDict());
  assert.deepEqual(keys.slice(-2), ['dense_layers.4.0.weight', 'dense_layers.4.0.bias'], 'the output Linear sits in its own Sequential, as in XANESNET');
  const lstm = modelOf(byName('lstm_spec_2023'));
  assert.deepEqual(
    Object.keys(lstm.stateDict()).filter((k) => !k.startsWith('lstm.')),
    ['fc.0.weight', 'fc.0.bias', 'fc.1.weight', 'fc.3.weight', 'fc.3.bias'],
  );
  // A state dict saved by hyperlab before the change (old keys) loads strictly, with one note.
  const before = tf.memory().numTensors;
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => warnings.push(String(m));
  try {
    for (const [m, rename, back] of [
      [
        mlp,
        (k: string) => k.replace(/^dense_layers\.4\.0\./, 'dense_layers.4.'),
        (k: string) => k.replace(/^dense_layers\.4\.(weight|bias)$/, 'dense_layers.4.0.$1'),
      ],
      [lstm, (k: string) => k.replace(/^fc\./, 'dense_layers.'), (k: string) => k.replace(/^dense_layers\./, 'fc.')],
    ] as const) {
      const fresh = Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [rename(k), tf.add(t, 1)]));
      m.loadStateDict(fresh, true);
      const own = m.stateDict();
      for (const [k, t] of Object.entries(fresh)) {
        const target = own[back(k)];
        assert.ok(target, `${k} landed somewhere`);
        assert.deepEqual(Array.from(target.dataSync()), Array.from(t.dataSync()), `${k}: the old key's values were loaded`);
      }
      disposeAll(fresh);
    }
  } finally {
    console.warn = warn;
  }
  assert.equal(warnings.length, 2, 'one note per model kind');
  assert.match(warnings[0], /mlp: .*dense_layers\.4\.weight -> dense_layers\.4\.0\.weight/);
  assert.match(warnings[1], /lstm: .*dense_layers\.0\.weight -> fc\.0\.weight/);
  assert.equal(tf.memory().numTensors, before, 'no tensors leak');
  mlp.dispose();
  lstm.dispose();
});

test('n_hl 1 builds the documented single dense layer and warns what XANESNET would do', async () => {
  await hl.useBackend('cpu');
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => warnings.push(String(m));
  let m: hl.Module;
  try {
    m = modelOf(byName('mlp_nhl1_2023'));
  } finally {
    console.warn = warn;
  }
  assert.deepEqual(
    Object.entries(m.stateDict()).map(([k, t]) => [k, t.shape]),
    [
      ['dense_layers.0.0.weight', [5, 7]],
      ['dense_layers.0.0.bias', [5]],
    ],
  );
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /Linear\(7, 5\)/, 'says what hyperlab builds');
  assert.match(warnings[0], /Linear\(int\(16 \/ 0\.5\) = 32, 5\) and fail on its first forward pass/, 'says what the original would do');
  assert.match(warnings[0], /set n_hl: 2/, 'says how to get one hidden layer');
  m.dispose();
});

test('aegan optimizers: gen gets every parameter without "dis" in its name, dis gets dis_a and dis_b', async () => {
  await hl.useBackend('cpu');
  const m = new XanesAEGAN({ nIn: 5, nOut: 7, hiddenSize: 4 });
  const groups: Record<string, hl.Parameter[]> = {};
  const ctx = contextFor(m, { gen: 1e-3, dis: 1e-4 }, { disLoss: 'bce' });
  ctx.makeOptimizer = (params, which = 'gen') => {
    groups[which] = params;
    return new hl.Adam(params, { lr: 1e-3 }) as any;
  };
  aeganTask(ctx);
  const names = new Map([...m.namedParameters()].map(([n, p]) => [p, n]));
  assert.ok(groups.gen.every((p) => !names.get(p)!.includes('dis')));
  assert.ok(groups.dis.every((p) => /^dis_[ab]\./.test(names.get(p)!)));
  assert.equal(groups.gen.length + groups.dis.length, m.parameters().length);
  m.dispose();
});

testOnBackends('lstm: intended (each sample a length-1 sequence) and original (the batch is one sequence) differ as designed', () => {
  const c = byName('lstm_small_2024');
  const fixed = modelOf(c) as XanesLSTM;
  const orig = modelOf(c, ['lstm_batch_sequence']) as XanesLSTM;
  assert.equal(fixed.batchAsSequence, false, 'the default is the intended model');
  assert.equal(orig.batchAsSequence, true);
  loadWeights(fixed, c);
  loadWeights(orig, c);
  fixed.eval();
  orig.eval();
  const x = fromFixture(c.x); // 5 samples
  const row0 = x.slice([0, 0], [1, c.nIn]);
  hl.noGrad(() => {
    const [a, b, a0, b0] = [fixed.forward(x), orig.forward(x), fixed.forward(row0), orig.forward(row0)];
    const diff = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
    assert.ok(diff > 1e-3, `outputs differ across the batch (max diff ${diff})`);
    // Intended: a sample's prediction does not depend on the rest of the batch.
    assertClose(a0, Array.from(a.slice([0, 0], [1, c.nOut]).dataSync()), F32, 'intended: row 0 alone = row 0 in the batch');
    // Original: the last sample of the batch sees the others through the recurrence.
    const last = orig.forward(x.slice([4, 0], [1, c.nIn]));
    const inBatch = Array.from(b.slice([4, 0], [1, c.nOut]).dataSync());
    assert.ok(
      Array.from(last.dataSync()).some((v, i) => Math.abs(v - inBatch[i]) > 1e-4),
      'original: row 4 depends on rows 0-3',
    );
    // A batch of one is a sequence of length 1 either way.
    assertClose(b0, Array.from(a0.dataSync()), F32, 'batch of one: same output');
    tf.dispose([a, b, a0, b0, last]);
  });
  tf.dispose([x, row0]);
  fixed.dispose();
  orig.dispose();
});

test("ae_cnn decoder lengths: the decoder ends at the input length; XANESNET's padding rule is wrong only for T > target", async () => {
  await hl.useBackend('cpu');
  // T < target: output_padding (XANESNET and hyperlab agree)
  assert.deepEqual(decoderPadding(23, 24, 2), { padding: 0, outputPadding: 1, crop: 0 });
  assert.deepEqual(decoderPadding(23, 24, 2, true), { padding: 0, outputPadding: 1, crop: 0 });
  // T > target: XANESNET's padding = T - target gives T - 2 (T - target); hyperlab's rule gives target.
  const out = (T: number, p: { padding: number; outputPadding: number; crop: number }) => T - 2 * p.padding + p.outputPadding - p.crop;
  for (const [T, target] of [
    [9, 7],
    [10, 7],
    [12, 11],
  ]) {
    assert.equal(out(T, decoderPadding(T, target, 2)), target, `hyperlab: ${T} -> ${target}`);
    assert.equal(out(T, decoderPadding(T, target, 2, true)), 2 * target - T, `XANESNET: ${T} -> ${2 * target - T}`);
  }
  // For this encoder T = floor((L - k) / s) * s + k <= L, so every model reconstructs its full input.
  for (const L of [20, 49, 64, 226]) {
    for (const k of [2, 3, 5]) {
      for (const s of [1, 2, 3]) {
        for (const n of [1, 2, 3]) {
          let m: XanesAECNN;
          try {
            m = new XanesAECNN({ nIn: L, nOut: 3, numConvLayers: n, outChannel: 2, channelMul: 2, kernelSize: k, stride: s, hiddenSize: 4 });
          } catch (e) {
            assert.match((e as Error).message, /ae_cnn: conv layer \d of \d gets a length-\d+ input, shorter than kernel_size/);
            continue;
          }
          m.eval();
          const x = tf.ones([2, L]);
          const [recon, pred] = hl.noGrad(() => m.forward(x));
          assert.deepEqual(recon.shape, [2, L], `L ${L} k ${k} s ${s} n ${n}`);
          assert.deepEqual(pred.shape, [2, 3]);
          const o = new XanesAECNN({
            nIn: L,
            nOut: 3,
            numConvLayers: n,
            outChannel: 2,
            channelMul: 2,
            kernelSize: k,
            stride: s,
            hiddenSize: 4,
            originalPadding: true,
          });
          assert.deepEqual(
            Object.entries(o.stateDict()).map(([kk, t]) => [kk, t.shape]),
            Object.entries(m.stateDict()).map(([kk, t]) => [kk, t.shape]),
          );
          assert.equal(o.toString(), m.toString(), 'both rules build the same layers here');
          tf.dispose([x, recon, pred]);
          m.dispose();
          o.dispose();
        }
      }
    }
  }
});

test('kernel_init / bias_init touch Linear and Conv layers only: LSTM, BatchNorm and PReLU keep their defaults', async () => {
  await hl.useBackend('cpu');
  for (const [type, params] of [
    ['lstm', { hidden_size: 3, hidden_out_size: 4 }],
    ['cnn', { out_channel: 2, hidden_size: 4, num_conv_layers: 1 }],
    ['ae_cnn', { out_channel: 2, hidden_size: 4, num_conv_layers: 2 }],
  ] as const) {
    const m = buildModel(type, params, { nIn: 9, nOut: 2 });
    const before = Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, Array.from(t.dataSync())]));
    initWeights(m, 'ones', 'zeros');
    for (const [name, mod] of m.namedModules()) {
      if ([...mod.children()].length > 0) continue; // containers: checked through their layers
      const own = Object.entries(mod.stateDict());
      const touched = mod instanceof hl.Linear || mod instanceof hl.Conv1d || mod instanceof hl.ConvTranspose1d;
      for (const [k, t] of own) {
        const key = name ? `${name}.${k}` : k;
        const now = Array.from(t.dataSync());
        if (touched)
          assert.ok(
            now.every((v) => v === (k === 'weight' ? 1 : 0)),
            `${type} ${key} initialised`,
          );
        else assert.deepEqual(now, before[key], `${type} ${key} keeps its default`);
      }
    }
    m.dispose();
  }
});

test('errors say what is wrong and what to do', async () => {
  await hl.useBackend('cpu');
  assert.throws(
    () => buildModel('cnn', { kernel_size: 5, stride: 1, num_conv_layers: 3 }, { nIn: 12, nOut: 3 }),
    /cnn: conv layer 3 of 3 gets a length-4 input, shorter than kernel_size 5, so it has no output \(lengths so far: 12 -> 8 -> 4, stride 1\)\. Lower kernel_size, stride or num_conv_layers/,
  );
  assert.throws(
    () => buildModel('ae_cnn', { kernel_size: 7, stride: 3, num_conv_layers: 2 }, { nIn: 10, nOut: 3 }),
    /ae_cnn: conv layer 2 of 2 gets a length-2 input/,
  );
  assert.throws(
    () => buildModel('ae_mlp', { hidden_size: 8, num_hidden_layers: 5, shrink_rate: 0.25 }, { nIn: 10, nOut: 3 }),
    /ae_mlp: the last hidden layer would have int\(8 \* 0\.25\^4\) = 0 units/,
  );
  assert.throws(() => buildModel('lstm', { hidden_size: 0 }, { nIn: 10, nOut: 3 }), /lstm: hidden_size must be a positive integer, got 0/);
  assert.throws(
    () => buildModel('aegan_mlp', { num_hidden_layers_dis: 0 }, { nIn: 10, nOut: 3 }),
    /aegan_mlp: num_hidden_layers_dis must be a positive integer/,
  );
  const cnn = buildModel('cnn', { out_channel: 2, hidden_size: 4 }, { nIn: 12, nOut: 3 });
  const x = tf.ones([2, 13]);
  assert.throws(() => cnn.forward(x), /cnn: expected input of shape \(batch, 12\), got \[2,13\]/);
  x.dispose();
  cnn.dispose();
});

/** Small models of each mode with the task run.ts would give them. */
function smallTasks(): { name: string; task: Task; batch: () => hl.Batch }[] {
  const nIn = 12;
  const nOut = 6;
  const opt = (m: hl.Module) => new hl.Adam(m.parameters(), { lr: 1e-3 }) as any;
  const sup = (m: hl.Module) => supervised({ model: m, optimizer: opt(m), loss: hl.getLoss('mse'), keepPredictions: true });
  const params: Record<string, Record<string, number>> = {
    mlp: { hidden_size: 8, num_hidden_layers: 3 },
    cnn: { out_channel: 2, hidden_size: 8, num_conv_layers: 2 },
    lstm: { hidden_size: 4, hidden_out_size: 8 },
    ae_mlp: { hidden_size: 8, num_hidden_layers: 2 },
    ae_cnn: { out_channel: 2, hidden_size: 8, num_conv_layers: 2, stride: 2 },
    aegan_mlp: { hidden_size: 8 },
  };
  return Object.entries(params).map(([name, p]) => {
    const m = buildModel(name, p, { nIn, nOut });
    const task = TASKS[name] ? TASKS[name](contextFor(m, { gen: 1e-3, dis: 1e-3 }, { disLoss: 'bce' })) : sup(m);
    return { name, task, batch: () => ({ x: tf.randomUniform([5, nIn]), y: tf.randomUniform([5, nOut]) }) };
  });
}

testOnBackends('no leaks: the tensor count stays flat across training and evaluation steps of every mode', () => {
  const start = tf.memory().numTensors;
  for (const { name, task, batch } of smallTasks()) {
    const step = (train: boolean) => {
      const b = batch();
      task.model.train(train);
      const r = train ? task.trainStep(b) : task.evalStep(b);
      assert.ok(Number.isFinite(r.losses.loss), `${name}: a finite loss`);
      assert.ok(r.pred && r.target, `${name}: predictions for the metrics`);
      assert.deepEqual(r.pred.shape, r.target.shape, `${name}: predictions have the target's shape`);
      tf.dispose([r.pred!, r.target!, ...Object.values(b)]);
    };
    step(true); // the optimizers create their state on the first step
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step(true);
    step(false);
    assert.equal(tf.memory().numTensors, before, `${name}: tensors leaked`);
    task.model.dispose();
    for (const o of task.optimizers) (o as unknown as { dispose?: () => void }).dispose?.();
  }
  // Gradients are freed with their parameters, optimizer state with its optimizer.
  assert.equal(tf.memory().numTensors - start, 0, 'tensors left after every model and optimizer was disposed');
});

// ---- training on the embedded Fe data ------------------------------------------------------

const tmp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `hl-zoo-${name}-`));

/** Train a run file's text for a few epochs into a temp runs_dir; returns the history. */
async function train(text: string, name: string, epochs: number): Promise<hl.History> {
  const doc = YAML.parse(text);
  if (doc.hyperparams?.epochs !== undefined && doc.xyz_path) doc.hyperparams.epochs = epochs;
  else doc.epochs = epochs;
  doc.hyperlab = { ...(doc.hyperlab ?? {}), runs_dir: tmp(name), progress: false, tensorboard: false, backend: 'wasm' };
  delete doc.hyperlab.early_stopping;
  const r = await runFromText(YAML.stringify(doc), path.join(root, 'runfiles', `${name}.yaml`), { verbose: false });
  r.dispose();
  return r.history;
}

function assertFalls(h: hl.History, where: string): void {
  const first = h.loss[0];
  const last = h.loss[h.loss.length - 1];
  assert.ok(Number.isFinite(last) && last < first, `${where}: training loss falls (${first} -> ${last})`);
  assert.ok(Number.isFinite(h.val_loss[h.val_loss.length - 1]), `${where}: a validation loss`);
  assert.ok(Number.isFinite(h.val_mse[h.val_mse.length - 1]), `${where}: validation metrics from the predictions of y`);
}

for (const mode of ['mlp', 'cnn', 'lstm', 'ae_mlp', 'ae_cnn', 'aegan_mlp']) {
  test(`runfiles/xanes_${mode}.yaml trains on the embedded Fe data with a falling loss`, async () => {
    const text = fs.readFileSync(path.join(root, 'runfiles', `xanes_${mode}.yaml`), 'utf8');
    const h = await train(text, `xanes_${mode}`, 3);
    assertFalls(h, mode);
  });
}

test('spectrum -> structure (train_xanes) in both run-file styles: lstm (2023) and ae_cnn, aegan_mlp (2024)', async () => {
  const data2023 = 'x_path: hyperlab:datasets/xanes-fe/xyz_train\ny_path: hyperlab:datasets/xanes-fe/xanes_train\n';
  const data2024 = 'xyz_path: hyperlab:datasets/xanes-fe/xyz_train\nxanes_path: hyperlab:datasets/xanes-fe/xanes_train\n';
  const descriptor = 'descriptor: {type: wacsf, params: {r_min: 1.0, r_max: 6.0, n_g2: 16, n_g4: 32}}\n';
  const lstm = `${data2023}${descriptor}
hyperparams: {model: lstm, batch_size: 16, hidden_size: 16, num_layers: 2, hl_ini_dim: 32, activation: prelu, lr: 0.003, optim_fn: Adam, dropout: 0.1,
  loss: {loss_fn: mse, loss_args: null, loss_reg_type: null, loss_reg_param: 0}, weight_init_seed: 7, kernel_init: xavier_uniform, bias_init: zeros}
seed: 2021
epochs: 3
hyperlab: {mode: train_xanes, original_bugs: [lstm_batch_sequence]}
`;
  const aeCnn = `mode: train_xanes
${data2024}${descriptor}
model: {type: ae_cnn, params: {hidden_size: 32, num_conv_layers: 2, out_channel: 4, channel_mul: 2, kernel_size: 5, stride: 3, dropout: 0.1}}
hyperparams: {batch_size: 16, lr: 0.003, epochs: 3, optim_fn: Adam, seed: 2021, weight_seed: 7, loss: {loss_fn: mse, loss_args: null}}
standardscaler: True
`;
  const aegan = `mode: train_xanes
${data2024}${descriptor}
model: {type: aegan_mlp, params: {hidden_size: 16, num_hidden_layers_gen: 1, num_hidden_layers_shared: 1, num_hidden_layers_dis: 1}}
hyperparams: {batch_size: 16, lr_gen: 0.003, lr_dis: 0.001, epochs: 3, optim_fn: Adam, seed: 2021,
  loss_gen: {loss_fn: mse, loss_args: null}, loss_dis: {loss_fn: bce, loss_args: null}}
hyperlab: {original_bugs: [aegan_double_sigmoid]}
`;
  for (const [name, text] of [
    ['xanes_lstm_reverse', lstm],
    ['xanes_ae_cnn_reverse', aeCnn],
    ['xanes_aegan_reverse', aegan],
  ]) {
    const h = await train(text, name, 3);
    assertFalls(h, name);
  }
});
