/**
 * Datasets, like `torch.utils.data.Dataset`: something with a length whose item
 * `i` is a sample of named fields.
 *
 * A field is a typed array plus its shape (the shape of one sample, without the
 * batch axis), e.g. `{x: {data: Float32Array(49), shape: [49]}, y: {...}}`.
 * Samples are plain arrays, not tensors: the DataLoader stacks a batch of them
 * and makes one tensor per field, so a dataset never creates or leaks tensors.
 *
 * `get(i)` may return a Promise (a dataset that reads files asynchronously);
 * such a dataset is iterated with `for await` (see ./loader.ts).
 */
import { tf } from '../engine/tf';

/** Typed arrays a field may hold. Float arrays become float32 tensors, integer arrays int32 tensors. */
export type TypedArray = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint32Array | Uint16Array | Uint8Array;

export interface Field {
  data: TypedArray;
  /** Shape of one sample (no batch axis); the product must equal data.length. [] is a scalar. */
  shape: number[];
}

export type Sample = Record<string, Field>;

export interface Dataset<S extends Sample = Sample> {
  readonly length: number;
  get(index: number): S | Promise<S>;
}

/** Number of elements in a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Throw a clear error for an index outside [0, length). */
export function checkIndex(index: number, length: number, where: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new RangeError(`${where}: index ${index} is out of range; the dataset has ${length} items (0..${length - 1})`);
  }
}

/** Input accepted for one field of an ArrayDataset: flat data with a shape, or nested number arrays. */
export type FieldInput = { data: TypedArray | number[]; shape: number[] } | number[][] | number[];

/** Whole arrays of N samples; `shape[0]` is N. */
interface Column {
  data: TypedArray;
  rowShape: number[];
  rowSize: number;
}

function toColumn(name: string, input: FieldInput): Column {
  if (Array.isArray(input)) {
    // number[] (one value per sample) or number[][] (one row per sample)
    if (input.length === 0 || !Array.isArray(input[0])) {
      return { data: Float32Array.from(input as number[]), rowShape: [], rowSize: 1 };
    }
    const rows = input as number[][];
    const width = rows[0].length;
    const data = new Float32Array(rows.length * width);
    rows.forEach((r, i) => {
      if (!Array.isArray(r) || r.length !== width) {
        throw new Error(
          `ArrayDataset field '${name}': row ${i} has ${Array.isArray(r) ? r.length : 'no'} values, row 0 has ${width}; every row needs the same length`,
        );
      }
      data.set(r, i * width);
    });
    return { data, rowShape: [width], rowSize: width };
  }
  const { shape } = input;
  if (!Array.isArray(shape) || shape.length === 0) {
    throw new Error(`ArrayDataset field '${name}': shape must list the number of samples first, e.g. [N, 49]; got ${JSON.stringify(shape)}`);
  }
  const data = Array.isArray(input.data) ? Float32Array.from(input.data) : input.data;
  if (data.length !== sizeOf(shape)) {
    throw new Error(`ArrayDataset field '${name}': ${data.length} values do not fill shape [${shape}] (${sizeOf(shape)} values)`);
  }
  const rowShape = shape.slice(1);
  return { data, rowShape, rowSize: sizeOf(rowShape) };
}

/**
 * A dataset over in-memory arrays, one entry per field; the first axis of every
 * field is the sample axis and all fields have the same number of samples.
 *
 *     const ds = new ArrayDataset({x: {data: xs, shape: [100, 49]}, y: [[...], ...]});
 *
 * `get(i)` returns views (subarrays) into the arrays, without copying: do not
 * write into them.
 */
export class ArrayDataset implements Dataset {
  readonly length: number;
  private readonly columns: Record<string, Column>;

  constructor(fields: Record<string, FieldInput>) {
    const names = Object.keys(fields);
    if (names.length === 0) throw new Error('ArrayDataset needs at least one field, e.g. {x: ..., y: ...}');
    this.columns = {};
    let n = -1;
    for (const name of names) {
      const c = toColumn(name, fields[name]);
      const rows = c.rowSize === 0 ? 0 : c.data.length / c.rowSize;
      if (n >= 0 && rows !== n) {
        throw new Error(`ArrayDataset: field '${name}' has ${rows} samples but '${names[0]}' has ${n}; all fields need the same first dimension`);
      }
      n = rows;
      this.columns[name] = c;
    }
    this.length = n;
  }

  /** Names of the fields, in the order given. */
  get fields(): string[] {
    return Object.keys(this.columns);
  }

  /** Per-sample shape of each field. */
  get shapes(): Record<string, number[]> {
    return Object.fromEntries(Object.entries(this.columns).map(([k, c]) => [k, c.rowShape.slice()]));
  }

  get(index: number): Sample {
    checkIndex(index, this.length, 'ArrayDataset.get');
    const out: Sample = {};
    for (const [name, c] of Object.entries(this.columns)) {
      out[name] = { data: c.data.subarray(index * c.rowSize, (index + 1) * c.rowSize), shape: c.rowShape };
    }
    return out;
  }
}

/**
 * `torch.utils.data.TensorDataset` with named fields: the tensors are read once
 * into typed arrays (the caller still owns and disposes its tensors).
 *
 *     const ds = new TensorDataset({x: xTensor, y: yTensor});
 */
export class TensorDataset extends ArrayDataset {
  constructor(tensors: Record<string, tf.Tensor>) {
    const fields: Record<string, FieldInput> = {};
    for (const [name, t] of Object.entries(tensors)) {
      if (!(t instanceof tf.Tensor)) throw new Error(`TensorDataset: field '${name}' is not a tf.Tensor`);
      if (t.rank === 0) throw new Error(`TensorDataset: field '${name}' is a scalar; tensors need a first (sample) axis`);
      const data = t.dataSync() as TypedArray;
      fields[name] = { data: t.dtype === 'float32' || t.dtype === 'int32' ? data.slice() : Float32Array.from(data), shape: t.shape };
    }
    super(fields);
  }
}

/** The items of `dataset` at `indices`, like `torch.utils.data.Subset`. */
export class Subset<S extends Sample = Sample> implements Dataset<S> {
  readonly indices: Int32Array;

  constructor(
    readonly dataset: Dataset<S>,
    indices: ArrayLike<number>,
  ) {
    this.indices = Int32Array.from(indices);
    for (let k = 0; k < this.indices.length; k++) {
      const i = this.indices[k];
      if (i < 0 || i >= dataset.length || i !== indices[k]) {
        throw new RangeError(`Subset: index ${indices[k]} (position ${k}) is outside the dataset of ${dataset.length} items`);
      }
    }
  }

  get length(): number {
    return this.indices.length;
  }

  get(index: number): S | Promise<S> {
    checkIndex(index, this.indices.length, 'Subset.get');
    return this.dataset.get(this.indices[index]);
  }
}
