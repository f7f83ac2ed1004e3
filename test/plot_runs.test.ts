/** Run colours shared across charts, curves clipped around a diverging run, fastai's lr-finder chart. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as hl from '../lib';
import type { LrFindResult } from '../lib/tune/lr_find';

test('runColor: a name keeps its colour in every chart; new names take the next colour', () => {
  hl.resetRunColors();
  const a = hl.runColor('lr 0.01');
  const b = hl.runColor('lr 0.3');
  assert.notEqual(a, b);
  assert.equal(hl.runColor('lr 0.01'), a);
  const surface = hl.lossSurface((x, y) => x * x + y * y, [{ name: 'lr 0.3', points: [[1, 1], [0, 0]] }], { resolution: 3 });
  const curves = hl.runCurves({ 'lr 0.01': [3, 2, 1], 'lr 0.3': [3, 1, 0.5] });
  assert.equal((surface.data[1].line as { color: string }).color, b);
  assert.deepEqual(curves.data.map((t) => (t.line as { color: string }).color), [a, b]);
  assert.throws(() => hl.runColor(''), /non-empty name/);
  hl.resetRunColors();
  assert.equal(hl.runColor('lr 0.3'), hl.RUN_COLORS[0]);
});

test('runCurves: a diverging run is clipped at 10x the highest start (log y) and noted where it leaves and stops', () => {
  hl.resetRunColors();
  const fig = hl.runCurves({ slow: [1, 0.9, 0.8, 0.7], good: [1.1, 0.5, 0.1, 0.05], wild: [1, 50, 1e36, NaN] }, { logY: true });
  assert.deepEqual(fig.data[2].y, [1, 50, 1e36, null], 'NaN is a gap');
  const range = fig.layout.yaxis!.range as number[];
  assert.ok(Math.abs(range[1] - Math.log10(11)) < 1e-12, `top = log10(10 * 1.1), got ${range[1]}`);
  assert.ok(Math.abs(range[0] - Math.log10(0.025)) < 1e-12, `bottom = half the lowest shown value, got ${range[0]}`);
  const notes = fig.layout.annotations as { text: string; x: number }[];
  assert.equal(notes.length, 1);
  assert.equal(notes[0].text, 'wild: above 11 from step 1, NaN/inf from step 3');
  assert.equal(notes[0].x, 1);
});

test('runCurves: no clip when every run stays in range; a NaN inside the range is noted at the last finite point', () => {
  const fig = hl.runCurves([{ name: 'a', y: [2, 1, NaN], x: [10, 20, 30] }, { name: 'b', y: [2, 1.5, 1] }], { xLabel: 'epoch' });
  assert.equal(fig.layout.yaxis!.range, undefined);
  const [note] = fig.layout.annotations as { text: string; x: number; y: number }[];
  assert.equal(note.text, 'a: NaN/inf from epoch 30');
  assert.deepEqual([note.x, note.y], [20, 1]);
  assert.equal(fig.data[0].mode, 'lines');
  assert.equal(hl.runCurves({ a: [1, 2] }, { markers: true }).data[0].mode, 'lines+markers');
  assert.throws(() => hl.runCurves([{ name: 'a', y: [1, 2], x: [1] }]), /'a' has 1 x values for 2 y values/);
});

test('lossSurface: the shortest path is drawn last (on top), thick lines and markers, legend in the order given', () => {
  const fig = hl.lossSurface((x, y) => x * x + 10 * y * y, [
    { name: 'tiny', points: [[-4, 1], [-3.99, 0.98]] },
    { name: 'long', points: [[-4, 1], [0, 0]] },
  ], { resolution: 3 });
  assert.deepEqual(fig.data.slice(1).map((t) => t.name), ['long', 'tiny']);
  assert.deepEqual(fig.data.slice(1).map((t) => t.legendrank), [1001, 1000]);
  assert.equal((fig.data[2].line as { width: number }).width, 3);
});

/** A finder result shaped like lrFind's: flat, a fall, then a rise to 4x the best. */
function fakeFind(): LrFindResult {
  const lrs = Array.from({ length: 60 }, (_, i) => 1e-7 * 10 ** (i / 6));
  const losses = lrs.map((_, i) => (i < 30 ? 2 : i < 45 ? 2 - (i - 30) * 0.12 : 0.2 + (i - 45) * 0.3));
  losses[59] = 40;
  const point = { lr: lrs[40], loss: losses[40] };
  return {
    lrs, losses, rawLosses: losses, numIt: 100, stopReason: 'diverged',
    suggestions: { valley: lrs[40], minimum: lrs[44] / 10, steep: lrs[31], slide: lrs[41],
      points: { valley: point, minimum: point, steep: point, slide: point } },
  };
}

test('lrFinderPlot: log x, fastai skips (10 at the start, 5 at the end), y range ends above the loss before its fall', () => {
  const found = fakeFind();
  const fig = hl.lrFinderPlot(found);
  const [curve, valley] = fig.data;
  assert.equal(curve.x!.length, 60 - 10 - 5);
  assert.equal(curve.x![0], found.lrs[10]);
  assert.equal(fig.layout.xaxis!.type, 'log');
  const [lo, hi] = fig.layout.yaxis!.range as number[];
  assert.ok(Math.abs(hi - 2.18) < 1e-9 && Math.abs(lo - 0.02) < 1e-9, `range [${lo}, ${hi}]`); // best 0.2, start 2, pad 10%
  assert.ok(Math.max(...(curve.y as number[])) > hi, 'the rise at the end leaves through the top');
  assert.match(valley.name!, /^valley /);
  assert.match((fig.layout.annotations as { text: string }[])[0].text, /passed 4× its best.*first 10 and last 5 steps not drawn/);
  assert.equal(hl.lrFinderPlot(found, { suggestions: ['valley', 'steep'], skipStart: 0 }).data.length, 3);
  assert.throws(() => hl.lrFinderPlot(found, { skipStart: 50, skipEnd: 9 }), /leave fewer than 2 of the 60 steps/);
});
