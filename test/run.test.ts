/**
 * Whole runs from run files: exact resume by name, Ctrl-C and resume, the CLI.
 * Small runs on the embedded Fe data (a few seconds each).
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runFromText } from '../lib/runs/run';
import { oneCycleLR } from '../lib/optim/schedules';

const root = path.join(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'lib', 'cli', 'main.js');

function runFile(runsDir: string, epochs: number, extra = ''): string {
  return `
x_path: hyperlab:datasets/xanes-fe/xyz_train
y_path: hyperlab:datasets/xanes-fe/xanes_train
descriptor: {type: wacsf, params: {r_min: 1.0, r_max: 6.0, n_g2: 16, n_g4: 32}}
lr_scheduler: {scheduler: True, scheduler_type: step, scheduler_param: {step_size: 2, gamma: 0.5}}
hyperparams:
  model: mlp
  batch_size: 16
  n_hl: 3
  hl_ini_dim: 64
  hl_shrink: 0.5
  activation: prelu
  loss: {loss_fn: mse, loss_args: null, loss_reg_type: L2, loss_reg_param: 0.001}
  lr: 0.003
  optim_fn: Adam
  dropout: 0.2
  weight_init_seed: 2023
  kernel_init: xavier_uniform
  bias_init: zeros
seed: 2021
epochs: ${epochs}
hyperlab: {runs_dir: ${runsDir}, progress: false, backend: cpu${extra}}
`;
}

const tmp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `hl-${name}-`));

test('a run stopped after 3 epochs and resumed for 3 more equals 6 uninterrupted epochs', async () => {
  const dirA = tmp('full');
  const dirB = tmp('resume');
  const full = await runFromText(runFile(dirA, 6), path.join(dirA, 'exp.yaml'), { verbose: false });
  full.dispose();
  const first = await runFromText(runFile(dirB, 3), path.join(dirB, 'exp.yaml'), { verbose: false });
  first.dispose();
  assert.equal(first.resumedFrom, null);
  const second = await runFromText(runFile(dirB, 6), path.join(dirB, 'exp.yaml'), { verbose: false });
  second.dispose();
  assert.equal(second.runDir, first.runDir, 'epochs does not change the run name');
  assert.equal(second.resumedFrom, 3);
  assert.deepEqual(second.history.loss, full.history.loss, 'per-epoch training losses identical');
  assert.deepEqual(second.history.val_loss, full.history.val_loss);
  assert.deepEqual(second.history.lr, full.history.lr, 'the schedule continued');
  const csv = fs.readFileSync(path.join(second.runDir, 'metrics.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 7, 'one CSV row per epoch, none repeated');
  for (const f of ['run.yaml', 'config.json', 'split.json', 'checkpoints/last/checkpoint.json', 'checkpoints/best/checkpoint.json']) {
    assert.ok(fs.existsSync(path.join(second.runDir, f)), `${f} in the run directory`);
  }
  assert.ok(fs.readdirSync(path.join(second.runDir, 'tensorboard')).length >= 2, 'a new event file per session');
});

test('changing a setting that defines the run starts a new run', async () => {
  const dir = tmp('new');
  const a = await runFromText(runFile(dir, 1), path.join(dir, 'exp.yaml'), { verbose: false });
  a.dispose();
  const b = await runFromText(runFile(dir, 1).replace('lr: 0.003', 'lr: 0.001'), path.join(dir, 'exp.yaml'), { verbose: false });
  b.dispose();
  assert.notEqual(a.runDir, b.runDir);
  assert.equal(b.resumedFrom, null);
});

test('Ctrl-C stops cleanly with exit code 130; running again resumes and matches an uninterrupted run', async () => {
  const dir = tmp('sigint');
  const file = path.join(dir, 'exp.yaml');
  fs.writeFileSync(file, runFile(dir, 40));
  const child = spawn(process.execPath, [cli, 'train', file, '--no-progress'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  // Interrupt once two epochs are logged.
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if ((out.match(/^epoch \d+\/40/gm) ?? []).length >= 2) {
        clearInterval(timer);
        child.kill('SIGINT');
        resolve();
      }
    }, 20);
    child.on('exit', () => {
      clearInterval(timer);
      reject(new Error(`the run ended before it could be interrupted:\n${out}`));
    });
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 130, out);
  assert.match(out, /Ctrl-C: stopping after this batch/);
  assert.match(out, /interrupted: run the same command again to resume from epoch (\d+)/);
  const stoppedAt = Number(/resume from epoch (\d+)/.exec(out)![1]);
  assert.ok(stoppedAt >= 2 && stoppedAt < 40);

  // Resume to 6 epochs in all (edit epochs: the run name stays the same).
  fs.writeFileSync(file, runFile(dir, Math.max(6, stoppedAt + 2)));
  const again = spawnSync(process.execPath, [cli, 'train', file, '--no-progress'], { encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`resuming .* from epoch ${stoppedAt}`));
  const total = Math.max(6, stoppedAt + 2);
  const runDir = /run directory: (.*)/.exec(again.stdout)![1].trim();
  const rows = fs.readFileSync(path.join(runDir, 'metrics.csv'), 'utf8').trim().split('\n').slice(1);
  assert.equal(rows.length, total);

  const ref = tmp('ref');
  const full = await runFromText(runFile(ref, total), path.join(ref, 'exp.yaml'), { verbose: false });
  full.dispose();
  const losses = rows.map((r) => Number(r.split(',')[1]));
  assert.deepEqual(losses, full.history.loss);
});

test('hyperlab train: a bad run file fails before any work, naming the line and the fix', () => {
  const dir = tmp('bad');
  const file = path.join(dir, 'bad.yaml');
  fs.writeFileSync(file, runFile(dir, 2).replace('optim_fn: Adam', 'optim_fn: Adamm'));
  const r = spawnSync(process.execPath, [cli, 'train', file], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /hyperparams\.optim_fn \(line 15\): 'Adamm' is not allowed; use one of: adam, sgd, rmsprop, adamw/);
  assert.deepEqual(fs.readdirSync(dir), ['bad.yaml'], 'nothing was created');
});

test('k-fold, bootstrap and ensemble runs train one sub-run each and write their table', async () => {
  const dir = tmp('variants');
  const base = runFile(dir, 2).replace('hl_ini_dim: 64', 'hl_ini_dim: 16');
  const kfold = await runFromText(
    base + 'kfold: True\nkfold_params: {n_splits: 3, n_repeats: 1, loss: {loss_fn: mse, loss_args: null}}\n',
    path.join(dir, 'kf.yaml'),
    { verbose: false },
  );
  kfold.dispose();
  assert.deepEqual(
    kfold.variants!.map((v) => v.name),
    ['fold_0', 'fold_1', 'fold_2'],
  );
  assert.ok(kfold.variants!.every((v) => Number.isFinite(v.testLoss) && v.testLoss! > 0));
  const table = fs.readFileSync(path.join(kfold.runDir, 'kfold.csv'), 'utf8').trim().split('\n');
  assert.equal(table[0], 'variant,test_loss,loss,val_loss');
  assert.equal(table.length, 4);
  // Folds differ in their data: their test losses are not all equal.
  assert.ok(new Set(kfold.variants!.map((v) => v.testLoss)).size > 1);

  const boot = await runFromText(base + 'bootstrap: True\nbootstrap_params: {n_boot: 2, n_size: 1.0, seed_boot: [97, 39]}\n', path.join(dir, 'bs.yaml'), {
    verbose: false,
  });
  boot.dispose();
  assert.deepEqual(
    boot.variants!.map((v) => v.name),
    ['boot_0', 'boot_1'],
  );
  const splits = boot.variants!.map((v) => JSON.parse(fs.readFileSync(path.join(v.runDir, 'split.json'), 'utf8')).train.join());
  assert.notEqual(splits[0], splits[1], 'each bootstrap model sees its own resample');

  const ens = await runFromText(base + 'ensemble: True\nensemble_params: {n_ens: 2, weight_init_seed: [97, 39]}\n', path.join(dir, 'en.yaml'), {
    verbose: false,
  });
  ens.dispose();
  assert.equal(ens.variants!.length, 2);
  assert.notEqual(ens.variants![0].history.loss[0], ens.variants![1].history.loss[0], 'different weight seeds, different runs');
});

test('augmentation and the Fourier transform of the spectra change the data as XANESNET does', async () => {
  const dir = tmp('aug');
  const base = runFile(dir, 1).replace('hl_ini_dim: 64', 'hl_ini_dim: 16');
  const aug = await runFromText(
    base + 'data_params: True\naugment: {augment_type: random_noise, augment_mult: 3, augment_params: {normal_mean: 0, normal_sd: 0.01}}\n',
    path.join(dir, 'aug.yaml'),
    { verbose: false },
  );
  aug.dispose();
  const split = JSON.parse(fs.readFileSync(path.join(aug.runDir, 'split.json'), 'utf8'));
  assert.equal(split.train.length + split.validation.length, 300, '100 samples x augment_mult 3');
  const ft = await runFromText(base + 'fourier_transform: True\n', path.join(dir, 'ft.yaml'), { verbose: false });
  ft.dispose();
  assert.equal(JSON.parse(fs.readFileSync(path.join(ft.runDir, 'split.json'), 'utf8')).fourier, 'y');
  assert.equal((ft.trainer.model as any).dense_layers[2][0].outFeatures, 452, 'the model predicts the 2L-point transform');
});

test('a onecycle schedule in a run file spans every batch of every epoch', async () => {
  const dir = tmp('onecycle');
  const text = runFile(dir, 2)
    .replace('hl_ini_dim: 64', 'hl_ini_dim: 16')
    .replace(
      '{scheduler: True, scheduler_type: step, scheduler_param: {step_size: 2, gamma: 0.5}}',
      '{scheduler: True, scheduler_type: onecycle, scheduler_param: {}}',
    );
  const r = await runFromText(text, path.join(dir, 'oc.yaml'), { verbose: false });
  r.dispose();
  assert.equal(r.history.epoch.length, 2);
  // 80 training samples / 16 = 5 batches per epoch: the cycle has 10 steps, not 2 (epochs).
  // The logged lr is the one after each epoch's last step (PyTorch's get_last_lr()).
  const cycle = oneCycleLR({ maxLr: 0.003, totalSteps: 10 });
  assert.ok(Math.abs(r.history.lr[0] - cycle(5)) < 1e-9, `mid-cycle after epoch 1: ${r.history.lr[0]} vs ${cycle(5)}`);
  assert.ok(r.history.lr[1] < cycle(5) / 5, 'annealed by the end of epoch 2');
});
