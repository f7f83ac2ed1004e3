/**
 * Interop with the original XANESNET (issue 11): the row order of its scikit-learn calls
 * (numpy's RandomState, test/parity/gen_interop.py -> test/fixtures/interop.json), its
 * float32 coordinate reading, descriptor keys it passes straight to its WACSF, the run
 * files of its inputs/ folder, and importing a pickled model directory.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runSpecFromText, RunFileError } from '../lib/config';
import { NumpyRandomState, sklearnShuffleIndices, sklearnTrainTestSplit } from '../lib/data/numpy_random';
import { parseXyz } from '../lib/data/xanes';
import { makeDescriptor } from '../lib/data/descriptors';
import { loadXanesArrays, xanesLoaders } from '../lib/train/xanes_run';
import { loadFixture } from './helpers';

const fx = loadFixture('interop');
const root = path.join(__dirname, '..', '..');
const tmp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `hyperlab-interop-${name}-`));

test("numpy's RandomState: the seeded key, the raw draws and permutations match numpy 1.24", () => {
  const rs = new NumpyRandomState(2021);
  assert.deepEqual(Array.from({ length: 5 }, () => rs.nextUint32()), fx.uint32_2021);
  for (const c of fx.cases) {
    assert.deepEqual(Array.from(new NumpyRandomState(c.seed).permutation(c.n)), c.permutation, `permutation(${c.n}), seed ${c.seed}`);
    assert.deepEqual(Array.from(sklearnShuffleIndices(c.n, c.seed, c.n_samples ?? c.n)), c.shuffle, `sklearn.utils.shuffle n=${c.n} seed ${c.seed} n_samples ${c.n_samples}`);
    for (const size of [0.2, 0.25]) {
      const want = c[`split_${size}`];
      if (!want) continue;
      const got = sklearnTrainTestSplit(c.n, size, 42);
      assert.deepEqual({ train: Array.from(got.train), test: Array.from(got.test) }, want, `train_test_split(n=${c.n}, test_size=${size}, random_state=42)`);
    }
  }
  assert.throws(() => new NumpyRandomState(-1), /between 0 and 2\*\*32 - 1/);
});

const xanesRun = (extra: string) => `
x_path: hyperlab:datasets/xanes-fe/xyz_train
y_path: hyperlab:datasets/xanes-fe/xanes_train
descriptor: {type: wacsf, params: {r_min: 1.0, r_max: 6.0, n_g2: 16, n_g4: 32}}
hyperparams: {model: mlp, batch_size: 16, n_hl: 2, hl_ini_dim: 8, hl_shrink: 0.5, activation: prelu,
  loss: {loss_fn: mse, loss_args: null, loss_reg_type: null, loss_reg_param: null}, lr: 0.001, optim_fn: Adam,
  dropout: 0.0, weight_init_seed: 2023, kernel_init: xavier_uniform, bias_init: zeros}
seed: 2021
epochs: 1
${extra}`;

test("hyperlab: {row_order: xanesnet} gives the original's training and validation rows (sklearn shuffle + train_test_split)", () => {
  const dir = tmp('order');
  const file = path.join(dir, 'in.yaml');
  const spec = runSpecFromText(xanesRun('hyperlab: {row_order: xanesnet}'), file);
  const arrays = loadXanesArrays(spec);
  xanesLoaders(spec, arrays, null, dir);
  const split = JSON.parse(fs.readFileSync(path.join(dir, 'split.json'), 'utf8'));
  assert.deepEqual(split.train, fx.xanesnet_fe_order.train);
  assert.deepEqual(split.validation, fx.xanesnet_fe_order.validation);
  // The default order is hyperlab's own generator: another split of the same rows.
  const def = runSpecFromText(xanesRun(''), file);
  xanesLoaders(def, loadXanesArrays(def), null, dir);
  const other = JSON.parse(fs.readFileSync(path.join(dir, 'split.json'), 'utf8'));
  assert.notDeepEqual(other.validation, split.validation);
  assert.notEqual(spec.name, def.name, 'the row order defines the run');
});

test("hyperlab: {coordinates: float32} reads .xyz coordinates as XANESNET does (np.array(..., dtype='float32'))", () => {
  const { text, values } = fx.float32_coordinates;
  const xyz = `2\n\nFe ${text[0]} ${text[1]} ${text[2]}\nO ${text[3]} ${text[4]} ${text[5]}\n`;
  assert.deepEqual(Array.from(parseXyz(xyz, { coordinates: 'float32' }).positions), values);
  assert.notDeepEqual(Array.from(parseXyz(xyz).positions), values, 'the default keeps float64');
  const spec = runSpecFromText(xanesRun('hyperlab: {coordinates: float32}'), path.join(tmp('coords'), 'in.yaml'));
  assert.equal((spec.data as any).coordinates, 'float32');
  const a32 = loadXanesArrays(spec).x;
  const a64 = loadXanesArrays(runSpecFromText(xanesRun(''), path.join(tmp('coords'), 'in.yaml'))).x;
  assert.notDeepEqual(a32, a64, 'the descriptors see the rounded coordinates');
  assert.throws(() => runSpecFromText(xanesRun('hyperlab: {coordinates: float16}'), path.join(tmp('coords'), 'in.yaml')), /coordinates/);
});

test('g2_parameterisation / g4_parameterisation in the descriptor params validate and reach the wACSF', () => {
  const file = path.join(tmp('wacsf'), 'in.yaml');
  const text = xanesRun('').replace('n_g4: 32}', 'n_g4: 32, g2_parameterisation: centred, g4_parameterisation: shifted}');
  const spec = runSpecFromText(text, file);
  const d = (spec.data as any).descriptor;
  assert.equal(d.params.g2_parameterisation, 'centred');
  const s = parseXyz('3\n\nFe 0 0 0\nO 1.9 0 0\nN 0 2.1 0.3\n');
  const a = makeDescriptor(d).transform(s);
  const b = makeDescriptor({ type: 'wacsf', params: { r_min: 1.0, r_max: 6.0, n_g2: 16, n_g4: 32 } }).transform(s);
  assert.notDeepEqual(Array.from(a), Array.from(b), 'the parameterisation changes the features');
  assert.throws(() => runSpecFromText(text.replace('centred', 'centered'), file), (e: unknown) => e instanceof RunFileError && /g2_parameterisation/.test(String(e)) && /shifted, centred|shifted|centred/.test(String(e)));
});
