/**
 * Automatic freeing (lib/engine/autofree.ts), as a notebook uses it: tensors and
 * Parameters nobody can reach are released; held ones stay; tidy, dispose and
 * shared data (reshape, clone) keep their meaning. On the cpu and wasm backends.
 * Turned on for this test process only (node --test runs each file in its own).
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as hl from '../lib';
import { tf } from '../lib';

hl.autoFree();

/** Just-dropped objects V8 may keep until a later collection (seen: 1-2 on wasm). */
const SLACK = 3;
const count = () => tf.memory().numTensors;
/**
 * Collect until the count stops moving: one collection may leave objects dropped by an earlier
 * test for the next one (V8 decides), which would make a later count look too low or too high.
 */
async function settle(): Promise<{ numTensors: number; numBytes: number }> {
  let last = await hl.freeUnused();
  for (let i = 0; i < 8; i++) {
    const now = await hl.freeUnused();
    if (now.numTensors === last.numTensors) return now;
    last = now;
  }
  return last;
}
const variables = () => Object.keys(tf.engine().registeredVariables).length;

for (const backend of ['cpu', 'wasm'] as const) {
  test(`${backend}: a tensor variable reassigned 1000 times leaves one tensor; a kept one survives`, async () => {
    await hl.useBackend(backend);
    const before = (await settle()).numTensors;
    const kept = tf.tensor([1, 2, 3]);
    let x = tf.zeros([256]);
    for (let i = 0; i < 1000; i++) x = x.add(1); // each step drops the previous x
    // x and kept; V8 may keep one or two just-dropped objects until a later collection.
    const after = await settle();
    assert.ok(after.numTensors - before <= 2 + SLACK, `${after.numTensors - before} tensors left of 1002`);
    assert.deepEqual(Array.from(kept.dataSync()), [1, 2, 3]);
    assert.equal(x.dataSync()[0], 1000);
    kept.dispose();
    x.dispose();
    assert.ok((await settle()).numTensors - before <= SLACK, 'explicit dispose still frees');
    assert.ok(count() >= 0);
  });

  test(`${backend}: tensors sharing data (reshape, clone) keep it while one of them is reachable`, async () => {
    await hl.useBackend(backend);
    const before = (await settle()).numTensors;
    const make = () => {
      const a = tf.tensor([1, 2, 3, 4]);
      return [a.reshape([2, 2]), a.clone()]; // a itself becomes unreachable
    };
    let [r, c] = make();
    await settle();
    assert.deepEqual(Array.from(r.dataSync()), [1, 2, 3, 4]);
    assert.deepEqual(Array.from(c.dataSync()), [1, 2, 3, 4]);
    assert.ok(Math.abs(count() - (before + 2)) <= SLACK, `${count() - before} tensors for r and c`);
    r = c = tf.scalar(0); // drop both: the data goes
    assert.ok((await settle()).numTensors - before <= 1 + SLACK);
    assert.equal(r.dataSync()[0], 0);
  });

  test(`${backend}: tidy keeps its meaning; what it returns is freed when dropped`, async () => {
    await hl.useBackend(backend);
    const before = (await settle()).numTensors;
    let y = tf.tidy(() => tf.ones([10]).mul(2).sum());
    assert.equal(count(), before + 1, 'tidy freed its intermediates at once');
    y = tf.tidy(() => tf.ones([10]).mul(3).sum());
    assert.ok((await settle()).numTensors - before <= 1 + SLACK, 'the first result was freed');
    assert.equal(y.dataSync()[0], 30);
  });

  test(`${backend}: models and optimizers dropped are freed with their Parameters; a held model keeps training`, async () => {
    await hl.useBackend(backend);
    hl.manualSeed(0);
    const before = await settle();
    const varsBefore = variables();
    const kept = new hl.Linear(4, 1);
    const x = tf.randomNormal([8, 4]);
    const y = tf.randomNormal([8, 1]);
    const train = (model: hl.Linear, steps: number) => {
      const opt = new hl.Adam(model.parameters(), { lr: 0.01 });
      let loss = 0;
      for (let i = 0; i < steps; i++) {
        opt.zeroGrad();
        loss = hl.backward(() => hl.getLoss('mse')(model.forward(x), y));
        opt.step();
      }
      return loss;
    };
    const first = train(kept, 3);
    for (let i = 0; i < 50; i++) train(new hl.Linear(4, 1), 2); // 50 models and optimizers, each dropped
    const after = await settle();
    // kept: 2 parameters, 2 grads, Adam's 2 x 2 moments (its optimizer was dropped: freed too); x, y.
    assert.ok(after.numTensors <= before.numTensors + 2 + 2 + 2, `${after.numTensors - before.numTensors} tensors left`);
    assert.ok(variables() <= varsBefore + 2, `${variables() - varsBefore} variables still registered`);
    assert.ok(train(kept, 3) < first, 'the held model still trains');
    assert.equal(kept.weight.shape.join(','), '1,4');
  });

  test(`${backend}: a Parameter assigned new values is freed with its latest data`, async () => {
    await hl.useBackend(backend);
    const before = await settle();
    const make = () => {
      const p = new hl.Parameter(tf.zeros([1000]));
      p.copy_(tf.ones([1000]));
      p.assign(tf.fill([1000], 2));
      return p.sum().dataSync()[0];
    };
    for (let i = 0; i < 20; i++) assert.equal(make(), 2000);
    const after = await settle();
    assert.ok(after.numTensors - before.numTensors <= SLACK, `${after.numTensors - before.numTensors} tensors left`);
    assert.ok(after.numBytes - before.numBytes <= SLACK * 4000, `${after.numBytes - before.numBytes} bytes left`);
  });
}

test('a long synchronous loop is freed while it runs (memory-pressure trigger)', async () => {
  await hl.useBackend('cpu');
  await settle();
  const saved = { ...hl.AUTOFREE_LIMITS };
  hl.AUTOFREE_LIMITS.tensors = 2000;
  hl.AUTOFREE_LIMITS.maxGcShare = 1; // no pause between collections in this test
  try {
    const before = count();
    let peak = 0;
    let x = tf.zeros([64]);
    for (let i = 0; i < 20000; i++) {
      x = x.add(1);
      peak = Math.max(peak, count() - before);
    }
    assert.ok(peak < 2 * hl.AUTOFREE_LIMITS.tensors + 10, `peak ${peak} tensors inside one synchronous loop`);
    assert.equal(x.dataSync()[0], 20000);
  } finally {
    Object.assign(hl.AUTOFREE_LIMITS, saved);
  }
});

test('a loop that disposes what it makes never triggers a collection', async () => {
  await settle();
  const saved = { ...hl.AUTOFREE_LIMITS };
  hl.AUTOFREE_LIMITS.tensors = 100;
  hl.AUTOFREE_LIMITS.maxGcShare = 1;
  try {
    const collections = hl.autoFreeStats().collections;
    for (let i = 0; i < 5000; i++) tf.ones([4]).dispose();
    assert.equal(hl.autoFreeStats().collections, collections);
    const kept: tf.Tensor[] = [];
    for (let i = 0; i < 150; i++) kept.push(tf.ones([4])); // 150 held: growth past the limit collects (nothing to free)
    assert.equal(hl.autoFreeStats().collections, collections + 1);
    assert.equal(kept.filter((t) => t.isDisposed).length, 0);
    tf.dispose(kept);
  } finally {
    Object.assign(hl.AUTOFREE_LIMITS, saved);
  }
});

test('the kernel goes idle: a collection runs by itself after the code that created tensors', async () => {
  const saved = hl.AUTOFREE_LIMITS.maxGcShare;
  hl.AUTOFREE_LIMITS.maxGcShare = 1; // no pause after the last collection
  try {
    await settle();
    const collections = hl.autoFreeStats().collections;
    const before = count();
    let x = tf.zeros([8]);
    for (let i = 0; i < 100; i++) x = x.add(1);
    // A collection soon after (an idle one armed earlier may still wait out its pause: at most 19x a GC).
    for (let waited = 0; waited < 10000 && hl.autoFreeStats().collections === collections; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(hl.autoFreeStats().collections > collections, 'an idle collection ran');
    assert.ok(count() - before <= 1 + SLACK, `${count() - before} tensors left of 101`);
    assert.equal(x.dataSync()[0], 100);
  } finally {
    hl.AUTOFREE_LIMITS.maxGcShare = saved;
  }
});

test('autoFree(false): variables are held strongly again, nothing new is registered', async () => {
  await settle();
  hl.autoFree(false);
  try {
    const before = count();
    (() => new hl.Parameter(tf.zeros([3])))();
    let x = tf.zeros([3]);
    x = x.add(1);
    await settle();
    assert.equal(count(), before + 4, 'without automatic freeing the dropped tensors stay: zeros + parameter, zeros + x');
    tf.dispose(x);
  } finally {
    hl.autoFree();
  }
});
