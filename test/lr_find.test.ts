/** fastai's lr_find: the exponential sweep, the smoothed loss, divergence, suggestions, and a full restore. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as hl from '../lib';
import { tf } from '../lib';
import { LRFinder, lrFind, lrSuggestions } from '../lib/tune/lr_find';
import { Trainer } from '../lib/train/trainer';
import { supervised } from '../lib/train/task';

/** y = 3 x0 - 2 x1 + 1 + noise as a shuffled DataLoader (its own generator: lrFind must restore it). */
function loader(n: number, batchSize: number, seed: number) {
  const g = new hl.Generator(seed);
  const x = Float32Array.from(g.normalArray(n * 2));
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) y[i] = 3 * x[2 * i] - 2 * x[2 * i + 1] + 1 + 0.1 * g.normal();
  const ds = new hl.ArrayDataset({ x: { data: x, shape: [n, 2] }, y: { data: y, shape: [n, 1] } });
  return new hl.DataLoader(ds, { batchSize, shuffle: true, seed });
}

const values = (ts: Record<string, tf.Tensor>) => Object.fromEntries(Object.entries(ts).map(([k, t]) => [k, Array.from(t.dataSync())]));

test('lrFind: exponential lrs, debiased smooth loss, stop at divergence, and everything restored', async () => {
  await hl.useBackend('cpu');
  hl.manualSeed(1);
  const model = new hl.Sequential(new hl.Linear(2, 8), new hl.BatchNorm1d(8), new hl.Tanh(), new hl.Linear(8, 1));
  const optimizer = new hl.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const loss = hl.getLoss('mse');
  const data = loader(112, 16, 5); // 7 batches: 100 steps go round the data 15 times
  // Some training first, so there are momentum buffers and moved BatchNorm statistics to restore.
  const task = supervised({ model, optimizer, loss });
  for (const b of data) {
    task.trainStep(b);
    tf.dispose(Object.values(b));
  }
  model.eval();
  model.zeroGrad();
  const before = {
    state: values(model.stateDict()),
    optimizer: JSON.stringify(optimizer.stateDict()),
    rng: JSON.stringify(hl.defaultGenerator.getState()),
    loader: JSON.stringify(data.getState()),
    tensors: tf.memory().numTensors,
  };

  const r = await lrFind({ model, optimizer, loss, data });

  // fastai's SchedExp at step i of numIt = 100.
  r.lrs.forEach((lr, i) => assert.ok(Math.abs(lr - 1e-7 * (10 / 1e-7) ** (i / 100)) <= 1e-12 * lr, `lr ${i}`));
  // The smooth loss, recomputed from the raw losses.
  let avg = 0;
  r.rawLosses.forEach((l, i) => {
    avg = 0.98 * avg + 0.02 * l;
    assert.ok(Math.abs(r.losses[i] - avg / (1 - 0.98 ** (i + 1))) <= 1e-9 * Math.abs(r.losses[i]), `smooth ${i}`);
  });
  assert.ok(['diverged', 'nan'].includes(r.stopReason), `SGD up to lr 10 diverges (stopped: ${r.stopReason})`);
  assert.ok(r.lrs.length > 20 && r.lrs.length < 100, `stopped early at ${r.lrs.length} steps`);
  const last = r.losses[r.losses.length - 1];
  assert.ok(!Number.isFinite(last) || last > 4 * Math.min(...r.losses.slice(0, -1)), 'the last point is the divergent one');
  for (const k of ['valley', 'minimum', 'steep'] as const) {
    const v = r.suggestions[k];
    assert.ok(v >= r.lrs[0] && v <= r.lrs[r.lrs.length - 1], `${k} suggestion ${v} lies on the curve`);
  }
  assert.equal(r.suggestions.valley, r.suggestions.points.valley.lr);

  // Nothing changed: weights, BatchNorm buffers, optimizer (lr, momentum buffers), rng, loader, modes, tensors.
  assert.deepEqual(values(model.stateDict()), before.state);
  assert.equal(JSON.stringify(optimizer.stateDict()), before.optimizer);
  assert.equal(JSON.stringify(hl.defaultGenerator.getState()), before.rng);
  assert.equal(JSON.stringify(data.getState()), before.loader);
  assert.ok(
    [...model.modules()].every((m) => !m.training),
    'eval mode restored',
  );
  assert.equal(tf.memory().numTensors, before.tensors, 'no tensor leaked');
  optimizer.dispose();
  model.dispose();
});

test('lrFind: sweeps past one epoch, keeps group lr ratios, raises numIt to 6, clear errors', async () => {
  await hl.useBackend('cpu');
  hl.manualSeed(2);
  const model = new hl.Sequential(new hl.Linear(2, 4), new hl.Tanh(), new hl.Linear(4, 1));
  const [body, head] = [model[0].parameters(), model[2].parameters()];
  const optimizer = new hl.Adam([
    { params: body, lr: 1e-3 },
    { params: head, lr: 1e-2 },
  ]);
  const seen: number[][] = [];
  const step = optimizer.step.bind(optimizer);
  optimizer.step = () => (seen.push(hl.getLr(optimizer)), step());
  const before = tf.memory().numTensors;
  const r = await lrFind({ model, optimizer, loss: hl.getLoss('mse'), data: loader(48, 16, 1), numIt: 10, endLr: 1e-2, stopDiv: false });
  assert.equal(r.lrs.length, 10, '10 steps over 3 batches per epoch');
  assert.equal(r.stopReason, 'numIt');
  seen.forEach(([g0, g1], i) => {
    assert.ok(Math.abs(g1 - r.lrs[i]) <= 1e-15, 'the head (last group) gets the recorded lr');
    assert.ok(Math.abs(g0 / g1 - 0.1) < 1e-12, 'the body keeps its 1:10 ratio');
  });
  assert.deepEqual(hl.getLr(optimizer), [1e-3, 1e-2], 'lrs restored');
  assert.equal(tf.memory().numTensors, before);

  const short = await lrFind({ model, optimizer, loss: hl.getLoss('mse'), data: loader(48, 16, 1), numIt: 3, stopDiv: false });
  assert.equal(short.lrs.length, 6, 'fastai: num_it < 6 becomes 6');
  // 6 points, [0 : -5] leaves one: valley and minimum use it, steep needs two (NaN, not a crash).
  assert.equal(short.suggestions.valley, short.lrs[0]);
  assert.ok(Number.isNaN(short.suggestions.steep));

  await assert.rejects(lrFind({ model, optimizer, data: [] } as any), /give \{ task \}/);
  await assert.rejects(lrFind({ model, optimizer, loss: hl.getLoss('mse'), data: [] }), /gave no batches/);
  await assert.rejects(lrFind({ model, optimizer, loss: hl.getLoss('mse'), data: [], startLr: [1e-7] }), /1 startLr .* for 2 parameter groups/);
  optimizer.dispose();
  model.dispose();
});

test('LRFinder is a callback on Trainer.fit: attached by hand it gives the curve lrFind gives (lrFind restores the start)', async () => {
  await hl.useBackend('cpu');
  hl.manualSeed(3);
  const model = new hl.Sequential(new hl.Linear(2, 4), new hl.Tanh(), new hl.Linear(4, 1));
  const optimizer = new hl.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const loss = hl.getLoss('mse');
  const data = loader(48, 16, 4);
  const r = await lrFind({ model, optimizer, loss, data, numIt: 12, stopDiv: false });
  const finder = new LRFinder({ numIt: 12, stopDiv: false });
  const trainer = new Trainer({ task: supervised({ model, optimizer, loss }), callbacks: [finder] });
  await trainer.fit(data, { epochs: 12 });
  assert.deepEqual(finder.lrs, r.lrs);
  assert.deepEqual(finder.rawLosses, r.rawLosses);
  assert.deepEqual(finder.losses, r.losses);
  assert.equal(trainer.globalStep, 12, '12 steps over 3 batches per epoch, then the finder stops the fit');
  assert.equal(trainer.stopped?.kind, 'requested');
  optimizer.dispose();
  model.dispose();
});

test("lrSuggestions: valley, minimum, steep and slide match fastai's functions on a recorded curve", () => {
  // A curve of 93 recorded points of a 100-step sweep with a NaN at point 88. The expected
  // values come from fastai 2.7's valley/minimum/steep/slide run (float64) on the same
  // numbers, after lr_find's slicing [num_it//10 : -5] and cut at the first NaN.
  const numIt = 100;
  const lrs = Array.from({ length: 93 }, (_, i) => 1e-7 * (10 / 1e-7) ** (i / numIt));
  const losses = lrs.map((lr, i) => {
    const x = Math.log10(lr);
    return 2 - 1.2 / (1 + Math.exp(-(x + 3.5) * 2)) + 0.03 * Math.sin(i * 1.7) + (i > 70 ? 0.002 * (i - 70) ** 2 : 0);
  });
  losses[88] = NaN;
  const s = lrSuggestions(lrs, losses, numIt);
  const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-9 * Math.abs(b), `${what}: ${a} vs fastai ${b}`);
  close(s.valley, 0.001737800828749376, 'valley');
  close(s.points.valley.loss, 1.047856833672171, 'valley loss');
  close(s.minimum, 0.003311311214825908, 'minimum');
  close(s.points.minimum.lr, 0.03311311214825908, 'minimum point');
  close(s.steep, 0.00022908676527677726, 'steep');
  close(s.points.steep.loss, 1.5061246754992574, 'steep loss');
  close(s.slide, 0.00013182567385564074, 'slide');
  close(s.points.slide.loss, 1.6080010412755361, 'slide loss');
});
