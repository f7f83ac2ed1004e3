/**
 * Synthetic cube files in the RACCOON/PENGUIN seed layout (see ./cubes.ts):
 * float32 datasets `gr_seed%04d` and `newton_seed%04d`, each (S, S, S), standardised
 * over the whole file as the seed's `data_z*.h5` are.
 *
 * SYNTHETIC DATA, NOT A SIMULATION. The seed's cubes are gravitational potentials
 * from gevolution (GR) and its Newtonian counterpart. Here both classes are Gaussian
 * random fields on a periodic grid, made from the SAME white noise per seed (same
 * phases, like the paired simulations), with power spectra
 *
 *     Newton:  P_N(k)  = k^n
 *     GR:      P_GR(k) = k^n * (1 + epsilon * (k_H / k)^2)
 *
 * k in units of the fundamental mode 2 pi / box (so k = 1 is the largest wave in the
 * cube). The factor (k_H / k)^2 mimics the leading relativistic correction on scales
 * approaching the horizon, which grows like (aH / k)^2: GR has more power on the
 * largest scales, the same on small ones. The defaults (n = -2.5, epsilon = 1,
 * k_H = 2) exaggerate it greatly, so that a small CNN learns it in a few epochs;
 * the real effect in the seed's 5120 Mpc/h boxes is far weaker. k = 0 is set to zero.
 *
 * Recipe, per seed s:
 *   w   = N(0, 1) white noise on S^3 points from Generator(mix(noiseSeed, s))
 *   W   = FFT3(w)
 *   gr  = Re IFFT3(W * sqrt(P_GR(|k|))),  newton = Re IFFT3(W * sqrt(P_N(|k|)))
 * Then, over every cube of the file (both classes, all seeds), as the seed's
 * prepare_data does: mu = mean of the per-cube means, sigma^2 = sum (x - mu)^2 / (n_cubes S^3),
 * and every value becomes (x - mu) / sigma. With `quantum` > 0 the stored values are
 * rounded to multiples of it (smaller gzip'd files; the rounding error is quantum / sqrt(12)).
 *
 * The cube of a seed depends only on (noiseSeed, seed, size, n, epsilon, k_H) before
 * standardisation, so files with different seed sets agree up to mu and sigma.
 *
 *     await makeSyntheticCubes('cubes.h5', { seeds: 24, size: 64 });
 *
 * S must be a power of two (the FFT is radix-2). One seed (both cubes) takes about
 * 0.2 s at S = 64, 2 s at 128 and 15 s at 256; a 20-seed file of 32^3 cubes ~1.5 s.
 * The embedded datasets/cubes/cubes_s64.h5 is EMBEDDED_CUBES (at the end of this file).
 */
import * as fs from 'node:fs';
import { Generator } from '../engine/random';
import { H5Writer } from './hdf5';
import { cubeNames } from './cubes';

export interface SyntheticCubeOptions {
  /** The seeds: a count n (seeds 0..n-1) or a list. */
  seeds: number | number[];
  /** Cube side S, a power of two (default 64). */
  size?: number;
  /** Spectral index n of P_N(k) = k^n (default -2.5). */
  spectralIndex?: number;
  /** Amplitude epsilon of the GR correction (default 1). */
  epsilon?: number;
  /** k_H in units of the fundamental mode (default 2). */
  kH?: number;
  /** Base seed of the white noise (default 0). */
  noiseSeed?: number;
}

export interface SyntheticFileOptions extends SyntheticCubeOptions {
  /** Standardise over the file as the seed does (default true). */
  standardise?: boolean;
  /** Round stored values to multiples of this (default 0: no rounding). */
  quantum?: number;
  /** gzip level 0-9 (default 6). */
  compression?: number;
  /** Replace an existing file (default false). */
  overwrite?: boolean;
}

export interface SyntheticFileInfo {
  file: string;
  seeds: number[];
  size: number;
  /** The standardisation applied: stored = (x - mean) / std (mean 0, std 1 without it). */
  mean: number;
  std: number;
}

// ---- a small radix-2 complex FFT, applied along each axis of a cube ------------------

const isPowerOfTwo = (n: number) => Number.isInteger(n) && n >= 2 && (n & (n - 1)) === 0;

/** In-place FFT of one complex line (re, im of length n, a power of two); inverse without the 1/n. */
function fftLine(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    // bit-reversal permutation
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  const sign = inverse ? 1 : -1;
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (sign * 2 * Math.PI) / len;
    const half = len >> 1;
    for (let k = 0; k < half; k++) {
      const wr = Math.cos(ang * k);
      const wi = Math.sin(ang * k);
      for (let s = k; s < n; s += len) {
        const t = s + half;
        const xr = re[t] * wr - im[t] * wi;
        const xi = re[t] * wi + im[t] * wr;
        re[t] = re[s] - xr;
        im[t] = im[s] - xi;
        re[s] += xr;
        im[s] += xi;
      }
    }
  }
}

/**
 * In-place 3-D FFT of an S^3 complex array (row-major [x][y][z]); the inverse
 * includes the 1 / S^3. Each axis in turn: copy a line out, transform, copy back.
 */
export function fft3(re: Float64Array, im: Float64Array, S: number, inverse = false): void {
  if (!isPowerOfTwo(S)) throw new Error(`fft3: the side must be a power of two >= 2, got ${S}`);
  if (re.length !== S ** 3 || im.length !== S ** 3) throw new Error(`fft3: expected ${S ** 3} values (S = ${S}), got ${re.length} and ${im.length}`);
  const lr = new Float64Array(S);
  const li = new Float64Array(S);
  for (const stride of [1, S, S * S]) {
    for (let base = 0; base < S ** 3; base++) {
      // `base` starts a line when its coordinate along this axis is 0
      if (Math.floor(base / stride) % S !== 0) continue;
      for (let i = 0; i < S; i++) {
        lr[i] = re[base + i * stride];
        li[i] = im[base + i * stride];
      }
      fftLine(lr, li, inverse);
      for (let i = 0; i < S; i++) {
        re[base + i * stride] = lr[i];
        im[base + i * stride] = li[i];
      }
    }
  }
  if (inverse) {
    const inv = 1 / S ** 3;
    for (let i = 0; i < re.length; i++) {
      re[i] *= inv;
      im[i] *= inv;
    }
  }
}

// ---- the two fields of one seed -------------------------------------------------------

/** The noise generator's seed for cube seed `s`: distinct per (noiseSeed, s). */
function noiseStream(noiseSeed: number, s: number): Generator {
  return new Generator(noiseSeed * 1_000_003 + s * 7919 + 17);
}

function checkModel(o: Omit<SyntheticCubeOptions, 'seeds'>): Required<Omit<SyntheticCubeOptions, 'seeds'>> {
  const { size = 64, spectralIndex = -2.5, epsilon = 1, kH = 2, noiseSeed = 0 } = o;
  if (!isPowerOfTwo(size)) throw new Error(`synthetic cubes: size must be a power of two (16, 32, 64, ...), got ${size}`);
  for (const [k, v] of Object.entries({ spectralIndex, epsilon, kH, noiseSeed })) {
    if (!Number.isFinite(v)) throw new Error(`synthetic cubes: ${k} must be a finite number, got ${v}`);
  }
  if (epsilon < 0) throw new Error(`synthetic cubes: epsilon must be >= 0 (GR adds power), got ${epsilon}`);
  return { size, spectralIndex, epsilon, kH, noiseSeed };
}

/**
 * The raw (unstandardised) GR and Newtonian cubes of one seed, row-major (S, S, S).
 * Deterministic: the same options and seed give the same numbers.
 */
export function syntheticCubePair(seed: number, options: Omit<SyntheticCubeOptions, 'seeds'> = {}): { gr: Float32Array; newton: Float32Array } {
  if (!(Number.isInteger(seed) && seed >= 0)) throw new Error(`synthetic cubes: a seed must be a non-negative integer, got ${seed}`);
  const { size: S, spectralIndex: n, epsilon, kH, noiseSeed } = checkModel(options);
  const N = S ** 3;
  const re = Float64Array.from(noiseStream(noiseSeed, seed).normalArray(N));
  const im = new Float64Array(N);
  fft3(re, im, S);
  // Frequencies in units of the fundamental mode: index i -> i for i < S/2, i - S otherwise.
  const freq = (i: number) => (i < S / 2 ? i : i - S);
  const out = { gr: new Float32Array(N), newton: new Float32Array(N) };
  const gre = new Float64Array(N);
  const gim = new Float64Array(N);
  for (let x = 0, idx = 0; x < S; x++) {
    for (let y = 0; y < S; y++) {
      for (let z = 0; z < S; z++, idx++) {
        const k = Math.hypot(freq(x), freq(y), freq(z));
        const ampN = k === 0 ? 0 : Math.pow(k, n / 2); // sqrt(P_N)
        const ampGR = k === 0 ? 0 : ampN * Math.sqrt(1 + epsilon * (kH / k) ** 2); // sqrt(P_GR)
        gre[idx] = re[idx] * ampGR;
        gim[idx] = im[idx] * ampGR;
        re[idx] *= ampN;
        im[idx] *= ampN;
      }
    }
  }
  fft3(re, im, S, true);
  fft3(gre, gim, S, true);
  for (let i = 0; i < N; i++) {
    out.newton[i] = re[i];
    out.gr[i] = gre[i];
  }
  return out;
}

/**
 * Write a cube file in the seed's layout. Two passes over the seeds (the
 * statistics, then the standardised cubes), regenerating each pair rather than
 * holding the file in memory, so any number of seeds fits.
 */
export async function makeSyntheticCubes(file: string, options: SyntheticFileOptions): Promise<SyntheticFileInfo> {
  const seeds = typeof options.seeds === 'number' ? Array.from({ length: options.seeds }, (_, i) => i) : options.seeds.slice();
  if (seeds.length === 0 || !seeds.every((s) => Number.isInteger(s) && s >= 0) || new Set(seeds).size !== seeds.length) {
    throw new Error(
      `makeSyntheticCubes(${file}): seeds must be a positive count or a list of distinct non-negative integers, got ${JSON.stringify(options.seeds)}`,
    );
  }
  const model = checkModel(options);
  const { standardise = true, quantum = 0, compression = 6, overwrite = false } = options;
  if (!(quantum >= 0)) throw new Error(`makeSyntheticCubes: quantum must be >= 0, got ${quantum}`);
  const S = model.size;
  if (fs.existsSync(file) && !overwrite) throw new Error(`makeSyntheticCubes: ${file} already exists; pass overwrite: true to replace it`);

  // Keep the cubes between the passes when they are small (< 256 MB), else regenerate.
  const keep = seeds.length * 2 * S ** 3 * 4 < 256 * 2 ** 20;
  const kept = new Map<number, { gr: Float32Array; newton: Float32Array }>();
  let mean = 0;
  let std = 1;
  if (standardise) {
    // mu = mean of the per-cube means; sigma^2 = sum (x - mu)^2 / (n_cubes S^3), from sums in float64.
    let sum = 0;
    let sumSq = 0;
    for (const s of seeds) {
      const pair = syntheticCubePair(s, model);
      if (keep) kept.set(s, pair);
      for (const cube of [pair.gr, pair.newton]) {
        for (let i = 0; i < cube.length; i++) {
          sum += cube[i];
          sumSq += cube[i] * cube[i];
        }
      }
    }
    const n = seeds.length * 2 * S ** 3;
    mean = sum / n;
    std = Math.sqrt(Math.max(sumSq / n - mean * mean, 0));
    if (!(std > 0)) throw new Error('makeSyntheticCubes: the cubes have zero variance; check spectralIndex and the size');
  }
  const w = await H5Writer.create(file, { overwrite, compression: compression || undefined });
  try {
    for (const s of seeds) {
      const pair = kept.get(s) ?? syntheticCubePair(s, model);
      kept.delete(s);
      const names = cubeNames(s);
      for (const kind of ['gr', 'newton'] as const) {
        const cube = pair[kind];
        for (let i = 0; i < cube.length; i++) {
          const v = (cube[i] - mean) / std;
          cube[i] = quantum > 0 ? Math.round(v / quantum) * quantum : v;
        }
        w.write(names[kind], cube, [S, S, S]);
      }
    }
    w.setAttrs('/', {
      description:
        'SYNTHETIC Gaussian random fields, not simulations: same white noise per seed, P_N(k) = k^n, ' +
        'P_GR(k) = k^n (1 + epsilon (k_H / k)^2), k in units of 2 pi / box; standardised over the file. ' +
        'Made by hyperlab makeSyntheticCubes (lib/data/synthetic_cubes.ts).',
      size: S,
      spectral_index: model.spectralIndex,
      epsilon: model.epsilon,
      k_H: model.kH,
      noise_seed: model.noiseSeed,
      mean,
      std,
      quantum,
      seeds: seeds.length,
    });
  } catch (e) {
    w.abort();
    throw e;
  }
  w.close();
  return { file, seeds, size: S, mean, std };
}

/**
 * The settings of hyperlab's embedded file datasets/cubes/cubes_s64.h5: seeds 0-3 train,
 * 4-5 test (2 x 6 cubes of 64^3, the smallest side RACCOON and PENGUIN accept), values
 * rounded to multiples of 1/32 so the gzip'd file stays near 4 MB. Regenerate it with
 *
 *     npm run build && node dist/lib/data/synthetic_cubes.js datasets/cubes/cubes_s64.h5
 */
export const EMBEDDED_CUBES: SyntheticFileOptions = { seeds: 6, size: 64, quantum: 1 / 32, compression: 9 };

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node dist/lib/data/synthetic_cubes.js OUT.h5   (writes the embedded cube file, see EMBEDDED_CUBES)');
    process.exit(2);
  }
  makeSyntheticCubes(file, { ...EMBEDDED_CUBES, overwrite: true }).then(
    (info) =>
      console.log(
        `wrote ${info.file}: ${info.seeds.length} seeds of ${info.size}^3 (mean ${info.mean.toExponential(3)}, std ${info.std.toExponential(3)} before standardising)`,
      ),
    (e) => {
      console.error((e as Error).message);
      process.exit(1);
    },
  );
}
