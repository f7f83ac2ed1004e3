/** activationsPlot (several activations, f and f' in two panels) and groupedBars. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as hl from '../lib';
import { tf } from '../lib';

test("activationsPlot: f left, f' right, one colour per activation, later curves thinner and dashed", () => {
  hl.resetRunColors();
  const before = tf.memory().numTensors;
  const fig = hl.activationsPlot(['relu', new hl.LeakyReLU(0.05)], { range: [-2, 2], points: 5, names: ['ReLU', 'leaky'] });
  assert.equal(tf.memory().numTensors - before, 0, "no tensor left behind (the LeakyReLU module is the caller's)");
  assert.equal(fig.data.length, 4);
  const [reluF, reluD, leakyF, leakyD] = fig.data;
  assert.deepEqual(reluF.y, [0, 0, 0, 1, 2]);
  assert.deepEqual(reluD.y, [0, 0, 0, 1, 1]);
  assert.deepEqual(
    leakyF.y!.map((v) => +v!.toFixed(6)),
    [-0.1, -0.05, 0, 1, 2],
  );
  assert.deepEqual(
    leakyD.y!.map((v) => +v!.toFixed(6)),
    [0.05, 0.05, 0.05, 1, 1],
  );
  assert.equal(reluD.xaxis, 'x2', 'the gradient goes to the right panel');
  assert.equal(reluD.showlegend, false, 'one legend entry per activation');
  const line = (t: hl.Trace) => t.line as { color: string; dash: string; width: number };
  assert.equal(line(reluF).color, hl.runColor('ReLU'));
  assert.notEqual(line(reluF).color, line(leakyF).color);
  assert.ok(line(leakyF).width < line(reluF).width && line(leakyF).dash !== line(reluF).dash, 'the second curve shows on the first');
  assert.throws(() => hl.activationsPlot(['relu'], { names: ['a', 'b'] }), /2 names for 1 activations/);
  assert.throws(() => hl.activationsPlot([]), /expected a list of activations/);
});

test('groupedBars: a series per name in its run colour, categories as x, bad input named', () => {
  hl.resetRunColors();
  const fig = hl.groupedBars({ 'T = 1': [0.66, 0.24, 0.1], 'T = 5': [0.4, 0.33, NaN] }, { xLabel: 'class' });
  assert.deepEqual(
    fig.data.map((t) => t.name),
    ['T = 1', 'T = 5'],
  );
  assert.deepEqual(fig.data[0].x, ['0', '1', '2']);
  assert.deepEqual(fig.data[1].y, [0.4, 0.33, null]);
  assert.equal((fig.data[1].marker as { color: string }).color, hl.runColor('T = 5'));
  assert.equal(fig.layout.barmode, 'group');
  assert.throws(() => hl.groupedBars({ a: [1, 2], b: [1] }), /'b' must have 2 values/);
  assert.throws(() => hl.groupedBars({ a: [1, 2] }, { categories: ['x'] }), /1 categories for 2 values/);
});
