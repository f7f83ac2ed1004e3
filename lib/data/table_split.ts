/**
 * A table split for training, in one call: scikit-learn's
 *
 *     X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.25, random_state=0)
 *     scaler = StandardScaler().fit(X_train)   # then transform both
 *
 * as `splitTable(hl.loadBreastCancer(), { testSize: 0.25, seed: 0 })`, giving two
 * datasets with fields `x` (standardised with the training rows' mean and std) and
 * `y` (shape [1] per sample for binary and regression tables, a class index for
 * classification). No tensors are made; `fullBatch(dataset)` stacks a whole
 * dataset into tensors when a lesson wants them.
 */
import { DataTable } from './tables';
import { trainTestSplit, takeRows, SeedLike } from './splits';
import { StandardScaler } from './scaling';
import { ArrayDataset } from './dataset';
import { collate } from './loader';
import { tf } from '../engine/tf';

export interface SplitTableOptions {
  /** Fraction (0..1) or number of validation rows; default 0.25 as scikit-learn. */
  testSize?: number;
  /** Seed of the shuffle before the split; default 0. */
  seed?: SeedLike;
  /** Standardise the features with the training rows' statistics (default true). */
  standardize?: boolean;
}

export interface TableSplit {
  train: ArrayDataset;
  val: ArrayDataset;
  /** The scaler fitted on the training rows (null when standardize is false). */
  scaler: StandardScaler | null;
  nFeatures: number;
  /** The table rows in each part (indices into the table). */
  indices: { train: Int32Array; val: Int32Array };
}

export function splitTable(table: DataTable, opts: SplitTableOptions = {}): TableSplit {
  if (!table || !(table.x instanceof Float32Array) || !Number.isInteger(table.nFeatures)) {
    throw new Error('splitTable: expected a table from hl.loadIris/loadWine/loadBreastCancer/loadDigits/loadDiabetes');
  }
  const { testSize = 0.25, seed = 0, standardize = true } = opts;
  const F = table.nFeatures;
  const split = trainTestSplit(table.nSamples, { testSize, seed });
  const xTrain = takeRows(table.x, F, split.train),
    xVal = takeRows(table.x, F, split.test);
  const scaler = standardize ? new StandardScaler().fit({ data: xTrain, shape: [split.train.length, F] }) : null;
  const part = (x: Float32Array, idx: Int32Array): ArrayDataset => {
    const n = idx.length;
    const xs = scaler ? (scaler.transform({ data: x, shape: [n, F] }).data as Float32Array) : x;
    const classes = table.task === 'classification';
    const y = classes ? takeRows(table.y, 1, idx) : Float32Array.from(takeRows(table.y, 1, idx)); // BCE/MSE want floats
    const yShape = classes ? [n] : [n, 1];
    return new ArrayDataset({ x: { data: xs, shape: [n, F] }, y: { data: y, shape: yShape } });
  };
  return {
    train: part(xTrain, split.train),
    val: part(xVal, split.test),
    scaler,
    nFeatures: F,
    indices: { train: split.train, val: split.test },
  };
}

/** Every sample of a dataset stacked into tensors (one batch of all of it), e.g. `{ x: [n, F], y: [n, 1] }`. */
export function fullBatch(dataset: ArrayDataset): Record<string, tf.Tensor> {
  if (!dataset || typeof dataset.get !== 'function' || !(dataset.length > 0)) {
    throw new Error('fullBatch: expected a non-empty dataset (an ArrayDataset, e.g. splitTable(...).train)');
  }
  return collate(Array.from({ length: dataset.length }, (_, i) => dataset.get(i)));
}
