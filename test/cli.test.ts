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
  for (const c of ['train', 'summary', 'device', 'predict', 'report', 'export', 'sweep', 'lessons']) assert.match(r.stdout, new RegExp(`\\n  ${c}\\b`), c);
});

test('an unknown subcommand or a missing file is one clear line and a non-zero exit', () => {
  const a = spawnSync(process.execPath, [cli, 'trian'], { encoding: 'utf8' });
  assert.notEqual(a.status, 0);
  assert.match(a.stderr, /unknown command 'trian'/);
  const b = spawnSync(process.execPath, [cli, 'summary', '/no/such.yaml'], { encoding: 'utf8' });
  assert.equal(b.status, 1);
  assert.match(b.stderr, /^hyperlab: \/no\/such\.yaml: file not found; give the path of a YAML run file/);
});
