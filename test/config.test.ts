/** Run files in the three seed styles: validation messages and normalization. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as path from 'node:path';
import { runSpecFromText, RunFileError } from '../lib/config';

const file = path.resolve('/tmp/hyperlab-test/in_mlp.yaml');

const mlp2023 = `
x_path: data/xyz_train
y_path: data/xanes_train
descriptor:
    type: wacsf
    params: {r_min: 1.0, r_max: 6.0, n_g2: 16, n_g4: 32}
bootstrap: False
bootstrap_params: {n_boot: 3, n_size: 1.0, seed_boot: [97, 39, 22]}
kfold: False
lr_scheduler:
  scheduler: True
  scheduler_type: step
  scheduler_param: {step_size: 100, gamma: 0.5}
hyperparams:
  model: mlp
  batch_size: 64
  n_hl: 5
  hl_ini_dim: 512
  hl_shrink: 0.5
  activation: prelu
  loss: {loss_fn: mse, loss_args: null, loss_reg_type: L2, loss_reg_param: 0.001}
  lr: 0.0001
  optim_fn: Adam
  dropout: 0.2
  weight_init_seed: 2023
  kernel_init: xavier_uniform
  bias_init: zeros
seed: 2021
epochs: 10
model_eval: False
`;

test('XANESNET 2023 run file: normalized to 2024 names, paths relative to the file', () => {
  const spec = runSpecFromText(mlp2023, file);
  assert.equal(spec.style, 'xanesnet-2023');
  assert.equal(spec.model.type, 'mlp');
  assert.deepEqual(spec.model.params, { hidden_size: 512, dropout: 0.2, num_hidden_layers: 5, shrink_rate: 0.5, activation: 'prelu' });
  assert.equal(spec.train.loss.regType, 'l2');
  assert.equal(spec.train.loss.regLambda, 0.001);
  assert.equal(spec.train.optimizer, 'adam');
  assert.equal(spec.train.weightSeed, 2023);
  assert.deepEqual(spec.train.scheduler, { type: 'step', params: { step_size: 100, gamma: 0.5 } });
  assert.equal((spec.data as any).xyzPath, '/tmp/hyperlab-test/data/xyz_train');
  assert.match(spec.name, /^in_mlp-mlp-[0-9a-f]{8}$/);
});

test('the run name ignores epochs and display options but changes with a defining setting', () => {
  const a = runSpecFromText(mlp2023, file).name;
  assert.equal(runSpecFromText(mlp2023.replace('epochs: 10', 'epochs: 20'), file).name, a);
  assert.equal(runSpecFromText(mlp2023 + 'hyperlab: {progress: false}\n', file).name, a);
  assert.notEqual(runSpecFromText(mlp2023.replace('lr: 0.0001', 'lr: 0.001'), file).name, a);
});

test('an unknown key is rejected with the line and the closest valid name', () => {
  const bad = mlp2023.replace('  hl_shrink: 0.5', '  hl_shrinc: 0.5');
  assert.throws(
    () => runSpecFromText(bad, file),
    (e: unknown) => {
      assert.ok(e instanceof RunFileError);
      assert.match(e.message, /unknown key 'hl_shrinc' in hyperparams \(line 19\); did you mean 'hl_shrink'\?/);
      return true;
    },
  );
});

test('a bad value names the field, the value and the allowed values; all problems are listed', () => {
  const bad = mlp2023.replace('activation: prelu', 'activation: relu6').replace('batch_size: 64', 'batch_size: many');
  assert.throws(
    () => runSpecFromText(bad, file),
    (e: unknown) => {
      const m = (e as Error).message;
      assert.match(m, /2 problems/);
      assert.match(m, /hyperparams\.activation \(line 20\): 'relu6' is not allowed; use one of: prelu, relu, tanh/);
      assert.match(m, /hyperparams\.batch_size \(line 16\): expected integer, got 'many'/);
      return true;
    },
  );
});

test('case-insensitive names as XANESNET accepts them (optim_fn: ADAM)', () => {
  const spec = runSpecFromText(mlp2023.replace('optim_fn: Adam', 'optim_fn: ADAM'), file);
  assert.equal(spec.train.optimizer, 'adam');
});

test('XANESNET 2024 run file', () => {
  const spec = runSpecFromText(
    `
xyz_path: hyperlab:datasets/xanes-fe/xyz_train
xanes_path: hyperlab:datasets/xanes-fe/xanes_train
descriptor: {type: wacsf, params: {r_min: 1.0, r_max: 6.0, n_g2: 16, n_g4: 32}}
model:
  type: cnn
  params: {hidden_size: 64, dropout: 0.2, num_conv_layers: 3, activation: prelu, out_channel: 32, channel_mul: 2, kernel_size: 3, stride: 1}
hyperparams: {batch_size: 16, lr: 0.0001, epochs: 5, optim_fn: SGD, kernel_init: xavier_uniform, bias_init: zeros, seed: 2021, weight_seed: 2023, loss: {loss_fn: wcc, loss_args: 10}}
lr_scheduler: True
scheduler_params: {type: exponential, gamma: 0.9}
standardscaler: True
`,
    file,
  );
  assert.equal(spec.style, 'xanesnet-2024');
  assert.equal(spec.model.params.num_conv_layers, 3);
  assert.equal(spec.train.loss.fn, 'wcc');
  assert.equal(spec.train.loss.args, 10);
  assert.deepEqual(spec.train.scheduler, { type: 'exponential', params: { gamma: 0.9 } });
  assert.ok((spec.data as any).xyzPath.endsWith(path.join('datasets', 'xanes-fe', 'xyz_train')));
  assert.equal((spec.data as any).standardScaler, true);
});

test('RACCOON run file: the seed model name and batch size', () => {
  const spec = runSpecFromText(
    `
model_params: {architecture: raccoon, layer_param: 16, dropout: 0.5, name: template}
data_params: {datafile: data/data_z1.h5, train_seeds: 100, test_seeds: 25, newton_augmentation: 1.0}
train_params: {epochs: 5, lr: 0.001, log_dir: tb}
`,
    file,
  );
  assert.equal(spec.name, 'template_data_z1_raccoon_lp16_do0.5_na1.0_ts100');
  assert.equal(spec.train.batchSize, 4);
  assert.deepEqual(spec.train.optimizerOptions, { betas: [0.5, 0.999], weight_decay: 1e-11 });
  assert.equal(spec.mode, 'classify');
});

test('an unrecognisable file says which keys each style needs', () => {
  assert.throws(() => runSpecFromText('epochs: 3\n', file), /cannot tell the run-file style: expected x_path \+ y_path/);
  assert.throws(() => runSpecFromText('a: [1, 2\n', file), /YAML syntax/);
});

test('epochs joins the run name when the schedule takes its length from it (cosine without T_max, onecycle)', () => {
  const withSched = (sched: string) => mlp2023.replace('scheduler_type: step\n  scheduler_param: {step_size: 100, gamma: 0.5}', sched);
  const cos = withSched('scheduler_type: cosine\n  scheduler_param: {}');
  assert.notEqual(runSpecFromText(cos, file).name, runSpecFromText(cos.replace('epochs: 10', 'epochs: 20'), file).name);
  const cosFixed = withSched('scheduler_type: cosine\n  scheduler_param: {T_max: 10}');
  assert.equal(runSpecFromText(cosFixed, file).name, runSpecFromText(cosFixed.replace('epochs: 10', 'epochs: 20'), file).name);
  const oc = withSched('scheduler_type: onecycle\n  scheduler_param: {}');
  assert.notEqual(runSpecFromText(oc, file).name, runSpecFromText(oc.replace('epochs: 10', 'epochs: 20'), file).name);
});
