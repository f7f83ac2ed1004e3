/**
 * CubeDataset: RACCOON/PENGUIN's `WholeCubeDataset` on the seed layout.
 *
 * File layout (one file per redshift, e.g. data_z0.h5): float32 datasets
 * `gr_seed%04d` and `newton_seed%04d`, each (S, S, S), for seeds 0..N-1. The
 * values are already standardised in the file.
 *
 * Items, for seeds [s0, s1, ...]: gr s0, newton s0, gr s1, newton s1, ...
 *   cube:  the (S, S, S) cube; Newton cubes multiplied by `newtonAugmentation`
 *   label: shape (1,), GR = 1 - targetNoise, Newton = targetNoise
 *
 *     const {train, test} = await CubeDataset.openSplit('data_z0.h5', {nTrain: 100, nTest: 25});
 *     const loader = new DataLoader(train, {batchSize: 2, shuffle: true, seed: 42});
 *
 * Every dataset is checked when the file is opened (missing seeds, wrong shapes),
 * so a bad file fails before training, not in epoch 3. Cubes are read from disk
 * on each get(); nothing is preloaded.
 *
 * Unlike the original, get() never changes the dataset: the original multiplied
 * its own stored entries by the augmentation factor, which only worked because
 * its worker processes were re-created every epoch.
 */
import { Dataset, checkIndex } from './dataset';
import { H5Array, H5File } from './hdf5';

export interface CubeSample {
  [field: string]: { data: Float32Array; shape: number[] };
  cube: { data: Float32Array; shape: number[] };
  label: { data: Float32Array; shape: number[] };
}

export interface CubeDatasetOptions {
  /** The simulation seeds to use, e.g. seedRange(0, 100). */
  seeds: number[];
  /** Factor applied to Newton cubes (default 1). */
  newtonAugmentation?: number;
  /** Label smoothing: GR gets 1 - targetNoise, Newton targetNoise (default 0). */
  targetNoise?: number;
  /** Expected cube side S; default: the side of the first cube, and all must agree. */
  cubeSize?: number;
}

/** Dataset names of one seed: `gr_seed0007`, `newton_seed0007` (Python's %04d). */
export function cubeNames(seed: number): { gr: string; newton: string } {
  const s = String(seed).padStart(4, '0');
  return { gr: `gr_seed${s}`, newton: `newton_seed${s}` };
}

/** The integers start, start+1, ..., stop-1. */
export function seedRange(start: number, stop: number): number[] {
  return Array.from({ length: Math.max(0, stop - start) }, (_, i) => start + i);
}

export class CubeDataset implements Dataset<CubeSample> {
  readonly seeds: number[];
  readonly cubeSize: number;
  readonly newtonAugmentation: number;
  readonly targetNoise: number;
  private readonly cubes: { gr: H5Array; newton: H5Array }[];

  private constructor(
    readonly file: H5File,
    options: Required<Omit<CubeDatasetOptions, 'cubeSize'>>,
    cubeSize: number,
    cubes: { gr: H5Array; newton: H5Array }[],
  ) {
    this.seeds = options.seeds.slice();
    this.newtonAugmentation = options.newtonAugmentation;
    this.targetNoise = options.targetNoise;
    this.cubeSize = cubeSize;
    this.cubes = cubes;
  }

  /** Open `file` read-only and check every cube of `seeds`. */
  static async open(file: string, options: CubeDatasetOptions): Promise<CubeDataset> {
    const f = await H5File.open(file);
    try {
      return CubeDataset.fromFile(f, options);
    } catch (e) {
      f.close();
      throw e;
    }
  }

  /**
   * The seed split of the original runs: train on seeds [0, nTrain), test on
   * [nTrain, nTrain + nTest), both from one file handle.
   */
  static async openSplit(
    file: string,
    options: { nTrain: number; nTest: number } & Omit<CubeDatasetOptions, 'seeds'>,
  ): Promise<{ train: CubeDataset; test: CubeDataset; close(): void }> {
    const { nTrain, nTest, ...rest } = options;
    for (const [k, v] of [
      ['nTrain', nTrain],
      ['nTest', nTest],
    ] as const) {
      if (!Number.isInteger(v) || v < 0) throw new Error(`CubeDataset.openSplit: ${k} must be a non-negative integer, got ${v}`);
    }
    const f = await H5File.open(file);
    let train: CubeDataset | undefined;
    let test: CubeDataset;
    try {
      train = CubeDataset.fromFile(f, { ...rest, seeds: seedRange(0, nTrain) });
      test = CubeDataset.fromFile(f.retain(), { ...rest, seeds: seedRange(nTrain, nTrain + nTest), cubeSize: train.cubeSize || rest.cubeSize });
    } catch (e) {
      if (train) f.close(); // the reference retained for the test split
      f.close();
      throw e;
    }
    const tr = train;
    return { train: tr, test, close: () => (tr.close(), test.close()) };
  }

  private static fromFile(f: H5File, options: CubeDatasetOptions): CubeDataset {
    const { seeds, newtonAugmentation = 1, targetNoise = 0 } = options;
    if (!Array.isArray(seeds) || !seeds.every((s) => Number.isInteger(s) && s >= 0)) {
      throw new Error(`CubeDataset(${f.path}): seeds must be a list of non-negative integers, e.g. seedRange(0, 100)`);
    }
    if (!Number.isFinite(newtonAugmentation)) throw new Error(`CubeDataset: newtonAugmentation must be a number, got ${newtonAugmentation}`);
    if (!(targetNoise >= 0 && targetNoise <= 1)) throw new Error(`CubeDataset: targetNoise must be in [0, 1], got ${targetNoise}`);
    let size = options.cubeSize ?? 0;
    const cubes = seeds.map((seed) => {
      const names = cubeNames(seed);
      const pair = {} as { gr: H5Array; newton: H5Array };
      for (const kind of ['gr', 'newton'] as const) {
        const what = `the ${kind === 'gr' ? 'GR' : 'Newtonian'} cube of seed ${seed}`;
        if (!size) {
          const a = f.dataset(names[kind], { rank: 3, what });
          size = a.shape[0];
        }
        const a = f.dataset(names[kind], { shape: [size, size, size], what });
        if (a.dtype !== 'float32' && a.dtype !== 'float64') {
          throw new Error(`${f.path}: dataset '${names[kind]}' holds ${a.dtype} values, expected float32 cubes`);
        }
        pair[kind] = a;
      }
      return pair;
    });
    return new CubeDataset(f, { seeds, newtonAugmentation, targetNoise }, size, cubes);
  }

  get length(): number {
    return 2 * this.seeds.length;
  }

  /** Which cube item i is, without reading it. */
  itemInfo(index: number): { seed: number; kind: 'gr' | 'newton'; name: string; label: number } {
    checkIndex(index, this.length, 'CubeDataset');
    const seed = this.seeds[index >> 1];
    const kind = index % 2 === 0 ? 'gr' : 'newton';
    return { seed, kind, name: cubeNames(seed)[kind], label: kind === 'gr' ? 1 - this.targetNoise : this.targetNoise };
  }

  /**
   * Damaged data must not train silently: a NaN or infinite value, or one beyond 1e30
   * (random bytes read as float32 often are), stops the read with the file, dataset and place.
   * (A whole-cube read is also checked against the checksum hyperlab stores: hdf5.ts.)
   */
  private checkValues(values: Float32Array, index: number, offset = 0): void {
    for (let k = 0; k < values.length; k++) {
      const v = values[k];
      if (!(Math.abs(v) <= 1e30)) {
        const { name } = this.itemInfo(index);
        throw new Error(
          `${this.file.path}: dataset '${name}' holds ${v} at element ${offset + k} (${Number.isFinite(v) ? 'far beyond any density contrast' : 'not a number'}): ` +
            "the file is damaged or not a cube file. Write it again (hyperlab's cube generator) or restore it from its source",
        );
      }
    }
  }

  /** Item i: the whole cube (read now) and its label. */
  get(index: number): CubeSample {
    const { kind, label } = this.itemInfo(index);
    const raw = this.cubes[index >> 1][kind].read();
    // read() returns a fresh array, so scaling it in place changes nothing stored.
    const cube = raw instanceof Float32Array ? raw : Float32Array.from(raw as Float64Array);
    this.checkValues(cube, index);
    if (kind === 'newton' && this.newtonAugmentation !== 1) {
      for (let k = 0; k < cube.length; k++) cube[k] *= this.newtonAugmentation;
    }
    const S = this.cubeSize;
    return { cube: { data: cube, shape: [S, S, S] }, label: { data: Float32Array.of(label), shape: [1] } };
  }

  /**
   * Part of item i's cube without reading the rest: `ranges` per axis as in
   * H5Array.read, e.g. [[k, k + 1]] for slab k. The augmentation factor applies.
   */
  readSlab(index: number, ranges: ([number, number] | [number, number, number] | [])[]): Float32Array {
    const { kind } = this.itemInfo(index);
    const raw = this.cubes[index >> 1][kind].read(ranges);
    const out = raw instanceof Float32Array ? raw : Float32Array.from(raw as Float64Array);
    this.checkValues(out, index);
    if (kind === 'newton' && this.newtonAugmentation !== 1) for (let k = 0; k < out.length; k++) out[k] *= this.newtonAugmentation;
    return out;
  }

  /** Release this dataset's use of the file (the file closes when its last user closes). */
  close(): void {
    this.file.close();
  }
}
