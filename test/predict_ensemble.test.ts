/** Predicting with several models or passes: bootstrap / ensemble parents, Monte Carlo dropout, k-fold refused. */
import { strict as assert } from 'node:assert';
import { before, test } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, useBackend, runFromText, readSpectrum } from '../lib';
import { predictRun, forwardAll } from '../lib/runs/predict';
import { buildModel } from '../lib/models/registry';
import { defaultGenerator, manualSeed } from '../lib/engine/random';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperlab-predict-ens-'));
const runFile = (extra: string, dropout = 0.0) => `
x_path: hyperlab:datasets/xanes-fe/xyz_train
y_path: hyperlab:datasets/xanes-fe/xanes_train
descriptor: {type: wacsf, params: {r_min: 1.0, r_max: 6.0, n_g2: 4, n_g4: 4}}
hyperparams: {model: mlp, batch_size: 32, n_hl: 2, hl_ini_dim: 16, hl_shrink: 0.5, activation: prelu,
              loss: {loss_fn: mse}, lr: 0.001, optim_fn: Adam, dropout: ${dropout}, weight_init_seed: 7}
seed: 2021
epochs: 2
hyperlab: {progress: false, tensorboard: false, backend: cpu, runs_dir: ${JSON.stringify(path.join(tmp, 'runs'))}, mode: train_xyz}
${extra}
`;
const dirs: Record<string, string> = {};

async function train(name: string, text: string): Promise<string> {
  const r = await runFromText(text, path.join(tmp, `${name}.yaml`), { backend: 'cpu', verbose: false });
  r.dispose();
  return r.runDir;
}

before(async () => {
  await useBackend('cpu');
  dirs.ens = await train('ens', runFile('ensemble: True\nensemble_params: {n_ens: 2, weight_init_seed: [97, 39]}'));
  dirs.boot = await train('boot', runFile('bootstrap: True\nbootstrap_params: {n_boot: 2, n_size: 1.0, seed_boot: [97, 39]}'));
  dirs.kfold = await train('kfold', runFile('kfold: True\nkfold_params: {n_splits: 2, n_repeats: 1, loss: {loss_fn: mse, loss_args: null}}'));
  dirs.drop = await train('drop', runFile('', 0.5));
});

/** Predicting on the parent = mean and population std (ddof 0) of predicting each sub-run. */
async function checkParent(dir: string, subs: string[]) {
  const n0 = tf.memory().numTensors;
  const out = path.join(tmp, `out-${path.basename(dir)}`);
  const r = await predictRun(dir, { data: 'test', out });
  const each = await Promise.all(subs.map((s) => predictRun(path.join(dir, s), { data: 'test' })));
  assert.equal(tf.memory().numTensors, n0, 'no tensor left behind');
  assert.deepEqual(r.ids, each[0].ids);
  assert.deepEqual(r.combined, { kind: subs[0].startsWith('boot') ? 'bootstrap' : 'ensemble', models: subs, passes: 1, combine: 'mean', count: 2 });
  const [a, b] = each.map((e) => e.predictions);
  assert.notDeepEqual(Array.from(a), Array.from(b), 'the two models differ');
  for (let j = 0; j < a.length; j++) {
    const mean = (a[j] + b[j]) / 2;
    const std = Math.abs(a[j] - b[j]) / 2; // population std of two values
    assert.ok(Math.abs(r.predictions[j] - mean) <= 1e-6 * Math.abs(mean) + 1e-7, `mean[${j}]: ${r.predictions[j]} vs ${mean}`);
    assert.ok(Math.abs(r.std![j] - std) <= 1e-5 * Math.abs(std) + 1e-7, `std[${j}]: ${r.std![j]} vs ${std}`);
  }
  assert.ok(r.mse !== null && r.nTargets === 10);
  // Files: the mean as <id>.txt, the std as <id>.std.txt, both FDMNES on the run's grid.
  const w = r.shape[1];
  r.ids.forEach((id, i) => {
    const m = readSpectrum(path.join(out, `${id}.txt`));
    const s = readSpectrum(path.join(out, `${id}.std.txt`));
    assert.deepEqual(Array.from(s.energies), Array.from(r.energies!));
    m.intensities.forEach((v, j) => assert.ok(Math.abs(v - r.predictions[i * w + j]) <= 1e-6 * Math.abs(v) + 1e-12));
    s.intensities.forEach((v, j) => assert.ok(Math.abs(v - r.std![i * w + j]) <= 1e-6 * Math.abs(v) + 1e-12));
  });
  const manifest = JSON.parse(fs.readFileSync(path.join(out, 'predictions.json'), 'utf8'));
  assert.equal(manifest.combined.count, 2);
  // combine 'weight': the same mean, no std.
  const weight = await predictRun(dir, { data: 'test', combine: 'weight' });
  assert.deepEqual(Array.from(weight.predictions), Array.from(r.predictions));
  assert.equal(weight.std, null);
}

test('an ensemble parent predicts the mean and std of its models', () => checkParent(dirs.ens, ['ens_0', 'ens_1']));

test('a bootstrap parent predicts the mean and std of its models', () => checkParent(dirs.boot, ['boot_0', 'boot_1']));

test('a k-fold parent is refused: predict one fold', async () => {
  await assert.rejects(
    predictRun(dirs.kfold, { data: 'test' }),
    /is a k-fold run .*\(fold_0, fold_1\): folds are for evaluating.*give a sub-run directory to predict with one fold.*fold_0.*train again without kfold/,
  );
});

test('Monte Carlo dropout: nonzero std, repeatable, the global random state left alone', async () => {
  const n0 = tf.memory().numTensors;
  manualSeed(123);
  const state = defaultGenerator.getState();
  const a = await predictRun(dirs.drop, { data: 'test', mcDropout: 5 });
  assert.deepEqual(defaultGenerator.getState(), state, 'global generator restored');
  manualSeed(999); // the passes use the run's seed, not the global state
  const b = await predictRun(dirs.drop, { data: 'test', mcDropout: 5 });
  const plain = await predictRun(dirs.drop, { data: 'test' });
  assert.equal(tf.memory().numTensors, n0, 'no tensor left behind');
  assert.deepEqual(a.combined, { kind: 'mc-dropout', models: [a.run], passes: 5, combine: 'mean', count: 5 });
  assert.ok(a.std!.every((v) => v >= 0) && a.std!.some((v) => v > 0), 'dropout makes the passes differ');
  assert.deepEqual(Array.from(a.predictions), Array.from(b.predictions), 'seeded: the same passes');
  assert.deepEqual(Array.from(a.std!), Array.from(b.std!));
  assert.notDeepEqual(Array.from(a.predictions), Array.from(plain.predictions));
  assert.equal(plain.std, null);
  await assert.rejects(predictRun(path.join(dirs.ens, 'ens_0'), { data: 'test', mcDropout: 3 }), /has no Dropout with p > 0.*without --mc-dropout/);
  await assert.rejects(predictRun(dirs.drop, { data: 'test', mcDropout: 1 }), /at least 2/);
});

test('Monte Carlo dropout keeps BatchNorm in eval mode: its running statistics do not change', () => {
  const model = buildModel('cnn', { hidden_size: 8, num_conv_layers: 2, out_channel: 4, kernel_size: 3, dropout: 0.5 }, { nIn: 20, nOut: 5 }, []);
  try {
    const stats = () => [...model.namedBuffers()].filter(([k]) => /running_(mean|var)/.test(k)).map(([k, t]) => [k, Array.from(t.dataSync())]);
    const before = stats();
    assert.ok(before.length >= 2, 'the cnn has BatchNorm layers');
    const x = Float32Array.from({ length: 6 * 20 }, (_, i) => Math.sin(i));
    manualSeed(1);
    const p1 = forwardAll(model, 'cnn', x, 6, 20, 3, true).pred;
    const p2 = forwardAll(model, 'cnn', x, 6, 20, 3, true).pred;
    assert.deepEqual(stats(), before, 'running statistics untouched');
    assert.notDeepEqual(Array.from(p1), Array.from(p2), 'dropout was active');
    assert.ok(
      [...model.modules()].every((m) => !m.training),
      'back in eval mode',
    );
    // The check can fail: a forward pass in training mode does move them.
    model.train();
    tf.tidy(() => void model.forward(tf.tensor2d(x, [6, 20])));
    assert.notDeepEqual(stats(), before);
  } finally {
    model.dispose();
  }
});
