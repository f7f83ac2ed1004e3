/** splitTable / fullBatch (lib/data/table_split) and runCurves (lib/plot/runs), used by lessons 07 and 08. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as hl from '../lib';
import { tf } from '../lib';

test('splitTable: scikit-learn sizes, the same rows as trainTestSplit, standardised with the training statistics', () => {
  const table = hl.loadBreastCancer();
  const d = hl.splitTable(table, { testSize: 0.25, seed: 0 });
  assert.deepEqual([d.train.length, d.val.length, d.nFeatures], [426, 143, 30]);
  const split = hl.trainTestSplit(table.nSamples, { testSize: 0.25, seed: 0 });
  assert.deepEqual(Array.from(d.indices.val), Array.from(split.test));
  // Row 5 of the validation part is table row split.test[5], scaled with the training rows' mean and std.
  const r = split.test[5], F = 30;
  const raw = Array.from(table.x.subarray(r * F, (r + 1) * F));
  const train = hl.takeRows(table.x, F, split.train);
  const mean = raw.map((_, j) => train.filter((_, i) => i % F === j).reduce((s, v) => s + v, 0) / 426);
  const std = raw.map((_, j) => Math.sqrt(train.filter((_, i) => i % F === j).reduce((s, v) => s + (v - mean[j]) ** 2, 0) / 426));
  const got = Array.from(d.val.get(5).x.data);
  raw.forEach((v, j) => assert.ok(Math.abs(got[j] - (v - mean[j]) / std[j]) < 1e-4, `feature ${j}: ${got[j]}`));
  const y = d.val.get(5).y;
  assert.ok(y.data instanceof Float32Array, 'binary targets are floats (for BCE)');
  assert.deepEqual([y.shape, y.data[0]], [[1], table.y[r]]);
  const raw2 = hl.splitTable(table, { standardize: false });
  assert.equal(raw2.scaler, null);
  assert.deepEqual(Array.from(raw2.val.get(5).x.data), raw);
});

test('splitTable: class indices for classification tables; a clear error for a non-table', () => {
  const d = hl.splitTable(hl.loadIris(), { testSize: 30, seed: 1 });
  assert.deepEqual([d.train.length, d.val.length], [120, 30]);
  assert.ok(d.train.get(0).y.data instanceof Int32Array);
  assert.deepEqual(d.train.get(0).y.shape, []);
  assert.throws(() => hl.splitTable({} as hl.DataTable), /expected a table from hl.loadIris/);
});

test('fullBatch: the whole dataset as one batch of tensors', () => {
  const d = hl.splitTable(hl.loadBreastCancer());
  const before = tf.memory().numTensors;
  const b = hl.fullBatch(d.val);
  assert.deepEqual([b.x.shape, b.y.shape], [[143, 30], [143, 1]]);
  assert.deepEqual(Array.from(b.x.dataSync().slice(30, 60)), Array.from(d.val.get(1).x.data));
  tf.dispose(Object.values(b));
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => hl.fullBatch(new hl.ArrayDataset({ x: [] as number[] })), /non-empty dataset/);
});

test('runCurves: one colour per run in every chart, distinct within a chart; keys dashed', () => {
  hl.resetRunColors();
  const a = hl.runCurves({ base: [1, 0.5], 'lr 0.1': [1, 0.2] });
  const b = hl.runCurves({ 'batch 16': [0.9, 0.4], base: [1, 0.5] });
  const color = (f: hl.Figure, name: string) => (f.data.find((t) => t.name === name)!.line as { color: string }).color;
  assert.equal(color(a, 'base'), color(b, 'base'));
  assert.notEqual(color(b, 'batch 16'), color(b, 'base'));
  assert.notEqual(color(b, 'batch 16'), color(a, 'lr 0.1'), 'a new run takes a colour no run has yet');
  assert.deepEqual(a.data[0].x, [1, 2]);
  const h = { loss: [1, 0.5], val_loss: [1.1, 0.7] };
  const c = hl.runCurves({ base: h }, { keys: ['loss', 'val_loss'], title: 'T' });
  assert.deepEqual(c.data.map((t) => [t.name, (t.line as { dash: string }).dash]), [['base: loss', 'solid'], ['base: val_loss', 'dash']]);
  assert.deepEqual(hl.runCurves({ base: h }).data[0].y, [1.1, 0.7], 'val_loss by default');
  assert.deepEqual(hl.runCurves({ base: { history: h } }).data[0].y, [1.1, 0.7], 'a run result carrying its history');
  assert.throws(() => hl.runCurves({ base: h }, { keys: ['acc'] }), /run 'base' has no 'acc'; it has: loss, val_loss/);
  assert.throws(() => hl.runCurves({}), /expected runs by name/);
});

test('runCurves: a run stops at NaN with a note; yRange clips (log axis in log10 units) and says so', () => {
  const f = hl.runCurves({ 'lr 30': [1, 1e30, NaN, NaN], 'lr 1': [1, 0.5, 0.3, 0.2] }, { logY: true, yRange: [0.1, 10] });
  assert.deepEqual(f.data[0].y, [1, 1e30]);
  assert.deepEqual(f.layout.yaxis?.range, [-1, 1]);
  assert.equal(f.layout.yaxis?.type, 'log');
  const notes = (f.layout.annotations as { text: string }[]).map((n) => n.text);
  assert.deepEqual(notes, ['lr 30 stops at NaN (x = 3)', 'clipped to [0.1, 10]: lr 30']);
  assert.throws(() => hl.runCurves({ a: [1] }, { logY: true, yRange: [0, 1] }), /low > 0 on a log axis/);
});

test('lossCurves: markEpoch draws a dotted line at that epoch', () => {
  const f = hl.lossCurves({ loss: [1, 0.5, 0.6] }, { markEpoch: 2 });
  assert.deepEqual((f.layout.shapes as { x0: number }[]).map((s) => s.x0), [2]);
  assert.equal(hl.lossCurves({ loss: [1] }).layout.shapes, undefined);
});
