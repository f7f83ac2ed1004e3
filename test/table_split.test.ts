/** splitTable / fullBatch (lib/data/table_split) and lossCurves' markEpoch, used by lessons 07 and 08. */
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
  const r = split.test[5],
    F = 30;
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
  assert.deepEqual(
    [b.x.shape, b.y.shape],
    [
      [143, 30],
      [143, 1],
    ],
  );
  assert.deepEqual(Array.from(b.x.dataSync().slice(30, 60)), Array.from(d.val.get(1).x.data));
  tf.dispose(Object.values(b));
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => hl.fullBatch(new hl.ArrayDataset({ x: [] as number[] })), /non-empty dataset/);
});

test('lossCurves: markEpoch draws a dotted line at that epoch; markersOnly keys are open markers', () => {
  const f = hl.lossCurves({ loss: [1, 0.5, 0.6] }, { markEpoch: 2 });
  assert.deepEqual(
    (f.layout.shapes as { x0: number }[]).map((s) => s.x0),
    [2],
  );
  assert.equal(hl.lossCurves({ loss: [1] }).layout.shapes, undefined);
  const twin = hl.lossCurves({ loss: [1, 0.5], twin_loss: [1, 0.5] }, { markersOnly: ['twin_loss'] });
  assert.deepEqual(
    twin.data.map((t) => t.mode),
    ['lines+markers', 'markers'],
  );
});
