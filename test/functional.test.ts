/** hl.F (torch.nn.functional): the layers as functions, against PyTorch's numbers, on every backend. */
import { strict as assert } from 'node:assert';
import * as hl from '../lib';
import { tf } from '../lib';
import { assertClose, F32, fromFixture, loadFixture, testOnBackends } from './helpers';

const fx = loadFixture('core');

testOnBackends('F.linear: y = x W^T + b and its input gradient as PyTorch, for 2-d, 3-d and bias-free inputs', () => {
  for (const name of ['linear', 'linear_3d', 'linear_nobias']) {
    const c = fx[name];
    const before = tf.memory().numTensors;
    const w = fromFixture(c.state.weight);
    const b = c.state.bias ? fromFixture(c.state.bias) : null;
    const xData = fromFixture(c.x);
    const x = new hl.Parameter(xData); // shares xData's values: both are freed below
    const dy = fromFixture(c.dy);
    const y = hl.F.linear(x, w, b);
    assertClose(y, c.y, F32, `${name} forward`);
    hl.backward(() => tf.sum(tf.mul(hl.F.linear(x, w, b), dy)));
    assertClose(x.grad!, c.dx, F32, `${name} dL/dx`);
    tf.dispose([w, ...(b ? [b] : []), xData, x, dy, y]);
    assert.equal(tf.memory().numTensors, before, `${name}: no tensor leaked`);
  }
  const w = tf.zeros([3, 5]);
  assert.throws(() => hl.F.linear(tf.zeros([2, 4]), w), /F.linear: input \[2,4\] has 4 features .* expects \[out, in\] with in = 4/);
  w.dispose();
});

testOnBackends('F activations match PyTorch (relu, leaky_relu, prelu, elu, selu, tanh, sigmoid, softmax) and the layers are these calls', () => {
  const a = fx.activations;
  const cases: [string, (x: tf.Tensor) => tf.Tensor, hl.Module][] = [
    ['relu', (x) => hl.F.relu(x), new hl.ReLU()],
    ['leakyrelu_0.05', (x) => hl.F.leakyRelu(x, 0.05), new hl.LeakyReLU(0.05)],
    ['leakyrelu_default', (x) => hl.F.leakyRelu(x), new hl.LeakyReLU()],
    ['elu', (x) => hl.F.elu(x), new hl.ELU()],
    ['elu_0.5', (x) => hl.F.elu(x, 0.5), new hl.ELU(0.5)],
    ['selu', (x) => hl.F.selu(x), new hl.SELU()],
    ['tanh', (x) => hl.F.tanh(x), new hl.Tanh()],
    ['sigmoid', (x) => hl.F.sigmoid(x), new hl.Sigmoid()],
    ['softmax', (x) => hl.F.softmax(x), new hl.Softmax()],
    ['softmax_dim0', (x) => hl.F.softmax(x, 0), new hl.Softmax(0)],
  ];
  for (const [name, f, layer] of cases) {
    const x = fromFixture(a[name].x);
    const y = f(x);
    const z = layer.forward(x);
    assertClose(y, a[name].y, F32, `F ${name}`);
    assert.deepEqual(Array.from(z.dataSync()), Array.from(y.dataSync()), `${name}: the layer's forward is the F call`);
    tf.dispose([x, y, z]);
  }
  const p = fx.prelu_channels;
  const x = fromFixture(p.x);
  const w = fromFixture(p.state.weight);
  const y = hl.F.prelu(x, w);
  assertClose(y, p.y, F32, 'F.prelu per channel');
  tf.dispose([x, w, y]);
});
