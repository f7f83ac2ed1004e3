/** The plotly figure builders (lib/plot) and the HTML that draws them (lib/notebook/plotly_html). */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as hl from '../lib';
import { tf } from '../lib';
import { figureHtml, figureJson, plotlyLibraryHtml, PLOTLY_MARKER } from '../lib/notebook/plotly_html';
import { histogram } from '../lib/plot/weights';

/** Run `body` and check it leaves no tensor behind. */
function noLeak<T>(body: () => T): T {
  const before = tf.memory().numTensors;
  const out = body();
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  return out;
}

test('lossCurves: train solid, validation dashed in the same colour, epochs from 1, NaN as gaps', () => {
  const fig = hl.lossCurves({ epoch: [0, 1, 2], loss: [1, 0.5, 0.25], val_loss: [NaN, 0.6, 0.4], lr: [0.1, 0.1, 0.1] });
  assert.deepEqual(
    fig.data.map((t) => t.name),
    ['loss', 'val_loss'],
  );
  const [train, val] = fig.data;
  assert.deepEqual(train.x, [1, 2, 3]);
  assert.deepEqual(val.y, [null, 0.6, 0.4]);
  assert.equal((train.line as any).color, (val.line as any).color);
  assert.equal((val.line as any).dash, 'dash');
  assert.equal(hl.lossCurves({ loss: [1, 0.1] }, { logY: true }).layout.yaxis?.type, 'log');
  assert.throws(() => hl.lossCurves({ loss: [1] }, { keys: ['mae'] }), /no 'mae'.*it has: loss/);
});

test('lrSchedule: the value at each step, several schedules side by side', () => {
  const fig = hl.lrSchedule({ step: (t) => (t < 2 ? 0.1 : 0.01), constant: () => 0.05 }, 4);
  assert.deepEqual(fig.data[0].x, [0, 1, 2, 3]);
  assert.deepEqual(fig.data[0].y, [0.1, 0.1, 0.01, 0.01]);
  assert.equal(fig.data[1].name, 'constant');
  assert.throws(() => hl.lrSchedule(() => NaN, 3), /gave NaN at step 0/);
  assert.throws(() => hl.lrSchedule(() => 1, 0), /steps must be/);
});

test('activationPlot: values and gradients through backward(), by name, module or function, no leaks', () => {
  const relu = noLeak(() => hl.activationValues('relu', [-1, 0.5, 2]));
  assert.deepEqual(relu.y, [0, 0.5, 2]);
  assert.deepEqual(relu.dy, [0, 1, 1]);
  const tanh = noLeak(() => hl.activationValues(new hl.Tanh(), [0]));
  assert.ok(Math.abs(tanh.dy[0] - 1) < 1e-6);
  const square = noLeak(() => hl.activationValues((x) => tf.square(x), [3]));
  assert.ok(Math.abs(square.dy[0] - 6) < 1e-5);
  // PReLU's own slope must not collect a gradient, and stays trainable.
  const prelu = new hl.PReLU();
  noLeak(() => hl.activationValues(prelu, [-1, 1]));
  assert.equal(prelu.weight.grad, null);
  assert.equal(prelu.weight.requiresGrad, true);
  prelu.dispose();

  const fig = noLeak(() => hl.activationPlot('sigmoid', { range: [-2, 2], points: 5 }));
  assert.deepEqual(fig.data[0].x, [-2, -1, 0, 1, 2]);
  assert.ok(Math.abs((fig.data[1].y as number[])[2] - 0.25) < 1e-6, "sigmoid'(0) = 1/4");
  assert.throws(() => hl.activationPlot('nope'), /unknown activation 'nope'/);
});

test('weightHistogram: shared bins, fractions per parameter, no leaks', () => {
  hl.manualSeed(0);
  const model = new hl.Sequential(new hl.Linear(4, 8), new hl.ReLU(), new hl.Linear(8, 2));
  const fig = noLeak(() => hl.weightHistogram(model, { bins: 10 }));
  assert.equal(fig.data.length, 4);
  assert.equal(fig.data[0].name, '0.weight (32)');
  for (const t of fig.data) assert.ok(Math.abs((t.y as number[]).reduce((a, b) => a + b, 0) - 1) < 1e-9);
  assert.deepEqual(fig.data[0].x, fig.data[3].x);
  const weights = hl.weightHistogram(model, { include: (n) => n.endsWith('weight'), normalize: false });
  assert.equal(weights.data.length, 2);
  assert.equal(
    (weights.data[1].y as number[]).reduce((a, b) => a + b, 0),
    16,
  );
  assert.deepEqual(histogram([0, 0.5, 1, 1], 2, 0, 1), [1, 3]);
  model.dispose();
});

test('predictionsVsTargets: scatter with the y = x line and R², or series', () => {
  const pred = tf.tensor2d([[1], [2], [3]]);
  const fig = hl.predictionsVsTargets(pred, [1, 2, 4]);
  assert.deepEqual(fig.data[0].x, [1, 2, 4]);
  assert.deepEqual(fig.data[1].x, [1, 4]);
  assert.match(fig.layout.title!.text, /R² = 0\.786/);
  const series = hl.predictionsVsTargets([1, 2], [1, 3], { kind: 'series', x: [10, 20] });
  assert.deepEqual(series.data[0].x, [10, 20]);
  assert.throws(() => hl.predictionsVsTargets([1, 2], [1]), /2 predictions but 1 targets/);
  pred.dispose();
});

test('lossSurface: a contour grid (rows along y) and one trace per optimizer path', () => {
  const f = (x: number, y: number) => x * x + 10 * y * y;
  const fig = hl.lossSurface(
    f,
    [
      {
        name: 'SGD',
        points: [
          [1, 1],
          [0.5, 0.2],
          [0, 0],
        ],
      },
    ],
    { xRange: [-1, 1], yRange: [0, 2], resolution: 3 },
  );
  const [contour, path] = fig.data;
  assert.equal(contour.type, 'contour');
  assert.deepEqual(contour.x, [-1, 0, 1]);
  assert.deepEqual(contour.z![2], [41, 40, 41]); // y = 2
  assert.equal(path.name, 'SGD');
  assert.deepEqual(path.y, [1, 0.2, 0]);
  const logged = hl.lossSurface(f, [], { logZ: true, resolution: 3, xRange: [0, 1], yRange: [0, 1] });
  assert.equal(logged.data[0].z![0][0], null, 'log10(0) is a gap');
  assert.throws(() => hl.lossSurface(f, [{ name: 'bad', points: [[1, 2, 3]] as any }]), /'bad' must have points as \[x, y\] pairs/);
});

test('figure HTML: safe JSON inside <script>, a div per figure, plotly.js inlined with its marker', () => {
  const fig: hl.Figure = { data: [{ type: 'scatter', name: '</script><b>', y: [NaN, 1] }], layout: {} };
  assert.ok(!figureJson(fig).includes('</script'));
  assert.match(figureJson(fig), /"y":\[null,1\]/);
  const html = figureHtml(fig);
  assert.equal(html.match(/<\/script>/g)!.length, 1);
  assert.match(html, /class="hyperlab-plot"/);
  const lib = plotlyLibraryHtml();
  assert.ok(lib.startsWith(PLOTLY_MARKER));
  assert.ok(lib.length > 1e6 && lib.includes('Plotly'));
});
