/**
 * XANESNET data for a run: structures featurised with the run's descriptor and
 * spectra, in XANESNET's order of operations (shuffle with `seed`, Fourier
 * transform, augmentation, then the 80/20 split with random_state 42, or
 * 75/15/10 with model_eval), the input scaler fitted on the training rows, and
 * data loaders. hyperlab's own generator draws the shuffle and the split unless the
 * run file asks for `hyperlab: {row_order: xanesnet}` (numpy's RandomState, as the original).
 * The cube data of RACCOON/PENGUIN is in cubes_data.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Generator } from '../engine/random';
import { RunSpec, XanesDataSpec } from '../config';
import { ArrayDataset } from '../data/dataset';
import { DataLoader } from '../data/loader';
import { StandardScaler } from '../data/scaling';
import { trainTestSplit, trainValTestSplit, shuffledIndices, takeRows } from '../data/splits';
import { VarianceThreshold, VARIANCE_THRESHOLD_FILE } from '../data/variance_threshold';
import { fourierRows, augment } from '../data/xanes_transforms';
import { loadXanesDataset } from '../data/xanes';
import { NumpyRandomState, sklearnShuffleIndices, sklearnTrainTestSplit } from '../data/numpy_random';
import { ModelEvalSets } from './model_eval';
import type { PreparedData } from './prepared';

/** The XANESNET data set as arrays, after XANESNET's shuffle, Fourier transform and augmentation. */
export interface XanesArrays {
  x: Float32Array;
  y: Float32Array;
  ids: string[];
  nIn: number;
  nOut: number;
  energies: number[];
  /** Where the Fourier transform was applied ('x' for spectrum -> structure, 'y' otherwise), or null. */
  fourierOn: 'x' | 'y' | null;
}

/**
 * Load descriptors and spectra in XANESNET's order of operations: shuffle all samples
 * with `seed` (keeping max_samples), Fourier-transform the spectra, augment.
 */
export function loadXanesArrays(spec: RunSpec): XanesArrays {
  const d = spec.data as XanesDataSpec;
  const ds = loadXanesDataset(d.xyzPath, d.xanesPath, d.descriptor, { coordinates: d.coordinates });
  // train_xyz: structure -> spectrum; train_xanes: spectrum -> structure.
  const forward = spec.mode !== 'train_xanes';
  let x = Float32Array.from(forward ? ds.x : ds.y);
  let y = Float32Array.from(forward ? ds.y : ds.x);
  let nIn = forward ? ds.nFeatures : ds.nEnergies;
  let nOut = forward ? ds.nEnergies : ds.nFeatures;
  const order =
    d.rowOrder === 'xanesnet'
      ? sklearnShuffleIndices(ds.nSamples, d.seed, d.maxSamples ?? ds.nSamples)
      : shuffledIndices(ds.nSamples, { seed: d.seed, nSamples: d.maxSamples ?? undefined });
  x = takeRows(x, nIn, order);
  y = takeRows(y, nOut, order);
  let ids = Array.from(order, (i) => ds.ids[i]);
  let fourierOn: 'x' | 'y' | null = null;
  if (d.fourier.enabled) {
    if (forward) {
      ({ data: y, width: nOut } = fourierRows(y, nOut, d.fourier.concat));
      fourierOn = 'y';
    } else {
      ({ data: x, width: nIn } = fourierRows(x, nIn, d.fourier.concat));
      fourierOn = 'x';
    }
  }
  if (d.augment) {
    const a = augment(x, nIn, y, nOut, d.augment, new Generator(d.seed));
    ids = [...ids, ...Array.from({ length: a.n - ids.length }, (_, i) => `augmented_${i}`)];
    x = a.x;
    y = a.y;
  }
  return { x, y, ids, nIn, nOut, energies: Array.from(ds.energies), fourierOn };
}

interface RowSplit {
  train: Int32Array;
  validation: Int32Array;
  /** model_eval's evaluation rows, or null. */
  evaluation: Int32Array | null;
}

/** XANESNET's 80/20 train/validation split (random_state 42), or with model_eval its 75/15/10 split, of `pool`. */
function splitRows(spec: RunSpec, pool: Int32Array): RowSplit {
  const d = spec.data as XanesDataSpec;
  // model_eval: two sklearn-style splits, 75 / (15 + 10), both seeded (XANESNET seeds the first with 42).
  // row_order: xanesnet draws both with numpy's generator, as scikit-learn does in the original.
  const original = d.rowOrder === 'xanesnet';
  const three = d.modelEval ? (original ? xanesnetThreeWay(pool.length) : trainValTestSplit(pool.length, { seed: 42 })) : null;
  const split = three
    ? { train: three.train, test: three.validation }
    : original
      ? sklearnTrainTestSplit(pool.length, spec.train.valSplit, 42)
      : trainTestSplit(pool.length, { testSize: spec.train.valSplit, seed: 42 });
  const evaluation = three ? Int32Array.from(three.test, (i) => pool[i]) : null;
  if (evaluation && evaluation.length < 2) {
    throw new Error(
      `run ${spec.name}: model_eval keeps 10% of ${pool.length} samples for its t-tests, ${evaluation.length}; they need at least 2: use more data (max_samples) or set model_eval to False`,
    );
  }
  return { train: Int32Array.from(split.train, (i) => pool[i]), validation: Int32Array.from(split.test, (i) => pool[i]), evaluation };
}

/** The model's view of rows of a.x: the features variance_threshold keeps, then the scaler; both fitted on the training rows only. */
function inputPipeline(d: XanesDataSpec, a: XanesArrays, rawTrain: Float32Array, nTrain: number) {
  const selector = (d.varianceThreshold ?? 0) > 0 ? new VarianceThreshold(d.varianceThreshold).fit({ data: rawTrain, shape: [nTrain, a.nIn] }) : null;
  const nIn = selector ? selector.support!.length : a.nIn;
  const select = (x: Float32Array, n: number) => (selector ? selector.transform({ data: x, shape: [n, a.nIn] }).data : x);
  // Fitted on the training split only (XANESNET refits on every input it sees; see README).
  const scaler = d.standardScaler ? new StandardScaler().fit({ data: select(rawTrain, nTrain), shape: [nTrain, nIn] }) : null;
  const prepareInputs = (x: Float32Array, n: number): Float32Array => {
    const kept = select(x, n);
    return scaler ? Float32Array.from(scaler.transform({ data: kept, shape: [n, nIn] }).data) : kept;
  };
  return { selector, scaler, nIn, prepareInputs };
}

/** split.json, and scaler.json / variance_threshold.json when the run has them: what predict reuses. */
function writeRunInputs(runDir: string, a: XanesArrays, rows: RowSplit, scaler: StandardScaler | null, selector: VarianceThreshold | null): void {
  if (scaler) fs.writeFileSync(path.join(runDir, 'scaler.json'), JSON.stringify(scaler.toJSON(), null, 1));
  if (selector) fs.writeFileSync(path.join(runDir, VARIANCE_THRESHOLD_FILE), JSON.stringify(selector.toJSON(), null, 1));
  const ids = (r: Int32Array) => Array.from(r, (i) => a.ids[i]);
  fs.writeFileSync(
    path.join(runDir, 'split.json'),
    JSON.stringify(
      { train: ids(rows.train), validation: ids(rows.validation), ...(rows.evaluation ? { evaluation: ids(rows.evaluation) } : {}), fourier: a.fourierOn },
      null,
      1,
    ),
  );
}

/**
 * XANESNET's model_eval split with numpy's generator: train_test_split(test_size 0.25,
 * random_state 42), then the held-out rows split 15/10. XANESNET leaves that second split
 * unseeded (numpy's global state), so its evaluation rows cannot be reproduced; here it
 * continues the seeded stream. The training rows are the original's.
 */
function xanesnetThreeWay(n: number): { train: Int32Array; validation: Int32Array; test: Int32Array } {
  const rs = new NumpyRandomState(42);
  const first = sklearnTrainTestSplit(n, 1 - 0.75, 42, rs);
  const second = sklearnTrainTestSplit(first.test.length, 0.1 / (0.1 + 0.15), 42, rs);
  return { train: first.train, validation: second.train.map((i) => first.test[i]), test: second.test.map((i) => first.test[i]) };
}

/**
 * Loaders over `rows` of the arrays (all rows by default): XANESNET's 80/20
 * train/validation split (random_state 42), or with model_eval its 75/15/10
 * train/validation/evaluation split; the input features kept by variance_threshold
 * and the optional input scaler, both fitted on the training part only; split.json,
 * scaler.json and variance_threshold.json written to the run directory.
 */
export function xanesLoaders(spec: RunSpec, a: XanesArrays, rows: Int32Array | null, runDir: string | null): PreparedData {
  const d = spec.data as XanesDataSpec;
  const { nOut } = a;
  const split = splitRows(spec, rows ?? Int32Array.from({ length: a.ids.length }, (_, i) => i));
  const { train: trainRows, validation: valRows, evaluation: evalRows } = split;
  const yTrain = takeRows(a.y, nOut, trainRows);
  const yVal = takeRows(a.y, nOut, valRows);
  const rawTrain = takeRows(a.x, a.nIn, trainRows);
  const { selector, scaler, nIn, prepareInputs } = inputPipeline(d, a, rawTrain, trainRows.length);
  const xTrain = prepareInputs(rawTrain, trainRows.length);
  const xVal = prepareInputs(takeRows(a.x, a.nIn, valRows), valRows.length);
  const messages: string[] = [];
  if (selector) {
    const removed = selector.removed;
    messages.push(
      `variance_threshold ${d.varianceThreshold}: ${nIn} of ${a.nIn} input features kept` + (removed.length ? ` (removed columns ${removed.join(', ')})` : ''),
    );
  }
  if (runDir) writeRunInputs(runDir, a, split, scaler, selector);
  const modelEval: ModelEvalSets | undefined = evalRows
    ? {
        train: { x: xTrain, y: yTrain, n: trainRows.length },
        validation: { x: xVal, y: yVal, n: valRows.length },
        evaluation: { x: prepareInputs(takeRows(a.x, a.nIn, evalRows), evalRows.length), y: takeRows(a.y, nOut, evalRows), n: evalRows.length },
        nIn,
        nOut,
      }
    : undefined;
  const field = (data: Float32Array, n: number, width: number) => ({ data, shape: [n, width] });
  const train = new DataLoader(new ArrayDataset({ x: field(xTrain, trainRows.length, nIn), y: field(yTrain, trainRows.length, nOut) }), {
    batchSize: spec.train.batchSize,
    shuffle: true,
    seed: d.seed,
  });
  const validation = new DataLoader(new ArrayDataset({ x: field(xVal, valRows.length, nIn), y: field(yVal, valRows.length, nOut) }), {
    batchSize: spec.train.batchSize,
  });
  return {
    train,
    validation,
    nIn,
    nOut,
    metrics: 'regression',
    stateful: [train],
    extra: { energies: a.energies, nTrain: trainRows.length, nValidation: valRows.length, scaler, prepareInputs, modelEval, messages },
  };
}

/** XANESNET data: descriptors of the structures and the spectra, split train/validation. */
export function prepareXanes(spec: RunSpec, runDir: string | null): PreparedData {
  return xanesLoaders(spec, loadXanesArrays(spec), null, runDir);
}
