/**
 * `sklearn.feature_selection.VarianceThreshold`: drop the input features (columns)
 * whose variance over the fitting rows is at or below a threshold, and keep the
 * remembered columns for every later input.
 *
 *     const vt = new VarianceThreshold(0.01).fit({ data: xTrain, shape: [n, w] });
 *     vt.support;                                   // kept column indices, ascending
 *     const x = vt.transform({ data, shape: [m, w] });   // [m, vt.support.length]
 *
 * As sklearn: the variance is the population variance (ddof 0); a column is kept when
 * its variance is strictly above the threshold; with threshold 0 the variance is
 * min(variance, peak-to-peak) so a constant column counts as exactly 0 despite rounding;
 * if no column survives, fitting fails. (sklearn also ignores NaN entries; XANESNET's
 * features have none, and here a NaN makes the column's variance NaN, so it is dropped.)
 *
 * XANESNET 2023 run files carry `variance_threshold` (0.0 in every example), but its
 * training code never applies it (core_data.train_data takes the key and drops it). The
 * docstring's intent is sklearn's selector, which hyperlab applies to the model inputs of
 * the training split when the value is above 0; 0.0 keeps every feature, as XANESNET does.
 * The run directory keeps the result in variance_threshold.json, and prediction reuses it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Rows {
  data: ArrayLike<number>;
  shape: [number, number] | number[];
}

export interface VarianceThresholdJSON {
  threshold: number;
  n_features_in: number;
  variances: number[];
  support: number[];
}

/** The file a run directory keeps the fitted selector in. */
export const VARIANCE_THRESHOLD_FILE = 'variance_threshold.json';

export class VarianceThreshold {
  /** Per-column variance of the fitting rows (sklearn's variances_). */
  variances: Float64Array | null = null;
  /** The kept columns, ascending (sklearn's get_support(indices=True)). */
  support: Int32Array | null = null;
  nFeaturesIn = 0;

  constructor(readonly threshold = 0) {
    if (!(Number.isFinite(threshold) && threshold >= 0)) throw new Error(`VarianceThreshold: threshold must be a number >= 0, got ${threshold}`);
  }

  fit(x: Rows): this {
    const [n, w] = x.shape;
    if (!(n >= 1)) throw new Error('VarianceThreshold.fit: no rows to fit on');
    const mean = new Float64Array(w);
    const min = new Float64Array(w).fill(Infinity);
    const max = new Float64Array(w).fill(-Infinity);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < w; j++) {
        const v = x.data[i * w + j];
        mean[j] += v;
        if (v < min[j]) min[j] = v;
        if (v > max[j]) max[j] = v;
      }
    }
    for (let j = 0; j < w; j++) mean[j] /= n;
    const variances = new Float64Array(w);
    for (let i = 0; i < n; i++) for (let j = 0; j < w; j++) variances[j] += (x.data[i * w + j] - mean[j]) ** 2;
    for (let j = 0; j < w; j++) {
      variances[j] /= n;
      if (this.threshold === 0) variances[j] = Math.min(variances[j], max[j] - min[j]);
    }
    const kept: number[] = [];
    for (let j = 0; j < w; j++) if (variances[j] > this.threshold) kept.push(j);
    if (kept.length === 0) {
      const top = Math.max(...Array.from(variances).filter(Number.isFinite));
      throw new Error(
        `VarianceThreshold: no feature has a variance above ${this.threshold} over the ${n} training rows ` +
          `(the largest is ${top}); lower variance_threshold`,
      );
    }
    this.variances = variances;
    this.support = Int32Array.from(kept);
    this.nFeaturesIn = w;
    return this;
  }

  /** The kept columns of x, as a new [n, support.length] Float32Array. */
  transform(x: Rows): { data: Float32Array; shape: [number, number] } {
    if (!this.support) throw new Error('VarianceThreshold.transform: fit it first');
    const [n, w] = x.shape;
    if (w !== this.nFeaturesIn) {
      throw new Error(`VarianceThreshold.transform: the input has ${w} features, the selector was fitted on ${this.nFeaturesIn}`);
    }
    const k = this.support.length;
    const out = new Float32Array(n * k);
    for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) out[i * k + c] = x.data[i * w + this.support[c]];
    return { data: out, shape: [n, k] };
  }

  /** The removed columns (ascending). */
  get removed(): number[] {
    const keep = new Set(this.support ?? []);
    return Array.from({ length: this.nFeaturesIn }, (_, j) => j).filter((j) => !keep.has(j));
  }

  toJSON(): VarianceThresholdJSON {
    if (!this.support || !this.variances) throw new Error('VarianceThreshold.toJSON: fit it first');
    return { threshold: this.threshold, n_features_in: this.nFeaturesIn, variances: Array.from(this.variances), support: Array.from(this.support) };
  }

  static fromJSON(j: VarianceThresholdJSON): VarianceThreshold {
    if (!j || !Array.isArray(j.support) || !Number.isInteger(j.n_features_in)) {
      throw new Error('VarianceThreshold.fromJSON: expected {threshold, n_features_in, variances, support} as toJSON() writes it');
    }
    const vt = new VarianceThreshold(j.threshold);
    vt.nFeaturesIn = j.n_features_in;
    vt.variances = Float64Array.from(j.variances ?? []);
    vt.support = Int32Array.from(j.support);
    return vt;
  }
}

/** The selector a run directory saved (variance_threshold.json), or null when the run keeps every feature. */
export function loadVarianceThreshold(runDir: string): VarianceThreshold | null {
  const file = path.join(runDir, VARIANCE_THRESHOLD_FILE);
  if (!fs.existsSync(file)) return null;
  try {
    return VarianceThreshold.fromJSON(JSON.parse(fs.readFileSync(file, 'utf8')));
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}; train the run again to rewrite it`, { cause: err });
  }
}
