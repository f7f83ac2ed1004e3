/**
 * Data pipeline: DataLoader batching, seeded shuffling and exact resume; no
 * leaked tensors; StandardScaler and split sizes against scikit-learn
 * (test/parity/gen_data.py); HDF5 reading (lazy, seed cube layout, files from
 * h5py) and writing (read back by h5py when Debian python3-h5py is installed);
 * CSV and Parquet tables.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import * as hl from '../lib';
import { tf } from '../lib';
import { assertClose, loadFixture } from './helpers';

const fx = loadFixture('data');
const fixtureH5 = path.join(__dirname, '..', '..', 'test', 'fixtures', 'data_h5py.h5');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-data-'));

before(async () => {
  await hl.useBackend('cpu');
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** 10 samples: x = [i, 10i, 100i] (float), y = i (int). */
function toyDataset(n = 10): hl.ArrayDataset {
  const x = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) x.set([i, 10 * i, 100 * i], 3 * i);
  return new hl.ArrayDataset({ x: { data: x, shape: [n, 3] }, y: { data: Int32Array.from({ length: n }, (_, i) => i), shape: [n] } });
}

/** The y values of every batch of one epoch, disposing the batches. */
function epochOrder(loader: hl.DataLoader): number[][] {
  return loader.forEachBatch((b) => Array.from(b.y.dataSync()));
}

// ------------------------------------------------------------------ loader

test('DataLoader batches in order, with the last batch short or dropped', () => {
  const ds = toyDataset();
  const loader = new hl.DataLoader(ds, { batchSize: 4 });
  assert.equal(loader.length, 3);
  const shapes: number[][] = [];
  const xs: number[][] = [];
  for (const b of loader) {
    shapes.push(b.x.shape);
    assert.equal(b.x.dtype, 'float32');
    assert.equal(b.y.dtype, 'int32', 'Int32Array fields become int32 tensors');
    xs.push(Array.from(b.x.dataSync()));
    tf.dispose(b);
  }
  assert.deepEqual(shapes, [
    [4, 3],
    [4, 3],
    [2, 3],
  ]);
  assert.deepEqual(xs[2], [8, 80, 800, 9, 90, 900]);
  assert.deepEqual(epochOrder(loader), [
    [0, 1, 2, 3],
    [4, 5, 6, 7],
    [8, 9],
  ]);
  const dropped = new hl.DataLoader(ds, { batchSize: 4, dropLast: true });
  assert.equal(dropped.length, 2);
  assert.deepEqual(epochOrder(dropped), [
    [0, 1, 2, 3],
    [4, 5, 6, 7],
  ]);
  assert.equal(new hl.DataLoader(ds).length, 10, 'batchSize defaults to 1 as in PyTorch');
  assert.throws(() => new hl.DataLoader(ds, { batchSize: 0 }), /batchSize must be a positive integer/);
});

test('shuffling: a new permutation each epoch, the same ones for the same seed', () => {
  const ds = toyDataset(20);
  const a = new hl.DataLoader(ds, { batchSize: 6, shuffle: true, seed: 7 });
  const b = new hl.DataLoader(ds, { batchSize: 6, shuffle: true, seed: 7 });
  const c = new hl.DataLoader(ds, { batchSize: 6, shuffle: true, seed: 8 });
  const ea = [epochOrder(a), epochOrder(a)];
  assert.deepEqual([epochOrder(b), epochOrder(b)], ea, 'same seed, same permutations');
  assert.notDeepEqual(epochOrder(c), ea[0], 'another seed, another order');
  assert.notDeepEqual(ea[0], ea[1], 'each epoch draws a new permutation');
  for (const e of ea)
    assert.deepEqual(
      e.flat().sort((p, q) => p - q),
      Array.from({ length: 20 }, (_, i) => i),
      'every sample exactly once',
    );
  // Without a seed the loader seeds itself from the global generator.
  hl.manualSeed(3);
  const d1 = epochOrder(new hl.DataLoader(ds, { batchSize: 6, shuffle: true }));
  hl.manualSeed(3);
  assert.deepEqual(epochOrder(new hl.DataLoader(ds, { batchSize: 6, shuffle: true })), d1, 'manualSeed makes it reproducible');
  // A Generator can be passed in.
  const g1 = new hl.Generator(5);
  const g2 = new hl.Generator(5);
  assert.deepEqual(
    epochOrder(new hl.DataLoader(ds, { batchSize: 6, shuffle: true, generator: g1 })),
    epochOrder(new hl.DataLoader(ds, { batchSize: 6, shuffle: true, generator: g2 })),
  );
});

test('resume: a restored loader draws the same permutations, also from mid-epoch', () => {
  const ds = toyDataset(11);
  const run = new hl.DataLoader(ds, { batchSize: 3, shuffle: true, seed: 42 });
  epochOrder(run); // epoch 1
  const atBoundary = JSON.parse(JSON.stringify(run.stateDict())); // as saved in a checkpoint
  assert.equal(atBoundary.epoch, 1);
  assert.equal(atBoundary.batch, 0);
  const expected = [epochOrder(run), epochOrder(run)]; // epochs 2 and 3

  const resumed = new hl.DataLoader(ds, { batchSize: 3, shuffle: true, seed: 999 });
  resumed.loadStateDict(atBoundary);
  assert.deepEqual([epochOrder(resumed), epochOrder(resumed)], expected);
  assert.equal(resumed.epoch, 3);

  // Stop after two batches of epoch 2, save, resume elsewhere: the rest of epoch 2, then epoch 3.
  const broken = new hl.DataLoader(ds, { batchSize: 3, shuffle: true, seed: 42 });
  epochOrder(broken);
  let seen = 0;
  for (const b of broken) {
    tf.dispose(b);
    if (++seen === 2) break;
  }
  const mid = broken.stateDict();
  assert.deepEqual([mid.epoch, mid.batch], [1, 2]);
  const again = new hl.DataLoader(ds, { batchSize: 3, shuffle: true, seed: 1 });
  again.loadStateDict(mid);
  assert.deepEqual(epochOrder(again), expected[0].slice(2), 'the batches not yet seen in epoch 2');
  assert.deepEqual(epochOrder(again), expected[1], 'then epoch 3 as in the uninterrupted run');
  assert.throws(() => again.loadStateDict({ ...mid, batch: 99 }), /outside this loader's 4 batches/);
  // Trainer's `stateful` option uses getState/setState, the same state.
  const viaTrainer = new hl.DataLoader(ds, { batchSize: 3, shuffle: true, seed: 5 });
  viaTrainer.setState(JSON.parse(JSON.stringify(mid)));
  assert.deepEqual(viaTrainer.getState(), mid);
  assert.deepEqual(epochOrder(viaTrainer), expected[0].slice(2));
});

test('the tensor count stays flat over an epoch (loop with dispose, forEachBatch, break)', async () => {
  const ds = toyDataset(50);
  const loader = new hl.DataLoader(ds, { batchSize: 8, shuffle: true, seed: 1 });
  const start = tf.memory().numTensors;
  for (const b of loader) {
    assert.equal(tf.memory().numTensors, start + 2, 'one tensor per field per batch, nothing else');
    tf.dispose(b);
  }
  assert.equal(tf.memory().numTensors, start);
  for (const b of loader) {
    tf.dispose(b);
    break; // leaving early holds no batch back
  }
  assert.equal(tf.memory().numTensors, start);
  const sums = loader.forEachBatch((b) => tf.tidy(() => tf.sum(b.x).dataSync()[0]));
  assert.equal(sums.length, 7);
  assert.equal(tf.memory().numTensors, start, 'forEachBatch disposes each batch');
  assert.throws(
    () =>
      loader.forEachBatch(() => {
        throw new Error('boom');
      }),
    /boom/,
  );
  assert.equal(tf.memory().numTensors, start, 'also when the callback throws');
  await loader.forEachBatchAsync(async (b) => b.x.data());
  assert.equal(tf.memory().numTensors, start, 'forEachBatchAsync disposes each batch');
});

test('async datasets: for await works, sync iteration says to use it', async () => {
  const base = toyDataset(7);
  const lazy: hl.Dataset = { length: 7, get: async (i: number) => base.get(i) };
  const loader = new hl.DataLoader(lazy, { batchSize: 3 });
  const ys: number[][] = [];
  for await (const b of loader) {
    ys.push(Array.from(b.y.dataSync()));
    tf.dispose(b);
  }
  assert.deepEqual(ys, [[0, 1, 2], [3, 4, 5], [6]]);
  assert.throws(() => loader.forEachBatch(() => 0), /reads asynchronously.*for await/);
});

test('ArrayDataset, TensorDataset and Subset', () => {
  const ds = new hl.ArrayDataset({
    x: [
      [1, 2],
      [3, 4],
      [5, 6],
    ],
    y: [7, 8, 9],
  });
  assert.equal(ds.length, 3);
  assert.deepEqual(ds.shapes, { x: [2], y: [] });
  assert.deepEqual(Array.from(ds.get(1).x.data), [3, 4]);
  const before = tf.memory().numTensors;
  const xt = tf.tensor2d([
    [1, 2],
    [3, 4],
  ]);
  const td = new hl.TensorDataset({ x: xt });
  xt.dispose();
  assert.equal(tf.memory().numTensors, before, 'TensorDataset keeps no tensor');
  assert.deepEqual(Array.from(td.get(1).x.data), [3, 4]);
  const sub = new hl.Subset(ds, [2, 0]);
  assert.equal(sub.length, 2);
  assert.deepEqual(Array.from((sub.get(0) as hl.Sample).y.data), [9]);
  assert.throws(() => new hl.Subset(ds, [3]), /index 3 .*outside the dataset of 3 items/);
  assert.throws(() => ds.get(3), /index 3 is out of range; the dataset has 3 items/);
  assert.throws(() => new hl.ArrayDataset({ x: [[1], [2]], y: [1, 2, 3] }), /'y' has 3 samples but 'x' has 2/);
  assert.throws(() => new hl.ArrayDataset({ x: { data: new Float32Array(5), shape: [2, 3] } }), /5 values do not fill shape \[2,3\]/);
  const bad: hl.Dataset = { length: 2, get: (i) => ({ x: { data: new Float32Array(i + 1), shape: [i + 1] } }) };
  assert.throws(() => epochOrder(new hl.DataLoader(bad, { batchSize: 2 })), /field 'x' of sample 1 in the batch has shape \[2\]/);
});

// ------------------------------------------------------------------ scaler

test('StandardScaler matches sklearn (population std, constant features scale 1)', () => {
  for (const key of ['scaler', 'scaler_nan']) {
    const c = fx[key];
    const nan = (v: number | null) => (v === null ? NaN : v);
    const xTrain = { data: Float32Array.from(c.x_train.data, nan), shape: c.x_train.shape };
    const xTest = { data: Float32Array.from(c.x_test.data, nan), shape: c.x_test.shape };
    const s = new hl.StandardScaler().fit(xTrain);
    assertClose(Array.from(s.mean!), c.mean, { rtol: 1e-12, atol: 1e-15 }, `${key} mean_`);
    assertClose(Array.from(s.var!), c.var, { rtol: 1e-9, atol: 1e-18 }, `${key} var_`);
    assertClose(Array.from(s.scale!), c.scale, { rtol: 1e-9, atol: 1e-18 }, `${key} scale_`);
    assert.equal(s.nSamplesSeen, c.n_samples_seen);
    const asNums = (a: Float32Array) => Array.from(a, (v) => (Number.isNaN(v) ? 0 : v));
    const asExp = (a: (number | null)[]) => a.map((v) => (v === null ? 0 : v));
    // float32 outputs: the same rounding as sklearn on float32 input
    assertClose(asNums(s.transform(xTrain).data), asExp(c.train_t), { rtol: 1e-6, atol: 1e-6 }, `${key} transform(train)`);
    assertClose(asNums(s.transform(xTest).data), asExp(c.test_t), { rtol: 1e-6, atol: 1e-6 }, `${key} transform(test)`);
    assertClose(asNums(s.inverseTransform(xTest).data), asExp(c.test_inv), { rtol: 1e-6, atol: 1e-6 }, `${key} inverse_transform`);
    assert.deepEqual(
      Array.from(s.transform(xTrain).data, Number.isNaN),
      c.train_t.map((v: number | null) => v === null),
      'NaN stays NaN',
    );
  }
  assert.equal(fx.scaler.scale[2], 1, 'sklearn: constant feature');
  assert.equal(fx.scaler.scale[4], 1, 'sklearn: constant feature 0.1 (not exact in float32)');
});

test('StandardScaler: JSON round trip, tensors, nested arrays and clear errors', () => {
  const x = [
    [1, 10],
    [2, 20],
    [3, 60],
  ];
  const s = new hl.StandardScaler().fit(x);
  const text = JSON.stringify(s);
  const back = hl.StandardScaler.fromJSON(JSON.parse(text));
  assert.deepEqual(back.transform(x), s.transform(x));
  const z = s.transform(x) as number[][];
  assertClose(
    z.map((r) => r[0]),
    [-Math.sqrt(1.5), 0, Math.sqrt(1.5)],
    { rtol: 1e-6, atol: 1e-6 },
    'ddof 0',
  );
  const before = tf.memory().numTensors;
  const t = tf.tensor2d(x);
  const tt = s.transform(t);
  const ti = s.inverseTransform(tt);
  assertClose(tt, z.flat(), { rtol: 1e-5, atol: 1e-6 }, 'tensor transform');
  assertClose(ti, x.flat(), { rtol: 1e-5, atol: 1e-5 }, 'tensor inverse');
  tf.dispose([t, tt, ti]);
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => new hl.StandardScaler().transform(x), /not fitted; call fit\(xTrain\)/);
  assert.throws(() => s.transform([[1, 2, 3]]), /3 features, the scaler was fitted on 2/);
  assert.throws(() => hl.StandardScaler.fromJSON({ type: 'MinMaxScaler' } as any), /expected an object with type 'StandardScaler'/);
});

// ------------------------------------------------------------------ splits

function assertPartition(parts: Int32Array[], n: number, where: string): void {
  const all = parts.flatMap((p) => Array.from(p)).sort((a, b) => a - b);
  assert.deepEqual(
    all,
    Array.from({ length: n }, (_, i) => i),
    `${where}: disjoint and covering 0..${n - 1}`,
  );
}

test('trainTestSplit sizes match sklearn; disjoint, seeded, deterministic', () => {
  for (const [key, want] of Object.entries(fx.split_sizes as Record<string, [number, number] | null>)) {
    const [n, t] = key.split('/').map(Number);
    if (want === null) {
      assert.throws(() => hl.trainTestSplit(n, { testSize: t }), /trainTestSplit/, `${key}: sklearn refuses`);
      continue;
    }
    const s = hl.trainTestSplit(n, { testSize: t, seed: 0 });
    assert.deepEqual([s.train.length, s.test.length], want, `sizes for n=${n}, testSize=${t}`);
    assertPartition([s.train, s.test], n, key);
  }
  const a = hl.trainTestSplit(100, { testSize: 0.2, seed: 42 });
  assert.deepEqual(hl.trainTestSplit(100, { testSize: 0.2, seed: 42 }), a, 'same seed, same split');
  assert.notDeepEqual(hl.trainTestSplit(100, { testSize: 0.2, seed: 43 }).test, a.test);
  const ordered = hl.trainTestSplit(10, { testSize: 0.3, shuffle: false });
  assert.deepEqual(
    [Array.from(ordered.train), Array.from(ordered.test)],
    [
      [0, 1, 2, 3, 4, 5, 6],
      [7, 8, 9],
    ],
  );
  assert.throws(() => hl.trainTestSplit(10, { testSize: 1.5 }), /testSize=1.5 must be a fraction in \(0, 1\) or a count/);
});

test('75/15/10 split sizes follow sklearn applied twice (XANESNET model_eval)', () => {
  for (const [n, want] of Object.entries(fx.three_way_sizes as Record<string, number[]>)) {
    const s = hl.trainValTestSplit(Number(n), { seed: 1 });
    assert.deepEqual([s.train.length, s.validation.length, s.test.length], want, `n=${n}`);
    assertPartition([s.train, s.validation, s.test], Number(n), `three-way n=${n}`);
  }
});

test('kFold and repeatedKFold: sklearn fold sizes, sorted indices, partitions', () => {
  for (const [key, sizes] of Object.entries(fx.kfold_test_sizes as Record<string, number[]>)) {
    const [n, k] = key.split('/').map(Number);
    const folds = hl.kFold(n, { nSplits: k, shuffle: true, seed: 3 });
    assert.deepEqual(
      folds.map((f) => f.test.length),
      sizes,
      `fold sizes n=${n} k=${k}`,
    );
    assertPartition(
      folds.map((f) => f.test),
      n,
      key,
    );
    for (const f of folds) {
      assertPartition([f.train, f.test], n, `${key} train+test`);
      for (const idx of [f.train, f.test])
        assert.ok(
          idx.every((v, i) => i === 0 || v > idx[i - 1]),
          'sorted like sklearn',
        );
    }
  }
  assert.deepEqual(
    hl.kFold(10, { nSplits: 3 }).map((f) => ({ train: Array.from(f.train), test: Array.from(f.test) })),
    fx.kfold_exact_10_3,
    'unshuffled KFold is identical to sklearn',
  );
  const rep = hl.repeatedKFold(23, { nSplits: 5, nRepeats: 2, seed: 0 });
  assert.deepEqual(
    rep.map((f) => f.test.length),
    fx.repeated_kfold_23_5_2,
  );
  assert.notDeepEqual(Array.from(rep[0].test), Array.from(rep[5].test), 'each repeat reshuffles');
  assert.deepEqual(hl.repeatedKFold(23, { nSplits: 5, nRepeats: 2, seed: 0 }), rep);
  assert.throws(() => hl.kFold(3, { nSplits: 5 }), /cannot make 5 folds from 3 samples/);
});

test('bootstrap samples, the original unpaired variant, ensemble seeds', () => {
  const b = hl.bootstrapIndices(50, { nSize: 0.9, seed: 4 });
  assert.equal(b.length, 45, 'int(N * n_size) draws');
  assert.ok(b.every((i) => i >= 0 && i < 50));
  assert.ok(new Set(b).size < 45, 'drawn with replacement');
  assert.deepEqual(hl.bootstrapIndices(50, { nSize: 0.9, seed: 4 }), b);
  assert.notDeepEqual(hl.bootstrapIndices(50, { nSize: 0.9, seed: 5 }), b);
  assert.equal(hl.bootstrapIndices(7, { nSize: 1.5, seed: 0 }).length, 10);
  const u = hl.bootstrapIndicesUnpaired(30, { seed: 1 });
  assert.equal(u.x.length, 30);
  assert.notDeepEqual(u.x, u.y, 'inputs and targets drawn independently, as in the original');
  // uniformity: every index drawn about equally often
  const counts = new Array(10).fill(0);
  for (const i of hl.bootstrapIndices(10, { nSize: 2000, seed: 9 })) counts[i]++;
  assert.ok(
    counts.every((c) => Math.abs(c - 2000) < 200),
    `counts ${counts}`,
  );
  const seeds = hl.ensembleSeeds(5, { seed: 11 });
  assert.equal(new Set(seeds).size, 5);
  assert.deepEqual(hl.ensembleSeeds(5, { seed: 11 }), seeds);
  assert.deepEqual(hl.ensembleSeeds(2, { seeds: [7, 8, 9] }), [7, 8]);
  assert.throws(() => hl.ensembleSeeds(3, { seeds: [1, 2] }), /3 models need 3 seeds, the list has 2/);
  assert.throws(() => hl.ensembleSeeds(2, { seeds: [1, 1] }), /repeat a value/);
  const sh = hl.shuffledIndices(10, { nSamples: 4, seed: 2 });
  assert.equal(sh.length, 4);
  assert.equal(new Set(sh).size, 4);
  assert.deepEqual(Array.from(hl.takeRows(Float32Array.from([0, 1, 2, 3, 4, 5]), 2, [2, 0])), [4, 5, 0, 1]);
});

// ------------------------------------------------------------------ HDF5

const S = 8;
/** Cube of seed s, kind k: value at flat index j is s * 1000 + k * 100 + j / 1000. */
function cubeValues(seed: number, kind: 0 | 1): Float32Array {
  return Float32Array.from({ length: S ** 3 }, (_, j) => seed * 1000 + kind * 100 + j / 1000);
}

async function writeCubeFile(file: string, seeds: number[], opts: { compression?: number; badShape?: string } = {}): Promise<void> {
  const w = await hl.H5Writer.create(file, { overwrite: true, compression: opts.compression });
  for (const s of seeds) {
    const names = hl.cubeNames(s);
    w.write(names.gr, cubeValues(s, 0), names.gr === opts.badShape ? [S, S / 2, S * 2] : [S, S, S]);
    w.write(names.newton, cubeValues(s, 1), [S, S, S]);
  }
  w.setAttrs('/', { redshift: 0 });
  w.close();
}

test('CubeDataset: seed layout, item order, labels, augmentation without mutation, lazy slabs', async () => {
  const file = path.join(tmp, 'data_z0.h5');
  await writeCubeFile(file, [0, 1, 2, 3, 4], { compression: 4 });
  const { train, test: held, close } = await hl.CubeDataset.openSplit(file, { nTrain: 3, nTest: 2, targetNoise: 0.1, newtonAugmentation: 2 });
  try {
    assert.equal(train.length, 6);
    assert.equal(held.length, 4);
    assert.equal(train.cubeSize, S);
    assert.deepEqual(
      Array.from({ length: 6 }, (_, i) => train.itemInfo(i).name),
      ['gr_seed0000', 'newton_seed0000', 'gr_seed0001', 'newton_seed0001', 'gr_seed0002', 'newton_seed0002'],
    );
    assert.deepEqual(held.itemInfo(0).name, 'gr_seed0003', 'the test seeds follow the training seeds');
    const gr = train.get(2);
    assert.deepEqual(gr.cube.shape, [S, S, S]);
    assert.equal(gr.label.data[0], Math.fround(0.9), 'GR label = 1 - targetNoise');
    assert.deepEqual(gr.cube.data, cubeValues(1, 0));
    const nw = train.get(3);
    assert.equal(nw.label.data[0], Math.fround(0.1), 'Newton label = targetNoise');
    assert.deepEqual(
      nw.cube.data,
      cubeValues(1, 1).map((v) => v * 2),
      'Newton cubes times newtonAugmentation',
    );
    assert.deepEqual(train.get(3).cube.data, nw.cube.data, 'reading again gives the same cube: nothing was mutated');
    const slab = train.readSlab(1, [[2, 3]]);
    assert.equal(slab.length, S * S, 'one slab, not the cube');
    assert.deepEqual(
      slab,
      cubeValues(0, 1)
        .subarray(2 * S * S, 3 * S * S)
        .map((v) => v * 2),
    );
    // Batches through the DataLoader.
    const start = tf.memory().numTensors;
    const loader = new hl.DataLoader(train, { batchSize: 4, shuffle: true, seed: 0 });
    const shapes = loader.forEachBatch((b) => [b.cube.shape, b.label.shape]);
    assert.deepEqual(shapes, [
      [
        [4, S, S, S],
        [4, 1],
      ],
      [
        [2, S, S, S],
        [2, 1],
      ],
    ]);
    assert.equal(tf.memory().numTensors, start);
  } finally {
    close();
  }
  const plain = await hl.CubeDataset.open(file, { seeds: [4] });
  assert.equal(plain.get(0).label.data[0], 1);
  assert.equal(plain.get(1).label.data[0], 0);
  assert.deepEqual(plain.get(1).cube.data, cubeValues(4, 1));
  plain.close();
});

test('HDF5 errors name the file, the dataset and what was expected', async () => {
  const missing = path.join(tmp, 'nope', 'data_z5.h5');
  await assert.rejects(hl.CubeDataset.open(missing, { seeds: [0] }), (e: Error) => {
    assert.match(e.message, /HDF5 file not found: .*nope\/data_z5\.h5/);
    assert.match(e.message, /Check the path/);
    return true;
  });
  const file = path.join(tmp, 'few.h5');
  await writeCubeFile(file, [0, 1]);
  await assert.rejects(hl.CubeDataset.openSplit(file, { nTrain: 2, nTest: 1 }), (e: Error) => {
    assert.match(e.message, /few\.h5: dataset 'gr_seed0002' is missing \(the GR cube of seed 2\)/);
    assert.match(e.message, /The file has 4 datasets: gr_seed0000 float32 \[8, 8, 8\]/);
    return true;
  });
  const bad = path.join(tmp, 'bad.h5');
  await writeCubeFile(bad, [0, 1], { badShape: 'gr_seed0001' });
  await assert.rejects(hl.CubeDataset.open(bad, { seeds: [0, 1] }), /bad\.h5: dataset 'gr_seed0001' has shape \[8, 4, 16\] \(float32\), expected \[8, 8, 8\]/);
  await assert.rejects(hl.CubeDataset.open(file, { seeds: [0], cubeSize: 16 }), /expected \[16, 16, 16\]/);
  await assert.rejects(hl.H5Dataset.open(file, { x: 'inputs' }), /dataset 'inputs' is missing \(field 'x'\)\. The file has/);
  const notH5 = path.join(tmp, 'text.h5');
  fs.writeFileSync(notH5, 'not hdf5');
  await assert.rejects(hl.H5File.open(notH5), /could not be opened as HDF5/);
  await assert.rejects(hl.H5Writer.create(file), /already exists; pass \{overwrite: true\}/);
});

test('files written by h5py: cubes (gzip too), float64 and int64 rows, attributes', async () => {
  const want = fx.h5py_file;
  const cubes = await hl.CubeDataset.open(fixtureH5, { seeds: [0, 1, 2] });
  assert.equal(cubes.cubeSize, 4);
  for (let i = 0; i < cubes.length; i++) {
    assertClose(Array.from(cubes.get(i).cube.data), want.cubes[cubes.itemInfo(i).name], { rtol: 0, atol: 0 }, cubes.itemInfo(i).name);
  }
  cubes.close();
  const rows = await hl.H5Dataset.open(fixtureH5, { x: 'rows_f64', y: 'rows_i64' });
  assert.equal(rows.length, 5);
  const r2 = rows.get(2);
  assert.ok(r2.x.data instanceof Float32Array && r2.y.data instanceof Int32Array);
  assertClose(Array.from(r2.x.data), want.rows_f64.slice(6, 9), { rtol: 1e-7, atol: 0 }, 'float64 row as float32');
  assert.deepEqual(Array.from(r2.y.data), [6]);
  assert.equal(rows.file.attrs().note, 'written by h5py');
  const b = rows.file.dataset('rows_f64');
  assert.deepEqual([b.shape, b.dtype], [[5, 3], 'float64']);
  rows.close();
  const f = await hl.H5File.open(fixtureH5);
  await assert.rejects(
    hl.H5Dataset.open(fixtureH5, { x: 'rows_f64', c: 'gr_seed0000' }),
    /'gr_seed0000' \(field 'c'\) has 4 rows but 'rows_f64' \(field 'x'\) has 5/,
  );
  f.close();
});

const python = '/usr/bin/python3';
const hasH5py = spawnSync(python, ['-c', 'import h5py'], { encoding: 'utf8' }).status === 0;

test(
  'h5py reads what we write (datasets, dtypes, groups, attributes)',
  { skip: hasH5py ? false : `skipped: ${python} has no h5py (apt-get install -y python3-h5py)` },
  async () => {
    const file = path.join(tmp, 'export.h5');
    const pred = Float32Array.from({ length: 12 }, (_, i) => i / 4);
    await hl.writeH5(
      file,
      {
        pred: { data: pred, shape: [3, 4], attrs: { units: 'eV' } },
        'meta/ids': { data: [3, 1, 2], shape: [3], dtype: 'int32' },
        energy: { data: [7097, 7097.25], shape: [2], dtype: 'float64' },
      },
      { compression: 6 },
    );
    const script = [
      'import h5py, json, sys',
      'f = h5py.File(sys.argv[1], "r")',
      'out = {k: {"shape": list(f[k].shape), "dtype": str(f[k].dtype), "data": f[k][()].reshape(-1).tolist()} for k in ["pred", "meta/ids", "energy"]}',
      'out["units"] = f["pred"].attrs["units"] if isinstance(f["pred"].attrs["units"], str) else f["pred"].attrs["units"].decode()',
      'out["compression"] = f["pred"].compression',
      'print(json.dumps(out))',
    ].join('\n');
    const r = spawnSync(python, ['-c', script, file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout);
    assert.deepEqual(got.pred, { shape: [3, 4], dtype: 'float32', data: Array.from(pred) });
    assert.deepEqual(got['meta/ids'], { shape: [3], dtype: 'int32', data: [3, 1, 2] });
    assert.deepEqual(got.energy, { shape: [2], dtype: 'float64', data: [7097, 7097.25] });
    assert.equal(got.units, 'eV');
    assert.equal(got.compression, 'gzip');
  },
);

test('H5Writer replaces a file only when finished, and abort keeps the old one', async () => {
  const file = path.join(tmp, 'keep.h5');
  await hl.writeH5(file, { a: { data: [1, 2], shape: [2] } });
  const w = await hl.H5Writer.create(file, { overwrite: true });
  w.write('b', [5], [1]);
  w.abort();
  const f = await hl.H5File.open(file);
  assert.deepEqual(f.names(), ['a'], 'the old file is intact after abort');
  assert.deepEqual(Array.from(f.dataset('a').read() as Float32Array), [1, 2]);
  f.close();
  await assert.rejects(hl.writeH5(file, { c: { data: [1, 2, 3], shape: [2] } }, { overwrite: true }), /'c' has 3 values, shape \[2\] needs 2/);
  const g = await hl.H5File.open(file);
  assert.deepEqual(g.names(), ['a'], 'bad input never touched the file');
  g.close();
  assert.deepEqual(
    fs.readdirSync(tmp).filter((n) => n.includes('.partial-')),
    [],
    'no partial files left',
  );
});

// ------------------------------------------------------------------ tables

test('tables: CSV and Parquet round trips through nodejs-polars', () => {
  const x = Float32Array.from([0.1, -2.5, 1e-8, NaN]);
  const cols = { id: ['a', 'b,c', 'd"e', 'f'], x, n: Int32Array.from([1, 2, 3, 4]), y: [1.5, 2, 3, 4] };
  for (const ext of ['csv', 'parquet']) {
    const file = path.join(tmp, `t.${ext}`);
    hl.writeTable(file, cols);
    const t = hl.readTable(file);
    assert.deepEqual(t.columns, ['id', 'x', 'n', 'y']);
    assert.equal(t.nRows, 4);
    assert.deepEqual(t.data.id, cols.id, `${ext}: text column`);
    assert.deepEqual(Array.from(t.data.x as Float32Array), Array.from(x), `${ext}: float32 values exactly, NaN kept`);
    assert.deepEqual(Array.from(t.data.n as Float32Array), [1, 2, 3, 4]);
    const m = hl.tableMatrix(t, ['n', 'y']);
    assert.deepEqual(m.shape, [4, 2]);
    assert.deepEqual(Array.from(m.data), [1, 1.5, 2, 2, 3, 3, 4, 4]);
    assert.throws(() => hl.writeTable(file, cols), /already exists; pass \{overwrite: true\}/);
    hl.writeTable(file, { z: [1] }, { overwrite: true });
    assert.deepEqual(hl.readTable(file).columns, ['z']);
  }
  const df = hl.readDataFrame(path.join(tmp, 't.parquet'));
  assert.equal(df.height, 1);
  const file = path.join(tmp, 't2.csv');
  hl.writeTable(file, cols);
  assert.deepEqual(hl.readTable(file, { columns: ['y', 'id'] }).columns, ['y', 'id']);
  assert.throws(() => hl.readTable(file, { columns: ['q'] }), /has no column 'q'; its columns are id, x, n, y/);
  assert.throws(() => hl.readTable(path.join(tmp, 'missing.csv')), /file not found: .*missing\.csv/);
  assert.throws(() => hl.writeTable(path.join(tmp, 't.xlsx'), cols), /use \.csv or \.parquet/);
  assert.throws(() => hl.writeTable(path.join(tmp, 'u.csv'), { a: [1], b: [1, 2] }), /'b' has 2 rows, 'a' has 1/);
});

test('the CSV fallback (used when polars cannot load) parses what it formats', () => {
  const cols = { name: ['x', 'has,comma', 'has "quote"', 'line\nbreak'], v: [1.5, NaN, -3, 1e-7] };
  const t = hl.parseCsv(hl.formatCsv(cols));
  assert.deepEqual(t.columns, ['name', 'v']);
  assert.deepEqual(t.data.name, cols.name);
  assert.deepEqual(Array.from(t.data.v as Float32Array), Array.from(Float32Array.from(cols.v)));
  assert.throws(() => hl.parseCsv('a,b\n1,2\n3\n', 'x.csv'), /x\.csv: line 3 has 1 fields, the header has 2/);
  // readTable / writeTable in a process where nodejs-polars fails to load
  const script = `
    const Module = require('node:module');
    const load = Module._load;
    Module._load = function (req, ...rest) {
      if (req === 'nodejs-polars') throw new Error('no prebuilt binary (simulated)');
      return load.call(this, req, ...rest);
    };
    const t = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'data', 'table.js'))});
    const file = ${JSON.stringify(path.join(tmp, 'fallback.csv'))};
    t.writeTable(file, {s: ['a,b', 'c'], v: Float32Array.from([0.5, -1])});
    const r = t.readTable(file);
    let parquet = '';
    try { t.writeTable(file.replace('.csv', '.parquet'), {v: [1]}); } catch (e) { parquet = e.message; }
    console.log(JSON.stringify({columns: r.columns, s: r.data.s, v: Array.from(r.data.v), parquet}));
  `;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout);
  assert.deepEqual(
    [got.columns, got.s, got.v],
    [
      ['s', 'v'],
      ['a,b', 'c'],
      [0.5, -1],
    ],
  );
  assert.match(got.parquet, /Parquet file .* needs nodejs-polars, which did not load \(no prebuilt binary \(simulated\)\)/);
});

test('CSV fallback: errors name the file line (blank lines and quoted newlines counted); true/false columns are numbers', () => {
  const { parseCsv } = require('../lib/data/table') as typeof import('../lib/data/table');
  assert.throws(() => parseCsv('a,b\n1,2\n\n3,4\n5\n', 'x.csv'), /x\.csv: line 5 has 1 fields, the header has 2/);
  assert.throws(() => parseCsv('a,b\n"x\ny",2\n3\n', 'x.csv'), /x\.csv: line 4 has 1 fields/);
  assert.deepEqual(Array.from(parseCsv('a,b\ntrue,1\nFALSE,2\n,3\n').data.a as Float32Array), [1, 0, NaN]);
  assert.deepEqual(parseCsv('a\nyes\nno\n').data.a, ['yes', 'no']);
});
