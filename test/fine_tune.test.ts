/** fastai's freeze/unfreeze by parameter groups, fit_one_cycle and fine_tune on the Trainer. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as hl from '../lib';
import { tf } from '../lib';
import { Trainer } from '../lib/train/trainer';
import { supervised, Optimizerlike } from '../lib/train/task';
import { lambdaCallback } from '../lib/train/callback';
import { fastaiOneCycle, fastaiOneCycleMomentum } from '../lib/optim/schedules';
import { describeGroups, freeze, freezeTo, paramGroups, unfreeze } from '../lib/tune/freeze';
import { fitOneCycle, getMomentum, sliceLr } from '../lib/tune/one_cycle';
import { describeFineTune, fineTune, fineTunePlan } from '../lib/tune/fine_tune';

/** Batches of (x, target(x)), made fresh on every pass (length known). */
function batches(n: number, batchSize: number, seed: number, target: (a: number, b: number) => number) {
  const g = new hl.Generator(seed);
  const x = g.normalArray(n * 2);
  return {
    length: Math.ceil(n / batchSize),
    *[Symbol.iterator]() {
      for (let s = 0; s < n; s += batchSize) {
        const idx = Array.from({ length: Math.min(batchSize, n - s) }, (_, i) => s + i);
        yield {
          x: tf.tensor(
            idx.flatMap((i) => [x[2 * i], x[2 * i + 1]]),
            [idx.length, 2],
          ),
          y: tf.tensor(
            idx.map((i) => target(x[2 * i], x[2 * i + 1])),
            [idx.length, 1],
          ),
        };
      }
    },
  };
}

/** body (Linear, BatchNorm, Tanh, Linear, Tanh) + head (Linear). */
function net() {
  return new hl.Sequential(
    new hl.Sequential(new hl.Linear(2, 16), new hl.BatchNorm1d(16), new hl.Tanh(), new hl.Linear(16, 16), new hl.Tanh()),
    new hl.Linear(16, 1),
  );
}

/** Record the lr of every group and the momentum at each optimizer step. */
function recordSteps(opt: Optimizerlike) {
  const seen: { lr: number[]; mom: number[] }[] = [];
  const step = opt.step.bind(opt);
  opt.step = () => {
    seen.push({ lr: opt.paramGroups.map((g) => g.lr), mom: getMomentum(opt) });
    step();
  };
  return seen;
}

const snapshot = (ps: hl.Parameter[]) => ps.map((p) => Array.from(p.dataSync()));

test('freeze/unfreeze: by parameter groups, BatchNorm stays trainable, state cleared, summary shows it', async () => {
  await hl.useBackend('cpu');
  hl.manualSeed(3);
  const model = net();
  const groups = paramGroups(model);
  assert.equal(groups.length, 2);
  assert.deepEqual(groups[1].params, model[1].parameters(), 'the last child is the head');
  assert.throws(() => paramGroups(new hl.Sequential(new hl.Linear(2, 1))), /needs at least two/);

  const single = new hl.Adam(model.parameters());
  assert.throws(() => freeze({ model, optimizer: single }), /1 parameter group.*paramGroups\(model\)/s);

  const optimizer = new hl.Adam(groups, { lr: 1e-2 });
  const task = supervised({ model, optimizer, loss: hl.getLoss('mse') });
  for (const b of batches(32, 16, 1, (a, c) => a + c)) {
    task.trainStep(b);
    tf.dispose(Object.values(b));
  }
  assert.ok(Object.keys(optimizer.stateDict().state).length > 0);

  const before = tf.memory().numTensors;
  const st = freeze({ model, optimizer });
  assert.equal(st.frozenGroups, 1);
  assert.deepEqual(optimizer.stateDict().state, {}, 'fastai clears the optimizer state on freeze_to');
  assert.ok(tf.memory().numTensors < before, 'the state tensors were freed');
  const body = model[0] as hl.Sequential;
  assert.ok(!body[0].requiresGrad && !body[3].requiresGrad, 'body Linear layers frozen');
  assert.ok(body[1].requiresGrad, 'BatchNorm trainable (trainBn)');
  assert.ok(model[1].requiresGrad, 'head trainable');
  const rows = Object.fromEntries(hl.summary(model).rows.map((r) => [r.name, r.trainable]));
  assert.deepEqual(rows, { '0': 'partly', '0.0': 'no', '0.1': 'yes', '0.2': '-', '0.3': 'no', '0.4': '-', '1': 'yes' });
  assert.match(
    describeGroups({ model, optimizer }),
    /group 0 \(body\): 352 parameters, .*frozen but 32 \(norm layers\) trainable\ngroup 1 \(head\): 17 parameters, .*trainable/,
  );

  freeze({ model, optimizer }, { trainBn: false });
  assert.equal(hl.summary(model).rows[0].trainable, 'no');
  assert.equal(hl.summary(model).trainable, 17);

  unfreeze({ model, optimizer });
  assert.ok(model.requiresGrad);
  assert.equal(hl.summary(model).nonTrainable, 0);

  const warn = console.warn;
  let warned = '';
  console.warn = (m: string) => (warned = m);
  try {
    freezeTo({ model, optimizer }, 2);
  } finally {
    console.warn = warn;
  }
  assert.match(warned, /whole model is frozen/);
  assert.equal(hl.summary(model).trainable, 32, 'only BatchNorm still trains');
  optimizer.dispose();
  single.dispose();
  model.dispose();
});

test("fitOneCycle: each batch's lr per group and momentum are fastai's one-cycle values", async () => {
  await hl.useBackend('cpu');
  hl.manualSeed(4);
  const data = batches(64, 16, 2, (a, b) => 2 * a - b); // 4 batches per epoch
  for (const make of ['sgd', 'adam'] as const) {
    const model = net();
    const optimizer = make === 'sgd' ? new hl.SGD(paramGroups(model), { lr: 0.1, momentum: 0.9 }) : new hl.Adam(paramGroups(model));
    const trainer = new Trainer({ task: supervised({ model, optimizer, loss: hl.getLoss('mse') }) });
    const seen = recordSteps(optimizer);
    const run = await fitOneCycle(trainer, data, 2, [1e-3, 1e-2]);
    assert.equal(seen.length, 8);
    assert.equal(run.totalSteps, 8);
    const mom = fastaiOneCycleMomentum({ totalSteps: 8 });
    seen.forEach((s, t) => {
      [1e-3, 1e-2].forEach((lrMax, g) => assert.ok(Math.abs(s.lr[g] - fastaiOneCycle({ lrMax, totalSteps: 8 })(t)) < 1e-15, `${make} lr group ${g} step ${t}`));
      s.mom.forEach((m) => assert.ok(Math.abs(m - mom(t)) < 1e-15, `${make} momentum step ${t}`));
      assert.deepEqual(run.record.lr[t], s.lr);
    });
    if (make === 'adam') assert.equal((optimizer.paramGroups[0] as any).betas[1], 0.999, 'beta2 untouched');

    // A second cycle continues the epochs and history; sliceLr(1e-2) is fastai's slice(1e-2).
    seen.length = 0;
    const run2 = await fitOneCycle(trainer, data, 1, sliceLr(1e-2), { pctStart: 0.5, div: 10 });
    assert.deepEqual(run2.lrMax, [1e-3, 1e-2]);
    assert.deepEqual(run2.history.epoch, [0, 1, 2]);
    seen.forEach((s, t) => assert.ok(Math.abs(s.lr[1] - fastaiOneCycle({ lrMax: 1e-2, totalSteps: 4, pctStart: 0.5, div: 10 })(t)) < 1e-15));
    assert.equal(trainer.callbacks.length, 0, 'the schedule callback is removed after the fit');
    optimizer.dispose();
    model.dispose();
  }

  // SGD without momentum keeps it off (as fastai's SGD built with mom=0).
  const model = net();
  const optimizer = new hl.SGD(paramGroups(model), { lr: 0.1 });
  const trainer = new Trainer({ task: supervised({ model, optimizer, loss: hl.getLoss('mse') }) });
  await fitOneCycle(trainer, data, 1, 1e-2);
  assert.deepEqual(
    optimizer.paramGroups.map((g) => g.momentum),
    [0, 0],
  );
  await assert.rejects(fitOneCycle(trainer, data, 1, [1e-2]), /1 learning rates for 2 parameter groups/);
  await assert.rejects(fitOneCycle(trainer, (function* () {})(), 1, 1e-2), /pass \{ stepsPerEpoch \}/);
  model.dispose();
});

test('fineTune: fastai phases exactly, the body frozen in phase 1, the pretrained net improves, no leaks', async () => {
  await hl.useBackend('cpu');
  hl.manualSeed(5);
  // "Pretrain" on task A, then put a fresh head on for the related task B.
  const taskA = (a: number, b: number) => Math.tanh(a) - 0.5 * b;
  const taskB = (a: number, b: number) => 2 * taskA(a, b) + 0.3;
  const model = net();
  const preOpt = new hl.Adam(model.parameters(), { lr: 1e-2 });
  const pre = new Trainer({ task: supervised({ model, optimizer: preOpt, loss: hl.getLoss('mse') }) });
  await pre.fit(batches(128, 16, 3, taskA), { epochs: 3 });
  preOpt.dispose();
  (model as any)[1].dispose();
  (model as any)[1] = new hl.Linear(16, 1);

  const optimizer = new hl.Adam(paramGroups(model));
  const data = batches(128, 16, 6, taskB); // 8 batches per epoch
  const val = batches(64, 64, 7, taskB);
  const linears = [(model[0] as hl.Sequential)[0], (model[0] as hl.Sequential)[3]].flatMap((m) => m.parameters());
  const bn = (model[0] as hl.Sequential)[1].parameters();
  let fits = 0;
  let bodyAtStart: number[][] = [];
  let bnAtStart: number[][] = [];
  const checks = lambdaCallback({
    onTrainBegin: () => {
      fits++;
      if (fits === 1) {
        bodyAtStart = snapshot(linears);
        bnAtStart = snapshot(bn);
        const rows = Object.fromEntries(hl.summary(model).rows.map((r) => [r.name, r.trainable]));
        assert.equal(rows['0.0'], 'no', 'phase 1: summary shows the frozen body');
        assert.equal(rows['1'], 'yes');
      } else if (fits === 2) {
        assert.ok(model.requiresGrad, 'phase 2: everything trains');
      }
    },
    onTrainEnd: () => {
      if (fits !== 1) return;
      assert.deepEqual(snapshot(linears), bodyAtStart, 'frozen body unchanged in phase 1');
      assert.notDeepEqual(snapshot(bn), bnAtStart, 'BatchNorm trained in phase 1 (trainBn)');
    },
  });
  const trainer = new Trainer({ task: supervised({ model, optimizer, loss: hl.getLoss('mse') }), callbacks: [checks] });
  const seen = recordSteps(optimizer);

  // fastai's defaults: phase 1 peaks [2e-4, 2e-3], phase 2 geometric 1e-5 .. 1e-3.
  const defaults = fineTunePlan(trainer, data, 2);
  assert.deepEqual(defaults.frozen.lrMax, [2e-4, 2e-3]);
  assert.ok(Math.abs(defaults.unfrozen.lrMax[0] - 1e-5) < 1e-20 && Math.abs(defaults.unfrozen.lrMax[1] - 1e-3) < 1e-18);
  assert.match(describeFineTune(defaults), /phase 1: 1 epoch\(s\), 8 batches, body frozen[\s\S]*phase 2: 2 epoch\(s\), 16 batches, all groups train/);

  // This tiny problem takes a larger base lr to move in 24 steps.
  const opts = { baseLr: 0.05, validation: val };
  const plan = fineTunePlan(trainer, data, 2, opts);
  const lossBefore = (await trainer.evaluate(val)).loss;
  const result = await fineTune(trainer, data, 2, opts);
  assert.deepEqual(result.plan.unfrozen.lrMax, plan.unfrozen.lrMax);
  assert.equal(fits, 2);
  assert.equal(seen.length, 8 + 16);
  seen.forEach((s, i) => {
    const [phase, t] = i < 8 ? [plan.frozen, i] : [plan.unfrozen, i - 8];
    s.lr.forEach((lr, g) => assert.ok(Math.abs(lr - phase.schedules[g](t)) <= 1e-12 * lr, `step ${i} group ${g}: ${lr} vs ${phase.schedules[g](t)}`));
  });
  const lossAfter = result.unfrozen.history.val_loss.at(-1)!;
  assert.ok(lossAfter < lossBefore / 4, `fine-tuning lowered the loss: ${lossBefore} -> ${lossAfter}`);
  assert.deepEqual(result.unfrozen.history.epoch, [0, 1, 2]);

  // Leaks: a second fine-tune leaves the tensor count where the first one did.
  model.zeroGrad();
  const count = tf.memory().numTensors;
  await fineTune(trainer, data, 1, opts);
  model.zeroGrad();
  assert.equal(tf.memory().numTensors, count);
  optimizer.dispose();
  model.dispose();
});
