/**
 * Interop with the original XANESNET (issue 11): the row order of its scikit-learn calls
 * (numpy's RandomState, test/parity/gen_interop.py -> test/fixtures/interop.json), its
 * float32 coordinate reading, descriptor keys it passes straight to its WACSF, the run
 * files of its inputs/ folder, and importing a pickled model directory.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runSpecFromText, RunFileError } from '../lib/config';
import { NumpyRandomState, sklearnShuffleIndices, sklearnTrainTestSplit } from '../lib/data/numpy_random';
import { parseXyz } from '../lib/data/xanes';
import { makeDescriptor } from '../lib/data/descriptors';
import { loadXanesArrays, xanesLoaders } from '../lib/runs/xanes_data';
import * as YAML from 'yaml';
import { useBackend } from '../lib';
import { importXanesnet, findTorchPython } from '../lib/interop/xanesnet_import';
import { predictRun } from '../lib/runs/predict';
import { loadFixture } from './helpers';

const fx = loadFixture('interop');
const root = path.join(__dirname, '..', '..');
const tmp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `hyperlab-interop-${name}-`));

test("numpy's RandomState: the seeded key, the raw draws and permutations match numpy 1.24", () => {
  const rs = new NumpyRandomState(2021);
  assert.deepEqual(
    Array.from({ length: 5 }, () => rs.nextUint32()),
    fx.uint32_2021,
  );
  for (const c of fx.cases) {
    assert.deepEqual(Array.from(new NumpyRandomState(c.seed).permutation(c.n)), c.permutation, `permutation(${c.n}), seed ${c.seed}`);
    assert.deepEqual(
      Array.from(sklearnShuffleIndices(c.n, c.seed, c.n_samples ?? c.n)),
      c.shuffle,
      `sklearn.utils.shuffle n=${c.n} seed ${c.seed} n_samples ${c.n_samples}`,
    );
    for (const size of [0.2, 0.25]) {
      const want = c[`split_${size}`];
      if (!want) continue;
      const got = sklearnTrainTestSplit(c.n, size, 42);
      assert.deepEqual({ train: Array.from(got.train), test: Array.from(got.test) }, want, `train_test_split(n=${c.n}, test_size=${size}, random_state=42)`);
    }
  }
  assert.throws(() => new NumpyRandomState(-1), /between 0 and 2\*\*32 - 1/);
});

const xanesRun = (extra: string) => `
x_path: hyperlab:datasets/xanes-fe/xyz_train
y_path: hyperlab:datasets/xanes-fe/xanes_train
descriptor: {type: wacsf, params: {r_min: 1.0, r_max: 6.0, n_g2: 16, n_g4: 32}}
hyperparams: {model: mlp, batch_size: 16, n_hl: 2, hl_ini_dim: 8, hl_shrink: 0.5, activation: prelu,
  loss: {loss_fn: mse, loss_args: null, loss_reg_type: null, loss_reg_param: null}, lr: 0.001, optim_fn: Adam,
  dropout: 0.0, weight_init_seed: 2023, kernel_init: xavier_uniform, bias_init: zeros}
seed: 2021
epochs: 1
${extra}`;

test("hyperlab: {row_order: xanesnet} gives the original's training and validation rows (sklearn shuffle + train_test_split)", () => {
  const dir = tmp('order');
  const file = path.join(dir, 'in.yaml');
  const spec = runSpecFromText(xanesRun('hyperlab: {row_order: xanesnet}'), file);
  const arrays = loadXanesArrays(spec);
  xanesLoaders(spec, arrays, null, dir);
  const split = JSON.parse(fs.readFileSync(path.join(dir, 'split.json'), 'utf8'));
  assert.deepEqual(split.train, fx.xanesnet_fe_order.train);
  assert.deepEqual(split.validation, fx.xanesnet_fe_order.validation);
  // The default order is hyperlab's own generator: another split of the same rows.
  const def = runSpecFromText(xanesRun(''), file);
  xanesLoaders(def, loadXanesArrays(def), null, dir);
  const other = JSON.parse(fs.readFileSync(path.join(dir, 'split.json'), 'utf8'));
  assert.notDeepEqual(other.validation, split.validation);
  assert.notEqual(spec.name, def.name, 'the row order defines the run');
});

test("hyperlab: {coordinates: float32} reads .xyz coordinates as XANESNET does (np.array(..., dtype='float32'))", () => {
  const { text, values } = fx.float32_coordinates;
  const xyz = `2\n\nFe ${text[0]} ${text[1]} ${text[2]}\nO ${text[3]} ${text[4]} ${text[5]}\n`;
  assert.deepEqual(Array.from(parseXyz(xyz, { coordinates: 'float32' }).positions), values);
  assert.notDeepEqual(Array.from(parseXyz(xyz).positions), values, 'the default keeps float64');
  const spec = runSpecFromText(xanesRun('hyperlab: {coordinates: float32}'), path.join(tmp('coords'), 'in.yaml'));
  assert.equal((spec.data as any).coordinates, 'float32');
  const a32 = loadXanesArrays(spec).x;
  const a64 = loadXanesArrays(runSpecFromText(xanesRun(''), path.join(tmp('coords'), 'in.yaml'))).x;
  assert.notDeepEqual(a32, a64, 'the descriptors see the rounded coordinates');
  assert.throws(() => runSpecFromText(xanesRun('hyperlab: {coordinates: float16}'), path.join(tmp('coords'), 'in.yaml')), /coordinates/);
});

test('g2_parameterisation / g4_parameterisation in the descriptor params validate and reach the wACSF', () => {
  const file = path.join(tmp('wacsf'), 'in.yaml');
  const text = xanesRun('').replace('n_g4: 32}', 'n_g4: 32, g2_parameterisation: centred, g4_parameterisation: shifted}');
  const spec = runSpecFromText(text, file);
  const d = (spec.data as any).descriptor;
  assert.equal(d.params.g2_parameterisation, 'centred');
  const s = parseXyz('3\n\nFe 0 0 0\nO 1.9 0 0\nN 0 2.1 0.3\n');
  const a = makeDescriptor(d).transform(s);
  const b = makeDescriptor({ type: 'wacsf', params: { r_min: 1.0, r_max: 6.0, n_g2: 16, n_g4: 32 } }).transform(s);
  assert.notDeepEqual(Array.from(a), Array.from(b), 'the parameterisation changes the features');
  assert.throws(
    () => runSpecFromText(text.replace('centred', 'centered'), file),
    (e: unknown) => e instanceof RunFileError && /g2_parameterisation/.test(String(e)) && /shifted, centred|shifted|centred/.test(String(e)),
  );
});

// ---- hyperlab import-xanesnet ---------------------------------------------------------------

const models = loadFixture('xanesnet_model');
const modelsDir = path.join(root, 'test', 'fixtures', 'xanesnet_models');
const torchPython = findTorchPython();

/** XANESNET input files as a user has them next to the model (written from their documented keys). */
const INPUTS: Record<string, string> = {
  model_001: `x_path: hyperlab:datasets/xanes-fe/xyz_train
y_path: hyperlab:datasets/xanes-fe/xanes_train
descriptor: {type: wacsf, params: {r_min: 1.0, r_max: 6.0, n_g2: 16, n_g4: 32}}
kfold: False
hyperparams:
  batch_size: 4
  n_hl: 3
  hl_ini_dim: 32
  hl_shrink: 0.5
  activation: prelu
  loss: {loss_fn: mse, loss_args: null, loss_reg_type: null, loss_reg_param: null}
  lr: 0.001
  optim_fn: Adam
  dropout: 0.2
  weight_init_seed: 2023
  kernel_init: xavier_uniform
  bias_init: zeros
seed: 2021
epochs: 7
`,
  model_lstm_001: `xyz_path: hyperlab:datasets/xanes-fe/xyz_train
xanes_path: hyperlab:datasets/xanes-fe/xanes_train
descriptor: {type: wacsf, params: {r_min: 1.0, r_max: 6.0, n_g2: 16, n_g4: 32}}
model:
  type: lstm
  params: {hidden_size: 6, hidden_out_size: 10, num_layers: 1, dropout: 0.2, activation: tanh}
hyperparams: {batch_size: 4, lr: 0.001, epochs: 3, optim_fn: Adam, kernel_init: xavier_uniform, bias_init: zeros, model_eval: False, seed: 2021, weight_seed: 2023,
  loss: {loss_fn: mse, loss_args: null, loss_reg_type: null, loss_reg_param: null}}
standardscaler: False
`,
};

/** A copy of the fixture's model directory with its input file beside it, as a user has it. */
function modelDirWithInput(name: string): { dir: string; runs: string } {
  const work = tmp('import');
  const dir = path.join(work, 'model', name);
  fs.cpSync(path.join(modelsDir, name), dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'in.yaml'), INPUTS[name]);
  return { dir, runs: path.join(work, 'runs') };
}

/** predict on the embedded test structures gives the original's predictions (PyTorch's, from the fixture). */
async function checkPredictions(runDir: string, name: string): Promise<void> {
  const want = models.models.find((m: any) => m.dir === name);
  const r = await predictRun(runDir, { data: 'test', batchSize: models.ids.length });
  assert.deepEqual(r.ids, models.ids);
  assert.deepEqual(r.shape, want.pred.shape);
  // float32 against float32: |ours - PyTorch| <= 1e-5 max|PyTorch| + 1e-4 |PyTorch|.
  const scale = want.pred.data.reduce((m: number, v: number) => Math.max(m, Math.abs(v)), 0);
  let worst = 0;
  r.predictions.forEach((v, i) => {
    worst = Math.max(worst, Math.abs(v - want.pred.data[i]) / (1e-5 * scale + 1e-4 * Math.abs(want.pred.data[i])));
  });
  assert.ok(worst <= 1, `${name}: predictions within tolerance of PyTorch's (worst ratio ${worst}, scale ${scale})`);
}

for (const name of ['model_001', 'model_lstm_001']) {
  test(`import-xanesnet --weights (no PyTorch needed): ${name} becomes a run directory whose predictions are the original's`, async () => {
    await useBackend('cpu');
    const { dir, runs } = modelDirWithInput(name);
    const r = importXanesnet(dir, { weights: path.join(modelsDir, `${name}.safetensors`), runsDir: runs });
    assert.equal(r.runDir, path.join(runs, name));
    for (const f of ['run.yaml', 'config.json', 'imported.json', 'checkpoints/best/checkpoint.json', 'checkpoints/last/checkpoint.json']) {
      assert.ok(fs.existsSync(path.join(r.runDir, f)), `${f} written`);
    }
    const run = YAML.parse(fs.readFileSync(path.join(r.runDir, 'run.yaml'), 'utf8'));
    assert.equal(run.hyperlab.coordinates, 'float32');
    assert.equal(run.hyperlab.row_order, 'xanesnet');
    if (name === 'model_001') assert.equal(run.hyperparams.model, 'mlp', "the model mode comes from metadata.yaml's model_mode");
    else assert.deepEqual(run.hyperlab.original_bugs, ['lstm_batch_sequence']);
    await checkPredictions(r.runDir, name);
    assert.throws(() => importXanesnet(dir, { weights: path.join(modelsDir, `${name}.safetensors`), runsDir: runs }), /already exists; nothing was written/);
  });
}

test('import-xanesnet refuses weights that do not fit the input file, and writes nothing', async () => {
  await useBackend('cpu');
  const { dir, runs } = modelDirWithInput('model_001');
  fs.writeFileSync(path.join(dir, 'in.yaml'), INPUTS.model_001.replace('hl_ini_dim: 32', 'hl_ini_dim: 64'));
  assert.throws(
    () => importXanesnet(dir, { weights: path.join(modelsDir, 'model_001.safetensors'), runsDir: runs }),
    /do not fit the mlp.*size mismatch.*give the input file this model was trained with/s,
  );
  assert.equal(fs.existsSync(path.join(runs, 'model_001')), false);
  fs.rmSync(path.join(dir, 'in.yaml'));
  assert.throws(() => importXanesnet(dir, { runsDir: runs }), /holds no input file besides metadata.yaml.*--input/);
});

test('import-xanesnet without PyTorch says what to install and how to convert elsewhere', () => {
  const { dir, runs } = modelDirWithInput('model_001');
  assert.throws(
    () => importXanesnet(dir, { runsDir: runs, python: '/nonexistent/python3' }),
    /needs Python with PyTorch.*apt-get install python3-torch.*--weights/s,
  );
  assert.equal(fs.existsSync(path.join(runs, 'model_001')), false);
});

for (const name of ['model_001', 'model_lstm_001']) {
  test(
    `import-xanesnet reads ${name}/model.pt (a module pickled by torch.save under the original's class path) through PyTorch`,
    { skip: torchPython.python ? false : `needs Python with PyTorch to unpickle model.pt (${torchPython.reason}); install python3-torch to run it` },
    async () => {
      await useBackend('cpu');
      const { dir, runs } = modelDirWithInput(name);
      const r = importXanesnet(dir, { runsDir: runs });
      const info = JSON.parse(fs.readFileSync(path.join(r.runDir, 'imported.json'), 'utf8'));
      assert.equal(info.class, name === 'model_001' ? 'model.MLP' : 'xanesnet.model.lstm.LSTM');
      await checkPredictions(r.runDir, name);
    },
  );
}

// ---- the original's inputs/ folder (2023-08 e99d8181 and 2024-03 6fd195f9) --------------------------
// Written from the keys XANESNET documents (its sphinx/docs pages and inputs/README.md), not copied.

const desc = `descriptor: {type: wacsf, params: {r_min: 1.0, r_max: 6.0, n_g2: 16, n_g4: 32}}`;
const blocks2023 = `bootstrap: False
bootstrap_params: {n_boot: 3, n_size: 1.0, seed_boot: [97, 39, 22]}
ensemble: False
ensemble_params: {n_ens: 3, weight_init_seed: [97, 39, 22]}
data_params: False
augment: {augment_type: random_noise, augment_mult: 5, augment_params: {normal_mean: 0, normal_sd: 0.1}}
kfold: False
kfold_params: {n_splits: 5, n_repeats: 1, loss: {loss_fn: mse, loss_args: null}}
lr_scheduler: {scheduler: True, scheduler_type: step, scheduler_param: {step_size: 100, gamma: 0.5}}
seed: 2021
epochs: 100
model_eval: False
optuna_params: {tune: False, n_trials: 3, tune_optim_fn: True, tune_batch_size: True}
`;
const loss = '{loss_fn: mse, loss_args: null, loss_reg_type: L2, loss_reg_param: 0.001}';
const common2023 = `lr: 0.0001, optim_fn: Adam, dropout: 0.2, weight_init_seed: 2023, kernel_init: xavier_uniform, bias_init: zeros, activation: prelu, batch_size: 64`;
const INPUTS_2023: Record<string, string> = {
  in_mlp: `hyperparams: {model: mlp, n_hl: 5, hl_ini_dim: 512, hl_shrink: 0.5, loss: ${loss}, ${common2023}}`,
  in_cnn: `hyperparams: {model: cnn, n_cl: 3, out_channel: 32, channel_mul: 2, hidden_layer: 64, kernel_size: 3, stride: 1, loss: ${loss}, ${common2023}}`,
  in_lstm: `hyperparams: {model: lstm, hidden_size: 100, num_layers: 1, hl_ini_dim: 512, loss: ${loss}, ${common2023}}`,
  in_aegan: `hyperparams: {model: aegan_mlp, batch_size: 64, hidden_size: 256, dropout: 0.0, n_hl_gen: 2, n_hl_shared: 2, n_hl_dis: 2, activation: prelu,
  lr_gen: 0.01, lr_dis: 0.0001, optim_fn_gen: Adam, optim_fn_dis: Adam, weight_init_seed: 2023, kernel_init: xavier_uniform, bias_init: zeros,
  loss_gen: {loss_fn: mse, loss_args: null, loss_reg_type: null, loss_reg_param: 0.001},
  loss_dis: {loss_fn: bce, loss_args: null, loss_reg_type: null, loss_reg_param: 0.001}}`,
};

const blocks2024 = `kfold: False
kfold_params: {n_splits: 5, n_repeats: 1, seed: 2022}
lr_scheduler: True
scheduler_params: {type: step, step_size: 50, gamma: 0.1}
data_augment: False
augment_params: {type: random_noise, augment_mult: 5, normal_mean: 0, normal_sd: 0.1}
bootstrap: False
bootstrap_params: {n_boot: 3, n_size: 1.0, weight_seed: [97, 39, 22]}
ensemble: False
ensemble_params: {n_ens: 3, weight_seed: [97, 39, 22]}
optuna: False
optuna_params: {n_trials: 3, tune_optim_fn: True, tune_batch_size: True}
freeze: False
freeze_params: {model_path: ./models/model_001, n_dense: 1}
fourier_transform: False
fourier_params: {concat: True}
standardscaler: False
`;
const hyper2024 = (l: string) =>
  `hyperparams: {batch_size: 16, lr: 0.0001, epochs: 100, optim_fn: Adam, kernel_init: xavier_uniform, bias_init: zeros, model_eval: False, seed: 2021, weight_seed: 2023, loss: ${l}}`;
const INPUTS_2024: Record<string, string> = {
  in_mlp: `model: {type: mlp, params: {hidden_size: 512, dropout: 0.2, num_hidden_layers: 5, shrink_rate: 0.5, activation: prelu}}\n${hyper2024(loss)}`,
  in_cnn: `model: {type: cnn, params: {hidden_size: 64, dropout: 0.2, num_conv_layers: 3, activation: prelu, out_channel: 32, channel_mul: 2, kernel_size: 3, stride: 1}}\n${hyper2024(loss)}`,
  in_lstm: `model: {type: lstm, params: {hidden_size: 100, hidden_out_size: 50, num_layers: 1, dropout: 0.2, activation: prelu}}\n${hyper2024(loss)}`,
  // The autoencoder files set L2, which XANESNET ignores for autoencoders: accepted with a note.
  in_ae_mlp: `model: {type: ae_mlp, params: {hidden_size: 512, dropout: 0.2, num_hidden_layers: 5, shrink_rate: 0.5, activation: prelu}}\n${hyper2024(loss)}`,
  in_ae_cnn: `model: {type: ae_cnn, params: {hidden_size: 64, dropout: 0.2, num_conv_layers: 3, activation: prelu, out_channel: 32, channel_mul: 2, kernel_size: 3, stride: 1}}\n${hyper2024(loss)}`,
  // aegan_mlp keeps its layer counts, optimisers and losses in model.params; the file nests the
  // noise settings in augment_params.augment_params and spells freeze_params' n__encoder2.
  in_aegan_mlp: `model: {type: aegan_mlp, params: {hidden_size: 256, dropout: 0.0, n_hl_gen: 2, n_hl_shared: 2, n_hl_dis: 2, activation: prelu,
  lr_gen: 0.01, lr_dis: 0.0001, optim_fn_gen: Adam, optim_fn_dis: Adam,
  loss_gen: {loss_fn: mse, loss_args: 10, loss_reg_type: null, loss_reg_param: 0.001},
  loss_dis: {loss_fn: bce, loss_args: null, loss_reg_type: null, loss_reg_param: 0.001}}}
hyperparams: {batch_size: 64, epochs: 100, kernel_init: xavier_uniform, bias_init: zeros, model_eval: False, seed: 2021, weight_seed: 2023}`,
};

test("every training input file of XANESNET's inputs/ folder (2023 and 2024 layouts) validates", () => {
  const dir = tmp('inputs');
  const notes: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => notes.push(String(m));
  try {
    for (const [name, body] of Object.entries(INPUTS_2023)) {
      const text = `x_path: data/datasets/fe/preconv/xyz_train\ny_path: data/datasets/fe/preconv/xanes_train\n${desc}\n${blocks2023}${body}\n`;
      const spec = runSpecFromText(text, path.join(dir, `${name}.yaml`));
      assert.equal(spec.style, 'xanesnet-2023', name);
    }
    for (const [name, body] of Object.entries(INPUTS_2024)) {
      let text = `xyz_path: data/fe/xyz_train\nxanes_path: data/fe/xanes_train\n${desc}\n${body}\n${blocks2024}`;
      if (name === 'in_aegan_mlp') {
        text = text
          .replace(
            'augment_params: {type: random_noise, augment_mult: 5, normal_mean: 0, normal_sd: 0.1}',
            'augment_params: {type: random_noise, augment_mult: 5, augment_params: {normal_mean: 0, normal_sd: 0.1}}',
          )
          .replace(
            'freeze_params: {model_path: ./models/model_001, n_dense: 1}',
            'freeze_params: {model_path: ./models/model_aegan_mlp_001, n_encoder1: 1, n__encoder2: 1, n_decoder1: 1, n_discrim2: 1}',
          );
      }
      const spec = runSpecFromText(text, path.join(dir, `${name}.yaml`));
      assert.equal(spec.style, 'xanesnet-2024', name);
      if (name === 'in_aegan_mlp') {
        assert.deepEqual(spec.model.params, {
          hidden_size: 256,
          dropout: 0.0,
          activation: 'prelu',
          num_hidden_layers_gen: 2,
          num_hidden_layers_shared: 2,
          num_hidden_layers_dis: 2,
        });
        assert.equal(spec.train.lr, 0.01, 'lr_gen from model.params');
        assert.equal(spec.train.dis!.lr, 0.0001, 'lr_dis from model.params');
        assert.equal(spec.train.dis!.loss.fn, 'bce');
        const on = runSpecFromText(text.replace('data_augment: False', 'data_augment: True'), path.join(dir, `${name}.yaml`));
        assert.deepEqual((on.data as any).augment, { type: 'random_noise', mult: 5, mean: 0, sd: 0.1 }, 'the nested noise settings are read');
      }
    }
  } finally {
    console.warn = warn;
  }
  assert.equal(notes.filter((n) => /autoencoders without regularisation/.test(n)).length, 2, 'in_ae_mlp and in_ae_cnn get a note that L2 has no effect');
});

test('XANESNET input files for features hyperlab does not have fail with what to do instead (optuna, DScribe/xtb descriptors, predict files)', () => {
  const dir = tmp('refused');
  const file = path.join(dir, 'in.yaml');
  const refused = (text: string, re: RegExp) =>
    assert.throws(
      () => runSpecFromText(text, file),
      (e: unknown) => e instanceof RunFileError && re.test(String((e as Error).message)),
      String(re),
    );
  const t2023 = `x_path: xyz\ny_path: xanes\n${desc}\n${blocks2023}${INPUTS_2023.in_mlp}\n`;
  refused(
    t2023.replace('optuna_params: {tune: False', 'optuna_params: {tune: True'),
    /optuna_params\.tune \(line \d+\): hyperlab has no Optuna search; search with `hyperlab sweep/,
  );
  const t2024 = `xyz_path: xyz\nxanes_path: xanes\n${desc}\n${INPUTS_2024.in_mlp}\n${blocks2024}`;
  refused(
    t2024.replace('optuna: False', 'optuna: True'),
    /optuna \(line \d+\): hyperlab has no Optuna search; search with `hyperlab sweep.*set optuna to False/,
  );
  for (const [type, lib] of [
    ['soap', 'DScribe'],
    ['mbtr', 'DScribe'],
    ['lmbtr', 'DScribe'],
    ['pdos', 'xtb-python'],
  ]) {
    refused(
      t2023.replace(desc, `descriptor: {type: ${type}, params: {species: [H, C, N, O, Fe], r_cut: 6.0}}`),
      new RegExp(`descriptor\\.type \\(line 3\\): the '${type}' descriptor comes from ${lib}.*set descriptor\\.type to wacsf`),
    );
  }
  refused(
    'x_path: data/xyz_test\ny_path: data/xanes_test\nplot_save: False\nmonte_carlo: False\nmc_iter: 100\nbootstrap: False\nensemble: False\nensemble_combine: weight\n',
    /prediction input file.*hyperlab predict runs\/<name> --data FOLDER.*--mc-dropout N/,
  );
  refused(
    'xyz_path: xyz_test\nxanes_path: xanes_test\nplot_save: True\nresult_save: True\nshap: False\nshap_params: {nsamples: 5}\n',
    /prediction input file.*import-xanesnet MODEL_DIR/,
  );
});
