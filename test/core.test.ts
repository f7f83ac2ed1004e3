/** Parity with PyTorch for Linear, the activations and containers; Module mechanics. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as hl from '../lib';
import { tf } from '../lib';
import { assertClose, F32, fromFixture, loadFixture, loadTorchState, testOnBackends } from './helpers';

const fx = loadFixture('core');

/** Run y = layer(x), backward of sum(y * dy), compare y, dx and parameter grads with PyTorch. */
function checkLayer(layer: hl.Module, c: any, where: string, tol = F32): void {
  if (Object.keys(c.state).length) loadTorchState(layer, c.state);
  const x = new hl.Parameter(fromFixture(c.x));
  const dy = fromFixture(c.dy);
  const before = tf.memory().numTensors;
  const y = layer.forward(x);
  assertClose(y, c.y, tol, `${where} forward`);
  y.dispose();
  hl.backward(() => tf.sum(tf.mul(layer.forward(x), dy)));
  assertClose(x.grad!, c.dx, tol, `${where} dL/dx`);
  for (const [name, p] of layer.namedParameters()) assertClose(p.grad!, c.grads[name], tol, `${where} grad of ${name}`);
  layer.zeroGrad();
  x.dispose();
  assert.equal(tf.memory().numTensors, before - 1, `${where}: tensors leaked`);
  dy.dispose();
  layer.dispose();
}

testOnBackends('Linear forward and gradients match PyTorch', () => {
  checkLayer(new hl.Linear(5, 3), fx.linear, 'Linear(5,3)');
  checkLayer(new hl.Linear(5, 3), fx.linear_3d, 'Linear(5,3) on 3-D input');
  checkLayer(new hl.Linear(5, 3, false), fx.linear_nobias, 'Linear(5,3,bias=false)');
});

testOnBackends('activations forward and gradients match PyTorch (including x = 0 and x = -1)', () => {
  const make: Record<string, () => hl.Module> = {
    relu: () => new hl.ReLU(),
    'leakyrelu_0.05': () => new hl.LeakyReLU(0.05),
    leakyrelu_default: () => new hl.LeakyReLU(),
    prelu: () => new hl.PReLU(),
    elu: () => new hl.ELU(),
    'elu_0.5': () => new hl.ELU(0.5),
    selu: () => new hl.SELU(),
    tanh: () => new hl.Tanh(),
    sigmoid: () => new hl.Sigmoid(),
    softmax: () => new hl.Softmax(-1),
    softmax_dim0: () => new hl.Softmax(0),
  };
  for (const [name, f] of Object.entries(make)) checkLayer(f(), fx.activations[name], name);
  checkLayer(new hl.PReLU(3), fx.prelu_channels, 'PReLU(3) per channel');
});

testOnBackends('softmax temperature is softmax(x / T)', () => {
  const x = fromFixture(fx.softmax_temperature_x);
  for (const t of ['0.5', '1', '5']) {
    const y = new hl.Softmax(-1, Number(t)).forward(x);
    assertClose(y, fx.softmax_temperature[t === '1' ? '1.0' : t === '5' ? '5.0' : t], F32, `softmax T=${t}`);
    y.dispose();
  }
  x.dispose();
});

test('activations by XANESNET name, with a helpful error for a bad one', () => {
  for (const n of ['prelu', 'relu', 'tanh', 'sigmoid', 'elu', 'leakyrelu', 'selu']) {
    assert.ok(hl.getActivation(n) instanceof hl.Module, n);
  }
  assert.ok(hl.getActivation('prelu') !== hl.getActivation('prelu'), 'fresh instance per call');
  assert.throws(() => hl.getActivation('relu6'), /unknown activation 'relu6'; use one of: relu, prelu/);
});

test('parameter names and counts of nested models match PyTorch', () => {
  const m1 = new hl.Sequential(new hl.Linear(8, 4), new hl.Linear(4, 2));
  const m2 = new hl.Sequential(new hl.Linear(10, 20), new hl.PReLU(), new hl.Sequential(new hl.Linear(20, 5), new hl.Tanh(), new hl.Linear(5, 1)));
  for (const [m, c] of [
    [m1, fx.counts.seq_8_4_2],
    [m2, fx.counts.nested],
  ] as const) {
    assert.deepEqual(
      [...m.namedParameters()].map(([n]) => n),
      c.names,
    );
    assert.equal(
      m.parameters().reduce((s, p) => s + p.size, 0),
      c.total,
    );
    m.dispose();
  }
  assert.equal(fx.counts.seq_8_4_2.total, 4 * (8 + 1) + 2 * (4 + 1));
});

testOnBackends('five gradient steps on a two-layer net follow PyTorch', () => {
  const net = new hl.Sequential(new hl.Linear(6, 8), new hl.ReLU(), new hl.Linear(8, 2));
  loadTorchState(net, fx.mlp_state);
  const x = fromFixture(fx.mlp_train.x);
  const y = fromFixture(fx.mlp_train.y);
  const before = tf.memory().numTensors;
  for (let step = 0; step < 5; step++) {
    net.zeroGrad();
    const loss = hl.backward(() => tf.mean(tf.square(tf.sub(net.forward(x), y))));
    assertClose(loss, fx.mlp_train.losses[step], { rtol: 1e-5, atol: 1e-6 }, `loss at step ${step}`);
    hl.noGrad(() => {
      for (const p of net.parameters()) {
        const next = tf.tidy(() => tf.sub(p, tf.mul(0.1, p.grad!)));
        p.copy_(next);
        next.dispose();
      }
    });
  }
  net.zeroGrad();
  assert.equal(tf.memory().numTensors, before, 'tensor count is flat across the training loop');
  for (const [k, v] of Object.entries(net.stateDict())) assertClose(v, fx.mlp_train.final[k], F32, `final ${k}`);
  tf.dispose([x, y]);
  net.dispose();
});

testOnBackends('freezing: a frozen parameter gets no gradient; unfreezing restores it', () => {
  const net = new hl.Sequential(new hl.Linear(3, 4), new hl.ReLU(), new hl.Linear(4, 1));
  const x = tf.ones([2, 3]);
  net[0].requiresGrad = false;
  assert.equal(net.requiresGrad, false);
  hl.backward(() => tf.sum(net.forward(x)));
  const grads = Object.fromEntries([...net.namedParameters()].map(([n, p]) => [n, p.grad]));
  assert.equal(grads['0.weight'], null);
  assert.equal(grads['0.bias'], null);
  assert.ok(grads['2.weight'] !== null);
  net.zeroGrad();
  net.requiresGrad_(false);
  assert.throws(() => hl.backward(() => tf.sum(net.forward(x))), /does not depend on any Parameter with requiresGrad = true/);
  net.requiresGrad_(true);
  hl.backward(() => tf.sum(net.forward(x)));
  assert.ok(net.parameters().every((p) => p.grad !== null));
  net.dispose();
  x.dispose();
});

testOnBackends('autograd basics: y = 2x, gradients accumulate, noGrad and detach stop them', () => {
  const x = hl.tensor([1, 2, 3], { requiresGrad: true }) as hl.Parameter;
  assert.equal(
    hl.backward(() => tf.sum(tf.mul(x, 2))),
    12,
  );
  assert.deepEqual(Array.from(x.grad!.dataSync()), [2, 2, 2]);
  hl.backward(() => tf.sum(tf.mul(x, 2)));
  assert.deepEqual(Array.from(x.grad!.dataSync()), [4, 4, 4], 'accumulates like PyTorch');
  x.zeroGrad();
  hl.backward(() =>
    tf.sum(
      tf.add(
        tf.mul(x, x),
        hl.noGrad(() => tf.mul(x, 100)),
      ),
    ),
  );
  assert.deepEqual(Array.from(x.grad!.dataSync()), [2, 4, 6], 'the noGrad part is a constant');
  x.zeroGrad();
  hl.backward(() => tf.sum(tf.mul(x, hl.detach(x))));
  assert.deepEqual(Array.from(x.grad!.dataSync()), [1, 2, 3]);
  assert.throws(() => hl.backward(() => tf.mul(x, 2)), /must return a scalar/);
  x.dispose();
});

test('state dict: PyTorch keys, a shape mismatch names the key and both shapes, bad input changes nothing', () => {
  const net = new hl.Sequential(new hl.Linear(3, 4), new hl.Linear(4, 2));
  assert.deepEqual(Object.keys(net.stateDict()), ['0.weight', '0.bias', '1.weight', '1.bias']);
  const before = Array.from(net[0].stateDict().weight.dataSync());
  const bad = { '0.weight': tf.zeros([4, 3]), '0.bias': tf.zeros([4]), '1.weight': tf.zeros([3, 4]), '1.bias': tf.zeros([2]) };
  assert.throws(() => net.loadStateDict(bad), /size mismatch for '1\.weight': the state dict has shape \[3,4\], the model expects \[2,4\]/);
  assert.deepEqual(Array.from(net[0].stateDict().weight.dataSync()), before, 'nothing was changed');
  const missing = { '0.weight': bad['0.weight'] };
  assert.throws(() => net.loadStateDict(missing), /missing keys \[0\.bias, 1\.weight, 1\.bias\]/);
  assert.deepEqual(net.loadStateDict(missing, false).missingKeys, ['0.bias', '1.weight', '1.bias']);
  tf.dispose(Object.values(bad));
  net.dispose();
});

test('train() and eval() reach every sub-module', () => {
  const net = new hl.Sequential(new hl.Linear(3, 4), new hl.Dropout(0.5), new hl.Sequential(new hl.Dropout(0.2)));
  net.eval();
  assert.ok([...net.modules()].every((m) => !m.training));
  net.train();
  assert.ok([...net.modules()].every((m) => m.training));
  net.dispose();
});

test('Dropout: seeded masks, scaling by 1/(1-p), identity in eval', async () => {
  await hl.useBackend('cpu');
  const d = new hl.Dropout(0.25);
  const x = tf.ones([1000]);
  hl.manualSeed(5);
  const a = d.forward(x);
  hl.manualSeed(5);
  const b = d.forward(x);
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()), 'same seed, same mask');
  const vals = Array.from(a.dataSync());
  assert.ok(vals.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6));
  const zeros = vals.filter((v) => v === 0).length;
  assert.ok(zeros > 200 && zeros < 300, `about 25% dropped, got ${zeros}`);
  d.eval();
  const c = d.forward(x);
  assert.deepEqual(Array.from(c.dataSync()), Array.from(x.dataSync()));
  tf.dispose([a, b, c, x]);
});
