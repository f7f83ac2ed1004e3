/**
 * Optimizers against torch.optim (fixtures from test/parity/gen_optim.py).
 *
 * Every case trains Linear(4,3) -> tanh -> Linear(3,2) on a fixed MSE for 10 steps
 * from PyTorch's initial weights; the loss before each step and every parameter
 * after each step must match PyTorch.
 *
 * Tolerance: 1e-5 relative with a 1e-6 absolute floor (F32), for every optimizer,
 * Adam included: both sides compute in float32, and over 10 steps the differences
 * stay near 1e-7 (the order in which float32 operations round differs between
 * tfjs and PyTorch, e.g. addcdiv vs mul-then-div).
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as hl from '../lib';
import { tf } from '../lib';
import { assertClose, F32, fromFixture, loadFixture, loadTorchState, testOnBackends } from './helpers';

const fx = loadFixture('optim');
const STEPS: number = fx.steps;
const TOL = F32;
/**
 * The optimizer's internal state is compared more loosely (1e-4 relative, 1e-6
 * absolute) than the parameters: quantities like RMSprop's momentum buffer
 * g / (√(v − ḡ²) + ε) amplify float32 rounding (centered RMSprop subtracts two
 * close numbers), while their effect on the parameters, scaled by lr, stays
 * within TOL, as the trajectory tests check.
 */
const STATE_TOL = { rtol: 1e-4, atol: 1e-6 };

type Case = {
  optimizer: string;
  options: Record<string, unknown>;
  groups?: { names: string[]; options: Record<string, unknown> }[];
  frozen?: string[];
  losses: number[];
  params: Record<string, { shape: number[]; data: number[] }>[];
  state_5: hl.OptimizerStateDict;
};
const cases: Record<string, Case> = fx.cases;

function makeModel(state = fx.init): hl.Sequential {
  const model = new hl.Sequential(new hl.Linear(4, 3), new hl.Tanh(), new hl.Linear(3, 2));
  loadTorchState(model, state);
  return model;
}

/** The optimizer of a case, built through the registry from PyTorch's kwargs (snake_case). */
function makeOptimizer(c: Case, model: hl.Module): hl.Optimizer {
  const named = Object.fromEntries(model.namedParameters());
  for (const n of c.frozen ?? []) named[n].requiresGrad = false;
  const params = c.groups ? c.groups.map((g) => ({ params: g.names.map((n) => named[n]), ...g.options })) : model.parameters();
  return hl.optimizerFromConfig(c.optimizer, params, c.options);
}

/** One training step as in the generator: zero grads, MSE backward, step. Returns the loss. */
function trainStep(model: hl.Module, opt: hl.Optimizer, x: tf.Tensor, y: tf.Tensor): number {
  opt.zeroGrad();
  const loss = hl.backward(() => tf.mean(tf.square(tf.sub(model.forward(x), y))));
  opt.step();
  return loss;
}

function checkParams(model: hl.Module, expected: Case['params'][number], where: string): void {
  for (const [name, p] of model.namedParameters()) assertClose(p, expected[name], TOL, `${where}: ${name}`);
}

/** Run steps [from, to) of a case and compare each with PyTorch. */
function runSteps(name: string, c: Case, model: hl.Module, opt: hl.Optimizer, from: number, to: number, x: tf.Tensor, y: tf.Tensor): void {
  for (let step = from; step < to; step++) {
    const loss = trainStep(model, opt, x, y);
    assertClose(loss, c.losses[step], TOL, `${name}: loss before step ${step + 1}`);
    checkParams(model, c.params[step], `${name}: after step ${step + 1}`);
  }
}

testOnBackends('every optimizer follows PyTorch for 10 steps; frozen parameters stay put; tensor count is flat', () => {
  const x = fromFixture(fx.x);
  const y = fromFixture(fx.y);
  for (const [name, c] of Object.entries(cases)) {
    const model = makeModel();
    const opt = makeOptimizer(c, model);
    const frozen = (c.frozen ?? []).map((n) => [n, Array.from(model.stateDict()[n].dataSync())] as const);
    let afterFirst = 0;
    for (let step = 0; step < STEPS; step++) {
      const loss = trainStep(model, opt, x, y);
      if (step === 0) afterFirst = tf.memory().numTensors; // optimizer state now exists
      assertClose(loss, c.losses[step], TOL, `${name}: loss before step ${step + 1}`);
      checkParams(model, c.params[step], `${name}: after step ${step + 1}`);
      for (const [n, before] of frozen) {
        assert.deepEqual(Array.from(model.stateDict()[n].dataSync()), before, `${name}: frozen ${n} changed at step ${step + 1}`);
      }
    }
    assert.equal(tf.memory().numTensors, afterFirst, `${name}: tensors leaked across steps`);
    const beforeDispose = tf.memory().numTensors;
    opt.zeroGrad();
    opt.dispose();
    assert.ok(tf.memory().numTensors < beforeDispose, `${name}: dispose() frees the optimizer state`);
    model.dispose();
  }
  tf.dispose([x, y]);
});

testOnBackends('state dict round trip: 5 steps, save as JSON, load into a fresh optimizer, 5 more = 10 uninterrupted', () => {
  const x = fromFixture(fx.x);
  const y = fromFixture(fx.y);
  for (const name of ['sgd_momentum', 'sgd_nesterov', 'adam_amsgrad', 'adamw', 'rmsprop_all', 'sgd_two_groups', 'adam_frozen']) {
    const c = cases[name];
    const model = makeModel();
    const first = makeOptimizer(c, model);
    runSteps(name, c, model, first, 0, 5, x, y);
    const saved = JSON.parse(JSON.stringify(first.stateDict()));
    first.dispose();
    const second = makeOptimizer(c, model);
    second.loadStateDict(saved);
    runSteps(`${name} (resumed)`, c, model, second, 5, STEPS, x, y);
    second.dispose();
    model.dispose();
  }
  tf.dispose([x, y]);
});

testOnBackends("PyTorch's own optimizer state dict (after 5 steps) loads and continues like PyTorch", () => {
  const x = fromFixture(fx.x);
  const y = fromFixture(fx.y);
  for (const [name, c] of Object.entries(cases)) {
    const model = makeModel(c.params[4]);
    const opt = makeOptimizer(c, model);
    opt.loadStateDict(c.state_5);
    runSteps(`${name} (from torch state)`, c, model, opt, 5, STEPS, x, y);
    opt.dispose();
    model.dispose();
  }
  tf.dispose([x, y]);
});

testOnBackends("stateDict() has PyTorch's layout: the same indices, keys, tensors and group options", () => {
  const x = fromFixture(fx.x);
  const y = fromFixture(fx.y);
  for (const [name, c] of Object.entries(cases)) {
    const model = makeModel();
    const opt = makeOptimizer(c, model);
    for (let i = 0; i < 5; i++) trainStep(model, opt, x, y);
    const ours = opt.stateDict();
    const torch = c.state_5;
    assert.deepEqual(Object.keys(ours.state).sort(), Object.keys(torch.state).sort(), `${name}: parameters with state`);
    for (const [idx, entry] of Object.entries(torch.state)) {
      assert.deepEqual(Object.keys(ours.state[idx]).sort(), Object.keys(entry).sort(), `${name}: state keys of parameter ${idx}`);
      for (const [key, value] of Object.entries(entry)) {
        const mine = ours.state[idx][key];
        if (value === null || typeof value === 'number') assert.equal(mine, value, `${name}: ${key} of ${idx}`);
        else if (key === 'step') assert.equal(mine, value.data[0], `${name}: step of ${idx}`);
        else assertClose((mine as hl.SerializedTensor).data, value.data, STATE_TOL, `${name}: ${key} of parameter ${idx}`);
      }
    }
    ours.param_groups.forEach((g, gi) => {
      const t = torch.param_groups[gi] as Record<string, unknown>;
      assert.deepEqual(g.params, t.params, `${name}: group ${gi} params`);
      for (const [k, v] of Object.entries(g)) assert.deepEqual(v, t[k], `${name}: group ${gi} option ${k}`);
    });
    opt.dispose();
    model.dispose();
  }
  tf.dispose([x, y]);
});

testOnBackends('a parameter with requiresGrad false or no grad is skipped, even with a stale grad', () => {
  const a = new hl.Parameter(tf.tensor([1, 2, 3]));
  const b = new hl.Parameter(tf.tensor([4, 5]));
  const opt = new hl.SGD([a, b], { lr: 0.5, weightDecay: 0.1, momentum: 0.9 });
  a.accumulateGrad(tf.ones([3]));
  b.accumulateGrad(tf.ones([2]));
  b.requiresGrad = false;
  opt.step();
  assert.deepEqual(Array.from(b.dataSync()), [4, 5], 'frozen parameter untouched');
  assertClose(a, [1 - 0.5 * 1.1, 2 - 0.5 * 1.2, 3 - 0.5 * 1.3], TOL, 'trained parameter');
  assert.deepEqual(Object.keys(opt.stateDict().state), ['0'], 'no state for the frozen parameter');
  opt.zeroGrad();
  assert.equal(a.grad, null);
  assert.equal(b.grad, null);
  opt.step(); // no gradients at all: nothing moves
  assertClose(a, [1 - 0.5 * 1.1, 2 - 0.5 * 1.2, 3 - 0.5 * 1.3], TOL, 'no grad, no step');
  opt.dispose();
  tf.dispose([a, b]);
});

test('paramGroups carry every option and are mutable (setLr, LRScheduler use them)', () => {
  const model = makeModel();
  const opt = new hl.Adam(
    [
      { params: model[0].parameters(), lr: 0.1 },
      { params: model[2].parameters(), weightDecay: 0.01 },
    ],
    { lr: 0.001, betas: [0.8, 0.99] },
  );
  assert.equal(opt.paramGroups[0].lr, 0.1);
  assert.equal(opt.paramGroups[1].lr, 0.001);
  assert.deepEqual(opt.paramGroups[1].betas, [0.8, 0.99]);
  assert.equal(opt.paramGroups[1].weightDecay, 0.01);
  assert.equal(opt.paramGroups[0].weightDecay, 0);
  hl.setLr(opt, 0.5);
  assert.deepEqual(hl.getLr(opt), [0.5, 0.5]);
  hl.setLr(opt, [0.2, 0.02]);
  assert.deepEqual(hl.getLr(opt), [0.2, 0.02]);
  assert.throws(() => hl.setLr(opt, [1, 2, 3]), /3 learning rates for 2 parameter groups/);
  model.dispose();
});

test('errors say what is wrong and how to fix it', () => {
  const model = makeModel();
  const params = model.parameters();
  // PyTorch's nesterov rule.
  assert.throws(() => new hl.SGD(params, { lr: 0.1, nesterov: true }), /Nesterov momentum requires a momentum and zero dampening/);
  assert.throws(() => new hl.SGD(params, { lr: 0.1, nesterov: true, momentum: 0.9, dampening: 0.1 }), /zero dampening.*dampening 0\.1/);
  assert.throws(() => new hl.SGD(params, { lr: -1 }), /SGD: lr must be >= 0 in options, got -1|lr must be >= 0/);
  assert.throws(() => new hl.Adam(params, { betas: [0.9, 1] }), /betas\[1\] must be in \[0, 1\)/);
  assert.throws(() => new hl.RMSprop(params, { alpha: -0.5 }), /RMSprop: alpha must be >= 0/);
  assert.throws(() => new hl.Adam(params, { weight_decay: 0.1 } as any), /unknown option 'weight_decay'.*did you mean 'weightDecay'/);
  assert.throws(() => new hl.SGD([], { lr: 0.1 }), /empty parameter list/);
  assert.throws(() => new hl.SGD([{ params }, { params: [params[0]] }]), /more than once/);
  // The registry.
  assert.throws(() => hl.optimizerFromConfig('adagrad', params), /unknown optimizer 'adagrad'; use one of: Adam, AdamW, SGD, RMSprop/);
  assert.throws(
    () => hl.optimizerFromConfig('Adam', params, { lr: 1e-3, momentum: 0.9 }),
    /unknown option 'momentum'; the options are lr, betas, eps, weight_decay, amsgrad, maximize/,
  );
  for (const n of ['Adam', 'adam', 'ADAM', 'SGD', 'sgd', 'RMSprop', 'rmsprop', 'AdamW']) {
    const o = hl.optimizerFromConfig(n, params, { lr: 0.01 });
    assert.equal(o.name.toLowerCase(), n.toLowerCase());
    assert.equal(o.paramGroups[0].lr, 0.01);
  }
  assert.deepEqual((hl.optimizerFromConfig('adam', params, { betas: [0.5, 0.9], weight_decay: 1e-5 }) as hl.Adam).paramGroups[0].betas, [0.5, 0.9]);
  model.dispose();
});

testOnBackends('loadStateDict rejects a state that does not fit, and changes nothing', () => {
  const x = fromFixture(fx.x);
  const y = fromFixture(fx.y);
  const model = makeModel();
  const opt = new hl.Adam(model.parameters(), { lr: 0.01 });
  trainStep(model, opt, x, y);
  const good = opt.stateDict();
  const clone = () => JSON.parse(JSON.stringify(good)) as hl.OptimizerStateDict;

  const twoGroups = clone();
  twoGroups.param_groups.push({ ...twoGroups.param_groups[0], params: [4] });
  assert.throws(() => opt.loadStateDict(twoGroups), /the state dict has 2 parameter group\(s\), this optimizer has 1/);

  const fewer = clone();
  fewer.param_groups[0].params = [0, 1, 2];
  assert.throws(() => opt.loadStateDict(fewer), /parameter group 0 has 3 parameters in the state dict, 4 in this optimizer/);

  const badShape = clone();
  (badShape.state['2'].exp_avg as hl.SerializedTensor).shape = [3, 2];
  assert.throws(() => opt.loadStateDict(badShape), /state 'exp_avg' of parameter 2 has shape \[3,2\], the parameter has shape \[2,3\]/);

  const fromSgd = new hl.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  trainStep(model, fromSgd, x, y);
  assert.throws(() => opt.loadStateDict(fromSgd.stateDict()), /option 'momentum', which Adam does not have/);
  const sgdState = fromSgd.stateDict();
  sgdState.param_groups = clone().param_groups;
  assert.throws(() => opt.loadStateDict(sgdState), /has 'momentum_buffer', which Adam does not keep \(it keeps step, exp_avg, exp_avg_sq, max_exp_avg_sq\)/);
  assert.throws(() => opt.loadStateDict({} as any), /not an optimizer state dict/);

  // Nothing changed: the state is still the one after one step.
  const now = opt.stateDict();
  assert.deepEqual(now, good);
  const count = tf.memory().numTensors;
  opt.loadStateDict(good); // replacing state frees the old tensors
  assert.equal(tf.memory().numTensors, count, 'loading frees the old state tensors');
  tf.dispose([x, y]);
  opt.dispose();
  fromSgd.dispose();
  model.dispose();
});
