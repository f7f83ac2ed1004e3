/**
 * XANESNET's data transforms (shared/specs/models-from-seeds.md, "Data pipeline"):
 *
 * - Fourier: a spectrum x of length L becomes z = Re(FFT([x, reversed(x)])), length 2L
 *   (the mirrored signal makes the transform real and even); with `concat` (2024) the
 *   features are [x, z], length 3L. XANESNET's inverse is Re(IFFT(z))[:L]; since the
 *   real part drops the transform's odd part, it returns (x_j + x_{j-1}) / 2 for j > 0
 *   (x_0 exactly): a slightly smoothed spectrum, reproduced here as the original does.
 * - Augmentation, to n * mult samples in all: `random_noise` takes a random sample and
 *   adds N(mean, sd) noise to its X row and its Y row; `random_combination` takes the
 *   mean of two random samples (X and Y alike).
 *
 * Rows are row-major in Float32Arrays; random draws come from a seeded Generator.
 */
import { Generator } from '../engine/random';

/** Re(DFT(v))_k = sum_j v_j cos(2 pi j k / n): direct O(n^2), exact enough for spectra of a few hundred points. */
function realDft(v: Float64Array): Float64Array {
  const n = v.length;
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += v[j] * Math.cos((2 * Math.PI * j * k) / n);
    out[k] = s;
  }
  return out;
}

/** z = Re(FFT([x, reversed(x)])) of one spectrum. */
export function fourierForward(x: ArrayLike<number>): Float64Array {
  const L = x.length;
  const m = new Float64Array(2 * L);
  for (let i = 0; i < L; i++) {
    m[i] = x[i];
    m[2 * L - 1 - i] = x[i];
  }
  return realDft(m);
}

/** Re(IFFT(z))[:L] = (1/2L) * sum_k z_k cos(2 pi j k / 2L) for a real z of length 2L. */
export function fourierInverse(z: ArrayLike<number>): Float64Array {
  const n = z.length;
  const L = n / 2;
  const out = new Float64Array(L);
  for (let j = 0; j < L; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += z[k] * Math.cos((2 * Math.PI * j * k) / n);
    out[j] = s / n;
  }
  return out;
}

/** Apply fourierForward to every row (width L) of `data`; with concat, rows become [x, z]. */
export function fourierRows(data: Float32Array, L: number, concat: boolean): { data: Float32Array; width: number } {
  const rows = data.length / L;
  const width = concat ? 3 * L : 2 * L;
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const x = data.subarray(r * L, (r + 1) * L);
    const z = fourierForward(x);
    if (concat) out.set(x, r * width);
    out.set(z, r * width + (concat ? L : 0));
  }
  return { data: out, width };
}

/** Undo fourierRows for predictions (the z part of each row back to a spectrum). */
export function inverseFourierRows(data: Float32Array, width: number, concat: boolean): { data: Float32Array; width: number } {
  const L = concat ? width / 3 : width / 2;
  const rows = data.length / width;
  const out = new Float32Array(rows * L);
  for (let r = 0; r < rows; r++) {
    const z = data.subarray(r * width + (concat ? L : 0), (r + 1) * width);
    out.set(fourierInverse(z), r * L);
  }
  return { data: out, width: L };
}

export interface AugmentOptions {
  type: 'random_noise' | 'random_combination';
  /** The data grows to n * mult samples. */
  mult: number;
  mean?: number;
  sd?: number;
}

/** XANESNET's augmentation: (mult - 1) * n new samples appended to x and y. */
export function augment(
  x: Float32Array,
  xWidth: number,
  y: Float32Array,
  yWidth: number,
  o: AugmentOptions,
  gen: Generator,
): { x: Float32Array; y: Float32Array; n: number } {
  const n = x.length / xWidth;
  if (!(Number.isInteger(o.mult) && o.mult >= 1)) throw new Error(`augment: augment_mult must be an integer >= 1, got ${o.mult}`);
  if (o.type !== 'random_noise' && o.type !== 'random_combination') {
    throw new Error(`augment: unknown augment_type '${o.type}'; use random_noise or random_combination`);
  }
  const extra = (o.mult - 1) * n;
  const X = new Float32Array((n + extra) * xWidth);
  const Y = new Float32Array((n + extra) * yWidth);
  X.set(x);
  Y.set(y);
  const pick = () => Math.floor(gen.random() * n);
  for (let s = 0; s < extra; s++) {
    const xo = (n + s) * xWidth;
    const yo = (n + s) * yWidth;
    if (o.type === 'random_noise') {
      // one random sample, noise added to its structure features and to its spectrum
      const i = pick();
      for (let k = 0; k < xWidth; k++) X[xo + k] = x[i * xWidth + k] + (o.mean ?? 0) + (o.sd ?? 0.1) * gen.normal();
      for (let k = 0; k < yWidth; k++) Y[yo + k] = y[i * yWidth + k] + (o.mean ?? 0) + (o.sd ?? 0.1) * gen.normal();
    } else {
      const i = pick();
      const j = pick();
      for (let k = 0; k < xWidth; k++) X[xo + k] = (x[i * xWidth + k] + x[j * xWidth + k]) / 2;
      for (let k = 0; k < yWidth; k++) Y[yo + k] = (y[i * yWidth + k] + y[j * yWidth + k]) / 2;
    }
  }
  return { x: X, y: Y, n: n + extra };
}
