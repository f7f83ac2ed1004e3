/**
 * StandardScaler, matching `sklearn.preprocessing.StandardScaler`.
 *
 *     const scaler = new StandardScaler().fit(xTrain);   // fit on the training split only
 *     const xs = scaler.transform(xTest);                 // (x - mean) / scale
 *     fs.writeFileSync('scaler.json', JSON.stringify(scaler));   // saved with the run
 *     const again = StandardScaler.fromJSON(JSON.parse(text));  // reused by predict
 *
 * Per feature (column) j over the n fitted rows:
 *   mean_j  = sum_i x_ij / n
 *   var_j   = sum_i (x_ij - mean_j)^2 / n          (population variance, ddof 0)
 *   scale_j = sqrt(var_j), or 1 where the feature is constant
 * Sums are taken in float64 with sklearn's two-pass correction, and the
 * constant-feature test is sklearn's (var <= n*eps*var + (n*mean*eps)^2), so a
 * feature that is constant up to rounding gets scale 1, not a tiny number.
 * NaNs are ignored when fitting and stay NaN when transforming, as in sklearn.
 * transform rounds like sklearn on float32 input: f32(f32(x - mean) / scale).
 */
import { tf } from '../engine/tf';

/** A 2-D array of rows: flat data with shape [n, features], nested rows, or a tensor. */
export type Matrix = { data: Float32Array | Float64Array; shape: [number, number] | number[] } | number[][];

export interface StandardScalerJSON {
  type: 'StandardScaler';
  withMean: boolean;
  withStd: boolean;
  nFeatures: number;
  nSamplesSeen: number;
  mean: number[];
  var: number[];
  scale: number[];
}

const EPS64 = 2 ** -52;

/** Rows as a flat Float64 view: {data, rows, cols}. */
function asRows(x: Matrix | tf.Tensor, where: string): { data: ArrayLike<number>; rows: number; cols: number } {
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) throw new Error(`${where}: expected a 2-D tensor [samples, features], got shape [${x.shape}]`);
    return { data: x.dataSync(), rows: x.shape[0] as number, cols: x.shape[1] as number };
  }
  if (Array.isArray(x)) {
    const cols = x.length ? x[0].length : 0;
    const data = new Float64Array(x.length * cols);
    x.forEach((r, i) => {
      if (r.length !== cols) throw new Error(`${where}: row ${i} has ${r.length} values, row 0 has ${cols}`);
      data.set(r, i * cols);
    });
    return { data, rows: x.length, cols };
  }
  if (!x || !x.data || !Array.isArray(x.shape) || x.shape.length !== 2) {
    throw new Error(`${where}: expected {data, shape: [samples, features]}, number[][] or a 2-D tensor`);
  }
  const [rows, cols] = x.shape;
  if (x.data.length !== rows * cols) throw new Error(`${where}: ${x.data.length} values do not fill shape [${rows}, ${cols}]`);
  return { data: x.data, rows, cols };
}

export class StandardScaler {
  readonly withMean: boolean;
  readonly withStd: boolean;
  /** Fitted statistics (sklearn's mean_, var_, scale_, n_samples_seen_); null before fit. */
  mean: Float64Array | null = null;
  var: Float64Array | null = null;
  scale: Float64Array | null = null;
  nSamplesSeen = 0;

  constructor(options: { withMean?: boolean; withStd?: boolean } = {}) {
    this.withMean = options.withMean ?? true;
    this.withStd = options.withStd ?? true;
  }

  get nFeatures(): number {
    return this.mean?.length ?? 0;
  }

  fit(x: Matrix | tf.Tensor): this {
    const { data, rows, cols } = asRows(x, 'StandardScaler.fit');
    if (rows === 0) throw new Error('StandardScaler.fit: no rows to fit on');
    const mean = new Float64Array(cols);
    const variance = new Float64Array(cols);
    const count = new Float64Array(cols);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const v = data[i * cols + j];
        if (!Number.isNaN(v)) {
          mean[j] += v;
          count[j] += 1;
        }
      }
    }
    for (let j = 0; j < cols; j++) mean[j] /= count[j];
    // Two-pass variance with the rounding correction sklearn uses:
    // var = (sum (x - m)^2 - (sum (x - m))^2 / n) / n
    const corr = new Float64Array(cols);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const v = data[i * cols + j];
        if (!Number.isNaN(v)) {
          const d = v - mean[j];
          corr[j] += d;
          variance[j] += d * d;
        }
      }
    }
    const scale = new Float64Array(cols);
    for (let j = 0; j < cols; j++) {
      const n = count[j];
      variance[j] = (variance[j] - (corr[j] * corr[j]) / n) / n;
      const constant = variance[j] <= n * EPS64 * variance[j] + (n * mean[j] * EPS64) ** 2;
      scale[j] = constant ? 1 : Math.sqrt(variance[j]);
    }
    this.mean = mean;
    this.var = variance;
    this.scale = scale;
    this.nSamplesSeen = rows;
    return this;
  }

  /** (x - mean) / scale, returned in the same form as the input (a tensor input gives a new tensor to dispose). */
  transform<X extends Matrix | tf.Tensor>(x: X): X {
    return this.apply(x, 'transform');
  }

  /** x * scale + mean. */
  inverseTransform<X extends Matrix | tf.Tensor>(x: X): X {
    return this.apply(x, 'inverseTransform');
  }

  fitTransform<X extends Matrix | tf.Tensor>(x: X): X {
    return this.fit(x).transform(x);
  }

  private apply<X extends Matrix | tf.Tensor>(x: X, op: 'transform' | 'inverseTransform'): X {
    const where = `StandardScaler.${op}`;
    if (!this.mean || !this.scale) throw new Error(`${where}: the scaler is not fitted; call fit(xTrain) or load it with StandardScaler.fromJSON`);
    const mean = this.withMean ? this.mean : new Float64Array(this.mean.length);
    const scale = this.withStd ? this.scale : new Float64Array(this.scale.length).fill(1);
    const f = mean.length;
    if (x instanceof tf.Tensor) {
      if (x.shape[x.rank - 1] !== f) throw new Error(`${where}: the last axis has ${x.shape[x.rank - 1]} features, the scaler was fitted on ${f}`);
      return tf.tidy(() => {
        const m = tf.tensor1d(Float32Array.from(mean));
        const s = tf.tensor1d(Float32Array.from(scale));
        return op === 'transform' ? tf.div(tf.sub(x, m), s) : tf.add(tf.mul(x, s), m);
      }) as X;
    }
    const { data, rows, cols } = asRows(x, where);
    if (cols !== f) throw new Error(`${where}: the input has ${cols} features, the scaler was fitted on ${f}`);
    const out = new Float32Array(rows * cols);
    const r = Math.fround;
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const v = data[i * cols + j];
        out[i * cols + j] = op === 'transform' ? r(v - mean[j]) / scale[j] : r(v * scale[j]) + mean[j];
      }
    }
    if (Array.isArray(x)) {
      return Array.from({ length: rows }, (_, i) => Array.from(out.subarray(i * cols, (i + 1) * cols))) as X;
    }
    return { data: out, shape: [rows, cols] } as X;
  }

  toJSON(): StandardScalerJSON {
    if (!this.mean || !this.var || !this.scale) throw new Error('StandardScaler.toJSON: the scaler is not fitted yet');
    return {
      type: 'StandardScaler',
      withMean: this.withMean,
      withStd: this.withStd,
      nFeatures: this.mean.length,
      nSamplesSeen: this.nSamplesSeen,
      mean: Array.from(this.mean),
      var: Array.from(this.var),
      scale: Array.from(this.scale),
    };
  }

  static fromJSON(json: StandardScalerJSON): StandardScaler {
    if (!json || json.type !== 'StandardScaler') {
      throw new Error(
        `StandardScaler.fromJSON: expected an object with type 'StandardScaler' (from scaler.toJSON()), got ${JSON.stringify(json)?.slice(0, 80)}`,
      );
    }
    for (const key of ['mean', 'var', 'scale'] as const) {
      if (!Array.isArray(json[key]) || json[key].length !== json.nFeatures) {
        throw new Error(`StandardScaler.fromJSON: '${key}' must be a list of ${json.nFeatures} numbers`);
      }
    }
    const s = new StandardScaler({ withMean: json.withMean, withStd: json.withStd });
    s.mean = Float64Array.from(json.mean);
    s.var = Float64Array.from(json.var);
    s.scale = Float64Array.from(json.scale);
    s.nSamplesSeen = json.nSamplesSeen;
    return s;
  }
}
