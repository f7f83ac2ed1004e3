/** Small helpers the lessons use: mergeRunText (lib/config), fmtTable (lib/data), spectraPlot and heatmaps (lib/plot). */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parse } from 'yaml';
import * as hl from '../lib';
import { COLORS } from '../lib/plot/figure';

test('mergeRunText: RFC 7386 merge patch on YAML (maps merge, null deletes, the rest replaces)', () => {
  const base = 'mode: train_xyz\nhyperparams:\n  lr: 0.003\n  epochs: 4\n  loss: {loss_fn: mse, loss_args: null}\nhyperlab: {bugs: [a, b]}\n';
  const out = parse(hl.mergeRunText(base, 'hyperparams: {epochs: 3, loss: {loss_fn: cosine}, lr: null}\nhyperlab: {bugs: [c]}\nmodel: {type: mlp}'));
  assert.deepEqual(out, {
    mode: 'train_xyz',
    hyperparams: { epochs: 3, loss: { loss_fn: 'cosine', loss_args: null } },
    hyperlab: { bugs: ['c'] },
    model: { type: 'mlp' },
  });
  // RFC 7386's own examples (appendix A), a few of them
  assert.deepEqual(hl.mergePatch({ a: 'b' }, { a: 'c' }), { a: 'c' });
  assert.deepEqual(hl.mergePatch({ a: 'b' }, { b: 'c' }), { a: 'b', b: 'c' });
  assert.deepEqual(hl.mergePatch({ a: 'b', b: 'c' }, { a: null }), { b: 'c' });
  assert.deepEqual(hl.mergePatch({ a: ['b'] }, { a: 'c' }), { a: 'c' });
  assert.deepEqual(hl.mergePatch({ a: { b: 'c' } }, { a: { b: 'd', c: null } }), { a: { b: 'd' } });
  assert.deepEqual(hl.mergePatch({ e: null }, { a: 1 }), { e: null, a: 1 });
  assert.deepEqual(hl.mergePatch({}, { a: { bb: { ccc: null } } }), { a: { bb: {} } });
  // the base is not changed, an empty patch keeps it, a multi-line flow mapping parses
  const obj = { a: { b: 1 } };
  hl.mergePatch(obj, { a: { b: 2 } });
  assert.deepEqual(obj, { a: { b: 1 } });
  assert.deepEqual(parse(hl.mergeRunText('a: 1', '')), { a: 1 });
  assert.deepEqual(parse(hl.mergeRunText('a: 1', 'm:\n  p: {x: 1,\n      y: 2}\n')), { a: 1, m: { p: { x: 1, y: 2 } } });
  assert.throws(() => hl.mergeRunText('a: 1', '- 1\n- 2'), /patch must be a YAML mapping.*a list/);
  assert.throws(() => hl.mergeRunText('a: [1', 'b: 2'), /base run text is not valid YAML/);
  // the base's comments stay where the patch leaves them
  const commented = hl.mergeRunText('# a run\nhyperparams:\n  lr: 0.1   # the step\n  epochs: 4\n', { hyperparams: { epochs: 2 } });
  assert.match(commented, /^# a run\n/);
  assert.match(commented, /lr: 0.1 +# the step/);
  assert.deepEqual(parse(commented), { hyperparams: { lr: 0.1, epochs: 2 } });
});

test('mergeRunText: the merged text is a valid run file', () => {
  const base = 'xyz_path: x\nxanes_path: y\nhyperparams: {batch_size: 16, epochs: 4, lr: 0.003}\nmodel: {type: mlp}\n';
  const spec = hl.runSpecFromText(hl.mergeRunText(base, 'model: {type: cnn}\nhyperparams: {epochs: 2}'));
  assert.equal(spec.model.type, 'cnn');
  assert.equal(spec.train.epochs, 2);
  assert.equal(spec.train.batchSize, 16);
});

test('fmtTable: aligned columns, numbers through fmt (no float32 noise)', () => {
  const t = hl.fmtTable([
    { mode: 'mlp', mse: 0.05000000074505806, n: 12740 },
    { mode: 'ae_cnn', mse: 1e-7 },
  ]);
  assert.equal(t, ['mode     mse      n', 'mlp     0.05  12740', 'ae_cnn  1e-7'].join('\n'));
  assert.equal(hl.fmtTable([{ x: 1.23456 }], 2), '  x\n1.2'); // numbers right-aligned
  assert.equal(hl.fmtTable([{ params: 1077505, mse: 1077505.5 }]), ' params       mse\n1077505  1.078e+6'); // counts in full
  assert.throws(() => hl.fmtTable('rows' as never), /expected a list of rows/);
});

test('spectraPlot: the reference black and thick, each curve in its run colour', () => {
  hl.resetRunColors();
  const fig = hl.spectraPlot([1, 2, 3], { mlp: [0, 1, 2], cnn: new Float32Array([1, 1, 1]) }, { reference: { name: 'true', y: [0, 1, 1] } });
  assert.deepEqual(
    fig.data.map((t) => t.name),
    ['true', 'mlp', 'cnn'],
  );
  assert.deepEqual(
    fig.data.map((t) => (t.line as { color: string }).color),
    ['black', COLORS[0], COLORS[1]],
  );
  const again = hl.spectraPlot([1], { cnn: [1] }).data[0]; // cnn keeps its colour in a later chart
  assert.equal((again.line as { color: string }).color, COLORS[1]);
  assert.deepEqual(fig.data[2].y, [1, 1, 1]);
  const red = hl.spectraPlot([1], { a: [1] }, { colors: { a: 'red' } }).data[0];
  assert.equal((red.line as { color: string }).color, 'red');
  assert.throws(() => hl.spectraPlot([1, 2], { mlp: [1] }), /'mlp' has 1 values but x has 2/);
  assert.throws(() => hl.spectraPlot([1], {}), /no curves/);
  // panels: one per curve, the reference in each, shared axes, 2 a row
  const grid = hl.spectraPlot([1, 2], { a: [1, 2], b: [2, 1], c: [0, 0] }, { reference: { name: 't', y: [1, 1] }, panels: 2 });
  assert.deepEqual(
    grid.data.map((t) => `${t.name}@${t.xaxis}`),
    ['t@x', 'a@x', 't@x2', 'b@x2', 't@x3', 'c@x3'],
  );
  assert.deepEqual(grid.layout.grid, { rows: 2, columns: 2, pattern: 'independent' });
  assert.equal((grid.layout.yaxis3 as { matches: string }).matches, 'y');
  assert.deepEqual(
    (grid.layout.annotations as { text: string }[]).map((a) => a.text),
    ['a', 'b', 'c'],
  );
  assert.throws(() => hl.spectraPlot([1], { a: [1] }, { panels: 0 }), /panels is the number of panels a row/);
});

test('heatmaps: one panel per image on a shared colour range, flat images cut into rows', () => {
  const fig = hl.heatmaps(
    {
      GR: new Float32Array([0, 1, 2, 3]),
      Newton: [
        [-1, 0],
        [5, 1],
      ],
    },
    { side: 2 },
  );
  assert.deepEqual(fig.data[0].z, [
    [0, 1],
    [2, 3],
  ]);
  assert.deepEqual(
    fig.data.map((t) => [t.zmin, t.zmax]),
    [
      [-1, 5],
      [-1, 5],
    ],
  );
  assert.deepEqual(
    fig.data.map((t) => [t.xaxis, t.yaxis, t.showscale]),
    [
      ['x', 'y', false],
      ['x2', 'y2', true],
    ],
  );
  assert.deepEqual((fig.layout.grid as { columns: number }).columns, 2);
  assert.deepEqual(hl.heatmaps({ a: [[1]] }, { zRange: [-3, 3] }).data[0].zmin, -3);
  assert.throws(() => hl.heatmaps({ a: [1, 2, 3] }, { side: 2 }), /'a' is a flat array of 3 values/);
});

test('lossCurves: a y label for metrics other than the loss', () => {
  const fig = hl.lossCurves({ accuracy: [0.5, 0.7], val_accuracy: [NaN, 0.9] }, { keys: ['accuracy'], yLabel: 'accuracy' });
  assert.deepEqual(
    fig.data.map((t) => t.name),
    ['accuracy', 'val_accuracy'],
  );
  assert.equal((fig.layout.yaxis as { title: { text: string } }).title.text, 'accuracy');
  assert.equal((hl.lossCurves({ loss: [1] }).layout.yaxis as { title: { text: string } }).title.text, 'loss');
});
