/**
 * Learning-rate schedules against PyTorch's lr_scheduler (run for 100 steps) and
 * against EpyNN's and fastai's formulas computed in Python
 * (fixtures from test/parity/gen_schedules.py).
 *
 * Tolerance: 1e-10 relative, 1e-15 absolute. The schedules are float64 on both
 * sides; PyTorch's schedulers update the lr recursively (lr · γ, lr / factor, the
 * cosine ratio) where ours use the closed form, which differs by rounding only.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as hl from '../lib';
import { tf } from '../lib';
import { assertClose, testOnBackends } from './helpers';
import { loadFixture } from './helpers';

const fx = loadFixture('schedules');
const N: number = fx.steps;
const TOL = { rtol: 1e-10, atol: 1e-15 };

/** Our schedule for a PyTorch case (class name and kwargs as in the fixture). */
function fromTorchCase(c: { base_lr: number; scheduler: string; kwargs: Record<string, any> }): hl.Schedule {
  const k = c.kwargs;
  const lr = c.base_lr;
  switch (c.scheduler) {
    case 'StepLR':
      return hl.stepLR({ lr, stepSize: k.step_size, gamma: k.gamma });
    case 'MultiStepLR':
      return hl.multiStepLR({ lr, milestones: k.milestones, gamma: k.gamma });
    case 'ExponentialLR':
      return hl.exponentialLR({ lr, gamma: k.gamma });
    case 'LinearLR':
      return hl.linearLR({ lr, startFactor: k.start_factor, endFactor: k.end_factor, totalIters: k.total_iters });
    case 'ConstantLR':
      return hl.constantLR({ lr, factor: k.factor, totalIters: k.total_iters });
    case 'CosineAnnealingLR':
      return hl.cosineAnnealingLR({ lr, tMax: k.T_max, etaMin: k.eta_min });
    case 'OneCycleLR':
      return hl.oneCycleLR({
        maxLr: k.max_lr,
        totalSteps: k.total_steps,
        epochs: k.epochs,
        stepsPerEpoch: k.steps_per_epoch,
        pctStart: k.pct_start,
        annealStrategy: k.anneal_strategy,
        divFactor: k.div_factor,
        finalDivFactor: k.final_div_factor,
        threePhase: k.three_phase,
      });
    default:
      throw new Error(`no mapping for ${c.scheduler}`);
  }
}

test("PyTorch's schedulers: the same lr at each of 100 steps", () => {
  for (const [name, c] of Object.entries<any>(fx.torch)) {
    assertClose(hl.scheduleValues(fromTorchCase(c), N), c.lr, TOL, `${name} (${c.scheduler})`);
  }
});

test("OneCycleLR's momentum cycle matches PyTorch's (base 0.85, max 0.95)", () => {
  for (const [name, c] of Object.entries<any>(fx.torch)) {
    if (c.scheduler !== 'OneCycleLR') continue;
    const k = c.kwargs;
    const m = hl.oneCycleMomentum({
      totalSteps: k.total_steps,
      epochs: k.epochs,
      stepsPerEpoch: k.steps_per_epoch,
      pctStart: k.pct_start,
      annealStrategy: k.anneal_strategy,
      threePhase: k.three_phase,
    });
    assertClose(hl.scheduleValues(m, N), c.momentum, TOL, `${name} momentum`);
  }
});

test('scheduleFromConfig takes XANESNET names and PyTorch kwargs', () => {
  const byType: Record<string, string> = {
    StepLR: 'step',
    MultiStepLR: 'multistep',
    ExponentialLR: 'exponential',
    LinearLR: 'linear',
    ConstantLR: 'constant',
    CosineAnnealingLR: 'cosine',
    OneCycleLR: 'onecycle',
  };
  for (const [name, c] of Object.entries<any>(fx.torch)) {
    const s = hl.scheduleFromConfig(byType[c.scheduler], c.kwargs, c.base_lr, 100);
    assertClose(hl.scheduleValues(s, N), c.lr, TOL, `scheduleFromConfig for ${name}`);
  }
  // XANESNET's example: a step scheduler with step_size 100, gamma 0.5.
  const s = hl.scheduleFromConfig('step', { step_size: 100, gamma: 0.5 }, 1e-4, 300);
  assert.deepEqual([s(0), s(99), s(100), s(250)], [1e-4, 1e-4, 5e-5, 2.5e-5]);
  assert.equal(hl.scheduleFromConfig('STEP', { step_size: 10 }, 1, 10)(10), 0.1, 'default gamma 0.1, type in any case');
  // Defaults from epochs.
  assert.equal(hl.scheduleFromConfig('cosine', {}, 0.1, 50)(50), 0);
  assert.equal(hl.scheduleFromConfig('onecycle', null, 0.1, 20)(20 * 0.3 - 1), 0.1);
});

test('scheduleFromConfig errors name the valid types and parameters', () => {
  assert.throws(
    () => hl.scheduleFromConfig('plateau', {}, 0.1, 10),
    /unknown lr scheduler type 'plateau'; use one of: step, multistep, exponential, linear, constant, cosine, onecycle, steady, exp_decay, lin_decay/,
  );
  assert.throws(
    () => hl.scheduleFromConfig('step', { step_size: 10, gama: 0.5 }, 0.1, 10),
    /lr scheduler 'step': unknown parameter 'gama'; it takes step_size, gamma/,
  );
  assert.throws(() => hl.scheduleFromConfig('step', { gamma: 0.5 }, 0.1, 10), /missing parameter 'step_size'/);
  assert.throws(() => hl.scheduleFromConfig('exponential', {}, 0.1, 10), /missing parameter 'gamma'/);
  assert.throws(() => hl.scheduleFromConfig('steady', { gamma: 1 }, 0.1, 10), /it takes no parameters/);
  assert.throws(() => hl.stepLR({ lr: 0.1, stepSize: 0 }), /stepLR: stepSize must be a positive integer, got 0/);
  assert.throws(() => hl.linearLR({ lr: 0.1, startFactor: 2 }), /startFactor must be between 0 and 1, got 2/);
  assert.throws(() => hl.oneCycleLR({ maxLr: 0.1 }), /give totalSteps, or epochs and stepsPerEpoch/);
  assert.throws(() => hl.oneCycleLR({ maxLr: 0.1, totalSteps: 10 })(11), /tried to step 12 times; the cycle has 10 steps/);
  assert.throws(() => hl.stepLR({ lr: 0.1, stepSize: 2 })(-1), /the step must be a number >= 0, got -1/);
  assert.throws(() => hl.epynnSchedule({ schedule: 'cycling' as any, lr: 0.1, epochs: 10 }), /use one of: steady, exp_decay, lin_decay/);
});

test("EpyNN's steady / exp_decay / lin_decay follow teaching-anchors section 4 exactly", () => {
  for (const [name, c] of Object.entries<any>(fx.epynn)) {
    const s = hl.epynnSchedule({
      schedule: c.schedule,
      lr: c.lr,
      epochs: c.epochs,
      decayK: c.decay_k,
      cycleEpochs: c.cycle_epochs,
      cycleDescent: c.cycle_descent,
    });
    assertClose(hl.scheduleValues(s, c.epochs), c.lr_values, TOL, `EpyNN ${name}`);
    const viaConfig = hl.scheduleFromConfig(
      c.schedule,
      Object.fromEntries(
        Object.entries({ decay_k: c.decay_k, cycle_epochs: c.cycle_epochs, cycle_descent: c.cycle_descent }).filter(([, v]) => v !== undefined),
      ),
      c.lr,
      c.epochs,
    );
    assertClose(hl.scheduleValues(viaConfig, c.epochs), c.lr_values, TOL, `EpyNN ${name} by name`);
  }
  // k = 5/epc: "~1% of initial lr for last epoch in cycle" (exp(-5·99/100) ≈ 0.7%).
  const s = hl.epynnSchedule({ schedule: 'exp_decay', lr: 1, epochs: 100 });
  assert.ok(s(99) > 0.005 && s(99) < 0.01);
  // Cycles restart at lr·(1−d)^cycle.
  const cyc = hl.epynnSchedule({ schedule: 'exp_decay', lr: 1, epochs: 100, cycleEpochs: 25, cycleDescent: 0.2 });
  assertClose([cyc(25), cyc(50)], [0.8, 0.64], TOL, 'cycle restarts');
});

test("fastai's one-cycle and fine_tune phases match fastai's formulas", () => {
  for (const name of ['one_cycle_default', 'one_cycle_options']) {
    const c = fx.fastai[name];
    const s = hl.fastaiOneCycle({ lrMax: c.lr_max, totalSteps: c.total_steps, pctStart: c.pct_start, div: c.div, divFinal: c.div_final });
    assertClose(hl.scheduleValues(s, c.total_steps), c.lr, TOL, `fastai ${name} lr`);
    const m = hl.fastaiOneCycleMomentum({ totalSteps: c.total_steps, pctStart: c.pct_start });
    assertClose(hl.scheduleValues(m, c.total_steps), c.momentum, TOL, `fastai ${name} momentum`);
  }
  for (const name of ['fine_tune_3_groups', 'fine_tune_1_group']) {
    const c = fx.fastai[name];
    const ft = hl.fastaiFineTune({ epochs: c.epochs, stepsPerEpoch: c.steps_per_epoch, nGroups: c.n_groups });
    assertClose(ft.frozen.lrMax, c.frozen_lr_max, TOL, `${name} frozen lr_max`);
    assertClose(ft.unfrozen.lrMax, c.unfrozen_lr_max, TOL, `${name} unfrozen lr_max`);
    assert.equal(ft.frozen.steps, c.steps_per_epoch);
    assert.equal(ft.unfrozen.steps, c.epochs * c.steps_per_epoch);
    ft.frozen.schedules.forEach((s, i) => assertClose(hl.scheduleValues(s, ft.frozen.steps), c.frozen[i], TOL, `${name} frozen group ${i}`));
    ft.unfrozen.schedules.forEach((s, i) => assertClose(hl.scheduleValues(s, ft.unfrozen.steps), c.unfrozen[i], TOL, `${name} unfrozen group ${i}`));
  }
  // The spec's numbers: with the defaults, LRs geometric from 1e-5 to 1e-3, warming up from lr/5.
  const ft = hl.fastaiFineTune({ epochs: 1, stepsPerEpoch: 10, nGroups: 3 });
  assertClose(ft.unfrozen.lrMax, [1e-5, 1e-4, 1e-3], TOL, 'fine_tune lr range');
  assertClose(ft.unfrozen.schedules[2](0), 1e-3 / 5, TOL, 'starts at lr_max/div');
  assert.deepEqual(hl.lrSlice(3, 1e-3), [1e-4, 1e-4, 1e-3]);
});

testOnBackends('LRScheduler drives the optimizer: PyTorch lrs in the groups, per group, state dict resumes', () => {
  const p = new hl.Parameter(tf.zeros([2]));
  const q = new hl.Parameter(tf.zeros([2]));
  const c = fx.torch.step;
  const opt = new hl.SGD([{ params: [p] }, { params: [q], lr: c.base_lr / 10 }], { lr: c.base_lr, momentum: 0.9 });
  const sched = hl.LRScheduler.fromConfig(opt, 'step', c.kwargs, 100);
  assert.equal(sched.interval, 'epoch');
  const seen: number[][] = [];
  for (let t = 0; t < N; t++) {
    seen.push(hl.getLr(opt));
    sched.step();
  }
  assertClose(
    seen.map((l) => l[0]),
    c.lr,
    TOL,
    'group 0 follows StepLR',
  );
  assertClose(
    seen.map((l) => l[1]),
    c.lr.map((v: number) => v / 10),
    TOL,
    'group 1 follows StepLR from its own lr',
  );
  assert.deepEqual(
    opt.paramGroups.map((g) => g.initialLr),
    [c.base_lr, c.base_lr / 10],
    "initial_lr recorded as PyTorch's",
  );

  // Resume: a new scheduler on a new optimizer continues from last_epoch.
  const saved = JSON.parse(JSON.stringify({ opt: opt.stateDict(), sched: sched.stateDict() }));
  assert.equal(saved.sched.last_epoch, N);
  assert.deepEqual(
    saved.opt.param_groups.map((g: any) => g.initial_lr),
    [c.base_lr, c.base_lr / 10],
  );
  const opt2 = new hl.SGD([{ params: [p] }, { params: [q] }], { lr: 1 });
  opt2.loadStateDict(saved.opt);
  const sched2 = hl.LRScheduler.fromConfig(opt2, 'step', c.kwargs, 100);
  sched2.loadStateDict(saved.sched);
  assertClose(hl.getLr(opt2), sched.getLastLr(), TOL, 'resumed lr');
  assert.throws(() => sched2.loadStateDict({ last_epoch: -2 } as any), /expected \{ last_epoch: integer >= 0/);

  // One-cycle by batch; one schedule per group; wrong counts are errors.
  const oc = hl.LRScheduler.fromConfig(opt2, 'onecycle', { max_lr: 0.1, total_steps: 100 }, 10);
  assert.equal(oc.interval, 'batch');
  assertClose(hl.getLr(opt2), [fx.torch.onecycle.lr[0], fx.torch.onecycle.lr[0]], TOL, 'onecycle starts at max_lr/25');
  const two = new hl.LRScheduler(opt2, [hl.exponentialLR({ lr: 1, gamma: 0.5 }), hl.exponentialLR({ lr: 2, gamma: 0.5 })]);
  two.step();
  assert.deepEqual(hl.getLr(opt2), [0.5, 1]);
  assert.throws(() => new hl.LRScheduler(opt2, [hl.exponentialLR({ lr: 1, gamma: 0.5 })]), /1 schedules for 2 parameter groups/);
  tf.dispose([p, q]);
});

test('schedules are pure: the same step always gives the same lr, in any order', () => {
  const s = hl.oneCycleLR({ maxLr: 0.1, totalSteps: 100 });
  const forward = hl.scheduleValues(s, 100);
  const backward = Array.from({ length: 100 }, (_, i) => s(99 - i)).reverse();
  assert.deepEqual(forward, backward);
});
