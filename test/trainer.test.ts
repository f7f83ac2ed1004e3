/** The training loop: history, validation, Keras early stopping, NaN guard, CSV log, exact resume. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as hl from '../lib';
import { tf } from '../lib';
import { Trainer } from '../lib/train/trainer';
import { supervised, Batch } from '../lib/train/task';
import { EarlyStopping, inferMode } from '../lib/callbacks/early_stopping';
import { NaNGuard } from '../lib/callbacks/nan_guard';
import { metricTable } from '../lib/report/report';
import { CSVLogger } from '../lib/callbacks/csv_logger';
import { lambdaCallback } from '../lib/train/callback';

/** y = 3 x0 - 2 x1 + 1 + noise, as batches shuffled by the global generator (so resume must restore it). */
function makeData(n: number, seed: number) {
  const g = new hl.Generator(seed);
  const x = g.normalArray(n * 2);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) y[i] = 3 * x[2 * i] - 2 * x[2 * i + 1] + 1 + 0.1 * g.normal();
  return {
    batches(batchSize: number, shuffle: boolean): Iterable<Batch> & { length: number } {
      return {
        length: Math.ceil(n / batchSize),
        *[Symbol.iterator]() {
          const order = shuffle ? hl.defaultGenerator.permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
          for (let s = 0; s < n; s += batchSize) {
            const idx = Array.from(order.subarray(s, s + batchSize));
            yield {
              x: tf.tensor(
                idx.flatMap((i) => [x[2 * i], x[2 * i + 1]]),
                [idx.length, 2],
              ),
              y: tf.tensor(
                idx.map((i) => y[i]),
                [idx.length, 1],
              ),
            };
          }
        },
      };
    },
  };
}

function makeTrainer(seed = 1, callbacks: hl.Callback[] = []) {
  hl.manualSeed(seed);
  const model = new hl.Sequential(new hl.Linear(2, 8), new hl.Tanh(), new hl.Linear(8, 1));
  const optimizer = new hl.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const trainer = new Trainer({ task: supervised({ model, optimizer, loss: hl.getLoss('mse'), keepPredictions: true }), metrics: 'regression', callbacks });
  return { model, optimizer, trainer };
}

test('fit: the loss falls, validation is logged with val_ names, tensors do not leak', async () => {
  await hl.useBackend('cpu');
  const data = makeData(256, 3);
  const val = makeData(64, 4);
  const { trainer, model } = makeTrainer();
  const before = tf.memory().numTensors;
  const h = await trainer.fit(data.batches(32, true), { epochs: 6, validation: val.batches(64, false) });
  assert.deepEqual(h.epoch, [0, 1, 2, 3, 4, 5]);
  assert.ok(h.loss[5] < h.loss[0] / 5, `loss fell: ${h.loss[0]} -> ${h.loss[5]}`);
  assert.ok(h.val_loss[5] < 0.2, `val_loss ${h.val_loss[5]}`);
  assert.ok(Math.abs(h.val_mse[5] - h.val_loss[5]) < 1e-5, 'val_mse is the mean of the val loss here');
  assert.equal(h.lr[0], 0.05);
  // What stays: one momentum buffer per parameter (created on the first step, then
  // reused) and the last step's gradients (kept, as in PyTorch, until zeroGrad).
  assert.equal(tf.memory().numTensors - before, 2 * model.parameters().length, 'nothing else accumulates');
  model.zeroGrad();
  assert.equal(tf.memory().numTensors - before, model.parameters().length);
  model.dispose();
});

test('Keras early stopping: the exact stop epoch, min_delta, baseline and best-weight restore', async () => {
  await hl.useBackend('cpu');
  // A scripted val_loss sequence (Keras semantics traced by hand):
  // epoch:    0    1    2    3    4    5    6
  // val_loss: 1.0  0.8  0.79 0.85 0.9  0.7  ...
  // patience 2, min_delta 0.05: epoch 2 is not an improvement (0.79 >= 0.8 - 0.05);
  // wait: e0 0, e1 0, e2 1, e3 2 -> stop at epoch 3, best 0.8 at epoch 1.
  const script = [1.0, 0.8, 0.79, 0.85, 0.9, 0.7, 0.6];
  const es = new EarlyStopping({ monitor: 'val_loss', patience: 2, minDelta: 0.05, restoreBestWeights: true });
  let epochSeen = -1;
  const inject = lambdaCallback({
    onEpochEnd: (e: number, logs: hl.Logs) => {
      logs.val_loss = script[e];
      epochSeen = e;
    },
  });
  const snapshots: number[] = [];
  const snap = lambdaCallback({ onEpochEnd: () => void snapshots.push((trainerOf.model as hl.Sequential)[0].stateDict().weight.dataSync()[0]) });
  const { trainer, model } = makeTrainer(2, [inject, es, snap]);
  const trainerOf = trainer;
  await trainer.fit(makeData(64, 5).batches(16, true), { epochs: 7 });
  assert.equal(epochSeen, 3);
  assert.equal(es.stoppedEpoch, 3);
  assert.equal(es.best, 0.8);
  assert.equal(es.bestEpoch, 1);
  assert.equal(trainer.stopped?.kind, 'early_stopping');
  assert.match(trainer.stopReason!, /early stopping: val_loss did not improve for 2 epochs/);
  assert.equal((model as hl.Sequential)[0].stateDict().weight.dataSync()[0], snapshots[1], 'weights of the best epoch restored');
  model.dispose();
});

test('early stopping: patience 0 stops at the first non-improvement after epoch 0; baseline keeps wait growing', async () => {
  const run = async (opts: any, script: number[]) => {
    const es = new EarlyStopping(opts);
    const inject = lambdaCallback({ onEpochEnd: (e: number, logs: hl.Logs) => void (logs.val_loss = script[e]) });
    const { trainer, model } = makeTrainer(3, [inject, es]);
    await trainer.fit(makeData(32, 6).batches(32, false), { epochs: script.length });
    model.dispose();
    return trainer.epoch;
  };
  assert.equal(await run({ patience: 0 }, [1, 2, 3, 4]), 2, 'stops after epoch 1');
  assert.equal(await run({ patience: 0 }, [3, 2, 1, 0.5]), 4, 'never stops while improving');
  // With baseline 0.5 nothing beats it, so wait is never reset (Keras 3): improving epochs
  // never stop, but the first non-improvement after wait >= patience does.
  assert.equal(await run({ patience: 2, baseline: 0.5 }, [3, 2, 1, 0.9, 0.8]), 5, 'every epoch improves');
  assert.equal(await run({ patience: 2, baseline: 0.5 }, [3, 2, 1, 1.5, 0.8]), 4, 'wait 4 at the first non-improvement');
  assert.equal(inferMode('val_accuracy'), 'max');
  assert.equal(inferMode('loss'), 'min');
  assert.throws(() => inferMode('val_score'), /pass mode: 'min' or mode: 'max'/);
});

test('Monitor: one improvement rule for early stopping, checkpoints and the report', () => {
  const loss = new hl.Monitor('val_loss', 'auto', 0.1);
  assert.equal(loss.mode, 'min');
  assert.deepEqual(
    [1, 0.95, 0.85, 0.9].map((v) => loss.update(v)),
    [true, false, true, false],
    'an improvement must beat the best by minDelta',
  );
  assert.equal(loss.best, 0.85);
  const acc = new hl.Monitor('accuracy');
  assert.equal(acc.mode, 'max');
  assert.deepEqual(
    [0.5, 0.5, 0.7].map((v) => acc.update(v)),
    [true, false, true],
    'a tie is not an improvement',
  );
  assert.ok(new hl.EarlyStopping() instanceof hl.MonitorCallback);
  assert.ok(new hl.ModelCheckpoint(os.tmpdir()) instanceof hl.MonitorCallback);
  assert.throws(() => new hl.ModelCheckpoint(os.tmpdir(), { monitor: 'score' }), /monitor 'score': cannot tell whether it should go up or down/);
  const table = metricTable({ epoch: [0, 1, 2], loss: [3, 1, 2], val_accuracy: [0.2, 0.9, 0.9], lr: [1, 1, 1] });
  assert.deepEqual(
    table.map((r) => [r.metric, r.best, r.bestEpoch]),
    [
      ['loss', 1, 2],
      ['val_accuracy', 0.9, 2],
      ['lr', null, null],
    ],
  );
});

test('NaN guard stops at the first non-finite loss with a message that says what to try', async () => {
  await hl.useBackend('cpu');
  const guard = new NaNGuard();
  hl.manualSeed(4);
  const model = new hl.Sequential(new hl.Linear(2, 1));
  const optimizer = new hl.SGD(model.parameters(), { lr: 1e6 });
  const trainer = new Trainer({ task: supervised({ model, optimizer, loss: hl.getLoss('mse') }), callbacks: [guard] });
  await trainer.fit(makeData(256, 7).batches(8, true), { epochs: 50 });
  assert.ok(guard.message, 'the guard fired');
  assert.match(guard.message!, /the loss became (NaN|Infinity) at step \d+ .*Try a smaller learning rate, gradient clipping/);
  assert.ok(trainer.epoch < 50);
  assert.equal(trainer.stopped?.kind, 'non_finite');
  assert.equal(trainer.stopReason, `non-finite loss: ${guard.message}`);
  model.dispose();
});

test('stop reasons are typed: a callback stops with a kind, a plain string is a requested stop, fit() clears both', async () => {
  await hl.useBackend('cpu');
  hl.manualSeed(5);
  const kinds: (string | undefined)[] = [];
  const stopper = lambdaCallback({});
  stopper.onEpochEnd = (epoch: number) => {
    if (epoch === 1) stopper.trainer.stop('interrupted', 'interrupted (test) during epoch 2');
  };
  const { trainer, model } = makeTrainer(3, [stopper]);
  await trainer.fit(makeData(32, 9).batches(16, true), { epochs: 5 });
  kinds.push(trainer.stopped?.kind);
  assert.equal(trainer.epoch, 2, 'stopped after the epoch that asked');
  assert.equal(trainer.stopReason, 'interrupted (test) during epoch 2');
  trainer.stopReason = 'my own reason';
  kinds.push(trainer.stopped?.kind);
  stopper.onEpochEnd = () => {};
  await trainer.fit(makeData(32, 9).batches(16, true), { epochs: 3 });
  kinds.push(trainer.stopped?.kind);
  assert.deepEqual(kinds, ['interrupted', 'requested', undefined]);
  assert.equal(trainer.stopReason, null);
  model.dispose();
});

test('CSV log: one row per epoch, truncated to the checkpoint on resume', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hl-csv-'));
  const file = path.join(dir, 'metrics.csv');
  const { trainer, model } = makeTrainer(5, [new CSVLogger(file)]);
  await trainer.fit(makeData(64, 8).batches(32, true), { epochs: 3 });
  let lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'epoch,loss,mse,mae,lr');
  assert.equal(lines.length, 4);
  trainer.epoch = 2; // as if resumed from the checkpoint of epoch 2
  await trainer.fit(makeData(64, 8).batches(32, true), { epochs: 4 });
  lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  assert.deepEqual(
    lines.map((l) => l.split(',')[0]),
    ['epoch', '0', '1', '2', '3'],
  );
  model.dispose();
});

test('exact resume: 3 epochs, state through JSON, 3 more == 6 uninterrupted (same backend)', async () => {
  await hl.useBackend('cpu');
  const data = makeData(96, 9);
  const full = makeTrainer(11);
  await full.trainer.fit(data.batches(16, true), { epochs: 6 });

  const first = makeTrainer(11);
  await first.trainer.fit(data.batches(16, true), { epochs: 3 });
  const state = JSON.parse(JSON.stringify(first.trainer.getState()));
  const weights = Object.fromEntries(Object.entries(first.model.stateDict()).map(([k, v]) => [k, v.clone()]));
  first.model.dispose();
  hl.manualSeed(999); // a different stream: the resume must restore the saved one

  const second = makeTrainer(12);
  second.model.loadStateDict(weights);
  tf.dispose(Object.values(weights));
  second.trainer.setState(state);
  await second.trainer.fit(data.batches(16, true), { epochs: 6 });
  assert.deepEqual(second.trainer.history.loss, full.trainer.history.loss);
  assert.deepEqual(second.trainer.history.epoch, [0, 1, 2, 3, 4, 5]);
  full.model.dispose();
  second.model.dispose();
});

test('CSV log: a value that first appears later (validation every 2 epochs) widens the file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hl-csv2-'));
  const file = path.join(dir, 'metrics.csv');
  hl.manualSeed(6);
  const model = new hl.Sequential(new hl.Linear(2, 1));
  const optimizer = new hl.SGD(model.parameters(), { lr: 0.01 });
  const trainer = new Trainer({ task: supervised({ model, optimizer, loss: hl.getLoss('mse') }), callbacks: [new CSVLogger(file)], validateEvery: 2 });
  await trainer.fit(makeData(32, 8).batches(16, true), { epochs: 4, validation: makeData(16, 9).batches(16, false) });
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'epoch,loss,lr,val_loss');
  assert.equal(lines[1].split(',').length, 4);
  assert.equal(lines[1].split(',')[3], '', 'epoch 0 had no validation');
  assert.ok(Number(lines[2].split(',')[3]) > 0, 'epoch 1 has val_loss');
  model.dispose();
});

test('batches in a plain array are reused every epoch (not disposed); the CSV log refuses to delete a file it did not write', async () => {
  await hl.useBackend('cpu');
  hl.manualSeed(8);
  const model = new hl.Sequential(new hl.Linear(2, 1));
  const optimizer = new hl.SGD(model.parameters(), { lr: 0.05 });
  const x = tf.tensor([
    [1, 2],
    [3, 4],
  ]);
  const y = tf.tensor([[1], [2]]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hl-csv3-'));
  const file = path.join(dir, 'results.csv');
  fs.writeFileSync(file, 'precious\n');
  const refuses = new Trainer({ task: supervised({ model, optimizer, loss: hl.getLoss('mse') }), callbacks: [new CSVLogger(file)] });
  await assert.rejects(refuses.fit([[x, y]], { epochs: 1 }), /results\.csv already exists; pass \{ overwrite: true \}/);
  assert.equal(fs.readFileSync(file, 'utf8'), 'precious\n', 'the file is intact');
  const trainer = new Trainer({ task: supervised({ model, optimizer, loss: hl.getLoss('mse') }) });
  const h = await trainer.fit([[x, y], { x, y }], { epochs: 3, validation: [[x, y]] });
  assert.equal(h.loss.length, 3);
  assert.ok(!x.isDisposed && !y.isDisposed, 'the caller still owns its tensors');
  tf.dispose([x, y]);
  model.dispose();
});

test('checkpoints/best follows the validation loss, also when validation runs every 2 epochs', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hl-best-'));
  const { ModelCheckpoint } = await import('../lib/callbacks/model_checkpoint');
  const ck = new ModelCheckpoint(dir);
  // Scripted logs: validation on epochs 1 and 3 only, training loss far below it.
  const script = [{ loss: 1 }, { loss: 0.9, val_loss: 20 }, { loss: 0.5 }, { loss: 0.4, val_loss: 25 }];
  const inject = lambdaCallback({
    onEpochEnd: (e: number, logs: hl.Logs) => {
      for (const k of Object.keys(logs)) if (k.startsWith('val_')) delete logs[k];
      Object.assign(logs, script[e]);
    },
  });
  const { trainer, model } = makeTrainer(9, [inject, ck]);
  await trainer.fit(makeData(32, 10).batches(16, false), { epochs: 4, validation: makeData(16, 11).batches(16, false) });
  assert.equal(ck.best, 20, 'the best validation loss, never a training loss');
  const saved = JSON.parse(fs.readFileSync(path.join(dir, 'best', 'checkpoint.json'), 'utf8'));
  assert.equal(saved.epoch, 2, 'best holds the state after epoch 2 (counting from 1)');
  model.dispose();
});

test('ModelCheckpoint with an interval: epochs are kept in memory, written when the interval has passed and when training ends (after Ctrl-C too), with the files an every-epoch save writes; resume stays exact', async () => {
  await hl.useBackend('cpu');
  const { ModelCheckpoint, resumeTrainer } = await import('../lib/callbacks/model_checkpoint');
  const data = makeData(96, 9);
  const val = makeData(32, 10);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hl-ckpt-interval-'));
  const read = (dir: string) => {
    const ck = hl.loadCheckpoint(dir);
    const out = {
      epoch: ck.epoch,
      step: ck.step,
      best: ck.bestMetric,
      generator: ck.generator,
      weights: Object.fromEntries(Object.entries(ck.weights).map(([k, t]) => [k, Array.from(t.dataSync())])),
      extra: JSON.stringify(ck.extra),
    };
    ck.dispose();
    return out;
  };

  // every epoch (interval 0) and once at the end (an interval longer than the run): the same files
  const every = makeTrainer(11, [new ModelCheckpoint(path.join(root, 'every')), lambdaCallback({})]); // callbacks as `held` has
  await every.trainer.fit(data.batches(16, true), { epochs: 4, validation: val.batches(32, false) });
  let sawNothing = false;
  const before = tf.memory().numTensors;
  const held = makeTrainer(11);
  const ckpt = new ModelCheckpoint(path.join(root, 'held'), { interval: 3600 });
  held.trainer.addCallback(ckpt);
  held.trainer.addCallback(lambdaCallback({ onEpochEnd: () => void (sawNothing = !fs.existsSync(path.join(root, 'held', 'last'))) }));
  await held.trainer.fit(data.batches(16, true), { epochs: 4, validation: val.batches(32, false) });
  assert.ok(sawNothing, 'nothing written before the interval passed');
  for (const sub of ['last', 'best']) assert.deepEqual(read(path.join(root, 'held', sub)), read(path.join(root, 'every', sub)), `${sub}: same checkpoint`);
  held.model.dispose();
  held.optimizer.dispose();
  assert.equal(tf.memory().numTensors, before, 'no tensors left: the snapshots are freed once written');

  // Ctrl-C in epoch 3: the end of training writes epoch 2 (the last finished one); resuming gives the uninterrupted numbers
  const full = makeTrainer(11);
  await full.trainer.fit(data.batches(16, true), { epochs: 5 });
  const cut = makeTrainer(11, [new ModelCheckpoint(path.join(root, 'cut'), { interval: 3600 })]);
  let batches = 0;
  cut.trainer.addCallback(
    lambdaCallback({
      onBatchEnd: () => {
        if (++batches === 2 * 6 + 3) {
          cut.trainer.stop('interrupted', 'interrupted (test)');
        }
      },
    }),
  );
  await cut.trainer.fit(data.batches(16, true), { epochs: 5 });
  assert.equal(read(path.join(root, 'cut', 'last')).epoch, 2);
  const again = makeTrainer(12, [new ModelCheckpoint(path.join(root, 'cut'), { interval: 3600 })]);
  hl.manualSeed(999);
  resumeTrainer(again.trainer, path.join(root, 'cut', 'last'));
  await again.trainer.fit(data.batches(16, true), { epochs: 5 });
  assert.deepEqual(again.trainer.history.loss, full.trainer.history.loss);
  assert.equal(read(path.join(root, 'cut', 'last')).epoch, 5);
  for (const t of [every, full, cut, again]) {
    t.model.dispose();
    t.optimizer.dispose();
  }
  fs.rmSync(root, { recursive: true, force: true });
});
