/**
 * Predicting with a trained run: `hyperlab predict RUN_DIR` and `predictRun()` in a notebook.
 *
 *     const r = await predictRun('runs/xanes_mlp-mlp-1a2b3c4d', { data: 'test', out: 'preds' });
 *     r.ids;            // ['ABAFOZ', ...]
 *     r.predictions;    // Float32Array [ids.length x 226], row-major (r.shape)
 *     r.mse;            // mean squared error against the targets, when there are targets
 *
 * Steps: the run's settings (config.json) -> the model, rebuilt -> the checkpoint's weights
 * (checkpoints/best by default) -> inputs featurised as in training (lib/train/predict_inputs.ts)
 * -> the run's scaler -> forward passes in eval mode without gradients, in batches of the run's
 * batch size -> optional files in XANESNET's layout (lib/train/predict_output.ts).
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
 */
import * as path from 'node:path';
import { tf } from '../engine/tf';
import { noGrad } from '../engine/autograd';
import { Module } from '../nn/module';
import { XanesDataSpec } from '../config';
import { makeDescriptor } from '../data/descriptors/index';
import { checkpointDir, openRunDir, runEnergyGrid, runScaler } from './run_dir';
import { directionOf, loadPredictInputs } from './predict_inputs';
import { fourierRows, inverseFourierRows } from '../data/xanes_transforms';
import { loadVarianceThreshold } from '../data/variance_threshold';
import { formatPrediction, row, writePredictionFiles } from './predict_output';
import { loadModel, manifestOf, meanSquaredError, PredictOptions, PredictResult, say, splitOutput } from './predict_common';
import { predictCubes } from './predict_cubes';

export { meanSquaredError } from './predict_common';
export type { PredictOptions, PredictResult } from './predict_common';

/** Forward passes over x [n, nIn] in batches, in eval mode without gradients; outputs flattened per sample. */
function forwardAll(model: Module, name: string, x: Float32Array, n: number, nIn: number, batchSize: number) {
  const preds: Float32Array[] = [];
  const recons: Float32Array[] = [];
  let width = 0;
  let reconWidth = 0;
  model.eval();
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
  const concat = (parts: Float32Array[]) => {
    const all = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of parts) all.set(p, at), (at += p.length);
    return all;
  };
  return { pred: concat(preds), width, recon: recons.length ? concat(recons) : null, reconWidth };
}

/** Predict with a trained run; see the top of this file. */
export async function predictRun(runDir: string, opts: PredictOptions = {}): Promise<PredictResult> {
  const run = openRunDir(runDir);
  if (run.spec.data.kind === 'cubes') return predictCubes(run, opts);
  if (run.spec.data.kind !== 'xanes') throw new Error(`run ${run.spec.name}: predict does not know '${(run.spec.data as { kind: string }).kind}' data`);
  const which = opts.checkpoint ?? 'best';
  const ckDir = checkpointDir(run, which);
  const direction = directionOf(run.spec.mode);
  const forward = direction === 'structure->spectrum';
  const d = run.spec.data as XanesDataSpec;
  const grid = runEnergyGrid(run, opts.targets ?? null);
  const inputs = loadPredictInputs(run, direction, grid, opts);
  const n = inputs.ids.length;
  // The model's view, as in training: spectra Fourier-transformed (if the run does), the input
  // features variance_threshold kept (variance_threshold.json), then the input scaler.
  const fourier = d.fourier?.enabled ? (forward ? 'y' : 'x') : null;
  const concat = d.fourier?.concat ?? false;
  const ft = fourier === 'x' ? fourierRows(inputs.x, inputs.nIn, concat) : { data: inputs.x, width: inputs.nIn };
  const selector = (d.varianceThreshold ?? 0) > 0 ? loadVarianceThreshold(run.dir) : null;
  if ((d.varianceThreshold ?? 0) > 0 && !selector) {
    throw new Error(`run ${run.spec.name} keeps the input features with variance above ${d.varianceThreshold}, but ${run.dir}/variance_threshold.json is missing: train the run again to write it`);
  }
  const fx = selector ? { data: selector.transform({ data: ft.data, shape: [n, ft.width] }).data, width: selector.support!.length } : ft;
  const scaler = runScaler(run);
  const x = scaler ? (scaler.transform({ data: fx.data, shape: [n, fx.width] }).data as Float32Array) : fx.data;
  const nOut = forward ? grid.length : makeDescriptor(d.descriptor).length;
  const dims = { nIn: fx.width, nOut: fourier === 'y' ? (concat ? 3 : 2) * nOut : nOut };

  const { model, epoch } = loadModel(run, dims, ckDir);
  let out: ReturnType<typeof forwardAll>;
  try {
    out = forwardAll(model, run.spec.model.type, x, n, fx.width, opts.batchSize ?? run.spec.train.batchSize ?? 64);
  } finally {
    model.dispose();
  }
  // Back to spectra and input units: XANESNET's inverse Fourier transform, the scaler undone.
  if (fourier === 'y') ({ data: out.pred, width: out.width } = inverseFourierRows(out.pred, out.width, concat));
  let recon = out.recon;
  if (recon && out.reconWidth === fx.width) {
    if (scaler) recon = scaler.inverseTransform({ data: recon, shape: [n, fx.width] }).data as Float32Array;
    // (With variance_threshold the reconstruction has the kept features only, so it stays as it is.)
    if (fourier === 'x' && !selector) ({ data: recon, width: out.reconWidth } = inverseFourierRows(recon, fx.width, concat));
  }
  const { mse, rows } = meanSquaredError(out.pred, inputs.targets, out.width);
  const mseRecon = recon && out.reconWidth === inputs.nIn ? meanSquaredError(recon, inputs.x, inputs.nIn).mse : null;

  say(opts, `predicted ${n} sample(s) of ${inputs.source} with ${run.spec.name} (checkpoint ${which}, epoch ${epoch ?? '?'})`);
  if (mse !== null) say(opts, `MSE y to y pred: ${mse.toPrecision(6)} (over ${rows} sample(s) with targets in ${inputs.targetDir})`);
  else say(opts, `no targets found${inputs.targetDir === null && opts.data && !['validation', 'test'].includes(opts.data) ? ' (give --targets FOLDER to get the MSE)' : ''}`);
  if (mseRecon !== null) say(opts, `MSE x to x recon: ${mseRecon.toPrecision(6)}`);

  const result: PredictResult = {
    run: run.spec.name,
    runDir: run.dir,
    checkpoint: { which, dir: ckDir, epoch },
    direction,
    source: inputs.source,
    label: inputs.label,
    ids: inputs.ids,
    predictions: out.pred,
    shape: [n, out.width],
    targets: inputs.targets,
    nTargets: inputs.nTargets,
    mse,
    reconstructions: recon,
    mseRecon,
    energies: grid,
    out: null,
    files: [],
  };
  if (opts.out) {
    const predGrid = forward ? grid : null;
    const reconGrid = forward ? null : grid;
    const contents = new Map<string, string>();
    inputs.ids.forEach((id, i) => {
      const p = formatPrediction(row(out.pred, i, out.width), predGrid);
      if (!recon) contents.set(`${id}.txt`, p);
      else {
        contents.set(`predict-${id}.txt`, p);
        contents.set(`recon-${id}.txt`, formatPrediction(row(recon, i, out.reconWidth), out.reconWidth === grid.length ? reconGrid : null));
      }
    });
    result.out = path.resolve(opts.out);
    result.files = writePredictionFiles(result.out, contents, manifestOf(result, run, opts.previewSamples ?? 4), opts.overwrite);
    say(opts, `wrote ${contents.size} file(s) to ${result.out}`);
  }
  return result;
}

