/**
 * Parity with PyTorch for Conv1d/Conv2d/ConvTranspose1d/2d, BatchNorm1d/2d and LSTM
 * (fixtures from test/parity/gen_layers.py), on the cpu and wasm backends.
 *
 * Tolerance: F32 (1e-5 relative, 1e-6 absolute) unless a check says otherwise.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as hl from '../lib';
import { tf } from '../lib';
import { conv2dNHWC, convTranspose2dNHWC } from '../lib/nn/conv_ops';
import { assertClose, F32, fromFixture, loadFixture, loadTorchState, testOnBackends, Tolerance } from './helpers';

const fx = loadFixture('layers');

/**
 * Gradients are sums of many products (a conv filter gradient adds N * OH * OW
 * terms; the LSTM's back-propagates through every step) and the summation order
 * differs from PyTorch's, so an element that cancels to near zero carries the
 * rounding of its large terms: an absolute floor of 1e-5 (values are O(1)-O(10)).
 */
const GRAD: Tolerance = { rtol: 1e-5, atol: 1e-5 };

type ConvCtor = new (i: number, o: number, k: hl.ConvSize, opts?: any) => hl.Module;
const convLayers: Record<string, ConvCtor> = {
  Conv1d: hl.Conv1d,
  Conv2d: hl.Conv2d,
  ConvTranspose1d: hl.ConvTranspose1d,
  ConvTranspose2d: hl.ConvTranspose2d,
};

/** y = layer(x), backward of sum(y * dy): compare y, dL/dx and parameter grads; the tensor count must not grow. */
function checkLayer(layer: hl.Module, c: any, where: string): void {
  loadTorchState(layer, c.state);
  assert.deepEqual(Object.keys(layer.stateDict()), c.keys, `${where}: state-dict keys`);
  const x = new hl.Parameter(fromFixture(c.x));
  const dy = fromFixture(c.dy);
  const y = layer.forward(x);
  assertClose(y, c.y, F32, `${where} forward`);
  y.dispose();
  const before = tf.memory().numTensors;
  for (let round = 0; round < 2; round++) {
    hl.backward(() => tf.sum(tf.mul(layer.forward(x), dy)));
    assertClose(x.grad!, c.dx, GRAD, `${where} dL/dx`);
    for (const [name, p] of layer.namedParameters()) assertClose(p.grad!, c.grads[name], GRAD, `${where} grad of ${name}`);
    layer.zeroGrad();
    x.zeroGrad();
    assert.equal(tf.memory().numTensors, before, `${where}: tensors leaked in forward + backward (round ${round})`);
  }
  tf.dispose([x, dy]);
  layer.dispose();
}

testOnBackends('Conv1d, Conv2d, ConvTranspose1d/2d: forward and gradients match PyTorch', () => {
  for (const [name, c] of Object.entries<any>(fx.conv)) {
    const [i, o, k] = c.args;
    checkLayer(new convLayers[c.layer](i, o, k, c.opts), c, `${name} (${c.layer})`);
  }
});

testOnBackends('BatchNorm1d/2d: training forward and gradients, running statistics after 2 steps, eval forward', () => {
  for (const [name, c] of Object.entries<any>(fx.batchnorm)) {
    const Layer = c.layer === 'BatchNorm1d' ? hl.BatchNorm1d : hl.BatchNorm2d;
    const bn = new Layer(c.num_features, c.opts);
    assert.deepEqual(Object.keys(bn.stateDict()), c.keys, `${name}: state-dict keys`);
    loadTorchState(bn, c.state);
    const [x1, x2, x3, dy] = [c.x1, c.x2, c.x3, c.dy].map(fromFixture);
    const x = new hl.Parameter(x1);
    // step 1: one forward inside backward (updates the running statistics once)
    let y1: tf.Tensor | null = null;
    hl.backward(() => {
      const y = bn.forward(x);
      y1 = tf.keep(y.clone());
      return tf.sum(tf.mul(y, dy));
    });
    assertClose(y1!, c.y1, F32, `${name} training forward`);
    assertClose(x.grad!, c.dx, GRAD, `${name} dL/dx`);
    for (const [p, param] of bn.namedParameters()) assertClose(param.grad!, c.grads[p], GRAD, `${name} grad of ${p}`);
    const stats = (after: any, step: number) => {
      for (const [k, v] of Object.entries<any>(after)) assertClose(bn.stateDict()[k], v, F32, `${name} ${k} after step ${step}`);
    };
    stats(c.state_after_1, 1);
    // step 2: a training forward without gradients
    const y2 = hl.noGrad(() => bn.forward(x2));
    assertClose(y2, c.y2, F32, `${name} training forward, step 2`);
    stats(c.state_after_2, 2);
    bn.eval();
    const y3 = bn.forward(x3);
    assertClose(y3, c.y_eval, F32, `${name} eval forward`);
    tf.dispose([x, x2, x3, dy, y1!, y2, y3]);
    bn.dispose();
  }
});

testOnBackends('BatchNorm2d: the tensor count is flat around forward + backward in training and eval', () => {
  const bn = new hl.BatchNorm2d(3);
  const x = tf.randomNormal([4, 3, 5, 5]);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    hl.backward(() => tf.sum(tf.square(bn.forward(x))));
    bn.zeroGrad();
  }
  bn.eval();
  hl.backward(() => tf.sum(tf.square(bn.forward(x))));
  bn.zeroGrad();
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  assert.equal(bn.getBuffer('num_batches_tracked').dataSync()[0], 3, 'three training batches tracked, none in eval');
  x.dispose();
  bn.dispose();
});

/** Run the LSTM on a fixture case: outputs, states and all gradients against PyTorch. */
function checkLSTM(name: string, c: any): void {
  const lstm = new hl.LSTM(c.args[0], c.args[1], c.opts);
  assert.deepEqual(Object.keys(lstm.stateDict()), c.keys, `${name}: state-dict keys`);
  loadTorchState(lstm, c.state);
  const x = new hl.Parameter(fromFixture(c.x));
  const h0 = c.h0 ? new hl.Parameter(fromFixture(c.h0)) : null;
  const c0 = c.c0 ? new hl.Parameter(fromFixture(c.c0)) : null;
  const state = (h0 && c0 ? [h0, c0] : undefined) as hl.LSTMState | undefined;
  const [dy, dh, dc] = [c.dy, c.dh, c.dc].map(fromFixture);
  const [y, [h, cc]] = lstm.forward(x, state);
  assertClose(y, c.y, F32, `${name} output`);
  assertClose(h, c.h, F32, `${name} h_n`);
  assertClose(cc, c.c, F32, `${name} c_n`);
  tf.dispose([y, h, cc]);
  const before = tf.memory().numTensors;
  hl.backward(() => {
    const [out, [hn, cn]] = lstm.forward(x, state);
    return tf.addN([tf.sum(tf.mul(out, dy)), tf.sum(tf.mul(hn, dh)), tf.sum(tf.mul(cn, dc))]);
  });
  assertClose(x.grad!, c.dx, GRAD, `${name} dL/dx`);
  if (h0) assertClose(h0.grad!, c.dh0, GRAD, `${name} dL/dh0`);
  if (c0) assertClose(c0.grad!, c.dc0, GRAD, `${name} dL/dc0`);
  for (const [p, param] of lstm.namedParameters()) assertClose(param.grad!, c.grads[p], GRAD, `${name} grad of ${p}`);
  lstm.zeroGrad();
  for (const t of [x, h0, c0]) t?.zeroGrad();
  assert.equal(tf.memory().numTensors, before, `${name}: tensors leaked in forward + backward`);
  tf.dispose([x, dy, dh, dc, ...(h0 ? [h0] : []), ...(c0 ? [c0] : [])]);
  lstm.dispose();
}

testOnBackends('LSTM: outputs, final states and gradients match PyTorch (1 and 2 layers, bidirectional, batchFirst, unbatched)', () => {
  for (const [name, c] of Object.entries<any>(fx.lstm)) checkLSTM(name, c);
});

testOnBackends('a small CNN (conv, batch norm, ReLU, conv, linear) follows PyTorch for 3 SGD steps', () => {
  const net = new hl.Sequential(
    new hl.Conv2d(2, 4, 4, { stride: 2, padding: 1 }),
    new hl.BatchNorm2d(4),
    new hl.ReLU(),
    new hl.Conv2d(4, 6, 4, { stride: 4 }),
    new hl.Flatten(),
    new hl.Linear(24, 3),
  );
  const c = fx.cnn_train;
  assert.deepEqual(Object.keys(net.stateDict()), c.keys, 'state-dict keys');
  loadTorchState(net, c.state);
  const x = fromFixture(c.x);
  const y = fromFixture(c.y);
  const before = tf.memory().numTensors;
  for (let step = 0; step < 3; step++) {
    net.zeroGrad();
    const loss = hl.backward(() => tf.mean(tf.square(tf.sub(net.forward(x), y))));
    assertClose(loss, c.losses[step], F32, `loss at step ${step}`);
    hl.noGrad(() => {
      for (const p of net.parameters()) {
        const next = tf.tidy(() => tf.sub(p, tf.mul(0.05, p.grad!)));
        p.copy_(next);
        next.dispose();
      }
    });
  }
  net.zeroGrad();
  assert.equal(tf.memory().numTensors, before, 'tensor count is flat across the training loop');
  for (const [k, v] of Object.entries(net.stateDict())) assertClose(v, c.final[k], GRAD, `final ${k}`);
  tf.dispose([x, y]);
  net.dispose();
});

test('default initialisation: PyTorch bounds, parameter shapes and state-dict keys', () => {
  hl.manualSeed(0);
  /** every value within +-bound, and the largest close to it (uniform draws) */
  const checkBound = (t: tf.Tensor, bound: number, where: string) => {
    const v = Array.from(t.dataSync());
    const max = Math.max(...v.map(Math.abs));
    assert.ok(max <= bound && max > 0.8 * bound, `${where}: max |value| ${max}, bound ${bound}`);
  };
  const c2 = new hl.Conv2d(3, 16, 4);
  assert.deepEqual(c2.weight.shape, [16, 3, 4, 4]);
  checkBound(c2.weight, 1 / Math.sqrt(3 * 16), 'Conv2d weight'); // fan_in = in * kh * kw
  checkBound(c2.bias!, 1 / Math.sqrt(3 * 16), 'Conv2d bias');
  const c1 = new hl.Conv1d(8, 5, 7, { bias: false });
  assert.deepEqual(c1.weight.shape, [5, 8, 7]);
  assert.equal(c1.bias, null);
  assert.deepEqual(Object.keys(c1.stateDict()), ['weight']);
  checkBound(c1.weight, 1 / Math.sqrt(8 * 7), 'Conv1d weight');
  const t1 = new hl.ConvTranspose1d(10, 4, 5);
  assert.deepEqual(t1.weight.shape, [10, 4, 5]);
  checkBound(t1.weight, 1 / Math.sqrt(4 * 5), 'ConvTranspose1d weight'); // PyTorch's fan_in: weight dim 1 (out) * k
  checkBound(t1.bias!, 1 / Math.sqrt(4 * 5), 'ConvTranspose1d bias');
  const bn = new hl.BatchNorm1d(6);
  assert.deepEqual(Object.keys(bn.stateDict()), ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
  assert.deepEqual(Array.from(bn.weight!.dataSync()), [1, 1, 1, 1, 1, 1]);
  assert.deepEqual(Array.from(bn.getBuffer('running_var').dataSync()), [1, 1, 1, 1, 1, 1]);
  const lstm = new hl.LSTM(3, 20, { numLayers: 2, bidirectional: true });
  for (const [n, p] of lstm.namedParameters()) checkBound(p, 1 / Math.sqrt(20), `LSTM ${n}`);
  assert.equal(lstm.parameters().length, 16);
  assert.equal(c2.toString(), 'Conv2d(3, 16, kernel_size=(4, 4), stride=(1, 1))');
  assert.equal(
    new hl.ConvTranspose1d(3, 4, 4, { stride: 2, padding: 1, outputPadding: 1, bias: false }).toString(),
    'ConvTranspose1d(3, 4, kernel_size=(4,), stride=(2,), padding=(1,), output_padding=(1,), bias=False)',
  );
  for (const m of [c2, c1, t1, bn, lstm]) m.dispose();
});

test('error messages name the layer, the shape that came and what was expected', async () => {
  await hl.useBackend('cpu');
  const x = tf.zeros([2, 4, 8, 8]);
  const conv = new hl.Conv2d(3, 16, 4, { stride: 2, padding: 1 });
  assert.throws(() => conv.forward(x), /Conv2d\(3, 16, kernel_size=\(4, 4\)\): input of shape \[2,4,8,8\] has 4 channels in dimension 1, expected 3/);
  assert.throws(
    () => conv.forward(tf.zeros([4, 8])),
    /Conv2d\(3, 16, kernel_size=\(4, 4\)\): expected a 4-D input \(N, C, H, W\) or an unbatched 3-D one, got shape \[4,8\]/,
  );
  assert.throws(() => conv.forward(tf.zeros([1, 3, 1, 1])), /padded input \(3 x 3\) is smaller than the \(dilated\) kernel \(4 x 4\)/);
  const c1 = new hl.Conv1d(2, 3, 3);
  assert.throws(
    () => c1.forward(tf.zeros([5, 4, 10])),
    /Conv1d\(2, 3, kernel_size=\(3,\)\): input of shape \[5,4,10\] has 4 channels in dimension 1, expected 2 \(layout \(N, C, L\)\)/,
  );
  assert.throws(() => new hl.Conv1d(2, 3, 3, { stride: 2, padding: 'same' }), /padding='same' is not supported for strided convolutions/);
  assert.throws(
    () => new hl.ConvTranspose1d(2, 3, 3, { outputPadding: 1 }).forward(tf.zeros([1, 2, 4])),
    /output_padding \(1\) must be smaller than either stride \(1\) or dilation \(1\)/,
  );
  assert.throws(
    () => new hl.ConvTranspose1d(2, 3, 3).forward(tf.zeros([1, 3, 4])),
    /ConvTranspose1d\(2, 3, kernel_size=\(3,\)\): input of shape \[1,3,4\] has 3 channels in dimension 1, expected 2/,
  );

  const bn = new hl.BatchNorm1d(5);
  assert.throws(() => bn.forward(tf.zeros([1, 5])), /BatchNorm1d\(5\): Expected more than 1 value per channel when training, got input size \[1,5\]/);
  assert.throws(() => bn.forward(tf.zeros([4, 6])), /BatchNorm1d\(5\): input of shape \[4,6\] has 6 channels in dimension 1, expected 5/);
  assert.throws(() => bn.forward(tf.zeros([4, 5, 2, 2])), /BatchNorm1d\(5\): expected 2D or 3D input \(N, C\) or \(N, C, L\), got 4D input/);
  assert.throws(() => new hl.BatchNorm2d(5).forward(tf.zeros([4, 5, 2])), /BatchNorm2d\(5\): expected 4D input \(N, C, H, W\), got 3D/);
  bn.eval();
  const ok = bn.forward(tf.zeros([1, 5])); // eval uses the running statistics: batch size 1 is fine
  assert.deepEqual(ok.shape, [1, 5]);

  const lstm = new hl.LSTM(8, 4, { numLayers: 2 });
  assert.throws(
    () => lstm.forward(tf.zeros([10, 3, 5])),
    /LSTM\(8, 4, num_layers=2\): input of shape \[10,3,5\] has 5 features in its last dimension, expected input_size 8/,
  );
  assert.throws(() => lstm.forward(tf.zeros([10, 3, 8]), [tf.zeros([1, 3, 4]), tf.zeros([2, 3, 4])]), /expected h0 of shape \[2,3,4\]/);
  assert.throws(() => lstm.forward(tf.zeros([10, 8]), [tf.zeros([2, 1, 4]), tf.zeros([2, 1, 4])]), /expected h0 of shape \[2,4\].*unbatched/);
  assert.throws(() => lstm.forward(tf.zeros([2, 10, 3, 8])), /expected a 3-D input/);
  for (const m of [conv, c1, bn, lstm]) m.dispose();
});

testOnBackends('LSTM dropout: active between layers in training only, no leaks', () => {
  hl.manualSeed(3);
  const lstm = new hl.LSTM(3, 4, { numLayers: 2, dropout: 0.5 });
  const plain = new hl.LSTM(3, 4, { numLayers: 2 });
  plain.loadStateDict(lstm.stateDict());
  const x = tf.randomNormal([5, 2, 3]);
  const before = tf.memory().numTensors;
  const run = (m: hl.LSTM) => {
    const [y, [h, c]] = m.forward(x);
    const v = Array.from(y.dataSync());
    tf.dispose([y, h, c]);
    return v;
  };
  assert.notDeepEqual(run(lstm), run(plain), 'dropout changes the training output');
  lstm.eval();
  assert.deepEqual(run(lstm), run(plain), 'no dropout in eval');
  lstm.train();
  hl.backward(() => tf.sum(lstm.forward(x)[0]));
  lstm.zeroGrad();
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  tf.dispose(x);
  lstm.dispose();
  plain.dispose();
});

/**
 * The NHWC arithmetic of lib/nn/conv_ops.ts against tfjs' own kernels on random
 * geometries (kernel larger or smaller than the stride, outputs of one pixel,
 * unused trailing rows). The reference, including Conv2DBackpropFilter, runs on
 * cpu (wasm lacks that kernel); ours runs on each backend. Tolerance 1e-4
 * relative and absolute: float32 sums of up to ~150 products of N(0, 1) values
 * added in different orders.
 */
testOnBackends('conv_ops: conv and transposed conv with their gradients equal tfjs native kernels on 40 random geometries', async (backend) => {
  const gen = new hl.Generator(123);
  const int = (lo: number, hi: number) => lo + Math.floor(gen.random() * (hi - lo + 1));
  const TOL: Tolerance = { rtol: 1e-4, atol: 1e-4 };
  for (let i = 0; i < 40; i++) {
    const [kh, kw, sh, sw] = [int(1, 5), int(1, 5), int(1, 4), int(1, 4)];
    const [n, ci, co] = [int(1, 3), int(1, 4), int(1, 4)];
    const [H, W] = [kh + int(0, 7), kw + int(0, 7)];
    const where = `geometry ${i} (x [${n},${H},${W},${ci}], kernel ${kh}x${kw}, stride ${sh}x${sw}, ${co} out; the reference is tfjs native on cpu, not PyTorch)`;
    const vals = (shape: number[]) => ({ shape, data: Array.from(gen.normalArray(shape.reduce((a, b) => a * b, 1))) });
    const [OH, OW] = [Math.floor((H - kh) / sh) + 1, Math.floor((W - kw) / sw) + 1];
    const fx = { x: vals([n, H, W, ci]), w: vals([kh, kw, ci, co]), dy: vals([n, OH, OW, co]) };

    // reference: tfjs' native kernels on cpu
    await hl.useBackend('cpu');
    const ref = tf.tidy(() => {
      const [x, w, dy] = [fx.x, fx.w, fx.dy].map(fromFixture) as tf.Tensor4D[];
      const conv = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.conv2d(a, b, [sh, sw], 'valid');
      const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a as tf.Tensor4D, b as tf.Tensor4D), dy)))([x, w]);
      // transposed conv: dy plays the input, its output has x's shape
      const convT = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.conv2dTranspose(a, b, [n, H, W, ci], [sh, sw], 'valid');
      const [tgy, tgw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(convT(a as tf.Tensor4D, b as tf.Tensor4D), x)))([dy, w]);
      return [conv(x, w), gx, gw, convT(dy, w), tgy, tgw].map((t) => Array.from(t.dataSync()));
    });

    await hl.useBackend(backend);
    const [x, w, dy] = [fx.x, fx.w, fx.dy].map((t) => new hl.Parameter(fromFixture(t)));
    const [x4, w4, dy4] = [x, w, dy] as tf.Tensor[] as tf.Tensor4D[];
    const out = conv2dNHWC(x4, w4, [sh, sw]);
    assertClose(out, ref[0], TOL, `${where}: conv forward`);
    hl.backward(() => tf.sum(tf.mul(conv2dNHWC(x4, w4, [sh, sw]), dy)));
    assertClose(x.grad!, ref[1], TOL, `${where}: conv dL/dx`);
    assertClose(w.grad!, ref[2], TOL, `${where}: conv dL/dw`);
    for (const p of [x, w, dy]) p.zeroGrad(); // dy got a gradient too (it is a Parameter)
    const outT = convTranspose2dNHWC(dy4, w4, [sh, sw], [H, W]);
    assertClose(outT, ref[3], TOL, `${where}: transposed conv forward`);
    hl.backward(() => tf.sum(tf.mul(convTranspose2dNHWC(dy4, w4, [sh, sw], [H, W]), x)));
    assertClose(dy.grad!, ref[4], TOL, `${where}: transposed conv dL/dinput`);
    assertClose(w.grad!, ref[5], TOL, `${where}: transposed conv dL/dw`);
    tf.dispose([x, w, dy, out, outT]);
  }
});

test("Tanh's gradient matches PyTorch's float32 1 - tanh² near saturation, within an ulp", () => {
  // PyTorch 1.13, float32:
  //   x = torch.tensor([0., .5, 1., 2., 3., 5., -5., 8.], requires_grad=True); torch.tanh(x).sum().backward()
  const xs = [0, 0.5, 1, 2, 3, 5, -5, 8];
  const torchGrad = [
    1.0, 0.7864477038383484, 0.41997429728507996, 0.07065081596374512, 0.00986598152667284, 1.815475116018206e-4, 1.815475116018206e-4, 4.7683710135970614e-7,
  ];
  const before = tf.memory().numTensors;
  const x = hl.tensor(xs, { requiresGrad: true });
  const tanh = new hl.Tanh();
  hl.backward(() => tanh.forward(x).sum());
  const grad = Array.from(x.grad!.dataSync());
  const y = tf.tidy(() => Array.from(tanh.forward(x).dataSync()));
  x.zeroGrad();
  x.dispose();
  assert.equal(tf.memory().numTensors, before, 'Tanh forward + backward leaves no tensor');
  y.forEach((v, i) => assert.ok(Math.abs(v - Math.tanh(xs[i])) <= 1e-7, `tanh(${xs[i]}) is ${v}`));
  // 3e-7 relative is 2-4 float32 ulps; tfjs's own 1 - y*y is 4.5e-5 off at x = 5.
  grad.forEach((g, i) => assert.ok(Math.abs(g - torchGrad[i]) <= 3e-7 * torchGrad[i], `tanh'(${xs[i]}) is ${g}, PyTorch gives ${torchGrad[i]}`));
});
