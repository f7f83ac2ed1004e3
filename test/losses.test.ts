/**
 * Losses and regularisation against PyTorch (test/parity/gen_losses.py): values and
 * gradients w.r.t. pred for every loss and reduction, XANESNET's emd / cosine / wcc as
 * XANESNET's own code computes them, regularisation gradients per parameter, and a
 * XANESNET training step (loss + lambda * R). Error messages are checked at the end.
 *
 * Tolerance: F32 = 1e-5 relative with a 1e-6 absolute floor (float32 against PyTorch
 * float32) for every comparison; none needed loosening.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as hl from '../lib';
import { tf } from '../lib';
import { F32, FixtureTensor, assertClose, fromFixture, loadFixture, loadTorchState, testOnBackends } from './helpers';

const fx = loadFixture('losses');

interface LossCase {
  fn: string;
  options: Record<string, any>;
  pred: FixtureTensor;
  target: FixtureTensor;
  target_dtype: 'int32' | 'float32';
  value: FixtureTensor;
  grad: FixtureTensor;
  dy?: FixtureTensor;
}

type AnyLoss = (pred: tf.Tensor, target: tf.Tensor, options: any) => tf.Tensor;
const functions: Record<string, AnyLoss> = {
  mseLoss: hl.mseLoss,
  l1Loss: hl.l1Loss,
  bceWithLogitsLoss: hl.bceWithLogitsLoss,
  bceLoss: hl.bceLoss,
  crossEntropyLoss: hl.crossEntropyLoss,
  emd: (p, t) => hl.emd(p, t),
  cosine: hl.cosine,
  wcc: hl.wcc,
};

/** Fixture options with {tensor: ...} entries turned into tensors (returned for disposal). */
function toOptions(o: Record<string, any>): [Record<string, any>, tf.Tensor[]] {
  const made: tf.Tensor[] = [];
  const out: Record<string, any> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v && typeof v === 'object' && 'tensor' in v) {
      out[k] = fromFixture(v.tensor);
      made.push(out[k]);
    } else out[k] = v;
  }
  return [out, made];
}

function targetOf(c: LossCase): tf.Tensor {
  return c.target_dtype === 'int32' ? tf.tensor(c.target.data, c.target.shape, 'int32') : fromFixture(c.target);
}

/** Compare the output and d(sum(out * dy))/d(pred) with PyTorch; the tensor count must not grow. */
function checkCase(c: LossCase, where: string): void {
  const fn = functions[c.fn];
  const pred = new hl.Parameter(fromFixture(c.pred));
  const target = targetOf(c);
  const [options, made] = toOptions(c.options);
  const dy = c.dy ? fromFixture(c.dy) : null;
  const before = tf.memory().numTensors;
  const out = fn(pred, target, options);
  assertClose(out, c.value, F32, `${where}: value`);
  out.dispose();
  hl.backward(() => {
    const o = fn(pred, target, options);
    return dy ? tf.sum(tf.mul(o, dy)) : o;
  });
  assertClose(pred.grad!, c.grad, F32, `${where}: d/dpred`);
  pred.zeroGrad();
  assert.equal(tf.memory().numTensors, before, `${where}: tensors leaked`);
  tf.dispose([pred, target, ...made, ...(dy ? [dy] : [])]);
}

function checkFamily(names: string[]): number {
  let n = 0;
  (fx.cases as LossCase[]).forEach((c, i) => {
    if (!names.includes(c.fn)) return;
    checkCase(c, `case ${i} ${c.fn}(${JSON.stringify(c.options)})`);
    n++;
  });
  return n;
}

testOnBackends('mseLoss and l1Loss match PyTorch for every reduction (L1 gradient 0 where pred = target)', () => {
  assert.equal(checkFamily(['mseLoss', 'l1Loss']), 6);
});

testOnBackends('bceWithLogitsLoss matches PyTorch: reductions, posWeight, weight, logits of ±50', () => {
  assert.equal(checkFamily(['bceWithLogitsLoss']), 10);
});

testOnBackends('bceLoss matches PyTorch, including probabilities of exactly 0 and 1 (log clamped at -100)', () => {
  assert.equal(checkFamily(['bceLoss']), 6);
});

testOnBackends('crossEntropyLoss matches PyTorch: indices (int32 and float), probabilities, weights, smoothing, ignore_index, (N,C,d), (C,)', () => {
  assert.equal(checkFamily(['crossEntropyLoss']), 25);
});

testOnBackends('XANESNET emd (summed over the batch) and cosine (intended and original) match XANESNET code', () => {
  assert.equal(checkFamily(['emd', 'cosine']), 8);
});

testOnBackends('XANESNET wcc matches XANESNET code for L = 9, 10, 16 and HWHM 10, 3, 2.5 (clipping at 0 and 1 included)', () => {
  assert.equal(checkFamily(['wcc']), 9);
});

testOnBackends("wcc's pieces: same-padded cross-correlation, lag weights, width2, getLoss('wcc', hwhm)", () => {
  assertClose(hl.wccWidth2(10), fx.wcc_width2_hwhm10, { rtol: 1e-12, atol: 0 }, 'width2 for HWHM 10');
  assert.ok(Math.abs(hl.wccWidth2(10) - 16.986) < 1e-3);
  for (const i of fx.wcc_cases as number[]) {
    const c = fx.cases[i];
    const where = `wcc L=${c.length} hwhm=${c.options.hwhm}`;
    assertClose(hl.wccWeights(c.length, c.options.hwhm), c.weight, F32, `${where}: weights`);
    const A = fromFixture(c.pred);
    const B = fromFixture(c.target);
    const before = tf.memory().numTensors;
    const pairs: [tf.Tensor, tf.Tensor, FixtureTensor, string][] = [
      [A, B, c.c_ab, 'c_AB'],
      [A, A, c.c_aa, 'c_AA'],
      [B, B, c.c_bb, 'c_BB'],
    ];
    for (const [x, y, expected, name] of pairs) {
      const corr = hl.crossCorrelationSame(x, y);
      assertClose(corr, expected, F32, `${where}: ${name}`);
      corr.dispose();
    }
    const byName = hl.getLoss('wcc', c.options.hwhm)(A, B);
    assertClose(byName, c.value, F32, `${where}: getLoss('wcc', ${c.options.hwhm})`);
    byName.dispose();
    assert.equal(tf.memory().numTensors, before, `${where}: tensors leaked`);
    tf.dispose([A, B]);
  }
});

testOnBackends('getLoss by XANESNET name gives the same numbers as the functions', () => {
  const byName: Record<string, [string, any]> = {
    mse: ['mseLoss', { reduction: 'mean' }],
    l1: ['l1Loss', { reduction: 'mean' }],
    bce: ['bceWithLogitsLoss', { reduction: 'mean' }],
    emd: ['emd', {}],
    cosine: ['cosine', {}],
    cross_entropy: ['crossEntropyLoss', { reduction: 'mean' }],
  };
  for (const [name, [fn, options]] of Object.entries(byName)) {
    const c = (fx.cases as LossCase[]).find((k) => k.fn === fn && JSON.stringify(k.options) === JSON.stringify(options))!;
    assert.ok(c, `a fixture case for ${fn}`);
    const pred = fromFixture(c.pred);
    const target = targetOf(c);
    const out = hl.getLoss(name, null)(pred, target);
    assertClose(out, c.value, F32, `getLoss('${name}')`);
    tf.dispose([out, pred, target]);
  }
  const original = (fx.cases as LossCase[]).find((k) => k.fn === 'cosine' && k.options.original)!;
  const [p, t] = [fromFixture(original.pred), fromFixture(original.target)];
  const out = hl.getLoss('cosine', { original: true })(p, t);
  assertClose(out, original.value, F32, "getLoss('cosine', {original: true})");
  tf.dispose([out, p, t]);
});

testOnBackends('loss modules (MSELoss, L1Loss, BCEWithLogitsLoss, BCELoss, CrossEntropyLoss) equal the functions', () => {
  const modules: Record<string, (o: any) => hl.Loss> = {
    mseLoss: (o) => new hl.MSELoss(o),
    l1Loss: (o) => new hl.L1Loss(o),
    bceWithLogitsLoss: (o) => new hl.BCEWithLogitsLoss(o),
    bceLoss: (o) => new hl.BCELoss(o),
    crossEntropyLoss: (o) => new hl.CrossEntropyLoss(o),
  };
  let n = 0;
  for (const c of fx.cases as LossCase[]) {
    const make = modules[c.fn];
    if (!make) continue;
    const [options, made] = toOptions(c.options);
    const pred = fromFixture(c.pred);
    const target = targetOf(c);
    const out = make(options).forward(pred, target);
    assertClose(out, c.value, F32, `${c.fn} module ${JSON.stringify(c.options)}`);
    tf.dispose([out, pred, target, ...made]);
    n++;
  }
  assert.equal(n, 47);
  assert.equal(new hl.MSELoss({ reduction: 'sum' }).toString(), 'MSELoss(reduction=sum)');
  assert.equal(new hl.CrossEntropyLoss({ labelSmoothing: 0.1 }).toString(), 'CrossEntropyLoss(label_smoothing=0.1)');
  assert.equal(new hl.L1Loss().parameters().length, 0);
});

testOnBackends('regularisation matches XANESNET: L1, L2 per tensor (unsquared), L2 global; zero tensors get zero gradient', () => {
  const reg = fx.regularization;
  const names = Object.keys(reg.params);
  assert.deepEqual(names, ['0.weight', '0.bias', '1.weight', '1.bias', '2.weight', '3.weight', '3.bias'], 'Linear, BatchNorm, PReLU, Linear');
  const params = names.map((n) => new hl.Parameter(fromFixture(reg.params[n])));
  const before = tf.memory().numTensors;
  for (const c of reg.cases) {
    const where = `${c.kind} ${c.variant} lambda=${c.lambda}`;
    const value = hl.regularization(params, c.kind, c.lambda, { variant: c.variant });
    assertClose(value, c.value, F32, `${where}: value`);
    value.dispose();
    hl.backward(() => hl.regularization(params, c.kind, c.lambda, { variant: c.variant }));
    names.forEach((n, i) => {
      assertClose(params[i].grad!, c.grads[n], F32, `${where}: grad of ${n}`);
      params[i].zeroGrad();
    });
  }
  const none = hl.regularization(params, null, 0.1);
  assert.equal(none.dataSync()[0], 0, 'null means no regularisation');
  none.dispose();
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  tf.dispose(params);
});

testOnBackends('a XANESNET training step: loss + 1e-3 * R through an MLP gives PyTorch parameter gradients', () => {
  const step = fx.train_step;
  const model = new hl.Sequential(new hl.Linear(5, 8), new hl.PReLU(), new hl.Linear(8, 10));
  loadTorchState(model, step.state);
  const x = fromFixture(step.x);
  const y = fromFixture(step.y);
  const before = tf.memory().numTensors;
  for (const run of step.runs) {
    const lossFn = hl.getLoss(run.loss);
    model.zeroGrad();
    const value = hl.backward(() => tf.add(lossFn(tf.add(model.forward(x), run.shift), y), hl.regularization(model, run.kind, run.lambda)));
    assertClose(value, run.value, F32, `${run.loss} + ${run.kind}: loss`);
    for (const [name, p] of model.namedParameters()) {
      // A gradient element can be a small difference of large terms (cancellation), so the
      // absolute floor scales with the tensor's largest gradient: 1e-5 of it, i.e. float32
      // rounding of the big terms; the relative part stays 1e-5.
      const expected = run.grads[name];
      const scale = Math.max(...expected.data.map(Math.abs));
      assertClose(p.grad!, expected, { rtol: 1e-5, atol: Math.max(1e-6, 1e-5 * scale) }, `${run.loss} + ${run.kind}: grad of ${name}`);
    }
  }
  model.zeroGrad();
  assert.equal(tf.memory().numTensors, before, 'tensor count is flat across the steps');
  tf.dispose([x, y]);
  model.dispose();
});

test('the regularisation doc says how it differs from weight decay', () => {
  assert.match(hl.REGULARIZATION_DOC, /NOT squared/);
  assert.match(hl.REGULARIZATION_DOC, /weight_decay/);
});

// ---- errors --------------------------------------------------------------------------------

test('an unknown loss name is an error listing the valid names (XANESNET would silently use MSE)', () => {
  assert.throws(() => hl.getLoss('huber'), /unknown loss 'huber'; use one of: mse, l1, bce, emd, cosine, wcc, cross_entropy/);
  for (const name of ['MSE', 'l1', 'bce', 'emd', 'cosine', 'wcc', 'cross_entropy', 'crossentropy', 'CrossEntropy']) {
    assert.equal(typeof hl.getLoss(name), 'function', name);
  }
  assert.throws(() => hl.getLoss('wcc', -1), /HWHM in grid points and must be a positive number, got -1/);
});

test('a shape mismatch between pred and target names the loss and both shapes', async () => {
  await hl.useBackend('cpu');
  const pred = tf.zeros([4, 1]);
  const target = tf.zeros([4]);
  const before = tf.memory().numTensors;
  const expected: Record<string, string> = {
    mse: 'mseLoss',
    l1: 'l1Loss',
    bce: 'bceWithLogitsLoss',
    emd: 'emd loss',
    cosine: 'cosine loss',
    wcc: 'wcc loss',
  };
  for (const [name, where] of Object.entries(expected)) {
    assert.throws(
      () => hl.getLoss(name)(pred, target),
      (e: Error) => e.message.startsWith(`${where}: pred has shape [4,1] but target has shape [4]`),
      name,
    );
  }
  assert.throws(() => hl.bceLoss(pred, target), /bceLoss: pred has shape \[4,1\] but target has shape \[4\]/);
  const [logits, probs] = [tf.zeros([4, 3]), tf.zeros([4, 2])];
  assert.throws(
    () => hl.crossEntropyLoss(logits, probs),
    /crossEntropyLoss: pred has shape \[4,3\] .* but target has shape \[4,2\]; give class indices of shape \[4\] or class probabilities of shape \[4,3\]/,
  );
  assert.equal(tf.memory().numTensors, before + 2, 'nothing leaks when a loss throws');
  tf.dispose([pred, target, logits, probs]);
});

test('other bad input: class index out of range, logits given to bceLoss, unknown reduction, bad regularisation kind', async () => {
  await hl.useBackend('cpu');
  const logits = tf.zeros([3, 4]);
  const idx = tf.tensor1d([0, 4, 1], 'int32');
  assert.throws(() => hl.crossEntropyLoss(logits, idx), /target\[1\] = 4 is not a class index in 0\.\.3/);
  const half = tf.tensor1d([0, 1.5, 1]);
  assert.throws(() => hl.crossEntropyLoss(logits, half), /target\[1\] = 1.5 is not a class index/);
  assert.throws(() => hl.crossEntropyLoss(logits, tf.tensor1d([0, 1, 2], 'int32'), { weight: [1, 2] }), /weight has 2 entries but pred has 4 classes/);
  const raw = tf.tensor2d([[-2, 3]]);
  assert.throws(() => hl.bceLoss(raw, tf.zeros([1, 2])), /bceLoss: pred must hold probabilities in \[0, 1\].*use bceWithLogitsLoss/);
  assert.throws(() => hl.mseLoss(raw, raw, { reduction: 'avg' as any }), /mseLoss: unknown reduction 'avg'; use one of: mean, sum, none/);
  assert.throws(() => new hl.MSELoss({ reduction: 'avg' as any }), /MSELoss: unknown reduction 'avg'/);
  assert.throws(() => hl.regularization([raw], 'L3', 0.1), /unknown kind 'L3'; use 'L1', 'L2' or null/);
  assert.throws(() => hl.regularization([raw], 'L2', 0.1, { variant: 'squared' as any }), /unknown variant 'squared'/);
  assert.throws(() => hl.wcc(tf.zeros([4]), tf.zeros([4])), /wcc loss: pred must be 2-D \[batch, features\], got shape \[4\]/);
  tf.dispose([logits, idx, half, raw]);
});

test('bceWithLogitsLoss stays finite for logits of ±1000 (no exp overflow)', async () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    await hl.useBackend(backend);
    const x = new hl.Parameter(tf.tensor1d([1000, -1000, 1000, -1000]));
    const y = tf.tensor1d([1, 0, 0, 1]);
    const v = hl.backward(() => hl.bceWithLogitsLoss(x, y, { reduction: 'sum' }));
    assert.ok(Math.abs(v - 2000) < 1e-3, `${backend}: loss ${v}, expected 2000`);
    assertClose(x.grad!, [0, 0, 1, -1], F32, `${backend}: gradient sigmoid(x) - y`);
    tf.dispose([x, y]);
  }
});

testOnBackends('cross-entropy with a single class is 0 (log softmax of one logit), as PyTorch gives', () => {
  const pred = tf.tensor([[2.5], [-1]]);
  const target = tf.tensor([0, 0], undefined, 'int32');
  const l = hl.crossEntropyLoss(pred, target);
  assert.equal(l.dataSync()[0], 0);
  tf.dispose([pred, target, l]);
});
