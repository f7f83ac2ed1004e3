/** The trainer's outputs: predict (FDMNES files, MSE), report.html, export (CSV, Parquet, HDF5, safetensors), CLI errors. */
import { strict as assert } from 'node:assert';
import { before, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, useBackend, runFromText, readSpectrum, readTable, parseCsv, H5File, readSafetensors, xanesFeDirs } from '../lib';
import { predictRun, PredictResult } from '../lib/runs/predict';
import { writeReport } from '../lib/report/report';
import { exportRun } from '../lib/report/export';
import { makeProgram } from '../lib/cli/main';
import { plotlyJs } from '../lib/notebook/plotly_html';
import { buildModel } from '../lib/models/registry';
import { DATA_PREPARERS } from '../lib/runs/run';
import { saveCheckpoint } from '../lib/io/checkpoint';
import { manualSeed } from '../lib/engine/random';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-predict-'));
const EPOCHS = 3;
const RUN = `
x_path: hyperlab:datasets/xanes-fe/xyz_train
y_path: hyperlab:datasets/xanes-fe/xanes_train
descriptor: {type: wacsf, params: {r_min: 1.0, r_max: 6.0, n_g2: 4, n_g4: 4}}
hyperparams: {model: mlp, batch_size: 32, n_hl: 2, hl_ini_dim: 16, hl_shrink: 0.5, activation: prelu,
              loss: {loss_fn: mse}, lr: 0.001, optim_fn: Adam, dropout: 0.0, weight_init_seed: 7}
seed: 2021
epochs: ${EPOCHS}
hyperlab: {progress: false, tensorboard: false, runs_dir: ${JSON.stringify(path.join(tmp, 'runs'))}, mode: train_xyz}
`;
let runDir = '';
let validation: PredictResult;

/** Run the CLI with argv, returning what it printed; errors reject (as main() would print them). */
async function cli(...args: string[]): Promise<string> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    await makeProgram()
      .exitOverride()
      .parseAsync(['node', 'hyperlab', ...args]);
  } finally {
    console.log = log;
  }
  return lines.join('\n');
}

function meanSq(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / a.length;
}

before(async () => {
  await useBackend('cpu');
  const r = await runFromText(RUN, path.join(tmp, 'tiny.yaml'), { backend: 'cpu', verbose: false });
  runDir = r.runDir;
  r.dispose();
  validation = await predictRun(runDir, { out: path.join(runDir, 'predictions', 'validation-best') });
});

test('predict writes one FDMNES file per validation sample, on the run grid, and its MSE is the validation MSE', () => {
  const split = JSON.parse(fs.readFileSync(path.join(runDir, 'split.json'), 'utf8'));
  assert.deepEqual(validation.ids, split.validation);
  assert.deepEqual(validation.shape, [split.validation.length, 226]);
  const { xanesDir } = xanesFeDirs('train');
  const grid = readSpectrum(path.join(xanesDir, `${split.validation[0]}.txt`)).energies;
  const files = fs.readdirSync(path.join(runDir, 'predictions', 'validation-best')).filter((f) => f.endsWith('.txt'));
  assert.equal(files.length, split.validation.length);
  let sum = 0;
  validation.ids.forEach((id, i) => {
    const s = readSpectrum(path.join(runDir, 'predictions', 'validation-best', `${id}.txt`));
    assert.deepEqual(Array.from(s.energies), Array.from(grid), `${id}: the run's energy grid`);
    const pred = validation.predictions.subarray(i * 226, (i + 1) * 226);
    s.intensities.forEach((v, j) => assert.ok(Math.abs(v - pred[j]) <= 1e-7 * Math.abs(pred[j]) + 1e-12, `${id}[${j}]: ${v} vs ${pred[j]}`));
    sum += meanSq(s.intensities, readSpectrum(path.join(xanesDir, `${id}.txt`)).intensities);
  });
  const recomputed = sum / validation.ids.length;
  assert.ok(validation.mse !== null && Math.abs(validation.mse - recomputed) < 1e-6 * recomputed, `mse ${validation.mse} vs ${recomputed}`);
  // The best checkpoint's validation MSE, as the trainer logged it.
  const rows = fs.readFileSync(path.join(runDir, 'metrics.csv'), 'utf8').trim().split('\n');
  const cols = rows[0].split(',');
  const valMse = Math.min(...rows.slice(1).map((r) => Number(r.split(',')[cols.indexOf('val_mse')])));
  assert.ok(Math.abs(validation.mse! - valMse) < 1e-5 * valMse, `mse ${validation.mse} vs logged val_mse ${valMse}`);
});

test('predict on the CLI prints the MSE of its files; --data test and --data FOLDER agree; no tensor leaks', async () => {
  const n0 = tf.memory().numTensors;
  const out = path.join(tmp, 'cli-test');
  const printed = await cli('predict', runDir, '--data', 'test', '--out', out, '--backend', 'cpu');
  const m = /MSE y to y pred: ([0-9.eE+-]+) \(over 10 sample/.exec(printed);
  assert.ok(m, `printed:\n${printed}`);
  const { xanesDir } = xanesFeDirs('test');
  const ids = fs.readdirSync(out).filter((f) => f.endsWith('.txt'));
  assert.equal(ids.length, 10);
  const recomputed =
    ids.reduce((a, f) => a + meanSq(readSpectrum(path.join(out, f)).intensities, readSpectrum(path.join(xanesDir, f)).intensities), 0) / ids.length;
  assert.ok(Math.abs(Number(m![1]) - recomputed) < 2e-5 * recomputed, `printed ${m![1]}, files give ${recomputed}`);
  const folder = await predictRun(runDir, { data: xanesFeDirs('test').xyzDir });
  assert.equal(folder.nTargets, 10, 'targets found in the paired xanes_test folder');
  assert.equal(Number(folder.mse!.toPrecision(6)), Number(m![1]));
  assert.equal(tf.memory().numTensors, n0, 'predict leaves no tensors behind');
});

test('predict never replaces files it did not write, and refreshes its own', async () => {
  const out = path.join(tmp, 'mine');
  fs.mkdirSync(out);
  const id = validation.ids[0];
  fs.writeFileSync(path.join(out, `${id}.txt`), 'my notes');
  await assert.rejects(predictRun(runDir, { out }), /not written by hyperlab predict; nothing was written.*--overwrite/);
  assert.equal(fs.readFileSync(path.join(out, `${id}.txt`), 'utf8'), 'my notes');
  assert.deepEqual(fs.readdirSync(out), [`${id}.txt`]);
  const again = await predictRun(runDir, { out: path.join(runDir, 'predictions', 'validation-best') });
  assert.equal(again.mse, validation.mse);
});

test('predict explains a spectra folder given to a structure -> spectrum run', async () => {
  await assert.rejects(predictRun(runDir, { data: xanesFeDirs('test').xanesDir }), /holds no \.xyz file.*predicts spectra from structures/);
});

test('report.html: plotly inline once, loss curves over every epoch, metrics table, predictions, model, config', async () => {
  const n0 = tf.memory().numTensors;
  const file = await writeReport(runDir);
  assert.equal(tf.memory().numTensors, n0, 'no tensors left behind');
  assert.equal(file, path.join(runDir, 'report.html'));
  const html = fs.readFileSync(file, 'utf8');
  const probe = plotlyJs().slice(1000, 1200);
  assert.equal(html.split(probe).length - 1, 1, 'plotly.js is inlined exactly once');
  assert.ok(!/<script[^>]+src=/i.test(html), 'no external scripts');
  const epochs = JSON.stringify(Array.from({ length: EPOCHS }, (_, i) => i + 1));
  assert.ok(html.includes(`"name":"loss","x":${epochs}`), 'training loss over every epoch');
  assert.ok(html.includes(`"name":"val_loss","x":${epochs}`), 'validation loss over every epoch');
  assert.ok(html.includes('"name":"lr"'), 'learning rate');
  assert.ok(html.includes('<td>val_mse</td>'), 'metrics table');
  assert.ok(html.includes(`${validation.ids[0]} prediction`), 'predictions of the validation split');
  assert.ok(html.includes('XanesMLP') && html.includes('Total params'), 'model summary');
  assert.ok(html.includes('&quot;hidden_size&quot;: 16'), 'resolved config');
});

test('export: metrics and predictions round-trip through CSV, Parquet and HDF5; weights are the checkpoint file', async () => {
  const metrics = fs.readFileSync(path.join(runDir, 'metrics.csv'), 'utf8');
  const valLoss = parseCsv(metrics).data.val_loss as Float32Array;
  const n = validation.ids.length;
  for (const format of ['csv', 'parquet'] as const) {
    const out = path.join(tmp, `export-${format}`);
    const r = await exportRun(runDir, { what: 'all', format, out });
    assert.deepEqual(
      r.files.map((f) => path.basename(f)),
      [`metrics.${format}`, `predictions.${format}`, 'model.safetensors'],
    );
    const read = (file: string) => (format === 'csv' ? parseCsv(fs.readFileSync(file, 'utf8'), file) : readTable(file));
    const m = read(path.join(out, `metrics.${format}`));
    assert.deepEqual(Array.from(m.data.val_loss as Float32Array), Array.from(valLoss), `${format}: metrics`);
    const p = read(path.join(out, `predictions.${format}`));
    assert.equal(p.nRows, n);
    assert.deepEqual(p.data.id, validation.ids);
    assert.equal(p.columns.length, 1 + 2 * 226, 'id, 226 predictions, 226 targets');
    const col = p.data['pred_7097.00'] as Float32Array;
    validation.ids.forEach((_, i) => assert.ok(Math.abs(col[i] - validation.predictions[i * 226]) <= 1e-6 * Math.abs(col[i]), `${format}: row ${i}`));
  }
  const out = path.join(tmp, 'export-h5');
  await exportRun(runDir, { what: 'all', format: 'h5', out });
  const f = await H5File.open(path.join(out, 'predictions.h5'));
  try {
    assert.deepEqual(Array.from(f.dataset('predictions').read() as Float32Array), Array.from(validation.predictions));
    assert.equal(f.dataset('energies').shape[0], 226);
  } finally {
    f.close();
  }
  // Weights: byte for byte the best checkpoint's model file.
  const ck = JSON.parse(fs.readFileSync(path.join(runDir, 'checkpoints', 'best', 'checkpoint.json'), 'utf8'));
  assert.ok(fs.readFileSync(path.join(out, 'model.safetensors')).equals(fs.readFileSync(path.join(runDir, 'checkpoints', 'best', ck.files.model.file))));
  assert.ok('dense_layers.1.0.weight' in readSafetensors(path.join(out, 'model.safetensors')).tensors);
  // Nothing is replaced without --overwrite.
  await assert.rejects(exportRun(runDir, { what: 'metrics', format: 'h5', out }), /already exist.*nothing was written.*--overwrite/);
});

test('export to HDF5 is readable by h5py (ids as strings, predictions, targets, energies)', (t) => {
  const python = '/usr/bin/python3';
  try {
    execFileSync(python, ['-c', 'import h5py'], { stdio: 'ignore' });
  } catch {
    t.skip(`h5py is not available (${python} -c 'import h5py' failed): install python3-h5py to run this check`);
    return;
  }
  const dir = path.join(tmp, 'export-h5');
  const script = `import h5py, json, sys
f = h5py.File(sys.argv[1] + '/predictions.h5', 'r')
m = h5py.File(sys.argv[1] + '/metrics.h5', 'r')
print(json.dumps({'ids': list(f['ids'].asstr()[:]), 'pred': f['predictions'].shape, 'targets': f['targets'].shape,
                  'energies': [float(f['energies'][0]), float(f['energies'][-1])], 'p00': float(f['predictions'][0, 0]),
                  'run': f.attrs['run'], 'metrics': {k: m[k][:].tolist() for k in m}}))`;
  const got = JSON.parse(execFileSync(python, ['-c', script, dir], { encoding: 'utf8' }));
  assert.deepEqual(got.ids, validation.ids);
  assert.deepEqual(got.pred, [validation.ids.length, 226]);
  assert.deepEqual(got.targets, [validation.ids.length, 226]);
  assert.deepEqual(got.energies, [7097, 7172]);
  assert.equal(got.p00, validation.predictions[0]);
  assert.equal(got.run, path.basename(runDir));
  const metrics = got.metrics;
  assert.deepEqual(
    metrics.epoch,
    Array.from({ length: EPOCHS }, (_, i) => i),
  );
});

test('CLI errors say what is wrong, where, and what to do', async () => {
  const missing = path.join(tmp, 'no-such-run');
  await assert.rejects(
    cli('predict', missing, '--backend', 'cpu'),
    (e: Error) => e.message.includes(missing) && /does not exist.*hyperlab train/.test(e.message),
  );
  await assert.rejects(cli('report', tmp), /is not a run directory: it holds neither config\.json nor run\.yaml/);
  // A run directory whose training never finished an epoch: config.json but no checkpoint.
  const fresh = path.join(tmp, 'fresh-run');
  fs.mkdirSync(fresh);
  fs.copyFileSync(path.join(runDir, 'config.json'), path.join(fresh, 'config.json'));
  await assert.rejects(
    cli('predict', fresh, '--backend', 'cpu'),
    (e: Error) => e.message.includes(path.join(fresh, 'checkpoints', 'best')) && /no checkpoint in.*hyperlab train/.test(e.message),
  );
  await assert.rejects(cli('export', fresh, '--what', 'weights', '--out', path.join(tmp, 'x'), '--backend', 'cpu'), /no checkpoint in/);
  await assert.rejects(cli('export', runDir, '--format', 'xlsx'), /--format must be one of csv, parquet, h5/);
  await assert.rejects(cli('predict', runDir, '--checkpoint', 'newest', '--backend', 'cpu'), /--checkpoint must be best or last/);
  // A cube run whose model this hyperlab does not have.
  const cube = path.join(tmp, 'cube-run');
  fs.mkdirSync(cube);
  const config = JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8'));
  fs.writeFileSync(
    path.join(cube, 'config.json'),
    JSON.stringify({ ...config, mode: 'classify', model: { type: 'no_such_cnn', params: {} }, data: { kind: 'cubes' } }),
  );
  await assert.rejects(predictRun(cube), /model 'no_such_cnn' is not in this hyperlab's zoo/);
});

test('a RACCOON run predicts the GR probability of each test cube: the mean over its slices', async () => {
  const S = 64;
  const dir = path.join(tmp, 'raccoon-run');
  const spec = {
    name: 'raccoon-run',
    file: path.join(tmp, 'raccoon.yaml'),
    style: 'raccoon',
    runsDir: tmp,
    backend: 'cpu',
    mode: 'classify',
    model: { type: 'raccoon', params: { layer_param: 1, dropout: 0.5, activation: 'leakyrelu', input_size: S } },
    data: { kind: 'cubes', datafile: 'none.h5', trainSeeds: 1, testSeeds: 1, newtonAugmentation: 1, targetNoise: 0, transforms: false, slicing: 'axes' },
    train: { epochs: 1, batchSize: 2 },
    originalBugs: [],
  };
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
  manualSeed(3);
  const model = buildModel('raccoon', spec.model.params, { nIn: 1, nOut: 1 });
  saveCheckpoint(path.join(dir, 'checkpoints', 'best'), { model, epoch: 1 });
  const cubes = tf.randomNormal([2, S, S, S], 0, 1, 'float32', 5);
  const saved = DATA_PREPARERS.cubes;
  // The test cubes: gr s0 (label 1), newton s0 (label 0), as one batch.
  DATA_PREPARERS.cubes = () => {
    const batch = () => ({ cube: cubes.clone(), label: tf.tensor2d([1, 0], [2, 1]) });
    const source = {
      length: 1,
      *[Symbol.iterator]() {
        yield batch();
      },
    };
    return { train: source, validation: source, nIn: 1, nOut: 1, metrics: null, stateful: [], extra: {} };
  };
  try {
    const n0 = tf.memory().numTensors;
    const r = await predictRun(dir, { out: path.join(dir, 'predictions', 'validation-best') });
    assert.equal(tf.memory().numTensors, n0, 'no tensors left behind');
    assert.deepEqual(r.ids, ['cube0000', 'cube0001']);
    assert.deepEqual(Array.from(r.targets!), [1, 0]);
    // Cube 0 by hand: its slices along each axis, sigmoid, mean.
    const expected = tf.tidy(() => {
      const c = cubes.slice(0, 1).reshape([S, S, S]);
      const images = tf.concat([c, c.transpose([1, 0, 2]), c.transpose([2, 0, 1])], 0).reshape([3 * S, 1, S, S]);
      return tf.mean(tf.sigmoid(model.eval().forward(images) as tf.Tensor)).dataSync()[0];
    });
    assert.ok(Math.abs(r.predictions[0] - expected) < 1e-5, `${r.predictions[0]} vs ${expected}`);
    assert.ok(Math.abs(r.mse! - ((r.predictions[0] - 1) ** 2 + r.predictions[1] ** 2) / 2) < 1e-6, 'the Brier score');
    const csv = parseCsv(fs.readFileSync(path.join(dir, 'predictions', 'validation-best', 'predictions.csv'), 'utf8'));
    assert.deepEqual(csv.columns, ['id', 'probability', 'label']);
  } finally {
    if (saved) DATA_PREPARERS.cubes = saved;
    else delete DATA_PREPARERS.cubes;
    cubes.dispose();
    model.dispose();
  }
});

/** A small XANESNET 2024 run file over 40 of the embedded samples, with extra top-level settings. */
const run2024 = (model: string, params: object, extra: string) => `
xyz_path: hyperlab:datasets/xanes-fe/xyz_train
xanes_path: hyperlab:datasets/xanes-fe/xanes_train
descriptor: {type: wacsf, params: {r_min: 1.0, r_max: 6.0, n_g2: 4, n_g4: 4}}
model: {type: ${model}, params: ${JSON.stringify(params)}}
hyperparams: {batch_size: 32, lr: 0.001, epochs: 2, optim_fn: Adam, seed: 2021, weight_seed: 2023, loss: {loss_fn: mse}}
${extra}
hyperlab: {progress: false, tensorboard: false, max_samples: 40, runs_dir: ${JSON.stringify(path.join(tmp, 'runs2024'))}}
`;
const small = { hidden_size: 16, dropout: 0, num_hidden_layers: 2, shrink_rate: 0.5, activation: 'prelu' };

test('an autoencoder run spectrum -> structure, with Fourier features and a scaler: predict-<id> and recon-<id> in input units', async () => {
  const r = await runFromText(
    run2024('ae_mlp', small, 'mode: train_xanes\nstandardscaler: True\nfourier_transform: True\nfourier_params: {concat: True}'),
    path.join(tmp, 'ae.yaml'),
    { backend: 'cpu', verbose: false },
  );
  const dir = r.runDir;
  r.dispose();
  const out = path.join(dir, 'predictions', 'validation-best');
  const p = await predictRun(dir, { out });
  assert.equal(p.direction, 'spectrum->structure');
  assert.deepEqual(p.shape, [p.ids.length, 9], 'descriptors: 1 + n_g2 + n_g4 values');
  const id = p.ids[0];
  const values = fs
    .readFileSync(path.join(out, `predict-${id}.txt`), 'utf8')
    .trim()
    .split('\n')
    .map(Number);
  assert.equal(values.length, 9, 'one value per line');
  values.forEach((v, j) => assert.ok(Math.abs(v - p.predictions[j]) <= 1e-7 * Math.abs(v) + 1e-12));
  // The reconstruction is a spectrum again (Fourier and scaler undone), on the run's grid.
  const recon = readSpectrum(path.join(out, `recon-${id}.txt`));
  assert.equal(recon.energies.length, 226);
  assert.ok(p.mseRecon !== null && Number.isFinite(p.mseRecon));
  const target = readSpectrum(path.join(xanesFeDirs('train').xanesDir, `${id}.txt`)).intensities;
  assert.ok(meanSq(recon.intensities, target) < 10 * meanSq(target, new Float64Array(226)), 'the reconstruction is on the scale of the spectrum');
});

test('a k-fold run: predict names its sub-runs, a sub-run predicts, the report draws every fold', async () => {
  const r = await runFromText(
    run2024('mlp', small, 'kfold: True\nkfold_params: {n_splits: 2, n_repeats: 1, loss: {loss_fn: mse}}'),
    path.join(tmp, 'kfold.yaml'),
    { backend: 'cpu', verbose: false },
  );
  const dir = r.runDir;
  r.dispose();
  await assert.rejects(
    predictRun(dir),
    (e: Error) => e.message.includes(path.join(dir, 'fold_0')) && /one per sub-run.*give a sub-run directory/.test(e.message),
  );
  const fold = await predictRun(path.join(dir, 'fold_1'));
  assert.equal(fold.run, `${path.basename(dir)}/fold_1`);
  assert.ok(fold.mse !== null);
  const html = fs.readFileSync(await writeReport(dir), 'utf8');
  assert.ok(html.includes('"name":"fold_0"') && html.includes('"name":"fold_1"') && html.includes('kfold.csv'));
});
