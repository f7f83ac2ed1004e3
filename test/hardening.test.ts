/**
 * Hardening against bad files and crashes (issue 11): damaged checkpoints stop a run without
 * touching anything, one trainer per run directory (with stale-lock detection), run names
 * that stay inside runs/, non-finite numbers and models too big to build refused with their
 * field, and no empty run directory left by a failed run.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { runSpecFromText, RunFileError } from '../lib/config';
import { runFromText, runSpec } from '../lib/runs/run';
import { LOCK_FILE, lockRunDir } from '../lib/runs/run_lock';
import { CubeDataset, cubeNames } from '../lib/data/cubes';
import { writeH5 } from '../lib/data/hdf5';
import { CSVLogger } from '../lib/callbacks/csv_logger';

const tmp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `hl-hard-${name}-`));

function runFile(runsDir: string, epochs: number, extra = ''): string {
  return `x_path: hyperlab:datasets/xanes-fe/xyz_train
y_path: hyperlab:datasets/xanes-fe/xanes_train
descriptor: {type: wacsf, params: {r_min: 1.0, r_max: 6.0, n_g2: 16, n_g4: 32}}
hyperparams: {model: mlp, batch_size: 16, n_hl: 2, hl_ini_dim: 16, hl_shrink: 0.5, activation: prelu, lr: 0.003, optim_fn: Adam, dropout: 0.0,
  loss: {loss_fn: mse, loss_args: null, loss_reg_type: null, loss_reg_param: null}, weight_init_seed: 2023, kernel_init: xavier_uniform, bias_init: zeros}
seed: 2021
epochs: ${epochs}
hyperlab: {runs_dir: ${runsDir}, progress: false, backend: cpu, name: r, max_samples: 32${extra}}
`;
}

/** Every file under dir with its bytes, to show nothing changed. */
function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), fs.readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

test('a damaged checkpoints/last stops train with the file and the ways out; nothing is overwritten; --resume-from best and --restart work', async () => {
  const runs = tmp('damaged');
  const file = path.join(runs, 'exp.yaml');
  (await runFromText(runFile(runs, 2), file, { verbose: false })).dispose();
  const runDir = path.join(runs, 'r');
  const last = path.join(runDir, 'checkpoints', 'last');
  const ck = JSON.parse(fs.readFileSync(path.join(last, 'checkpoint.json'), 'utf8'));
  const modelFile = path.join(last, ck.files.model.file);
  const damages: [string, () => void][] = [
    ['truncated weights', () => fs.truncateSync(modelFile, 100)],
    ['garbage state file', () => fs.writeFileSync(path.join(last, 'checkpoint.json'), 'not json at all')],
    ['deleted state file', () => fs.rmSync(path.join(last, 'checkpoint.json'))],
  ];
  const pristine = snapshot(last);
  for (const [what, damage] of damages) {
    for (const [f, bytes] of pristine) fs.writeFileSync(path.join(last, f), bytes); // undo the previous damage
    damage();
    const before = snapshot(runDir);
    await assert.rejects(runFromText(runFile(runs, 4), file, { verbose: false }), (e: Error) => {
      assert.match(e.message, /checkpoint to resume from is damaged/, what);
      assert.ok(e.message.includes(last), `${what}: names the checkpoint`);
      assert.match(e.message, /Nothing was changed.*--resume-from best.*--restart/s, what);
      return true;
    });
    assert.deepEqual(snapshot(runDir), before, `${what}: every file of the run is as it was`);
    assert.equal(fs.existsSync(path.join(runDir, LOCK_FILE)), false, `${what}: the lock is released`);
  }
  // Way out 1: resume from checkpoints/best; the damaged checkpoint and the old metrics are kept aside.
  const r = await runFromText(runFile(runs, 4), file, { verbose: false, resumeFrom: 'best' });
  assert.ok(r.resumedFrom !== null && r.resumedFrom <= 2);
  r.dispose();
  const names = fs.readdirSync(path.join(runDir, 'checkpoints'));
  assert.ok(
    names.some((n) => n.startsWith('last.damaged-')),
    'the damaged checkpoint is kept',
  );
  assert.ok(
    fs.readdirSync(runDir).some((n) => /^metrics\.before-resume-.*\.csv$/.test(n)),
    'the old metrics are kept',
  );
  const epochs = fs
    .readFileSync(path.join(runDir, 'metrics.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',')[0]);
  assert.deepEqual(epochs, [...new Set(epochs)], 'metrics.csv holds each epoch once');
  assert.equal(epochs.length, 4);
  // Way out 2: start over; the old run directory is kept.
  const again = await runFromText(runFile(runs, 1), file, { verbose: false, restart: true });
  assert.equal(again.resumedFrom, null);
  again.dispose();
  assert.ok(fs.readdirSync(runs).some((n) => n.startsWith('r.before-restart-')));
});

test('one trainer per run directory: a live holder is named, a stale lock (kill -9) is taken over', async () => {
  const runs = tmp('lock');
  const file = path.join(runs, 'exp.yaml');
  const runDir = path.join(runs, 'r');
  fs.mkdirSync(runDir, { recursive: true });
  // A live holder: this very process (as a second trainer in the same notebook would be).
  const held = lockRunDir(runDir);
  await assert.rejects(runFromText(runFile(runs, 1), file, { verbose: false }), new RegExp(`is in use: process ${process.pid} .*kill ${process.pid}`));
  held.release();
  assert.equal(fs.existsSync(path.join(runDir, LOCK_FILE)), false);
  // A dead holder: the pid of a process that has exited.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  fs.writeFileSync(
    path.join(runDir, LOCK_FILE),
    JSON.stringify({ pid: Number(dead.stdout), host: os.hostname(), startedAt: '2026-01-01T00:00:00Z', command: 'hyperlab train' }),
  );
  const said: string[] = [];
  const log = console.log;
  console.log = (m: string) => said.push(String(m));
  try {
    (await runFromText(runFile(runs, 1), file, {})).dispose();
  } finally {
    console.log = log;
  }
  assert.ok(
    said.some((m) => m.includes(`took over a stale lock: process ${dead.stdout} (started 2026-01-01T00:00:00Z) is gone`)),
    said.join('\n'),
  );
  assert.equal(fs.existsSync(path.join(runDir, LOCK_FILE)), false, 'released after the run');
});

test("run names '.', '..' and '...' are refused (the run must be a new folder inside runs/); names with dots inside are fine", async () => {
  const runs = tmp('names');
  const file = path.join(runs, 'exp.yaml');
  for (const name of ['.', '..', '...']) {
    assert.throws(
      () => runSpecFromText(runFile(runs, 1).replace('name: r', `name: '${name}'`), file),
      (e: unknown) =>
        e instanceof RunFileError && /hyperlab\.name \(line 8\): the run name .* not in a folder of its own inside/.test(String((e as Error).message)),
      name,
    );
  }
  assert.equal(runSpecFromText(runFile(runs, 1).replace('name: r', 'name: a..b'), file).name, 'a..b');
  // A spec built in code goes through the same check before anything is written.
  const spec = runSpecFromText(runFile(runs, 1), file);
  await assert.rejects(runSpec({ ...spec, name: '..' }, { verbose: false }), /run name '\.\.' would put the run in/);
  assert.deepEqual(
    fs.readdirSync(runs),
    ['exp.yaml'].filter((f) => fs.existsSync(path.join(runs, f))),
    'nothing was written into runs/ or above',
  );
});

test('lr .nan / .inf are blamed on hyperparams.lr; sizes that cannot fit are refused with the key, the estimate and the limit', () => {
  const runs = tmp('values');
  const file = path.join(runs, 'exp.yaml');
  for (const v of ['.nan', '.inf', '-.inf']) {
    assert.throws(
      () => runSpecFromText(runFile(runs, 1).replace('lr: 0.003', `lr: ${v}`), file),
      /hyperparams\.lr \(line 4\): -?(NaN|Infinity) is not a finite number/,
    );
  }
  for (const size of ['1e9', '30000']) {
    const text = runFile(runs, 1).replace('n_hl: 2, hl_ini_dim: 16', `n_hl: 5, hl_ini_dim: ${size}`);
    assert.throws(
      () => runSpecFromText(text, file),
      /hyperparams\.hl_ini_dim \(line 4\): this mlp would have at least [\d.e+]+ parameters, [\d.e+]+ GiB to train with Adam.*more than the 2\.00 GiB one process can hold/,
    );
  }
});

test('a run that fails before its first checkpoint leaves no empty run directory', async () => {
  const runs = tmp('failed');
  const file = path.join(runs, 'exp.yaml');
  const text = runFile(runs, 1).replace('hyperlab:datasets/xanes-fe/xanes_train', path.join(runs, 'no-such-spectra'));
  await assert.rejects(runFromText(text, file, { verbose: false }));
  assert.equal(fs.existsSync(path.join(runs, 'r')), false);
});

test('checkpoint.json no longer holds the whole history: it is appended to checkpoints/history.jsonl, and a resume reads it back', async () => {
  const runs = tmp('history');
  const file = path.join(runs, 'exp.yaml');
  const ckFile = path.join(runs, 'r', 'checkpoints', 'last', 'checkpoint.json');
  (await runFromText(runFile(runs, 2), file, { verbose: false })).dispose();
  const size2 = fs.statSync(ckFile).size;
  const r = await runFromText(runFile(runs, 6), file, { verbose: false });
  const size6 = fs.statSync(ckFile).size;
  assert.ok(Math.abs(size6 - size2) < 64, `checkpoint.json stays the same size (${size2} -> ${size6} bytes after 4 more epochs)`);
  const ck = JSON.parse(fs.readFileSync(ckFile, 'utf8'));
  assert.deepEqual(ck.extra.trainer.history, { historyFile: 'history.jsonl', epochs: 6 });
  const lines = fs
    .readFileSync(path.join(runs, 'r', 'checkpoints', 'history.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    lines.map((l) => l.epoch),
    [0, 1, 2, 3, 4, 5],
  );
  assert.deepEqual(r.history.epoch, [0, 1, 2, 3, 4, 5], 'the resumed trainer has the epochs before the resume too');
  assert.deepEqual(
    r.history.loss,
    lines.map((l) => l.loss),
  );
  r.dispose();
});

test('HDF5 cube files: random bytes inside a dataset fail the checksum hyperlab stores; NaN or absurd values stop the read with file, dataset and place', async () => {
  const dir = tmp('h5');
  const S = 8;
  const cube = (seed: number) => Float32Array.from({ length: S ** 3 }, (_, i) => Math.sin(0.1 * i + seed));
  const datasets: Record<string, { data: Float32Array; shape: number[] }> = {};
  for (const seed of [0, 1]) {
    const n = cubeNames(seed);
    datasets[n.gr] = { data: cube(seed), shape: [S, S, S] };
    datasets[n.newton] = { data: cube(seed + 10), shape: [S, S, S] };
  }
  const file = path.join(dir, 'cubes.h5');
  await writeH5(file, datasets);
  const ok = await CubeDataset.open(file, { seeds: [0, 1] });
  assert.equal(ok.get(0).cube.data.length, S ** 3, 'an intact file reads');
  ok.close();
  // Random bytes in the middle of newton_seed0001's values (found by their bytes in the file).
  const bytes = fs.readFileSync(file);
  const target = Buffer.from(datasets.newton_seed0001.data.buffer);
  const at = bytes.indexOf(target);
  assert.ok(at > 0, 'the values are stored contiguously');
  bytes.writeUInt32LE(0x3f8ccccd, at + 4 * 100); // 1.1: a plausible value, so only the checksum can tell
  fs.writeFileSync(file, bytes);
  const bad = await CubeDataset.open(file, { seeds: [0, 1] });
  assert.equal(bad.get(0).cube.data.length, S ** 3, 'the other datasets still read');
  assert.throws(
    () => bad.get(3),
    new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: dataset 'newton_seed0001' does not match the checksum stored when hyperlab wrote it.*damaged`),
  );
  bad.close();
  // Values that no cube holds, written with a valid checksum (a file from elsewhere): named with their place.
  const nan = path.join(dir, 'nan.h5');
  const withNaN = cube(0);
  withNaN[42] = NaN;
  await writeH5(nan, { ...datasets, gr_seed0000: { data: withNaN, shape: [S, S, S] } });
  const n2 = await CubeDataset.open(nan, { seeds: [0, 1] });
  assert.throws(() => n2.get(0), /dataset 'gr_seed0000' holds NaN at element 42 \(not a number\): the file is damaged/);
  assert.throws(() => n2.readSlab(0, [[0, 1]]), /gr_seed0000' holds NaN at element 42/);
  n2.close();
});

test('a truncated HDF5 file fails with one message naming it and the cause, without HDF5-DIAG noise on stderr', async () => {
  const dir = tmp('trunc');
  const file = path.join(dir, 'cubes.h5');
  fs.copyFileSync(path.join(__dirname, '..', '..', 'datasets', 'cubes', 'cubes_s64.h5'), file);
  fs.truncateSync(file, 300000);
  const script = `require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'data', 'cubes.js'))}).CubeDataset.open(${JSON.stringify(file)}, { seeds: [0] }).then(() => console.log('opened'), (e) => console.log(e.message));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.match(
    r.stdout,
    new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} could not be opened as HDF5 \\(.*truncated file.*\\): the file is damaged or truncated`),
  );
  assert.equal(r.stderr, '', 'nothing from the HDF5 library on stderr');
});

test('a full disk (ENOSPC) while logging names the file', () => {
  const logger = new CSVLogger('/dev/full', { overwrite: true });
  assert.throws(() => logger.onEpochEnd(0, { loss: 1 }), /could not write \/dev\/full: ENOSPC.*free disk space/);
});
