/**
 * What `predictRun` (lib/runs/predict.ts) and the cube predictions (predict_cubes.ts) share:
 * options and result types, the MSE, loading the model with its checkpoint, the manifest.
 */
import { tf } from '../engine/tf';
import { Module } from '../nn/module';
import { buildModel } from '../models/registry';
import { restoreCheckpoint } from '../io/checkpoint';
import { CheckpointName, RunDir } from './run_dir';
import { Direction, InputOptions } from './predict_inputs';
import { PredictionManifest, row } from './predict_output';

export interface PredictOptions extends InputOptions {
  /** Which checkpoint: 'best' (default, lowest validation loss) or 'last'. */
  checkpoint?: CheckpointName;
  /** Write the predictions into this folder (default: write nothing). */
  out?: string | null;
  /** Replace files in `out` that an earlier `hyperlab predict` did not write. */
  overwrite?: boolean;
  /** Samples per forward pass (default: the run's batch size; it matters for XANESNET's lstm). */
  batchSize?: number;
  /** Print what was predicted and the MSE (default false; the CLI sets it). */
  verbose?: boolean;
  /** Samples kept in predictions.json for plots (default 4). */
  previewSamples?: number;
  /**
   * A bootstrap or ensemble parent: 'mean' (default; the mean and the std of the models'
   * predictions) or 'weight' (XANESNET's name: the models' outputs averaged; the same mean, no std).
   */
  combine?: 'mean' | 'weight';
  /** Monte Carlo dropout: this many forward passes (2 or more) with dropout on, seeded with the run's seed. */
  mcDropout?: number;
}

/** How several predictions of each sample were combined (see lib/runs/predict.ts). */
export interface CombinedPredictions {
  kind: 'bootstrap' | 'ensemble' | 'mc-dropout';
  /** The sub-runs (boot_0, ...), or the run itself for Monte Carlo dropout alone. */
  models: string[];
  /** Forward passes per model (1 without Monte Carlo dropout). */
  passes: number;
  combine: 'mean' | 'weight';
  /** Predictions combined in all (models x passes). */
  count: number;
}

export interface PredictResult {
  run: string;
  runDir: string;
  checkpoint: { which: CheckpointName; dir: string; epoch: number | null };
  direction: Direction | 'cube->probability';
  /** What was predicted, e.g. 'the validation split of <run>'. */
  source: string;
  /** A short name for it: 'validation', 'test', or the input folder's name. */
  label: string;
  ids: string[];
  /** Predictions, row-major [ids.length, shape[1]]. */
  predictions: Float32Array;
  shape: [number, number];
  /** Targets in the same layout (NaN rows where a sample has none), or null. */
  targets: Float32Array | null;
  nTargets: number;
  /** Mean squared error over the samples with targets (XANESNET's "MSE y to y pred"), or null. */
  mse: number | null;
  /** Autoencoders: the reconstructed inputs [ids.length, nIn] in input units, and their MSE. */
  reconstructions: Float32Array | null;
  mseRecon: number | null;
  /** The run's energy grid (eV) when spectra are predicted or read; null otherwise. */
  energies: Float64Array | null;
  /** The folder written and its files (empty without `out`). */
  out: string | null;
  files: string[];
  /** Several predictions combined (an ensemble, Monte Carlo dropout): their population std (ddof 0), same layout; else null. */
  std?: Float32Array | null;
  combined?: CombinedPredictions | null;
}

/** Mean of (a - b)^2 over the rows of b that are not NaN; null when none is. */
export function meanSquaredError(a: Float32Array, b: Float32Array | null, width: number): { mse: number | null; rows: number } {
  if (!b) return { mse: null, rows: 0 };
  let sum = 0;
  let rows = 0;
  for (let i = 0; i < b.length / width; i++) {
    if (Number.isNaN(b[i * width])) continue;
    rows++;
    for (let j = i * width; j < (i + 1) * width; j++) sum += (a[j] - b[j]) ** 2;
  }
  return { mse: rows ? sum / (rows * width) : null, rows };
}

/** A model output as prediction (+ reconstruction): a tensor, [recon, pred], or {recon, pred}. */
export function splitOutput(out: unknown, model: string): { pred: tf.Tensor; recon: tf.Tensor | null } {
  if (out instanceof tf.Tensor) return { pred: out, recon: null };
  if (Array.isArray(out) && out.length === 2 && out.every((t) => t instanceof tf.Tensor)) return { recon: out[0], pred: out[1] };
  const o = out as { pred?: unknown; recon?: unknown } | null;
  if (o && o.pred instanceof tf.Tensor) return { pred: o.pred, recon: o.recon instanceof tf.Tensor ? o.recon : null };
  throw new Error(
    `predict: model '${model}' returned ${Array.isArray(out) ? `an array of ${out.length}` : typeof out}; expected a tensor, [recon, pred] or {recon, pred}`,
  );
}

/** A model of the run with the checkpoint's weights (the caller disposes it). */
export function loadModel(run: RunDir, dims: { nIn: number; nOut: number }, ckDir: string): { model: Module; epoch: number | null } {
  const { type, params } = run.spec.model;
  const model = buildModel(type, params, dims, run.spec.originalBugs ?? []);
  try {
    // generator: null leaves the global random state alone (it is the run's, not ours).
    const { epoch } = restoreCheckpoint(ckDir, { model, generator: null });
    return { model, epoch };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

export function say(opts: PredictOptions, msg: string): void {
  if (opts.verbose) console.log(msg);
}

/** The manifest of a prediction, with a few samples for plots (targets first). */
export function manifestOf(r: PredictResult, run: RunDir, k: number): Omit<PredictionManifest, 'files' | 'format' | 'version'> {
  const width = r.shape[1];
  const order = r.ids.map((_, i) => i);
  const hasTarget = (i: number) => r.targets !== null && !Number.isNaN(r.targets[i * width]);
  order.sort((a, b) => Number(hasTarget(b)) - Number(hasTarget(a)) || a - b);
  const spectra = r.direction === 'structure->spectrum' && r.energies !== null && r.energies.length === width;
  return {
    createdAt: new Date().toISOString(),
    run: r.run,
    runDir: r.runDir,
    checkpoint: { which: r.checkpoint.which, epoch: r.checkpoint.epoch },
    model: run.spec.model.type,
    direction: r.direction,
    source: r.source,
    ids: r.ids,
    mse: r.mse,
    mseRecon: r.mseRecon,
    nTargets: r.nTargets,
    preview: {
      x: spectra ? Array.from(r.energies!) : Array.from({ length: width }, (_, j) => j),
      xLabel: spectra ? 'energy (eV)' : r.direction === 'cube->probability' ? 'output' : 'descriptor feature',
      samples: order.slice(0, k).map((i) => ({
        id: r.ids[i],
        prediction: Array.from(row(r.predictions, i, width)),
        target: hasTarget(i) ? Array.from(row(r.targets!, i, width)) : null,
      })),
    },
  };
}
