/**
 * File formats under lib/train: safetensors (and PyTorch interop both ways), atomic writes,
 * checkpoints, TensorBoard event files (checked with protoc and our own CRC-checking reader).
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, test } from 'node:test';
import * as hl from '../lib';
import { tf } from '../lib';
import { defaultGenerator } from '../lib/engine/random';
import { commitFile, removeStaleTemps, stageFile, TEMP_FILE_PATTERN, writeFileAtomic } from '../lib/io/atomic';
import { CHECKPOINT_FILE, loadCheckpoint, restoreCheckpoint, saveCheckpoint, HasStateDict } from '../lib/io/checkpoint';
import {
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  loadWeights,
  rawToTensor,
  RawTensor,
  readSafetensors,
  saveSafetensors,
  saveWeights,
} from '../lib/io/safetensors';
import { readEvents, readScalars, SummaryWriter } from '../lib/io/tensorboard';
import { crc32c, frameRecord, maskedCrc32c, readRecords } from '../lib/io/tfrecord';
import { assertClose, fromFixture, loadFixture } from './helpers';

const fixtureDir = path.join(__dirname, '..', '..', 'test', 'fixtures');
const genFiles = path.join(__dirname, '..', '..', 'test', 'parity', 'gen_files.py');
const fx = loadFixture('files');

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-files-'));
}

before(async () => {
  await hl.useBackend('cpu');
});

/**
 * BatchNorm1d's state-dict layout (weight, bias, running_mean, running_var, num_batches_tracked as
 * an integer) with its evaluation-mode forward, so these tests do not depend on lib/nn's BatchNorm.
 */
class EvalBatchNorm1d extends hl.Module {
  weight: hl.Parameter;
  bias: hl.Parameter;
  constructor(n: number) {
    super();
    this.weight = tf.tidy(() => new hl.Parameter(tf.ones([n])));
    this.bias = tf.tidy(() => new hl.Parameter(tf.zeros([n])));
    this.registerBuffer('running_mean', tf.zeros([n]));
    this.registerBuffer('running_var', tf.ones([n]));
    this.registerBuffer('num_batches_tracked', tf.scalar(0, 'int32'));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const norm = tf.div(tf.sub(x, this.getBuffer('running_mean')), tf.sqrt(tf.add(this.getBuffer('running_var'), 1e-5)));
      return tf.add(tf.mul(norm, this.weight), this.bias);
    });
  }
}

const makeModel = () => new hl.Sequential(new hl.Linear(3, 2), new EvalBatchNorm1d(2));

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

// ---- safetensors ------------------------------------------------------------------------------

test('safetensors: every dtype round-trips exactly, with empty and 0-d tensors and metadata', () => {
  const raws: Record<string, RawTensor> = {
    f64: { dtype: 'F64', shape: [3], data: Float64Array.from([0.1, -1e300, 5e-324]) },
    f32: { dtype: 'F32', shape: [2, 2], data: Float32Array.from([1.5, -2.25, 3, 1e-30]) },
    f16: { dtype: 'F16', shape: [2], data: Uint16Array.from([0x3800, 0xfbff]) },
    bf16: { dtype: 'BF16', shape: [1], data: Uint16Array.from([0x3f80]) },
    i64: { dtype: 'I64', shape: [3], data: BigInt64Array.from([0n, -(2n ** 63n), 2n ** 63n - 1n]) },
    i32: { dtype: 'I32', shape: [2], data: Int32Array.from([-(2 ** 31), 2 ** 31 - 1]) },
    i16: { dtype: 'I16', shape: [2], data: Int16Array.from([-32768, 32767]) },
    i8: { dtype: 'I8', shape: [2], data: Int8Array.from([-128, 127]) },
    u64: { dtype: 'U64', shape: [1], data: BigUint64Array.from([2n ** 64n - 1n]) },
    u32: { dtype: 'U32', shape: [1], data: Uint32Array.from([2 ** 32 - 1]) },
    u16: { dtype: 'U16', shape: [1], data: Uint16Array.from([65535]) },
    u8: { dtype: 'U8', shape: [1, 3], data: Uint8Array.from([0, 255, 7]) },
    bool: { dtype: 'BOOL', shape: [2], data: Uint8Array.from([1, 0]) },
    empty: { dtype: 'F32', shape: [2, 0], data: new Float32Array(0) },
    scalar: { dtype: 'I32', shape: [], data: Int32Array.from([42]) },
  };
  const dir = tmpDir();
  const file = path.join(dir, 'all.safetensors');
  saveSafetensors(file, raws, { purpose: 'test', ünïcode: 'wërt' });
  const { tensors, metadata } = readSafetensors(file);
  assert.deepEqual(metadata, { purpose: 'test', ünïcode: 'wërt' });
  assert.deepEqual(Object.keys(tensors).sort(), Object.keys(raws).sort());
  for (const [name, raw] of Object.entries(raws)) {
    assert.equal(tensors[name].dtype, raw.dtype, name);
    assert.deepEqual(tensors[name].shape, raw.shape, name);
    assert.equal(tensors[name].data.constructor, raw.data.constructor, name);
    assert.deepEqual(Array.from(tensors[name].data as ArrayLike<unknown>), Array.from(raw.data as ArrayLike<unknown>), name);
  }
  // The layout the reference implementation writes: header padded with spaces to 8 bytes, largest dtypes first.
  const bytes = fs.readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  assert.equal(n % 8, 0);
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  assert.ok(
    /^ *$/.test(
      bytes
        .subarray(8, 8 + n)
        .toString('utf8')
        .replace(/^.*\}/s, ''),
    ),
    'padding is spaces',
  );
  assert.deepEqual(Object.keys(header), ['__metadata__', ...Object.keys(raws)], 'the header keeps the order given');
  assert.deepEqual(
    [header.f64, header.i64, header.u64].map((h) => h.data_offsets[0]),
    [0, 24, 48],
    '8-byte dtypes first in the data',
  );
  assert.deepEqual(header.empty.data_offsets[0], header.empty.data_offsets[1]);
  assert.equal(fs.readdirSync(dir).length, 1, 'no temp file is left');
});

test('safetensors: tf tensors save as F32/I32/BOOL, or as F64/I64/U8 on request, and load back', () => {
  const before = tf.memory().numTensors;
  const ts = {
    w: tf.tensor([
      [1.25, -2],
      [3, 4],
    ]),
    idx: tf.tensor([1, -2, 3], [3], 'int32'),
    mask: tf.tensor([true, false], [2], 'bool'),
    steps: tf.tensor([5, 2 ** 31 - 1], [2], 'int32'),
    d: tf.tensor([0.1, 2]),
    bytes: tf.tensor([0, 200], [2], 'int32'),
    none: tf.zeros([0, 3]),
  };
  const buf = encodeSafetensors(ts, undefined, { dtypes: { steps: 'I64', d: 'F64', bytes: 'U8' } });
  const raw = decodeSafetensors(buf).tensors;
  assert.deepEqual(Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v.dtype])), {
    w: 'F32',
    idx: 'I32',
    mask: 'BOOL',
    steps: 'I64',
    d: 'F64',
    bytes: 'U8',
    none: 'F32',
  });
  assert.deepEqual(Array.from(raw.steps.data as BigInt64Array), [5n, 2n ** 31n - 1n]);
  assert.equal((raw.d.data as Float64Array)[0], Math.fround(0.1), 'F64 holds the float32 value exactly');
  const file = path.join(tmpDir(), 't.safetensors');
  saveSafetensors(file, ts, undefined, { dtypes: { steps: 'I64', d: 'F64', bytes: 'U8' } });
  const { tensors, metadata } = loadSafetensors(file);
  assert.deepEqual(metadata, {});
  for (const [k, t] of Object.entries(ts)) {
    assert.deepEqual(tensors[k].shape, t.shape, k);
    assert.deepEqual(values(tensors[k]), values(t), k);
  }
  assert.equal(tensors.mask.dtype, 'bool');
  assert.equal(tensors.steps.dtype, 'int32');
  assert.equal(tensors.d.dtype, 'float32');
  assert.throws(() => encodeSafetensors({ x: ts.d }, undefined, { dtypes: { x: 'I64' } }), /'x' cannot be stored as I64: element 0 is 0.10000000149011612/);
  assert.throws(() => encodeSafetensors({ x: ts.idx }, undefined, { dtypes: { x: 'U8' } }), /'x' cannot be stored as U8: element 1 is -2/);
  for (const t of [...Object.values(ts), ...Object.values(tensors)]) t.dispose();
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
});

test('safetensors: damaged files give errors naming the file and the problem', () => {
  const dir = tmpDir();
  const good = encodeSafetensors({ a: tf.tensor([1, 2, 3]) });
  const write = (name: string, bytes: Uint8Array) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, bytes);
    return f;
  };
  const header = (h: object) => {
    const json = Buffer.from(JSON.stringify(h));
    const out = Buffer.alloc(8 + json.length + 12);
    out.writeBigUInt64LE(BigInt(json.length));
    json.copy(out, 8);
    return out;
  };
  assert.throws(() => readSafetensors(path.join(dir, 'nope.safetensors')), /nope.safetensors does not exist/);
  assert.throws(() => readSafetensors(write('short.st', good.subarray(0, 5))), /short.st: only 5 bytes/);
  assert.throws(
    () => readSafetensors(write('cut.st', good.subarray(0, good.length - 4))),
    /cut.st: tensor 'a' ends at byte 12 of the data, which has only 8 bytes: the file is truncated/,
  );
  assert.throws(() => readSafetensors(write('len.st', Buffer.from([255, 255, 0, 0, 0, 0, 0, 0, 123]))), /len.st: the header length field says 65535 bytes/);
  assert.throws(() => readSafetensors(write('json.st', header({}).fill(0x20, 8, 10))), /json.st: the header does not start with "\{"/);
  assert.throws(
    () => readSafetensors(write('dtype.st', header({ a: { dtype: 'F8_E4M3', shape: [12], data_offsets: [0, 12] } }))),
    /dtype.st: tensor 'a' has dtype "F8_E4M3", not supported here/,
  );
  assert.throws(
    () => readSafetensors(write('size.st', header({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 12] } }))),
    /size.st: tensor 'a' spans 12 bytes, but shape \[2\] of F32 needs 8/,
  );
  assert.throws(
    () => readSafetensors(write('gap.st', header({ a: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }))),
    /gap.st: tensor 'a' starts at data byte 4, expected 0/,
  );
  assert.throws(
    () => readSafetensors(write('meta.st', header({ __metadata__: { n: 1 }, a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] } }))),
    /meta.st: __metadata__ value 'n' is number/,
  );
  assert.throws(() => encodeSafetensors({ s: tf.tensor(['a']) }), /'s' has dtype string/);
});

test('safetensors: reads every dtype PyTorch wrote (fixture from test/parity/gen_files.py)', () => {
  const file = path.join(fixtureDir, fx.dtypes.file);
  const { tensors, metadata } = readSafetensors(file);
  assert.deepEqual(metadata, { made_by: 'test/parity/gen_files.py', note: 'every dtype' });
  for (const [name, want] of Object.entries<any>(fx.dtypes.tensors)) {
    const raw = tensors[name];
    assert.equal(raw.dtype, want.dtype, name);
    assert.deepEqual(raw.shape, want.shape, name);
    if (want.dtype === 'F16' || want.dtype === 'BF16') {
      const t = rawToTensor(raw, name); // half precision values are exact in float32
      assert.deepEqual(values(t), want.data, name);
      t.dispose();
    } else {
      assert.deepEqual(Array.from(raw.data as ArrayLike<number | bigint>, Number), want.data, name);
    }
  }
  // As tf tensors: F64 rounds to float32; an int64 beyond int32 cannot be a tfjs tensor.
  assert.throws(() => loadSafetensors(file), /files_torch_dtypes.safetensors: .*'i64_big' \(I64\) holds 1099511627776 at element 0, outside the int32 range/);
  const f64 = rawToTensor(tensors.f64);
  assert.deepEqual(values(f64), (fx.dtypes.tensors.f64.data as number[]).map(Math.fround));
  f64.dispose();
});

test('safetensors: a PyTorch state dict loads into the same model, keys and layouts as PyTorch', () => {
  const model = makeModel();
  const before = tf.memory().numTensors;
  const { metadata } = loadWeights(model, path.join(fixtureDir, fx.model.file));
  assert.deepEqual(metadata, { format: 'pt' });
  const sd = model.stateDict();
  for (const [name, want] of Object.entries<any>(fx.model.state)) {
    assert.deepEqual(sd[name].shape, want.shape, name);
    assert.deepEqual(values(sd[name]), want.data.map(Math.fround), name);
  }
  assert.equal(sd['1.num_batches_tracked'].dtype, 'int32');
  const x = fromFixture(fx.model.x);
  const y = model.eval().forward(x);
  assertClose(y, fx.model.y_eval, { rtol: 1e-5, atol: 1e-6 }, 'eval forward after loading PyTorch weights');
  tf.dispose([x, y]);
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  assert.throws(
    () => loadWeights(new hl.Sequential(new hl.Linear(3, 2)), path.join(fixtureDir, fx.model.file)),
    /loading .*files_torch_model.safetensors: .*unexpected keys \[.*1\.weight/,
  );
  model.dispose();
});

const python = '/usr/bin/python3';
const torchMissing = (() => {
  if (!fs.existsSync(python)) return `${python} not found`;
  const r = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  return r.status === 0 ? '' : `${python} has no torch (install Debian python3-torch)`;
})();

test(
  'safetensors: PyTorch loads what saveWeights writes (load_state_dict strict, int64 num_batches_tracked)',
  { skip: torchMissing ? `skipped: ${torchMissing}` : false },
  () => {
    const model = makeModel();
    loadWeights(model, path.join(fixtureDir, fx.model.file));
    const bn = model[1] as EvalBatchNorm1d;
    bn.registerBuffer('num_batches_tracked', tf.scalar(123456, 'int32'));
    (model[0] as hl.Linear).weight.copy_(tf.tidy(() => tf.mul((model[0] as hl.Linear).weight, -3)));
    const file = path.join(tmpDir(), 'from_hyperlab.safetensors');
    saveWeights(model, file, { note: 'written by hyperlab' });
    const r = spawnSync(python, [genFiles, '--check', file], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
    assert.equal(r.status, 0, `python check failed:\n${r.stderr}`);
    const got = JSON.parse(r.stdout);
    assert.deepEqual(got.metadata, { format: 'pt', note: 'written by hyperlab' });
    assert.equal(got.torch_dtypes['1.num_batches_tracked'], 'torch.int64');
    assert.equal(got.torch_dtypes['0.weight'], 'torch.float32');
    const sd = model.stateDict();
    assert.deepEqual(Object.keys(got.state), Object.keys(sd), 'same keys in the same order as PyTorch');
    for (const [name, t] of Object.entries(sd)) assert.deepEqual(got.state[name].data, values(t), name);
    model.dispose();
  },
);

// ---- atomic writes ----------------------------------------------------------------------------

test('atomic: a write replaces the file whole; an unfinished one leaves the old file', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'sub', 'metrics.csv');
  writeFileAtomic(file, 'epoch,loss\n1,0.5\n');
  writeFileAtomic(file, 'epoch,loss\n1,0.5\n2,0.4\n');
  assert.equal(fs.readFileSync(file, 'utf8'), 'epoch,loss\n1,0.5\n2,0.4\n');
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['metrics.csv']);
  // "Crash" after staging: the temp exists, the file is still the old one.
  const temp = stageFile(file, 'epoch,loss\n1,0.5\n2,0.4\n3,0.3\n');
  assert.ok(TEMP_FILE_PATTERN.test(path.basename(temp)));
  assert.equal(fs.readFileSync(file, 'utf8'), 'epoch,loss\n1,0.5\n2,0.4\n');
  commitFile(temp, file);
  assert.equal(fs.readFileSync(file, 'utf8').split('\n').length, 5);
  stageFile(file, 'stale');
  assert.equal(removeStaleTemps(path.dirname(file)).length, 1);
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['metrics.csv']);
  assert.throws(() => writeFileAtomic(path.join(file, 'x'), 'y'), /could not write .*metrics.csv\/x/);
});

// ---- checkpoints ------------------------------------------------------------------------------

/** An optimizer stand-in: its state holds a tensor, a typed array, NaN, Infinity and nested data. */
class FakeOptimizer implements HasStateDict {
  momentum = tf.tensor([
    [0.5, -1],
    [2, 3],
  ]);
  state: any = {
    step: 7,
    lr: 0.01,
    betas: [0.9, 0.999],
    note: 'adam',
    nanLoss: NaN,
    floor: -Infinity,
    sq: Float32Array.from([1, 2]),
    exp_avg: { shape: [2, 2], data: [0.5, -0, NaN, Math.fround(0.1)] }, // float32 values: stored as F32
    exact: { data: [0.1, 1e300], shape: [2] }, // doubles: stored as F64
  };
  stateDict() {
    return { ...this.state, momentum: this.momentum };
  }
  loadStateDict(s: any) {
    const { momentum, ...rest } = s;
    this.momentum.dispose();
    this.momentum = tf.clone(momentum); // copies, as the contract says
    this.state = rest;
  }
}

test('checkpoint: save and restore give identical weights, optimizer, schedule and generator state', () => {
  const dir = path.join(tmpDir(), 'last');
  hl.manualSeed(11);
  const model = makeModel();
  loadWeights(model, path.join(fixtureDir, fx.model.file));
  const opt = new FakeOptimizer();
  const sched = {
    s: { last_epoch: 4, base_lrs: [0.1] },
    stateDict() {
      return this.s;
    },
    loadStateDict(v: any) {
      this.s = v;
    },
  };
  for (let i = 0; i < 5; i++) defaultGenerator.random();
  defaultGenerator.normal(); // leaves a spare normal in the state
  const before = tf.memory().numTensors;
  saveCheckpoint(dir, { model, optimizer: opt, scheduler: sched, epoch: 3, step: 120, bestMetric: Infinity, extra: { history: { loss: [1, NaN] }, tag: 'x' } });
  assert.equal(tf.memory().numTensors, before, 'save leaked tensors');
  const files = fs.readdirSync(dir).sort();
  assert.equal(files.length, 3, `files: ${files}`);
  assert.equal(files[0], CHECKPOINT_FILE);
  assert.match(files[1], /^model\.[0-9a-z]+\.safetensors$/);
  assert.match(files[2], /^state\.[0-9a-z]+\.safetensors$/);
  const expectedNext = [defaultGenerator.random(), defaultGenerator.normal(), defaultGenerator.normal()];

  // Somewhere else: a fresh model, optimizer and schedule, the generator moved on.
  hl.manualSeed(999);
  const model2 = makeModel();
  const opt2 = new FakeOptimizer();
  opt2.momentum.dispose();
  opt2.momentum = tf.zeros([1]);
  const sched2 = {
    s: {},
    stateDict() {
      return this.s;
    },
    loadStateDict(v: any) {
      this.s = v;
    },
  };
  const mid = tf.memory().numTensors;
  const info = restoreCheckpoint(dir, { model: model2, optimizer: opt2, scheduler: sched2 });
  assert.equal(tf.memory().numTensors, mid, 'restore leaked tensors');
  assert.deepEqual(
    { ...info, createdAt: undefined },
    { epoch: 3, step: 120, bestMetric: Infinity, extra: { history: { loss: [1, NaN] }, tag: 'x' }, createdAt: undefined },
  );
  const [a, b] = [model.stateDict(), model2.stateDict()];
  for (const k of Object.keys(a)) {
    assert.equal(b[k].dtype, a[k].dtype, k);
    assert.deepEqual(values(b[k]), values(a[k]), k);
  }
  assert.deepEqual(values(opt2.momentum), values(opt.momentum));
  assert.deepEqual(opt2.momentum.shape, [2, 2]);
  assert.equal(opt2.state.step, 7);
  assert.ok(Number.isNaN(opt2.state.nanLoss));
  assert.equal(opt2.state.floor, -Infinity);
  assert.ok(opt2.state.sq instanceof Float32Array);
  assert.deepEqual(Array.from(opt2.state.sq), [1, 2]);
  assert.deepEqual(opt2.state.exp_avg, opt.state.exp_avg);
  assert.ok(Object.is(opt2.state.exp_avg.data[1], -0));
  assert.deepEqual(opt2.state.exact, { shape: [2], data: [0.1, 1e300] });
  assert.deepEqual(sched2.s, sched.s);
  assert.deepEqual([defaultGenerator.random(), defaultGenerator.normal(), defaultGenerator.normal()], expectedNext);

  // The JSON is readable and the weights file is a plain PyTorch-layout safetensors file.
  const json = JSON.parse(fs.readFileSync(path.join(dir, CHECKPOINT_FILE), 'utf8'));
  assert.equal(json.bestMetric.$number, 'Infinity');
  assert.deepEqual(json.optimizer.momentum, { $tensor: 'optimizer.momentum' });
  assert.deepEqual(json.optimizer.exp_avg, { $tensor: 'optimizer.exp_avg', $as: 'shape-data' });
  const state = readSafetensors(path.join(dir, json.files.state.file)).tensors;
  assert.deepEqual([state['optimizer.exp_avg'].dtype, state['optimizer.exact'].dtype, state['optimizer.sq'].dtype], ['F32', 'F64', 'F32']);
  const weights = readSafetensors(path.join(dir, json.files.model.file));
  assert.equal(weights.tensors['1.num_batches_tracked'].dtype, 'I64');
  assert.deepEqual(weights.metadata, { format: 'pt' });

  for (const m of [model, model2]) m.dispose();
  tf.dispose([opt.momentum, opt2.momentum]);
});

test('checkpoint: a run resumed from a checkpoint continues exactly (BatchNorm1d, Dropout, Adam, step schedule)', () => {
  const dir = path.join(tmpDir(), 'resume');
  const x = tf.tidy(() => tf.randomNormal([16, 4], 0, 1, 'float32', 1));
  const y = tf.tidy(() => tf.randomNormal([16, 1], 0, 1, 'float32', 2));
  const build = () => {
    const model = new hl.Sequential(new hl.Linear(4, 8), new hl.BatchNorm1d(8), new hl.ReLU(), new hl.Dropout(0.3), new hl.Linear(8, 1));
    const optimizer = new hl.Adam(model.parameters(), { lr: 0.01 });
    const scheduler = new hl.LRScheduler(optimizer, hl.stepLR({ lr: 0.01, stepSize: 2, gamma: 0.5 }));
    return { model, optimizer, scheduler };
  };
  const train = (r: ReturnType<typeof build>, steps: number) =>
    Array.from({ length: steps }, () => {
      r.optimizer.zeroGrad();
      const loss = hl.backward(() => hl.mseLoss(r.model.forward(x), y));
      r.optimizer.step();
      r.scheduler.step();
      return loss;
    });
  hl.manualSeed(3);
  const a = build();
  train(a, 3);
  saveCheckpoint(dir, { model: a.model, optimizer: a.optimizer, scheduler: a.scheduler, epoch: 0, step: 3 });
  const expected = train(a, 3);

  hl.manualSeed(12345); // a different stream and different initial weights
  const b = build();
  restoreCheckpoint(dir, { model: b.model, optimizer: b.optimizer, scheduler: b.scheduler }); // creates Adam's state
  const before = tf.memory().numTensors;
  const info = restoreCheckpoint(dir, { model: b.model, optimizer: b.optimizer, scheduler: b.scheduler });
  assert.equal(info.step, 3);
  assert.equal(tf.memory().numTensors, before, 'restoring again leaks no tensors');
  assert.deepEqual(train(b, 3), expected, 'same losses after resuming');
  const [sa, sb] = [a.model.stateDict(), b.model.stateDict()];
  for (const k of Object.keys(sa)) assert.deepEqual(values(sb[k]), values(sa[k]), k);
  assert.equal(values(sb['1.num_batches_tracked'])[0], 6);
  for (const r of [a, b]) r.model.dispose();
  tf.dispose([x, y]);
});

test('checkpoint: an interrupted save leaves the previous checkpoint loadable; the next save cleans up', () => {
  const dir = path.join(tmpDir(), 'ck');
  const model = makeModel();
  saveCheckpoint(dir, { model, epoch: 1, step: 10, bestMetric: 0.5 });
  const w1 = values(model.stateDict()['0.weight']);
  const weightFile1 = JSON.parse(fs.readFileSync(path.join(dir, CHECKPOINT_FILE), 'utf8')).files.model.file;

  // Simulate a crash in the middle of the next save: data files staged, one even renamed into
  // place, checkpoint.json staged but never renamed.
  const lin = model[0] as hl.Linear;
  lin.weight.copy_(tf.tidy(() => tf.add(lin.weight, 1)));
  const next = encodeSafetensors(model.stateDict());
  stageFile(path.join(dir, 'model.zzz.safetensors'), next);
  commitFile(stageFile(path.join(dir, 'model.zzz.safetensors'), next), path.join(dir, 'model.zzz.safetensors'));
  stageFile(path.join(dir, CHECKPOINT_FILE), '{"format": "hyperlab-checkpoint", "trunc');

  const ck = loadCheckpoint(dir);
  assert.equal(ck.epoch, 1);
  assert.equal(ck.bestMetric, 0.5);
  assert.deepEqual(values(ck.weights['0.weight']), w1);
  ck.dispose();

  saveCheckpoint(dir, { model, epoch: 2, step: 20 });
  const left = fs.readdirSync(dir);
  assert.equal(left.length, 2, `only the new checkpoint's files remain: ${left}`);
  assert.ok(!left.includes(weightFile1) && !left.includes('model.zzz.safetensors'));
  const ck2 = loadCheckpoint(dir);
  assert.equal(ck2.epoch, 2);
  assert.equal(ck2.bestMetric, null);
  assert.deepEqual(values(ck2.weights['0.weight']), values(lin.weight));
  ck2.dispose();
  model.dispose();
});

test('checkpoint: missing or damaged files give errors naming the file and what is wrong', () => {
  const root = tmpDir();
  const model = makeModel();
  assert.throws(() => loadCheckpoint(path.join(root, 'none')), /checkpoint directory .*none does not exist/);
  fs.mkdirSync(path.join(root, 'empty'));
  assert.throws(() => loadCheckpoint(path.join(root, 'empty')), /empty\/checkpoint.json is missing: .*is not a checkpoint directory/);
  const dir = path.join(root, 'ck');
  saveCheckpoint(dir, { model, epoch: 1 });
  const jsonFile = path.join(dir, CHECKPOINT_FILE);
  const json = fs.readFileSync(jsonFile, 'utf8');
  const modelFile = path.join(dir, JSON.parse(json).files.model.file);
  const weights = fs.readFileSync(modelFile);

  // Interrupted first save: no JSON, but temp/data files.
  fs.renameSync(jsonFile, jsonFile + '.bak');
  assert.throws(() => loadCheckpoint(dir), /checkpoint.json is missing: a save into .* was interrupted before it completed \(found model\./);
  fs.writeFileSync(jsonFile, json.slice(0, 40));
  assert.throws(() => loadCheckpoint(dir), /ck\/checkpoint.json is not valid JSON \(.*\): the file is damaged/);
  fs.writeFileSync(jsonFile, JSON.stringify({ format: 'other' }));
  assert.throws(() => loadCheckpoint(dir), /checkpoint.json is not a hyperlab checkpoint/);
  fs.writeFileSync(jsonFile, json);

  fs.writeFileSync(modelFile, weights.subarray(0, weights.length - 1));
  assert.throws(() => loadCheckpoint(dir), /model\.[0-9a-z]+\.safetensors has \d+ bytes, checkpoint.json recorded \d+: the file is truncated/);
  const flipped = Buffer.from(weights);
  flipped[flipped.length - 1] ^= 1;
  fs.writeFileSync(modelFile, flipped);
  assert.throws(() => loadCheckpoint(dir), /model\.[0-9a-z]+\.safetensors does not match the SHA-256 recorded in checkpoint.json/);
  fs.rmSync(modelFile);
  assert.throws(() => loadCheckpoint(dir), /model\.[0-9a-z]+\.safetensors is missing \(checkpoint.json names it\)/);
  fs.writeFileSync(modelFile, weights);

  assert.throws(
    () => restoreCheckpoint(dir, { model: new hl.Sequential(new hl.Linear(3, 2)) }),
    /restoring .*ck\/checkpoint.json: loadStateDict\(Sequential\): unexpected keys \[.*1\.weight/,
  );
  assert.throws(() => restoreCheckpoint(dir, { model, optimizer: new FakeOptimizer() }), /holds no optimizer state/);
  assert.throws(() => saveCheckpoint(dir, { model, step: -1 }), /step must be a non-negative integer/);
  assert.throws(() => saveCheckpoint(dir, { model, extra: { f: () => 1 } }), /extra.f is a function/);
  assert.throws(() => saveCheckpoint(dir, { model, extra: { m: new Map() } }), /extra.m is a Map/);
  assert.equal(loadCheckpoint(dir).epoch, 1, 'failed saves left the checkpoint as it was');
  model.dispose();
});

// ---- TensorBoard ------------------------------------------------------------------------------

test('crc32c and TFRecord framing', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  const rec = frameRecord(Buffer.from('hello'));
  assert.equal(rec.length, 8 + 4 + 5 + 4);
  assert.equal(Buffer.from(rec).readUInt32LE(8), maskedCrc32c(rec.subarray(0, 8)));
  const two = Buffer.concat([rec, frameRecord(Buffer.from('world!'))]);
  assert.deepEqual(
    readRecords(two).map((r) => Buffer.from(r).toString()),
    ['hello', 'world!'],
  );
  assert.deepEqual(readRecords(two.subarray(0, two.length - 3)).length, 1, 'an incomplete last record is left out');
  const bad = Buffer.from(two);
  bad[14] ^= 0xff;
  assert.throws(() => readRecords(bad, 'f.tfevents'), /f.tfevents: the data of the record at byte 0 \(5 bytes\) fails its CRC check/);
  bad[14] ^= 0xff;
  bad[21] ^= 1;
  assert.throws(() => readRecords(bad, 'f.tfevents'), /the length of the record at byte 21 fails its CRC check/);
});

const protoc = spawnSync('protoc', ['--version'], { encoding: 'utf8' }).status === 0;

/** The Event fields we write, copied from tensorflow/core/util/event.proto and framework/summary.proto. */
const EVENT_PROTO = `syntax = "proto3";
package tensorflow;
message Event { double wall_time = 1; int64 step = 2; oneof what { string file_version = 3; Summary summary = 5; } }
message Summary { message Value { string tag = 1; oneof value { float simple_value = 2; } } repeated Value value = 1; }
`;

test('TensorBoard: scalars written by SummaryWriter read back, CRCs checked; a resumed run gets a new file', () => {
  const logDir = path.join(tmpDir(), 'run');
  const t0 = Date.now() / 1000;
  const w = new SummaryWriter(logDir, { maxQueue: 100 });
  assert.match(path.basename(w.file), new RegExp(`^events\\.out\\.tfevents\\.\\d{10}\\.${os.hostname().replace(/[.]/g, '\\.')}$`));
  w.addScalar('loss/train', 0.5, 1);
  w.addScalar('loss/train', 0.25, 2);
  assert.equal(readScalars(w.file).length, 0, 'held in memory until flush');
  const lr = tf.scalar(0.1);
  w.addScalar('lr', lr, 2 ** 40);
  lr.dispose();
  w.addScalar('neg', -3.75, -5, 1234.5);
  w.flush();
  assert.equal(readScalars(w.file).length, 4);
  w.addScalar('acc', 1 / 3, 3);
  w.close();
  w.close();
  assert.throws(() => w.addScalar('x', 1), /after close\(\)/);
  const w1 = new SummaryWriter(logDir);
  assert.throws(() => w1.addScalar('', 1), /tag must be a non-empty string/);
  assert.throws(() => w1.addScalar('a', 1, 1.5), /the step must be an integer, got 1.5/);
  w1.close();

  const events = readEvents(w.file);
  assert.equal(events[0].fileVersion, 'brain.Event:2');
  assert.ok(events[0].wallTime >= Math.floor(t0) && events[0].wallTime <= Date.now() / 1000 + 1);
  assert.deepEqual(
    readScalars(w.file).map(({ tag, step, value }) => [tag, step, value]),
    [
      ['loss/train', 1, 0.5],
      ['loss/train', 2, 0.25],
      ['lr', 2 ** 40, Math.fround(0.1)],
      ['neg', -5, -3.75],
      ['acc', 3, Math.fround(1 / 3)],
    ],
  );
  assert.equal(readScalars(w.file)[3].wallTime, 1234.5);

  // Resume: a second writer in the same directory never touches the first file.
  const size = fs.statSync(w.file).size;
  const w2 = new SummaryWriter(logDir);
  w2.addScalar('loss/train', 0.125, 3);
  w2.close();
  assert.notEqual(w2.file, w.file);
  assert.equal(fs.statSync(w.file).size, size);
  const all = readScalars(logDir).filter((s) => s.tag === 'loss/train');
  assert.deepEqual(
    all.map((s) => s.step),
    [1, 2, 3],
  );

  // A flipped byte in the file is found by the CRC check.
  const bytes = fs.readFileSync(w.file);
  bytes[bytes.length - 6] ^= 0x10;
  const corrupt = path.join(logDir, 'corrupt.tfevents');
  fs.writeFileSync(corrupt, bytes);
  assert.throws(() => readEvents(corrupt), /corrupt.tfevents: the data of the record at byte \d+ .* fails its CRC check/);
});

test(
  'TensorBoard: records decode with protoc as tensorflow.Event',
  { skip: protoc ? false : 'skipped: protoc not installed (Debian protobuf-compiler)' },
  () => {
    const dir = tmpDir();
    const w = new SummaryWriter(path.join(dir, 'run'));
    w.addScalar('loss', 0.5, 7, 1700000000.25);
    w.close();
    const records = readRecords(fs.readFileSync(w.file));
    assert.equal(records.length, 2);
    fs.writeFileSync(path.join(dir, 'event.proto'), EVENT_PROTO);
    const decode = (bytes: Uint8Array, args: string[]) => {
      const r = spawnSync('protoc', args, { input: bytes, cwd: dir, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    const typed = ['--proto_path=.', '--decode=tensorflow.Event', 'event.proto'];
    assert.match(decode(records[0], typed), /^wall_time: \d+\.\d+\nfile_version: "brain.Event:2"\n$/);
    assert.equal(decode(records[1], typed), 'wall_time: 1700000000.25\nstep: 7\nsummary {\n  value {\n    tag: "loss"\n    simple_value: 0.5\n  }\n}\n');
    assert.equal(decode(records[1], ['--decode_raw']), '1: 0x41d954fc40100000\n2: 7\n5 {\n  1 {\n    1: "loss"\n    2: 0x3f000000\n  }\n}\n');
  },
);
