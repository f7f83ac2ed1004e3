/**
 * XANESNET run-file keys that used to be accepted and ignored: model_eval, variance_threshold,
 * load_guess / freeze, optuna_params, and the checks that refuse a key that would do nothing
 * (lib/config/checks.ts). Small runs on the embedded Fe data, each in a temporary runs_dir.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '../lib/engine/tf';
import { Module } from '../lib/nn/module';
import { Parameter } from '../lib/nn/parameter';
import { runFromText } from '../lib/runs/run';
import { runSpecFromText, RunFileError } from '../lib/config';
import { predictRun } from '../lib/runs/predict';
import { saveWeights } from '../lib/io/safetensors';
import { loadCheckpoint } from '../lib/io/checkpoint';
import { runModelEval, TEST_NAMES } from '../lib/runs/model_eval';
import { VarianceThreshold } from '../lib/data/variance_threshold';
import { applyFreeze } from '../lib/runs/load_guess';
import { buildModel } from '../lib/models/registry';

const tmp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `hl-feat-${name}-`));
const quiet = { verbose: false };

/** A small XANESNET 2023 mlp run file; `extra` is appended at the top level. */
function mlp2023(runsDir: string, epochs = 2, extra = '', hyperlab = ''): string {
  return `
x_path: hyperlab:datasets/xanes-fe/xyz_train
y_path: hyperlab:datasets/xanes-fe/xanes_train
descriptor: {type: wacsf, params: {r_min: 1.0, r_max: 6.0, n_g2: 16, n_g4: 32}}
hyperparams:
  model: mlp
  batch_size: 16
  n_hl: 3
  hl_ini_dim: 32
  hl_shrink: 0.5
  activation: prelu
  loss: {loss_fn: mse, loss_args: null, loss_reg_type: null, loss_reg_param: 0.0}
  lr: 0.003
  optim_fn: Adam
  dropout: 0.1
  weight_init_seed: 2023
  kernel_init: xavier_uniform
  bias_init: zeros
seed: 2021
epochs: ${epochs}
${extra}
hyperlab: {runs_dir: ${runsDir}, progress: false, tensorboard: false, backend: cpu${hyperlab}}
`;
}

/** The same model in the 2024 style. */
function mlp2024(runsDir: string, epochs = 2, extra = ''): string {
  return `
xyz_path: hyperlab:datasets/xanes-fe/xyz_train
xanes_path: hyperlab:datasets/xanes-fe/xanes_train
descriptor: {type: wacsf, params: {r_min: 1.0, r_max: 6.0, n_g2: 16, n_g4: 32}}
model:
  type: mlp
  params: {hidden_size: 32, num_hidden_layers: 3, shrink_rate: 0.5, dropout: 0.1, activation: prelu}
hyperparams:
  batch_size: 16
  lr: 0.003
  epochs: ${epochs}
  optim_fn: Adam
  kernel_init: xavier_uniform
  bias_init: zeros
  seed: 2021
  weight_seed: 2023
  loss: {loss_fn: mse, loss_args: null, loss_reg_type: null, loss_reg_param: 0.0}
${extra}
hyperlab: {runs_dir: ${runsDir}, progress: false, tensorboard: false, backend: cpu}
`;
}

/** A RACCOON run file with extra hyperlab keys. */
function raccoonText(hyperlab: string): string {
  return `
model_params: {architecture: raccoon, layer_param: 4, dropout: 0.5, name: t, activation: leakyrelu, input_size: 64}
data_params: {datafile: hyperlab:datasets/cubes/cubes_s64.h5, train_seeds: 2, test_seeds: 1}
train_params: {epochs: 1, lr: 0.001}
hyperlab: {progress: false${hyperlab}}
`;
}

/** The RunFileError messages of a run file, or [] when it is accepted. */
function problemsOf(text: string, file = '/tmp/hl-feat/in.yaml'): string[] {
  try {
    runSpecFromText(text, file);
    return [];
  } catch (err) {
    if (err instanceof RunFileError) return err.problems;
    throw err;
  }
}

function weightsOf(dir: string): Record<string, Float32Array> {
  const ck = loadCheckpoint(dir);
  try {
    return Object.fromEntries(Object.entries(ck.weights).map(([k, t]) => [k, t.dataSync() as Float32Array]));
  } finally {
    ck.dispose();
  }
}

// ---- model_eval ---------------------------------------------------------------------------

test('model_eval: a 75/15/10 split and the invariance tests written to model_eval.json', async () => {
  const dir = tmp('eval');
  const r = await runFromText(mlp2023(dir, 3, 'model_eval: True'), path.join(dir, 'in_mlp.yaml'), quiet);
  r.dispose();
  const split = JSON.parse(fs.readFileSync(path.join(r.runDir, 'split.json'), 'utf8'));
  assert.deepEqual([split.train.length, split.validation.length, split.evaluation.length], [75, 15, 10], 'train_test_split 0.25, then 0.4 of that');
  assert.equal(new Set([...split.train, ...split.validation, ...split.evaluation]).size, 100, 'the three parts are disjoint');
  const file = JSON.parse(fs.readFileSync(path.join(r.runDir, 'model_eval.json'), 'utf8'));
  assert.deepEqual(Object.keys(file.results), ['ModelEvalResults-Prediction']);
  assert.deepEqual(Object.keys(file.results['ModelEvalResults-Prediction']), [...TEST_NAMES]);
  for (const t of Object.values(file.results['ModelEvalResults-Prediction']) as any[]) {
    assert.equal(typeof t.passed, 'boolean');
    assert.ok(t.pvalue >= 0 && t.pvalue <= 1, `p in [0, 1]: ${t.pvalue}`);
    assert.equal(t.passed, t.pvalue < 0.05);
  }
  assert.deepEqual(r.modelEval, file.results);
  assert.deepEqual(file.samples, { train: 75, validation: 15, evaluation: 10 });

  // Without model_eval: the 80/20 split and no tests.
  const plain = await runFromText(mlp2023(dir, 1), path.join(dir, 'plain.yaml'), quiet);
  plain.dispose();
  assert.equal(fs.existsSync(path.join(plain.runDir, 'model_eval.json')), false);
  assert.equal(JSON.parse(fs.readFileSync(path.join(plain.runDir, 'split.json'), 'utf8')).validation.length, 20);
});

test('model_eval on an autoencoder tests the reconstruction and the prediction (2024 hyperparams.model_eval)', async () => {
  const dir = tmp('eval-ae');
  const text = mlp2024(dir, 1).replace('type: mlp', 'type: ae_mlp').replace('weight_seed: 2023', 'weight_seed: 2023\n  model_eval: True');
  const r = await runFromText(text, path.join(dir, 'ae.yaml'), quiet);
  r.dispose();
  assert.deepEqual(Object.keys(r.modelEval!), ['ModelEvalResults-Reconstruction', 'ModelEvalResults-Prediction']);
});

/** y = x W exactly: a perfect model beats every alternative; a constant one is no better than shuffled inputs. */
class Linearly extends Module {
  readonly w: Parameter;
  constructor(
    wData: Float32Array,
    readonly nIn: number,
    readonly nOut: number,
    readonly constant = false,
  ) {
    super();
    this.w = new Parameter(tf.tensor2d(wData, [nIn, nOut]));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => (this.constant ? tf.zeros([x.shape[0], this.nOut]) : tf.matMul(x, this.w)));
  }
}

test('runModelEval: a perfect model passes all eight tests, a constant one fails "Shuffle Input"', () => {
  const nIn = 4;
  const nOut = 3;
  let seed = 1;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const W = Float32Array.from({ length: nIn * nOut }, rand);
  const rows = (n: number) => {
    const x = Float32Array.from({ length: n * nIn }, rand);
    const y = new Float32Array(n * nOut);
    for (let i = 0; i < n; i++) for (let k = 0; k < nOut; k++) for (let j = 0; j < nIn; j++) y[i * nOut + k] += x[i * nIn + j] * W[j * nOut + k];
    return { x, y, n };
  };
  const sets = { train: rows(60), validation: rows(15), evaluation: rows(20), nIn, nOut };
  const perfect = new Linearly(W, nIn, nOut);
  const tensors = tf.memory().numTensors;
  const r = runModelEval(perfect, sets, { type: 'mlp', batchSize: 8, seed: 0 })['ModelEvalResults-Prediction'];
  assert.equal(tf.memory().numTensors, tensors, 'every tensor disposed');
  for (const name of TEST_NAMES) assert.equal(r[name].passed, true, `${name}: p = ${r[name].pvalue}`);
  assert.ok(r['Shuffle Input'].meanTrueLoss < 1e-10);
  const constant = new Linearly(W, nIn, nOut, true);
  const c = runModelEval(constant, sets, { type: 'mlp', batchSize: 8, seed: 0 })['ModelEvalResults-Prediction'];
  assert.equal(c['Shuffle Input'].passed, false, 'the same output whatever the input');
  assert.equal(c['Shuffle Input'].statistic, 0);
  assert.equal(perfect.training, true, 'the model is back in the mode it was in');
  perfect.dispose();
  constant.dispose();
});

test('runModelEval on aegan_mlp: reconstruction and prediction of both domains, no tensor left behind', () => {
  const model = buildModel(
    'aegan_mlp',
    { hidden_size: 8, num_hidden_layers_gen: 1, num_hidden_layers_shared: 1, num_hidden_layers_dis: 1 },
    { nIn: 5, nOut: 7 },
  );
  const rows = (n: number, seed: number) => ({
    x: Float32Array.from({ length: n * 5 }, (_, i) => Math.sin(i * 0.37 + seed)),
    y: Float32Array.from({ length: n * 7 }, (_, i) => Math.cos(i * 0.11 + seed)),
    n,
  });
  const tensors = tf.memory().numTensors;
  const r = runModelEval(
    model,
    { train: rows(30, 1), validation: rows(6, 2), evaluation: rows(4, 3), nIn: 5, nOut: 7 },
    { type: 'aegan_mlp', batchSize: 3, seed: 1 },
  );
  assert.equal(tf.memory().numTensors, tensors);
  assert.deepEqual(Object.keys(r), [
    'ModelEvalResults-Reconstruction-XYZ',
    'ModelEvalResults-Reconstruction-Xanes',
    'ModelEvalResults-Prediction-XYZ',
    'ModelEvalResults-Prediction-Xanes',
  ]);
  assert.throws(
    () =>
      runModelEval(model, { train: rows(30, 1), validation: rows(6, 2), evaluation: rows(4, 3), nIn: 5, nOut: 7 }, { type: 'raccoon', batchSize: 3, seed: 1 }),
    /no invariance tests for model 'raccoon'/,
  );
  model.dispose();
});

// ---- variance_threshold --------------------------------------------------------------------

test('variance_threshold: low-variance features are dropped on the training split, saved, and reused by predict', async () => {
  const dir = tmp('vt');
  const r = await runFromText(mlp2023(dir, 1, 'variance_threshold: 0.05'), path.join(dir, 'vt.yaml'), quiet);
  const vt = JSON.parse(fs.readFileSync(path.join(r.runDir, 'variance_threshold.json'), 'utf8'));
  assert.equal(vt.n_features_in, 49);
  assert.ok(vt.support.length > 40 && vt.support.length < 49, `kept ${vt.support.length} of 49 wACSF features`);
  assert.ok(vt.support.every((j: number) => vt.variances[j] > 0.05));
  assert.equal((r.trainer.model as any).dense_layers[0][0].inFeatures, vt.support.length, 'the model sees the kept features only');
  r.dispose();
  const p = await predictRun(r.runDir, { data: 'validation' });
  assert.equal(p.ids.length, 20);
  assert.ok(Number.isFinite(p.mse!), 'prediction applies the saved selection');

  // 0.0, XANESNET's example value, keeps every feature (XANESNET never applies the key).
  const zero = await runFromText(mlp2023(dir, 1, 'variance_threshold: 0.0'), path.join(dir, 'zero.yaml'), quiet);
  zero.dispose();
  assert.equal(fs.existsSync(path.join(zero.runDir, 'variance_threshold.json')), false);
  assert.equal((zero.trainer.model as any).dense_layers[0][0].inFeatures, 49);
});

test('VarianceThreshold follows sklearn: kept when variance > threshold, ddof 0, none left is an error', () => {
  const data = Float32Array.from([1, 5, 0, 1, 7, 1, 1, 9, 2]); // columns: constant, var 8/3, var 2/3
  const vt = new VarianceThreshold(0.7).fit({ data, shape: [3, 3] });
  assert.deepEqual(Array.from(vt.support!), [1]);
  assert.deepEqual(Array.from(new VarianceThreshold(0).fit({ data, shape: [3, 3] }).support!), [1, 2], '0 drops the constant column only');
  assert.deepEqual(Array.from(vt.transform({ data, shape: [3, 3] }).data), [5, 7, 9]);
  assert.throws(() => new VarianceThreshold(10).fit({ data, shape: [3, 3] }), /no feature has a variance above 10/);
});

// ---- load_guess / freeze -------------------------------------------------------------------

test('load_guess: starts from a run directory, keeps the frozen blocks, trains the rest (2023 and 2024 keys)', async () => {
  const dir = tmp('guess');
  const a = await runFromText(mlp2023(dir, 2), path.join(dir, 'first.yaml'), quiet);
  a.dispose();
  const before = weightsOf(path.join(a.runDir, 'checkpoints', 'best'));
  const guess = `load_guess: True
loadguess_params:
  model_dir: ${a.runDir}
  freeze_mlp_params: {freeze_dense: True, n_freeze_dense: 1}`;
  const b = await runFromText(mlp2023(dir, 2, guess), path.join(dir, 'second.yaml'), quiet);
  const model = b.trainer.model as any;
  assert.equal(
    model.dense_layers[0].parameters().every((p: Parameter) => !p.requiresGrad),
    true,
    'block 1 frozen',
  );
  assert.equal(
    model.dense_layers[1].parameters().every((p: Parameter) => p.requiresGrad),
    true,
    'block 2 trains',
  );
  b.dispose();
  const after = weightsOf(path.join(b.runDir, 'checkpoints', 'last'));
  assert.deepEqual(after['dense_layers.0.0.weight'], before['dense_layers.0.0.weight'], 'the frozen block keeps the loaded weights');
  assert.deepEqual(after['dense_layers.0.2.weight'], before['dense_layers.0.2.weight'], 'its PReLU slope too');
  assert.notDeepEqual(after['dense_layers.2.0.weight'], before['dense_layers.2.0.weight'], 'the output layer trained on');
  // A fresh run starts elsewhere: the loaded weights are not re-initialised.
  assert.ok(b.history.loss[0] < a.history.loss[0], `starts from the trained model: ${b.history.loss[0]} < ${a.history.loss[0]}`);

  // 2024: freeze + freeze_params, and a .safetensors file as the source.
  const file = path.join(dir, 'first.safetensors');
  const loaded = buildModel('mlp', { hidden_size: 32, num_hidden_layers: 3, shrink_rate: 0.5, dropout: 0.1, activation: 'prelu' }, { nIn: 49, nOut: 226 });
  const ck = loadCheckpoint(path.join(a.runDir, 'checkpoints', 'best'));
  loaded.loadStateDict(ck.weights);
  ck.dispose();
  saveWeights(loaded, file);
  loaded.dispose();
  const c = await runFromText(mlp2024(dir, 1, `freeze: True\nfreeze_params: {model_path: ${file}, n_dense: 2}`), path.join(dir, 'third.yaml'), quiet);
  const m = c.trainer.model as any;
  assert.equal(
    [0, 1].every((i) => m.dense_layers[i].parameters().every((p: Parameter) => !p.requiresGrad)),
    true,
    'two blocks frozen',
  );
  c.dispose();
  const c1 = weightsOf(path.join(c.runDir, 'checkpoints', 'last'));
  assert.deepEqual(c1['dense_layers.1.0.weight'], before['dense_layers.1.0.weight']);
});

test('load_guess refuses what it cannot use, before any work', async () => {
  const dir = tmp('guess-bad');
  const pt = problemsOf(mlp2023(dir, 1, 'load_guess: True\nloadguess_params: {model_dir: model/model_001/model.pt}'));
  assert.equal(pt.length, 1);
  assert.match(pt[0], /loadguess_params\.model_dir \(line \d+\): .*model\.pt is a PyTorch pickle .*safetensors/);
  assert.match(problemsOf(mlp2023(dir, 1, 'load_guess: True'))[0], /load_guess \(line \d+\): .*model_dir is missing/);
  assert.match(
    problemsOf(mlp2023(dir, 1, 'load_guess: True\nloadguess_params: {model_dir: x, freeze_cnn_params: {freeze_conv: True, n_freeze_conv: 1}}'))[0],
    /freeze_cnn_params .*freezes parts of a cnn, but the run trains mlp: use loadguess_params\.freeze_mlp_params/,
  );
  assert.match(problemsOf(mlp2024(dir, 1, 'freeze: True\nfreeze_params: {model_path: x, n_conv: 1}'))[0], /freeze_params\.n_conv .*mlp has no conv part/);
  // A missing source fails when the run starts, before the run directory exists.
  const text = mlp2023(dir, 1, `load_guess: True\nloadguess_params: {model_dir: ${path.join(dir, 'nowhere')}}`);
  await assert.rejects(
    runFromText(text, path.join(dir, 'g.yaml'), quiet),
    (err: Error) => err instanceof RunFileError && /nowhere does not exist/.test(err.message),
  );
  assert.deepEqual(fs.readdirSync(dir), [], 'nothing was created');
  // A run of another model.
  const cnnRun = path.join(dir, 'runs', 'cnn-run');
  fs.mkdirSync(path.join(cnnRun, 'checkpoints'), { recursive: true });
  fs.writeFileSync(
    path.join(cnnRun, 'config.json'),
    JSON.stringify({ name: 'cnn-run', mode: 'train_xyz', model: { type: 'cnn', params: {} }, data: {}, train: {} }),
  );
  const other = mlp2023(dir, 1, `load_guess: True\nloadguess_params: {model_dir: ${cnnRun}}`);
  await assert.rejects(runFromText(other, path.join(dir, 'o.yaml'), quiet), /trained a cnn, this run file builds a mlp/);
});

test('freezing counts XANESNET blocks: cnn conv blocks, lstm layers and n_freeze, aegan parts', () => {
  const frozen = (m: Module) => [...m.namedParameters()].filter(([, p]) => !p.requiresGrad).map(([k]) => k);
  const cnn = buildModel('cnn', { hidden_size: 8, num_conv_layers: 3, out_channel: 2, channel_mul: 2, kernel_size: 3, stride: 1 }, { nIn: 20, nOut: 5 });
  applyFreeze(cnn, 'cnn', { counts: { conv: 2, dense: 1 }, lstmTrailing: null });
  assert.deepEqual(
    frozen(cnn)
      .map((k) => k.split('.').slice(0, 2).join('.'))
      .filter((v, i, a) => a.indexOf(v) === i),
    ['conv_layers.0', 'conv_layers.1', 'dense_layers.0'],
  );
  const lstm = buildModel('lstm', { hidden_size: 4, hidden_out_size: 6, num_layers: 2 }, { nIn: 5, nOut: 3 });
  applyFreeze(lstm, 'lstm', { counts: { lstm: 1 }, lstmTrailing: null });
  assert.deepEqual(frozen(lstm), [
    'lstm.weight_ih_l0',
    'lstm.weight_hh_l0',
    'lstm.bias_ih_l0',
    'lstm.bias_hh_l0',
    'lstm.weight_ih_l0_reverse',
    'lstm.weight_hh_l0_reverse',
    'lstm.bias_ih_l0_reverse',
    'lstm.bias_hh_l0_reverse',
  ]);
  const lstm2 = buildModel('lstm', { hidden_size: 4, hidden_out_size: 6, num_layers: 1 }, { nIn: 5, nOut: 3 });
  applyFreeze(lstm2, 'lstm', { counts: {}, lstmTrailing: 1 });
  const all = [...lstm2.namedParameters()].map(([k]) => k);
  assert.deepEqual(frozen(lstm2), all.slice(0, all.length - 2), "learn.py's n_freeze: all but the last 2 tensors");
  const aegan = buildModel(
    'aegan_mlp',
    { hidden_size: 4, num_hidden_layers_gen: 1, num_hidden_layers_shared: 1, num_hidden_layers_dis: 1 },
    { nIn: 5, nOut: 3 },
  );
  applyFreeze(aegan, 'aegan_mlp', { counts: { discrim2: 1 }, lstmTrailing: null });
  assert.ok(
    frozen(aegan).length > 0 && frozen(aegan).every((k) => k.startsWith('dis_b.dense_layers.0.')),
    'n_discrim2 freezes dis_b (XANESNET 2024 tested n_discrim1)',
  );
  for (const m of [cnn, lstm, lstm2, aegan]) m.dispose();
});

// ---- optuna and the other checks -----------------------------------------------------------

test('optuna_params: tune True is refused with the sweep command; tune False is accepted', () => {
  const dir = '/tmp/hl-feat';
  const on = problemsOf(mlp2023(dir, 1, 'optuna_params: {tune: True, n_trials: 3, tune_lr: True}'));
  assert.equal(on.length, 1);
  assert.match(on[0], /optuna_params\.tune \(line \d+\): hyperlab has no Optuna search; search with `hyperlab sweep/);
  assert.deepEqual(problemsOf(mlp2023(dir, 1, 'optuna_params: {tune: False, n_trials: 3}')), []);
});

test('keys that would do nothing are refused with the field, its line and the fix', () => {
  const dir = '/tmp/hl-feat';
  const cases: [string, RegExp][] = [
    [
      mlp2023(dir, 1).replace('  dropout: 0.1', '  dropout: 0.1\n  hidden_layer: 64'),
      /hyperparams\.hidden_layer \(line \d+\): mlp does not use hidden_layer \(it is for cnn, ae_cnn\): remove it/,
    ],
    [mlp2023(dir, 1).replace('loss_args: null', 'loss_args: 5'), /hyperparams\.loss\.loss_args \(line \d+\): mse reads no loss_args/],
    [mlp2023(dir, 1, 'data_params: True'), /data_params .*augmentation is switched on but augment is missing/],
    [
      mlp2023(dir, 1, 'data_params: True\naugment: {augment_type: random_combination, augment_mult: 2, augment_params: {normal_sd: 0.1}}'),
      /normal_sd .*random_combination .* does nothing/,
    ],
    [mlp2023(dir, 1, 'lr_scheduler: {scheduler: True}'), /lr_scheduler .*scheduler_type is missing/],
    [
      mlp2023(dir, 1, 'lr_scheduler: {scheduler: True, scheduler_type: step, scheduler_param: {milestones: [2]}}'),
      /lr_scheduler \(line \d+\): lr scheduler 'step': unknown parameter 'milestones'/,
    ],
    [mlp2023(dir, 1, 'kfold: True\nbootstrap: True\nbootstrap_params: {n_boot: 2, n_size: 1.0, seed_boot: [1, 2]}'), /kfold and bootstrap are all True/],
    [mlp2023(dir, 1, 'bootstrap: True\nbootstrap_params: {n_boot: 3, n_size: 1.0, seed_boot: [1]}'), /n_boot is 3 but 1 seed\(s\) are given/],
    [mlp2023(dir, 1, 'model_eval: True', ', val_split: 0.3'), /hyperlab\.val_split .*model_eval the split is XANESNET's 75\/15\/10/],
    [mlp2023(dir, 1, '', ', checkpoint_every: 5'), /checkpoint_every .*not implemented/],
    [mlp2023(dir, 1, '', ', original_bugs: [lstm_batch_sequence]'), /'lstm_batch_sequence' changes the lstm model, which this run does not have/],
    // (L1/L2 on the autoencoders, which XANESNET ignores, is accepted with a note: test/interop.test.ts.)
    [mlp2024(dir, 1).replace('lr: 0.003', 'lr: 0.003\n  lr_gen: 0.01'), /hyperparams\.lr_gen .*only aegan_mlp reads lr_gen/],
    [
      mlp2024(dir, 1).replace('activation: prelu}', 'activation: prelu, hidden_out_size: 12}'),
      /model\.params\.hidden_out_size .*mlp does not use hidden_out_size \(it is for lstm\)/,
    ],
    [mlp2024(dir, 1, 'data_augment: True'), /data_augment .*augment_params is missing/],
    [mlp2023(dir, 1, '', ', original_bugs: [raccoon_slicing]'), /'raccoon_slicing' changes the cube slicing of RACCOON\/PENGUIN runs/],
    [raccoonText(', original_bugs: [raccoon_slicing, cosine]'), /original_bugs\.1 \(line \d+\): 'cosine' is a XANESNET bug/],
    [raccoonText(', val_split: 0.3'), /hyperlab\.val_split .*is for XANESNET run files/],
  ];
  for (const [text, re] of cases) {
    const problems = problemsOf(text);
    assert.ok(
      problems.some((p) => re.test(p)),
      `expected ${re} in:\n${problems.join('\n') || '(accepted)'}`,
    );
  }
});

test("XANESNET's own in_aegan.yaml settings are accepted (dropout 0.0, variance_threshold 0.0, model_eval, switched-off blocks)", () => {
  const text = `
x_path: data/xyz_train
y_path: data/xanes_train
descriptor: {type: wacsf, params: {r_min: 1.0, r_max: 6.0, n_g2: 16, n_g4: 32}}
bootstrap: False
bootstrap_params: {n_boot: 3, n_size: 1.0, seed_boot: [97, 39, 22]}
ensemble: False
ensemble_params: {n_ens: 3, weight_init_seed: [97, 39, 22]}
data_params: False
augment: {augment_type: random_noise, augment_mult: 5, augment_params: {normal_mean: 0, normal_sd: 0.1}}
kfold: False
kfold_params: {n_splits: 5, n_repeats: 1, loss: {loss_fn: mse, loss_args: null}}
lr_scheduler: {scheduler: True, scheduler_type: Exponential, scheduler_param: {gamma: 0.001}}
hyperparams:
  model: aegan
  batch_size: 64
  n_hl_gen: 2
  n_hl_shared: 2
  n_hl_dis: 2
  hidden_size: 256
  activation: prelu
  loss_gen: {loss_fn: wcc, loss_args: 10}
  loss_dis: {loss_fn: bce, loss_args: null}
  lr_gen: 0.01
  lr_dis: 0.0001
  optim_fn_gen: Adam
  optim_fn_dis: Adam
  dropout: 0.0
  weight_init_seed: 2023
  kernel_init: xavier_uniform
  bias_init: zeros
seed: 2021
epochs: 1
variance_threshold: 0.0
model_eval : True
`;
  assert.deepEqual(problemsOf(text), []);
  assert.match(problemsOf(text.replace('dropout: 0.0', 'dropout: 0.2'))[0], /hyperparams\.dropout \(line \d+\): aegan_mlp does not use dropout/);
  assert.deepEqual(problemsOf(raccoonText(', original_bugs: [raccoon_slicing]')), [], "RACCOON's own original_bugs");
});
