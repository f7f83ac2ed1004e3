/** Initializers against PyTorch's sample moments and bounds; seeding; summary table. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as hl from '../lib';
import { tf } from '../lib';
import { loadFixture } from './helpers';

const fx = loadFixture('init');

function moments(t: tf.Tensor) {
  const v = Array.from(t.dataSync());
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1));
  let min = Infinity;
  let max = -Infinity;
  for (const x of v) {
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return { mean, std, min, max };
}

test('every initializer matches the mean, std and range PyTorch draws (statistical tolerance)', async () => {
  await hl.useBackend('cpu');
  hl.manualSeed(1);
  for (const [key, ref] of Object.entries<any>(fx.inits)) {
    const [name] = key.split('/');
    const p = new hl.Parameter(tf.zeros(ref.shape));
    hl.getInitializer(name)(p);
    const m = moments(p);
    // Two sample means differ by less than 5 standard errors of their difference;
    // std within 3%; the range within 5% of PyTorch's.
    const se = (ref.std * Math.SQRT2) / Math.sqrt(ref.n);
    assert.ok(Math.abs(m.mean - ref.mean) <= 5 * se + 1e-12, `${key}: mean ${m.mean} vs PyTorch ${ref.mean}`);
    assert.ok(Math.abs(m.std - ref.std) <= 0.03 * ref.std + 1e-12, `${key}: std ${m.std} vs PyTorch ${ref.std}`);
    if (name.endsWith('uniform') || name === 'zeros' || name === 'ones') {
      const width = ref.max - ref.min || 1;
      assert.ok(
        Math.abs(m.min - ref.min) <= 0.05 * width && Math.abs(m.max - ref.max) <= 0.05 * width,
        `${key}: range [${m.min}, ${m.max}] vs PyTorch [${ref.min}, ${ref.max}]`,
      );
    }
    p.dispose();
  }
});

test('uniform initialization of Linear(64,128) lies in [0, 1)', () => {
  const layer = new hl.Linear(64, 128);
  hl.initializers.uniform(layer.weight);
  const m = moments(layer.weight);
  assert.ok(m.min >= 0 && m.max < 1, `[${m.min}, ${m.max}]`);
  layer.dispose();
});

test('layer default initialisation uses PyTorch bounds (1/sqrt(fan_in))', () => {
  const make: Record<string, () => hl.Module> = {
    'Linear(64,128)': () => new hl.Linear(64, 128),
  };
  for (const [name, f] of Object.entries(make)) {
    const ref = fx.layer_defaults[name];
    const layer = f() as hl.Linear;
    for (const which of ['weight', 'bias'] as const) {
      const m = moments(layer[which]!);
      assert.ok(m.max <= ref.bound && m.min >= -ref.bound, `${name}.${which} within ±${ref.bound}`);
      assert.ok(m.max > 0.9 * ref[which].max && m.min < 0.9 * ref[which].min, `${name}.${which} fills the range like PyTorch`);
      assert.ok(Math.abs(m.std - ref[which].std) < 0.15 * ref[which].std, `${name}.${which} std ${m.std} vs ${ref[which].std}`);
    }
    layer.dispose();
  }
});

test('Keras HeNormal: truncated at two standard deviations, std sqrt(2 / fan_in)', () => {
  const p = new hl.Parameter(tf.zeros([512, 256]));
  hl.heNormal_(p);
  const m = moments(p);
  const std = Math.sqrt(2 / 256);
  assert.ok(Math.abs(m.std - std) < 0.02 * std, `std ${m.std} vs ${std}`);
  assert.ok(Math.max(-m.min, m.max) <= (2 * std) / 0.87962566103423978 + 1e-6);
  p.dispose();
});

test('weight_init_seed: the same seed gives identical weights, another seed different ones', () => {
  const draw = (seed: number) => {
    hl.manualSeed(seed);
    const m = new hl.Sequential(new hl.Linear(10, 20), new hl.Linear(20, 3));
    hl.initializers.xavier_uniform((m[0] as hl.Linear).weight);
    const v = m.parameters().flatMap((p) => Array.from(p.dataSync()));
    m.dispose();
    return v;
  };
  assert.deepEqual(draw(2023), draw(2023));
  assert.notDeepEqual(draw(2023), draw(2024));
});

test('generator state round-trips (a resumed run continues the same random stream)', () => {
  const g = new hl.Generator(7);
  g.normal();
  const state = JSON.parse(JSON.stringify(g.getState()));
  const a = [g.random(), g.normal(), g.normal()];
  const h = new hl.Generator(0);
  h.setState(state);
  assert.deepEqual([h.random(), h.normal(), h.normal()], a);
  assert.throws(() => hl.getInitializer('glorot'), /unknown initializer 'glorot'; use one of: uniform, normal, xavier_uniform/);
});

test('summary: per-layer shapes, counts, frozen marks and totals (46 parameters for Linear(8,4), Linear(4,2))', () => {
  const model = new hl.Sequential(new hl.Linear(8, 4), new hl.ReLU(), new hl.Linear(4, 2));
  let s = hl.summary(model, [1, 8]);
  assert.equal(s.total, 46);
  assert.equal(s.trainable, 46);
  assert.deepEqual(
    s.rows.map((r) => [r.name, r.type, r.outputShape, r.params, r.trainable]),
    [
      ['0', 'Linear', [1, 4], 36, 'yes'],
      ['1', 'ReLU', [1, 4], 0, '-'],
      ['2', 'Linear', [1, 2], 10, 'yes'],
    ],
  );
  model[0].requiresGrad = false;
  s = hl.summary(model);
  assert.equal(s.trainable, 10);
  assert.equal(s.nonTrainable, 36);
  const text = s.toString();
  assert.match(text, /0 \(Linear\)\s+-\s+36\s+no {2}\(frozen\)/);
  assert.match(text, /Non-trainable params: 36 {2}\(frozen layers marked above\)/);
  (model[2] as hl.Linear).bias!.requiresGrad = false;
  assert.equal(hl.summary(model).rows[2].trainable, 'partly');
  assert.throws(() => hl.summary(model, [1, 7]), /summary\(Sequential\): the forward pass on an input of shape \[1,7\] failed: .*Check the input shape/);
  model.dispose();
});

test('summary leaves training mode and the forward methods as they were', () => {
  const model = new hl.Sequential(new hl.Linear(3, 3), new hl.Dropout(0.5));
  const before = tf.memory().numTensors;
  hl.summary(model, [2, 3]);
  assert.equal(tf.memory().numTensors, before);
  assert.ok([...model.modules()].every((m) => m.training));
  assert.ok(!Object.prototype.hasOwnProperty.call(model[0], 'forward'));
  model.dispose();
});
