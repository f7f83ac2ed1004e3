/**
 * Predicting with a trained run: `hyperlab predict RUN_DIR` and `predictRun()` in a notebook.
 *
 *     const r = await predictRun('runs/xanes_mlp-mlp-1a2b3c4d', { data: 'test', out: 'preds' });
 *     r.ids;            // ['ABAFOZ', ...]
 *     r.predictions;    // Float32Array [ids.length x 226], row-major (r.shape)
 *     r.mse;            // mean squared error against the targets, when there are targets
 *
 * Steps: the run's settings (config.json) -> the model, rebuilt -> the checkpoint's weights
 * (checkpoints/best by default) -> inputs featurised as in training (lib/runs/predict_inputs.ts)
 * -> the run's scaler -> forward passes in eval mode without gradients, in batches of the run's
 * batch size -> optional files in XANESNET's layout (lib/runs/predict_output.ts).
 * Runs with fourier_transform see their spectra Fourier-transformed as in training; predicted
 * spectra are transformed back (XANESNET's inverse, Re(IFFT)[:L]) before they are written.
 *
 * The scaler: XANESNET (2024) fits a *new* StandardScaler on the prediction inputs. We reuse the
 * run's scaler (scaler.json, fitted on the training split) instead, on purpose: a model expects
 * inputs scaled as in training, and refitting makes a prediction depend on which other samples
 * happen to be predicted with it (a single sample would even be scaled to all zeros).
 *
 * Autoencoders (a forward that returns [recon, pred], as XANESNET's `(recon, pred)`) also give
 * the reconstruction of the input, written in input units (the scaler undone), with its MSE.
 * Cube runs (RACCOON/PENGUIN) predict the probability that each test cube is GR (predict_cubes.ts).
 *
 * Several predictions of each sample, combined (r.std, r.combined):
 * - A bootstrap or ensemble run's own directory (the parent of boot_<i> / ens_<i>): every
 *   sub-run's model predicts the same samples (each through its own scaler); r.predictions is
 *   their mean, r.std their population standard deviation (ddof 0, numpy's default), r.mse the
 *   MSE of the mean. XANESNET's `ensemble_combine: weight` averages the model outputs and its
 *   default reports mean +- std: both give the same mean here; combine: 'weight' just leaves
 *   out the std. A k-fold parent is refused: folds evaluate the set-up; predict with one fold.
 * - mcDropout: N (Monte Carlo dropout, `--mc-dropout N`): N forward passes with the Dropout
 *   modules in training mode (BatchNorm and the rest stay in eval mode), the dropout masks
 *   seeded with the run's seed (the global random state is restored after), combined as above.
 *   With a parent, every model makes N passes.
 * Files: the mean is written as the prediction (<id>.txt), the std beside it in the same
 * format as <id>.std.txt (predict-<id>.std.txt for autoencoders); predictions.json says how
 * they were combined ("combined"). Reconstructions of autoencoders are averaged, without std.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from '../engine/tf';
import { noGrad } from '../engine/autograd';
import { Module } from '../nn/module';
import { Dropout } from '../nn/dropout';
import { defaultGenerator, manualSeed } from '../engine/random';
import { XanesDataSpec } from '../config';
import { makeDescriptor } from '../data/descriptors/index';
import { checkpointDir, openRunDir, RunDir, runEnergyGrid, runScaler, runSplit, subRuns } from './run_dir';
import { directionOf, loadPredictInputs, PredictInputs } from './predict_inputs';
import { fourierRows, inverseFourierRows } from '../data/xanes_transforms';
import { loadVarianceThreshold } from '../data/variance_threshold';
import { formatPrediction, row, writePredictionFiles } from './predict_output';
import { loadModel, manifestOf, meanSquaredError, PredictOptions, PredictResult, say, splitOutput } from './predict_common';
import { predictCubes } from './predict_cubes';

export { meanSquaredError } from './predict_common';
export type { PredictOptions, PredictResult } from './predict_common';

/**
 * Forward passes over x [n, nIn] in batches, without gradients; outputs flattened per sample.
 * Eval mode, except with `dropout` (Monte Carlo dropout): then the Dropout modules, and only
 * they, are in training mode, so BatchNorm keeps using (and never updates) its running statistics.
 */
export function forwardAll(model: Module, name: string, x: Float32Array, n: number, nIn: number, batchSize: number, dropout = false) {
  const preds: Float32Array[] = [];
  const recons: Float32Array[] = [];
  let width = 0;
  let reconWidth = 0;
  model.eval();
  if (dropout) for (const m of model.modules()) if (m instanceof Dropout) m.training = true;
  try {
    for (let s = 0; s < n; s += batchSize) {
      const b = Math.min(batchSize, n - s);
      tf.tidy(() =>
        noGrad(() => {
          const out = splitOutput(model.forward(tf.tensor2d(x.subarray(s * nIn, (s + b) * nIn), [b, nIn])), name);
          width = out.pred.size / b;
          preds.push(Float32Array.from(out.pred.dataSync()));
          if (out.recon) {
            reconWidth = out.recon.size / b;
            recons.push(Float32Array.from(out.recon.dataSync()));
          }
        }),
      );
    }
  } finally {
    model.eval();
  }
  const concat = (parts: Float32Array[]) => {
    const all = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return all;
  };
  return { pred: concat(preds), width, recon: recons.length ? concat(recons) : null, reconWidth };
}

/** What one model predicts for the shared inputs: one output per pass (several with Monte Carlo dropout). */
interface ModelPasses {
  preds: Float32Array[];
  width: number;
  recons: Float32Array[];
  reconWidth: number;
  epoch: number | null;
  ckDir: string;
}

/**
 * One run's model on `inputs`: the model's view as in training (spectra Fourier-transformed if
 * the run does, the variance_threshold features kept, the run's own scaler), forward passes,
 * then back to spectra and input units.
 */
function predictWithRun(run: RunDir, ckDir: string, inputs: PredictInputs, grid: Float64Array, opts: PredictOptions): ModelPasses {
  const d = run.spec.data as XanesDataSpec;
  const forward = directionOf(run.spec.mode) === 'structure->spectrum';
  const n = inputs.ids.length;
  const fourier = d.fourier?.enabled ? (forward ? 'y' : 'x') : null;
  const concat = d.fourier?.concat ?? false;
  const ft = fourier === 'x' ? fourierRows(inputs.x, inputs.nIn, concat) : { data: inputs.x, width: inputs.nIn };
  const selector = (d.varianceThreshold ?? 0) > 0 ? loadVarianceThreshold(run.dir) : null;
  if ((d.varianceThreshold ?? 0) > 0 && !selector) {
    throw new Error(
      `run ${run.spec.name} keeps the input features with variance above ${d.varianceThreshold}, but ${run.dir}/variance_threshold.json is missing: train the run again to write it`,
    );
  }
  const fx = selector ? { data: selector.transform({ data: ft.data, shape: [n, ft.width] }).data, width: selector.support!.length } : ft;
  const scaler = runScaler(run);
  const x = scaler ? (scaler.transform({ data: fx.data, shape: [n, fx.width] }).data as Float32Array) : fx.data;
  const nOut = forward ? grid.length : makeDescriptor(d.descriptor).length;
  const dims = { nIn: fx.width, nOut: fourier === 'y' ? (concat ? 3 : 2) * nOut : nOut };

  const passes = opts.mcDropout ?? 1;
  const saved = defaultGenerator.getState(); // building the model draws from it
  const { model, epoch } = loadModel(run, dims, ckDir);
  const outs: ReturnType<typeof forwardAll>[] = [];
  try {
    if (opts.mcDropout) {
      if (![...model.modules()].some((m) => m instanceof Dropout && m.p > 0)) {
        throw new Error(
          `run ${run.spec.name}: --mc-dropout needs dropout, but its ${run.spec.model.type} model has no Dropout with p > 0, so every pass would give the same prediction: predict without --mc-dropout, or train with dropout > 0`,
        );
      }
      // Seeded with the run's seed, so the same command gives the same passes.
      manualSeed(run.spec.train.seed);
    }
    for (let k = 0; k < passes; k++) {
      outs.push(forwardAll(model, run.spec.model.type, x, n, fx.width, opts.batchSize ?? run.spec.train.batchSize ?? 64, !!opts.mcDropout));
    }
  } finally {
    defaultGenerator.setState(saved); // the global random state is the caller's
    model.dispose();
  }
  const result: ModelPasses = { preds: [], width: outs[0].width, recons: [], reconWidth: outs[0].reconWidth, epoch, ckDir };
  for (const out of outs) {
    // Back to spectra and input units: XANESNET's inverse Fourier transform, the scaler undone.
    if (fourier === 'y') ({ data: out.pred, width: out.width } = inverseFourierRows(out.pred, out.width, concat));
    let recon = out.recon;
    if (recon && out.reconWidth === fx.width) {
      if (scaler) recon = scaler.inverseTransform({ data: recon, shape: [n, fx.width] }).data as Float32Array;
      // (With variance_threshold the reconstruction has the kept features only, so it stays as it is.)
      if (fourier === 'x' && !selector) ({ data: recon, width: out.reconWidth } = inverseFourierRows(recon, fx.width, concat));
    }
    result.preds.push(out.pred);
    result.width = out.width;
    if (recon) {
      result.recons.push(recon);
      result.reconWidth = out.reconWidth;
    }
  }
  return result;
}

/** Element-wise mean and population standard deviation (ddof 0, numpy's default) of equal-length arrays. */
export function meanAndStd(parts: Float32Array[]): { mean: Float32Array; std: Float32Array } {
  const k = parts.length;
  const mean = new Float32Array(parts[0].length);
  const std = new Float32Array(parts[0].length);
  for (let j = 0; j < mean.length; j++) {
    let s = 0;
    for (const p of parts) s += p[j];
    const m = s / k;
    let v = 0;
    for (const p of parts) v += (p[j] - m) ** 2;
    mean[j] = m;
    std[j] = Math.sqrt(v / k);
  }
  return { mean, std };
}

/**
 * The models a bootstrap or ensemble parent directory holds (boot_<i> / ens_<i>), or null for a
 * run with its own checkpoints. A k-fold parent is refused: its folds evaluate the set-up.
 */
function ensembleMembers(run: RunDir): { kind: 'bootstrap' | 'ensemble'; names: string[] } | null {
  const subs = subRuns(run.dir);
  if (subs.length === 0 || fs.existsSync(path.join(run.dir, 'checkpoints'))) return null;
  if (subs.some((s) => s.startsWith('fold_'))) {
    throw new Error(
      `run ${run.spec.name} is a k-fold run with its models one per sub-run (${subs.join(', ')}): folds are for evaluating the set-up (kfold.csv), not an ensemble to predict with: ` +
        `give a sub-run directory to predict with one fold (e.g. hyperlab predict ${path.join(run.dir, subs[0])}), or train again without kfold to get one model on all the data`,
    );
  }
  return { kind: subs[0].startsWith('boot_') ? 'bootstrap' : 'ensemble', names: subs };
}

/** The XANESNET-only options, checked: how several predictions combine ('mean' or 'weight'). */
function checkXanesOptions(opts: PredictOptions): 'mean' | 'weight' {
  const combine = opts.combine ?? 'mean';
  if (combine !== 'mean' && combine !== 'weight') throw new Error(`predict: combine must be 'mean' or 'weight', got '${combine}'`);
  if (opts.mcDropout !== undefined && !(Number.isInteger(opts.mcDropout) && opts.mcDropout >= 2)) {
    throw new Error(`predict: mcDropout (--mc-dropout) is the number of forward passes with dropout on, a whole number of at least 2; got ${opts.mcDropout}`);
  }
  return combine;
}

/** Every model of an ensemble predicts the same samples: the first model's validation split must be everyone's. */
function checkCommonValidation(run: RunDir, runs: RunDir[]): void {
  const first = JSON.stringify(runSplit(runs[0])?.validation);
  const other = runs.find((r) => JSON.stringify(runSplit(r)?.validation) !== first);
  if (other) {
    throw new Error(
      `run ${run.spec.name}: its models validate on different samples (${runs[0].dir} and ${other.dir} differ), so there is no common validation split to combine them on: give --data test or --data FOLDER`,
    );
  }
}

/** What was predicted, with what, and how close it came (printed unless quiet). */
function sayPrediction(
  result: PredictResult,
  run: RunDir,
  members: { kind: string; names: string[] } | null,
  targets: { rows: number; dir: string | null },
  opts: PredictOptions,
): void {
  const { combined, mse, mseRecon, std } = result;
  const several = combined !== null;
  const by =
    combined?.kind === 'mc-dropout'
      ? ` (Monte Carlo dropout: ${combined.count} passes)`
      : members
        ? ` (${members.kind} of ${members.names.length} models${opts.mcDropout ? `, ${opts.mcDropout} Monte Carlo dropout passes each` : ''})`
        : '';
  say(
    opts,
    `predicted ${result.ids.length} sample(s) of ${result.source} with ${run.spec.name}${by} (checkpoint ${result.checkpoint.which}, epoch ${result.checkpoint.epoch ?? '?'})`,
  );
  if (mse !== null)
    say(opts, `MSE y to y pred${several ? ' (of the mean)' : ''}: ${mse.toPrecision(6)} (over ${targets.rows} sample(s) with targets in ${targets.dir})`);
  else
    say(
      opts,
      `no targets found${targets.dir === null && opts.data && !['validation', 'test'].includes(opts.data) ? ' (give --targets FOLDER to get the MSE)' : ''}`,
    );
  if (mseRecon !== null) say(opts, `MSE x to x recon: ${mseRecon.toPrecision(6)}`);
  if (std) say(opts, `std over the ${combined!.count} predictions: mean ${(std.reduce((a, v) => a + v, 0) / std.length).toPrecision(4)}`);
}

/** Predict with a trained run; see the top of this file. */
export async function predictRun(runDir: string, opts: PredictOptions = {}): Promise<PredictResult> {
  const run = openRunDir(runDir);
  if (run.spec.data.kind === 'cubes') {
    if (opts.mcDropout !== undefined || opts.combine !== undefined)
      throw new Error(`run ${run.spec.name}: --mc-dropout and --combine are for XANESNET runs; cube runs predict with one model`);
    return predictCubes(run, opts);
  }
  if (run.spec.data.kind !== 'xanes') throw new Error(`run ${run.spec.name}: predict does not know '${(run.spec.data as { kind: string }).kind}' data`);
  const combine = checkXanesOptions(opts);
  const which = opts.checkpoint ?? 'best';
  const members = ensembleMembers(run);
  const runs = members ? members.names.map((s) => openRunDir(path.join(run.dir, s))) : [run];
  const direction = directionOf(run.spec.mode);
  const forward = direction === 'structure->spectrum';
  const ckDirs = runs.map((r) => checkpointDir(r, which)); // checked before the (slower) inputs
  const grid = runEnergyGrid(run, opts.targets ?? null);
  // Every model predicts the same samples: the first model's validation split must be everyone's.
  const inputs = loadPredictInputs(runs[0], direction, grid, opts);
  if (members && (opts.data ?? 'validation') === 'validation') checkCommonValidation(run, runs);
  const n = inputs.ids.length;

  const models = runs.map((r, i) => predictWithRun(r, ckDirs[i], inputs, grid, opts));
  const preds = models.flatMap((m) => m.preds);
  const recons = models.flatMap((m) => m.recons);
  const width = models[0].width;
  const reconWidth = models[0].reconWidth;
  const several = preds.length > 1;
  const { mean: pred, std: predStd } = several ? meanAndStd(preds) : { mean: preds[0], std: null };
  const std = combine === 'mean' ? predStd : null;
  const recon = recons.length === 0 ? null : recons.length > 1 ? meanAndStd(recons).mean : recons[0];
  const { mse, rows } = meanSquaredError(pred, inputs.targets, width);
  const mseRecon = recon && reconWidth === inputs.nIn ? meanSquaredError(recon, inputs.x, inputs.nIn).mse : null;
  const epoch = members ? null : models[0].epoch;
  const ckDir = members ? run.dir : models[0].ckDir; // a parent: each sub-run's checkpoints/<which>
  const combined: PredictResult['combined'] = several
    ? {
        kind: members ? members.kind : 'mc-dropout',
        models: members ? members.names : [run.spec.name],
        passes: opts.mcDropout ?? 1,
        combine,
        count: preds.length,
      }
    : null;

  const result: PredictResult = {
    run: run.spec.name,
    runDir: run.dir,
    checkpoint: { which, dir: ckDir, epoch },
    direction,
    source: inputs.source,
    label: inputs.label,
    ids: inputs.ids,
    predictions: pred,
    shape: [n, width],
    targets: inputs.targets,
    nTargets: inputs.nTargets,
    mse,
    reconstructions: recon,
    mseRecon,
    energies: grid,
    out: null,
    files: [],
    std,
    combined,
  };
  sayPrediction(result, run, members, { rows, dir: inputs.targetDir }, opts);
  if (opts.out) {
    const predGrid = forward ? grid : null;
    const reconGrid = forward ? null : grid;
    const contents = new Map<string, string>();
    inputs.ids.forEach((id, i) => {
      const name = recon ? `predict-${id}` : id;
      contents.set(`${name}.txt`, formatPrediction(row(pred, i, width), predGrid));
      if (std) contents.set(`${name}.std.txt`, formatPrediction(row(std, i, width), predGrid));
      if (recon) contents.set(`recon-${id}.txt`, formatPrediction(row(recon, i, reconWidth), reconWidth === grid.length ? reconGrid : null));
    });
    result.out = path.resolve(opts.out);
    result.files = writePredictionFiles(result.out, contents, { ...manifestOf(result, run, opts.previewSamples ?? 4), combined }, opts.overwrite);
    say(opts, `wrote ${contents.size} file(s) to ${result.out}`);
  }
  return result;
}
