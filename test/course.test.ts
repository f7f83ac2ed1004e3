/** The course's small nets: PyTorch names, counts and outputs; they learn a real table. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as hl from '../lib';
import { tf } from '../lib';
import { assertClose, F32, fromFixture, loadFixture, loadTorchState, testOnBackends } from './helpers';

const fx = loadFixture('course');

testOnBackends('TwoLayerNet and SimpleNN match PyTorch: names, counts, forward', () => {
  assert.equal(
    new hl.TwoLayerNet(1000, 100, 10).parameters().reduce((s, p) => s + p.size, 0),
    fx.two_layer_net_big.total,
  );
  for (const [model, c] of [
    [new hl.TwoLayerNet(20, 12, 3), fx.two_layer_net],
    [new hl.SimpleNN(), fx.simple_nn],
  ] as const) {
    assert.deepEqual(
      [...model.namedParameters()].map(([n]) => n),
      c.names,
    );
    assert.equal(
      model.parameters().reduce((s, p) => s + p.size, 0),
      c.total,
    );
    loadTorchState(model, c.state);
    const x = fromFixture(c.x);
    const y = model.forward(x);
    assertClose(y, c.y, F32, `${model.constructor.name} forward`);
    tf.dispose([x, y]);
    model.dispose();
  }
});

test('SimpleNN learns the diabetes table (5 standardised features -> progression): the loss falls', async () => {
  await hl.useBackend('cpu');
  const t = hl.loadDiabetes();
  const n = t.nSamples;
  const cols = 5;
  const x = new Float32Array(n * cols);
  for (let i = 0; i < n; i++) for (let j = 0; j < cols; j++) x[i * cols + j] = t.x[i * t.nFeatures + j];
  const scaled = new hl.StandardScaler().fit({ data: x, shape: [n, cols] }).transform({ data: x, shape: [n, cols] }).data;
  const yMean = Array.from(t.y as ArrayLike<number>).reduce((a, b) => a + b, 0) / n;
  const y = Float32Array.from(t.y, (v) => (v - yMean) / 100);
  hl.manualSeed(1);
  const model = new hl.SimpleNN();
  const optimizer = new hl.Adam(model.parameters(), { lr: 0.01 });
  const loader = new hl.DataLoader(new hl.ArrayDataset({ x: { data: Float32Array.from(scaled), shape: [n, cols] }, y: { data: y, shape: [n, 1] } }), {
    batchSize: 32,
    shuffle: true,
    seed: 3,
  });
  const trainer = new hl.Trainer({ task: hl.supervised({ model, optimizer, loss: hl.getLoss('mse') }) });
  const h = await trainer.fit(loader, { epochs: 5 });
  assert.ok(h.loss[4] < 0.8 * h.loss[0], `the loss falls: ${h.loss[0]} -> ${h.loss[4]}`);
  model.dispose();
  optimizer.dispose();
});
