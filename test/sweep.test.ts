/** Sweeps over run-file fields: planning and validation, the results table, in-process and worker-pool runs. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readRunFile, parseRunFile } from '../lib/config/validate';
import { planSweep, sweep, SweepResult } from '../lib/runs/sweep';
import { metricsFromHistory } from '../lib/runs/sweep_worker';
import { readTable } from '../lib/data/table';

const BASE = path.join(__dirname, '..', '..', 'runfiles', 'xanes_mlp.yaml');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'hl-sweep-'));

test('planSweep: grid order, seeded random draws, trial files, and validation before anything runs', () => {
  const dir = path.join(tmp(), 'grid');
  const plan = planSweep({ base: BASE, dir, params: { 'hyperparams.lr': [1e-3, 1e-2], 'hyperparams.batch_size': [8, 16, 32] } });
  assert.equal(plan.trials.length, 6);
  assert.deepEqual(
    plan.trials.map((t) => [t.values['hyperparams.lr'], t.values['hyperparams.batch_size']]),
    [
      [1e-3, 8],
      [1e-3, 16],
      [1e-3, 32],
      [1e-2, 8],
      [1e-2, 16],
      [1e-2, 32],
    ],
    'cartesian product, last field fastest',
  );
  const t4 = plan.trials[4];
  assert.equal(t4.name, 'trial-004');
  assert.equal(t4.runDir, path.join(dir, 'trial-004'), 'the run directory is pinned inside the sweep folder');
  const raw = parseRunFile(t4.text, t4.runFile).raw;
  assert.equal(raw.hyperparams.lr, 1e-2);
  assert.equal(raw.hyperparams.batch_size, 16);
  assert.equal(raw.hyperparams.n_hl, 3, 'other fields as in the base');
  assert.equal(raw.hyperlab.early_stopping.patience, 10);
  assert.match(t4.text, /^# XANESNET mlp on the embedded/, 'comments kept');
  assert.ok(!fs.existsSync(dir), 'planning writes nothing');

  // Random: seeded, values from lists and ranges (log, integer).
  const params = {
    'hyperparams.lr': { min: 1e-4, max: 1e-1, log: true },
    'hyperparams.n_hl': { min: 1, max: 4, integer: true },
    'hyperparams.activation': ['relu', 'tanh', 'prelu'],
    'hyperparams.dropout': { min: 0, max: 0.5 },
  };
  const a = planSweep({ base: BASE, dir, method: 'random', n: 20, seed: 7, params });
  const b = planSweep({ base: BASE, dir, method: 'random', n: 20, seed: 7, params });
  const c = planSweep({ base: BASE, dir, method: 'random', n: 20, seed: 8, params });
  assert.deepEqual(
    a.trials.map((t) => t.values),
    b.trials.map((t) => t.values),
    'same seed, same trials',
  );
  assert.notDeepEqual(
    a.trials.map((t) => t.values),
    c.trials.map((t) => t.values),
  );
  for (const { values: v } of a.trials) {
    const lr = v['hyperparams.lr'] as number;
    assert.ok(lr >= 1e-4 && lr <= 1e-1);
    assert.ok(Number.isInteger(v['hyperparams.n_hl']) && (v['hyperparams.n_hl'] as number) >= 1 && (v['hyperparams.n_hl'] as number) <= 4);
    assert.ok(['relu', 'tanh', 'prelu'].includes(v['hyperparams.activation'] as string));
  }
  const logs = a.trials.map((t) => Math.log10(t.values['hyperparams.lr'] as number));
  assert.ok(Math.min(...logs) < -3 && Math.max(...logs) > -2, 'log-uniform: spread over the decades');

  // A wrong path fails at once, naming the path and the closest key.
  assert.throws(
    () => planSweep({ base: BASE, dir, params: { 'hyperparams.lrr': [0.1] } }),
    /field 'hyperparams\.lrr'.*unknown key 'lrr' in hyperparams.*did you mean 'lr'\?/s,
  );
  // The line is that of the block in the base file, not of the generated trial file.
  const blockLine =
    fs
      .readFileSync(BASE, 'utf8')
      .split('\n')
      .findIndex((l) => l.startsWith('hyperparams:')) + 1;
  assert.throws(() => planSweep({ base: BASE, dir, params: { 'hyperparams.lrr': [0.1] } }), new RegExp(`the 'hyperparams' block, line ${blockLine} of `));
  assert.throws(() => planSweep({ base: BASE, dir, params: { 'hyperparams.lr.value': [0.1] } }), /cannot set 'hyperparams\.lr\.value'/);
  // A bad value names the trial.
  assert.throws(
    () => planSweep({ base: BASE, dir, params: { 'hyperparams.batch_size': [16, 0] } }),
    /1 trial run file\(s\) are invalid; nothing was run:\n {2}trial 1 \(hyperparams\.batch_size=0\): hyperparams\.batch_size/,
  );
  assert.throws(() => planSweep({ base: BASE, dir, params: { 'hyperparams.lr': { min: 0, max: 1 } } }), /a grid needs a list/);
  assert.throws(() => planSweep({ base: BASE, dir, method: 'random', params: { 'hyperparams.lr': [1] } }), /needs n/);
  assert.ok(!fs.existsSync(dir));
});

test('planSweep: relative data paths in the base become absolute in the trial files', () => {
  const dir = tmp();
  const base = path.join(dir, 'base.yaml');
  fs.writeFileSync(base, fs.readFileSync(BASE, 'utf8').replace('x_path: hyperlab:datasets/xanes-fe/xyz_train', 'x_path: data/xyz'));
  const plan = planSweep({ base, dir: path.join(dir, 'out'), params: { epochs: [1, 2] } });
  const raw = parseRunFile(plan.trials[0].text, plan.trials[0].runFile).raw;
  assert.equal(raw.x_path, path.join(dir, 'data', 'xyz'));
  assert.equal(raw.y_path, 'hyperlab:datasets/xanes-fe/xanes_train', 'package paths stay');
  assert.equal(raw.epochs, 1);
});

test('sweep in process: a fake runner, a failing trial, the results table as CSV and Parquet, best', async () => {
  const dir = path.join(tmp(), 's');
  const calls: string[] = [];
  const ended: number[] = [];
  const result = await sweep({
    base: BASE,
    dir,
    params: { 'hyperparams.lr': [1e-3, 1e-2, 1e-1], 'hyperparams.activation': ['relu', 'tanh'] },
    runTrial: async (runFile) => {
      calls.push(runFile);
      const { raw } = readRunFile(runFile);
      if (raw.hyperparams.lr === 1e-1 && raw.hyperparams.activation === 'tanh') throw new Error('loss is NaN at epoch 3');
      return { final_val_loss: (Math.log10(raw.hyperparams.lr) + 2) ** 2 + (raw.hyperparams.activation === 'relu' ? 0.1 : 0), epochs: raw.epochs };
    },
    onTrialEnd: (row) => ended.push(row.trial),
  });
  assert.deepEqual(ended, [0, 1, 2, 3, 4, 5], 'one after another, in order');
  assert.equal(calls.length, 6);
  assert.ok(calls.every((f) => fs.existsSync(f) && f.startsWith(path.join(dir, 'trials'))));
  assert.deepEqual(
    result.rows.map((r) => r.status),
    ['ok', 'ok', 'ok', 'ok', 'ok', 'failed'],
  );
  assert.equal(result.rows[5].error, 'loss is NaN at epoch 3');
  assert.equal(result.best('final_val_loss')!.trial, 3, 'lr 1e-2 with tanh');
  assert.equal(result.best('final_val_loss', 'max')!.trial, 0, 'trials 0 and 4 tie at 1.1: the first wins');

  const csv = fs.readFileSync(path.join(dir, 'results.csv'), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'trial,hyperparams.lr,hyperparams.activation,final_val_loss,epochs,status,seconds,run_dir,error');
  assert.match(csv[4], new RegExp(`^3,0\\.01,tanh,0,30,ok,[0-9.]+,${path.join(dir, 'trial-003').replace(/[.]/g, '\\.')},$`));
  assert.match(csv[6], /^5,0\.1,tanh,,,failed,[0-9.]+,.*,loss is NaN at epoch 3$/);
  assert.match(result.toString(), /trial\s+hyperparams\.lr\s+hyperparams\.activation\s+final_val_loss[\s\S]*failed\s+[0-9.]+\s+loss is NaN/);

  const pq = result.writeParquet();
  const table = readTable(pq);
  assert.deepEqual(table.columns, Object.keys(result.columns()));
  assert.deepEqual(Array.from(table.data['hyperparams.lr'] as Float32Array), [1e-3, 1e-3, 1e-2, 1e-2, 1e-1, 1e-1].map(Math.fround));
  assert.deepEqual(table.data.status, ['ok', 'ok', 'ok', 'ok', 'ok', 'failed']);

  // The same sweep again in the same folder is fine (runs would resume); another one is refused.
  await sweep({ base: BASE, dir, params: { 'hyperparams.lr': [1e-3, 1e-2, 1e-1], 'hyperparams.activation': ['relu', 'tanh'] }, runTrial: async () => ({}) });
  await assert.rejects(sweep({ base: BASE, dir, params: { 'hyperparams.lr': [5e-3] }, runTrial: async () => ({}) }), /holds a different sweep/);
  await assert.rejects(sweep({ base: BASE, dir, params: { epochs: [1] }, runTrial: async () => ({}), workers: 2 }), /not both/);
  await assert.rejects(
    sweep({ base: BASE, dir: path.join(dir, 'x'), params: { epochs: [1] }, runTrial: async () => ({ acc: 'high' }) as any }).then((r: SweepResult) => {
      throw new Error(r.rows[0].error ?? 'no error');
    }),
    /metric 'acc' is "high", not a number/,
  );
});

test('sweep with worker processes: at most N at once (and in parallel), a throwing and a crashing trial reported, the others finish', async () => {
  const dir = path.join(tmp(), 'pool');
  const workerScript = path.join(__dirname, 'sweep_worker_fixture.js');
  const result = await sweep({
    base: BASE,
    dir,
    params: { 'hyperparams.batch_size': [16, 13], 'hyperparams.lr': [0.1, 0.3, 2] },
    workers: 2,
    workerScript,
  });
  const rows = result.rows;
  assert.equal(rows.length, 6);
  for (const r of rows) {
    const lr = r.values['hyperparams.lr'] as number;
    if (r.values['hyperparams.batch_size'] === 13) {
      assert.equal(r.status, 'failed');
      assert.match(r.error!, /exited with code 3 without reporting metrics/);
    } else if (lr === 2) {
      assert.equal(r.status, 'failed');
      assert.equal(r.error, 'lr 2 diverges on f(w) = (w - 3)^2');
    } else {
      assert.equal(r.status, 'ok', `trial ${r.trial}: ${r.error}`);
      const w = 3 - 3 * (1 - 2 * lr) ** 30;
      assert.ok(Math.abs(r.metrics.final_loss - (w - 3) ** 2) < 1e-12, 'the worker did the work of its own run file');
      assert.match(fs.readFileSync(path.join(dir, 'logs', `trial-00${r.trial}.log`), 'utf8'), new RegExp(`trial ${r.trial}: w = `));
    }
  }
  // Overlap of the successful trials' run times: never more than 3 at once, and more than 1 (in parallel).
  const ok = rows.filter((r) => r.status === 'ok').map((r) => r.metrics);
  assert.equal(new Set(ok.map((m) => m.pid)).size, ok.length, 'one process per trial');
  const events = ok
    .flatMap((m) => [
      [m.started, 1],
      [m.ended, -1],
    ])
    .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let now = 0;
  let most = 0;
  for (const [, d] of events) most = Math.max(most, (now += d));
  assert.equal(most, 2, `at most 2 workers at once, and in parallel: saw ${most}`);
  assert.equal(fs.readFileSync(path.join(dir, 'results.csv'), 'utf8').trim().split('\n').length, 7);
});

test('metricsFromHistory: final and best values of a run; a metric named like a swept field keeps both columns', () => {
  const m = metricsFromHistory({ epoch: [0, 1, 2], loss: [2, 1, 1.5], val_loss: [1.5, 1.2, NaN], val_acc: [0.5, 0.7, 0.6], lr: [0.1, 0.1, 0.05] });
  assert.deepEqual(m, {
    epochs_run: 3,
    final_loss: 1.5,
    best_loss: 1,
    final_val_loss: 1.2,
    best_val_loss: 1.2,
    final_val_acc: 0.6,
    best_val_acc: 0.7,
    final_lr: 0.05,
  });
  const r = new SweepResult(
    '/tmp/x',
    ['epochs'],
    [{ trial: 0, values: { epochs: 5 }, metrics: { epochs: 3, loss: 0.5 }, status: 'ok', error: null, seconds: 1, runFile: 'f', runDir: 'd' }],
  );
  assert.deepEqual(Object.keys(r.columns()), ['trial', 'epochs', 'metric.epochs', 'loss', 'status', 'seconds', 'run_dir', 'error']);
});
