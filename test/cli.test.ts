/** The hyperlab command: argument parsing of sweep, help, and errors. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { parseParam, parseRange } from '../lib/cli/sweep';

const cli = path.join(__dirname, '..', 'lib', 'cli', 'main.js');

test('sweep --param and --range parse values and reject malformed ones with an example', () => {
  assert.deepEqual(parseParam('hyperparams.lr=1e-3,0.01'), ['hyperparams.lr', [0.001, 0.01]]);
  assert.deepEqual(parseParam('hyperparams.activation=relu,prelu'), ['hyperparams.activation', ['relu', 'prelu']]);
  assert.deepEqual(parseParam('hyperlab.tensorboard=true,false'), ['hyperlab.tensorboard', [true, false]]);
  assert.throws(() => parseParam('hyperparams.lr'), /write FIELD=VALUE1,VALUE2 \(e\.g\. hyperparams\.lr=1e-3,1e-2\)/);
  assert.deepEqual(parseRange('hyperparams.lr=1e-5:1e-2:log'), ['hyperparams.lr', { min: 1e-5, max: 1e-2, log: true, integer: false }]);
  assert.deepEqual(parseRange('hyperparams.batch_size=8:64:int'), ['hyperparams.batch_size', { min: 8, max: 64, log: false, integer: true }]);
  assert.throws(() => parseRange('hyperparams.lr=1:0'), /write FIELD=MIN:MAX/);
});

test('hyperlab --help lists every subcommand', () => {
  const r = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  for (const c of ['train', 'summary', 'device', 'predict', 'report', 'export', 'sweep', 'worker', 'lessons'])
    assert.match(r.stdout, new RegExp(`\\n  ${c}\\b`), c);
});

test('an unknown subcommand or a missing file is one clear line and a non-zero exit', () => {
  const a = spawnSync(process.execPath, [cli, 'trian'], { encoding: 'utf8' });
  assert.notEqual(a.status, 0);
  assert.match(a.stderr, /unknown command 'trian'/);
  const b = spawnSync(process.execPath, [cli, 'summary', '/no/such.yaml'], { encoding: 'utf8' });
  assert.equal(b.status, 1);
  assert.match(b.stderr, /^hyperlab: \/no\/such\.yaml: file not found; give the path of a YAML run file/);
});

test('hyperlab summary --json counts the model a run file builds (a Fourier run predicts 2L points)', () => {
  const fs = require('node:fs') as typeof import('node:fs');
  const os = require('node:os') as typeof import('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hl-summary-'));
  const file = path.join(dir, 'ft.yaml');
  fs.writeFileSync(
    file,
    `x_path: hyperlab:datasets/xanes-fe/xyz_train
y_path: hyperlab:datasets/xanes-fe/xanes_train
descriptor: {type: wacsf, params: {r_min: 1.0, r_max: 6.0, n_g2: 16, n_g4: 32}}
hyperparams: {model: mlp, batch_size: 16, n_hl: 2, hl_ini_dim: 32, hl_shrink: 0.5, activation: prelu, loss: {loss_fn: mse, loss_args: null}, lr: 0.001, optim_fn: Adam, dropout: 0.1}
fourier_transform: True
seed: 1
epochs: 1
`,
  );
  const r = spawnSync(process.execPath, [cli, 'summary', file, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  // Linear(49, 32) + PReLU + Linear(32, 2 * 226): 49*32+32 + 1 + 32*452+452
  assert.equal(s.total, 49 * 32 + 32 + 1 + 32 * 452 + 452);
  assert.equal(s.trainable, s.total);
  assert.equal(s.nonTrainable, 0);
});
