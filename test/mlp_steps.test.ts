/**
 * Whole SGD training steps of small MLPs against PyTorch (test/parity/gen_mlp_steps.py): the
 * losses of three steps, the first step's gradients and the final parameters, on cpu and on wasm
 * (where, with the addon, Linear's parameter gradients come from one native kernel and ReLU's
 * gradient from its output: issue 10). Cases: cross-entropy at batch 8 and 1, frozen weights or
 * biases, the summed MSE of lessons/06 and a one-output head; in each net hidden unit 3 has a zero
 * weight row and bias, so its pre-activation is exactly 0 and ReLU passes no gradient to it.
 */
import { strict as assert } from 'node:assert';
import * as hl from '../lib';
import { tf } from '../lib';
import { nativeOpCalls, nativeOpsActive } from '../lib/engine/native/wasm';
import { assertClose, FixtureTensor, fromFixture, loadFixture, loadTorchState, testOnBackends, Tolerance } from './helpers';

const fx = loadFixture('mlp_steps');

interface Case {
  x: FixtureTensor;
  target: FixtureTensor;
  lr: number;
  init: Record<string, FixtureTensor>;
  losses: number[];
  grads: Record<string, FixtureTensor>;
  final: Record<string, FixtureTensor>;
  frozen: string[];
}

// float32 sums in another order than PyTorch's over up to 20 terms, then 3 steps
const TOL: Tolerance = { rtol: 1e-4, atol: 1e-6 };

function runCase(name: string, loss: (y: tf.Tensor, t: tf.Tensor) => tf.Tensor): void {
  const c = fx[name] as Case;
  const outputs = c.final['2.weight'].shape[0];
  const model = new hl.Sequential(new hl.Linear(20, 16), new hl.ReLU(), new hl.Linear(16, outputs));
  loadTorchState(model, c.init);
  for (const [n, p] of model.namedParameters()) if (c.frozen.includes(n)) p.requiresGrad = false;
  const x = fromFixture(c.x);
  const t = fromFixture(c.target);
  const opt = new hl.SGD(model.parameters(), { lr: c.lr });
  const calls = { ...nativeOpCalls };
  const before = tf.memory().numTensors;
  c.losses.forEach((expected, step) => {
    opt.zeroGrad();
    const value = hl.backward(() => loss(model.forward(x), t));
    assertClose(value, expected, TOL, `${name}: loss of step ${step}`);
    if (step === 0) {
      for (const [n, p] of model.namedParameters()) {
        if (c.frozen.includes(n)) assert.equal(p.grad, null, `${name}: frozen ${n} got a gradient`);
        else assertClose(p.grad!, c.grads[n], TOL, `${name}: gradient of ${n}`);
      }
      const g = (model[0] as hl.Linear).weight.grad;
      if (g) assert.deepEqual(Array.from(g.dataSync().slice(3 * 20, 4 * 20)), new Array(20).fill(0), `${name}: ReLU's gradient at 0 is not 0`);
    }
    opt.step();
  });
  opt.zeroGrad();
  assert.equal(tf.memory().numTensors, before, `${name}: tensors leaked over ${c.losses.length} steps`);
  for (const [n, p] of model.namedParameters()) assertClose(p, c.final[n], TOL, `${name}: ${n} after ${c.losses.length} steps`);
  if (nativeOpsActive()) {
    for (const k of ['HyperlabLinearGrad', 'HyperlabReluGrad']) {
      assert.ok((nativeOpCalls[k] ?? 0) > (calls[k] ?? 0), `${name}: the native kernel ${k} did not run`);
    }
  }
  tf.dispose([x, t]);
  model.dispose();
}

const ce = (y: tf.Tensor, t: tf.Tensor) => hl.crossEntropyLoss(y, t);

testOnBackends('MLP 20-16-5, cross-entropy, SGD: 3 steps match PyTorch (batch 8 and 1)', () => {
  runCase('ce_relu', ce);
  runCase('ce_batch1', ce);
});

testOnBackends('MLP with frozen parameters (a weight and a bias; a bias alone): the others match PyTorch', () => {
  runCase('ce_frozen', ce);
  runCase('ce_frozen_bias', ce);
});

testOnBackends("MLP with lessons/06's summed MSE, and with a one-output head: 3 steps match PyTorch", () => {
  runCase('mse_sum', (y, t) => hl.mseLoss(y, t, { reduction: 'sum' }));
  runCase('mse_head1', (y, t) => hl.mseLoss(y, t));
});
