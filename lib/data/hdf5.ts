/**
 * HDF5 files through h5wasm (HDF5 compiled to WebAssembly; reads host files directly).
 *
 *     const f = await H5File.open('data_z0.h5');         // read-only
 *     f.names();                                         // ['gr_seed0000', 'newton_seed0000', ...]
 *     const cube = f.dataset('gr_seed0000', {shape: [256, 256, 256]});
 *     cube.read([[10, 11]]);                             // one 256x256 slab, the rest stays on disk
 *     f.close();
 *
 *     await writeH5('out.h5', {pred: {data: y, shape: [n, 226]}});   // readable by h5py
 *
 * Reads are lazy: `read(ranges)` fetches a hyperslab (h5wasm's `dataset.slice`),
 * so a dataset is loaded whole only when asked. h5wasm's heap tops out near 2 GB:
 * read big datasets in slices.
 *
 * Loading: h5wasm's Node build is an ES module only (`h5wasm/node`), and this
 * library compiles to CommonJS, where TypeScript would turn `import()` into
 * `require()` (which cannot load it). A Function-built `import()` keeps it a real
 * dynamic import in Node 20.
 */
import { checksumOf } from './checksum';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TypedArray } from './dataset';

// ---- the parts of h5wasm's API used here (see node_modules/h5wasm/src/hdf5_hl.d.ts) ----
type Slice = [] | [number | null] | [number | null, number | null] | [number | null, number | null, number | null];
interface H5wDataset {
  shape: number[] | null;
  metadata: { type: number; size: number; signed: boolean };
  slice(ranges: Slice[]): unknown;
  value: unknown;
  attrs: Record<string, { value: unknown }>;
  create_attribute(name: string, data: unknown): void;
}
interface H5wGroup {
  keys(): string[];
  paths(): string[];
  get(name: string): unknown;
  attrs: Record<string, { value: unknown }>;
  create_group(name: string): H5wGroup;
  create_dataset(args: { name: string; data: unknown; shape?: number[]; compression?: number; chunks?: number[] }): H5wDataset;
  create_attribute(name: string, data: unknown): void;
}
interface H5wFile extends H5wGroup {
  file_id: bigint;
  close(): number;
}
interface H5wModule {
  ready: Promise<unknown>;
  File: new (filename: string, mode: 'r' | 'w') => H5wFile;
  Dataset: new (...args: never[]) => H5wDataset;
  Group: new (...args: never[]) => H5wGroup;
}

const dynamicImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<any>;
let loading: Promise<H5wModule> | null = null;

/** The h5wasm module, loaded once (an ES module; see the note at the top). */
export function loadH5wasm(): Promise<H5wModule> {
  if (!loading) {
    loading = (async () => {
      let mod: any;
      try {
        mod = await dynamicImport('h5wasm/node');
      } catch (e) {
        throw new Error(`reading HDF5 files needs the h5wasm package (npm install h5wasm); loading 'h5wasm/node' failed: ${(e as Error).message}`);
      }
      const h5 = (mod.default ?? mod) as H5wModule;
      const lib = (await h5.ready) as unknown as { activate_throwing_error_handler?: () => number };
      // HDF5 errors as exceptions (hdf5Reason() shortens them) instead of ~20 lines of
      // HDF5-DIAG on stderr before our own message.
      lib?.activate_throwing_error_handler?.();
      return h5;
    })();
    loading.catch(() => {
      loading = null; // let a later call try again
    });
  }
  return loading;
}

export type H5Dtype = 'float32' | 'float64' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'other';

function dtypeOf(meta: { type: number; size: number; signed: boolean }): H5Dtype {
  // HDF5 type classes: 0 integer, 1 float
  if (meta.type === 1) return meta.size === 4 ? 'float32' : meta.size === 8 ? 'float64' : 'other';
  if (meta.type === 0 && [1, 2, 4, 8].includes(meta.size)) return `${meta.signed ? 'int' : 'uint'}${meta.size * 8}` as H5Dtype;
  return 'other';
}

/** Float data as Float32Array, integer data as Int32Array (64-bit integers are cut to 32 bits). */
export function toFloat32OrInt32(data: unknown): Float32Array | Int32Array {
  if (data instanceof Float32Array || data instanceof Int32Array) return data;
  if (data instanceof Float64Array) return Float32Array.from(data);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Int32Array.from(data, (v) => Number(v));
  if (ArrayBuffer.isView(data)) return Int32Array.from(data as unknown as ArrayLike<number>);
  if (typeof data === 'number') return Float32Array.of(data);
  throw new Error(`HDF5 data of type ${Object.prototype.toString.call(data)} is not numeric`);
}

/**
 * Whether the file carries the 8-byte HDF5 signature, which sits at byte 0 or,
 * after a user block, at 512, 1024, 2048, ... Checking first keeps HDF5's own
 * long diagnostic off stderr for files that are not HDF5 at all.
 */
function hasHdf5Signature(file: string): boolean {
  const sig = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(8);
    for (let at = 0; at + 8 <= size; at = at === 0 ? 512 : at * 2) {
      fs.readSync(fd, buf, 0, 8, at);
      if (buf.equals(sig)) return true;
    }
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

const fmtShape = (s: readonly (number | null)[]) => `[${s.map((d) => (d === null ? '*' : d)).join(', ')}]`;

/** The innermost cause of an HDF5 error stack ('... in H5Fopen(): unable to open file' -> its last line's text). */
export function hdf5Reason(err: unknown): string {
  const text = String((err as Error)?.message ?? err);
  const causes = [...text.matchAll(/line \d+ in (\w+)\(\): ([^\n]+)/g)].map((m) => `${m[1]}: ${m[2].trim()}`);
  return causes.length ? causes[causes.length - 1] : text.split('\n')[0].slice(0, 200);
}

/** The attribute holding the CRC-32C of a dataset's values, written by H5Writer. */
export const CHECKSUM_ATTR = 'hyperlab_crc32c';

/** One dataset of an open file; reads are lazy. */
export class H5Array {
  constructor(
    readonly file: H5File,
    readonly name: string,
    private readonly ds: H5wDataset,
  ) {}

  get shape(): number[] {
    return this.ds.shape ?? [];
  }

  get dtype(): H5Dtype {
    return dtypeOf(this.ds.metadata);
  }

  /**
   * A hyperslab: one [start, stop] (or [start, stop, step]) per leading axis,
   * missing axes are read whole; `read()` reads everything. Returns the raw typed
   * array h5wasm gives (Float32Array for float32 data, Float64Array for float64...).
   */
  read(ranges: Slice[] = []): TypedArray | BigInt64Array | BigUint64Array {
    let data: TypedArray;
    try {
      data = this.ds.slice(ranges) as TypedArray;
    } catch (err) {
      throw new Error(
        `${this.file.path}: reading dataset '${this.name}' failed (${hdf5Reason(err)}): the file is damaged or truncated; write or copy it again`,
        { cause: err },
      );
    }
    // A dataset hyperlab wrote carries its CRC-32C: a whole read is checked against it.
    if (ranges.length === 0) {
      const stored = this.ds.attrs[CHECKSUM_ATTR]?.value;
      if (typeof stored === 'number' || typeof stored === 'bigint') {
        const got = checksumOf(data);
        const want = Number(stored) >>> 0; // h5wasm may store the uint32 as a signed int32
        if (got !== want) {
          throw new Error(
            `${this.file.path}: dataset '${this.name}' does not match the checksum stored when hyperlab wrote it ` +
              `(crc32c ${got.toString(16)}, stored ${want.toString(16)}): the file is damaged. Write it again (its generator or export) or restore it from a copy`,
          );
        }
      }
    }
    return data;
  }

  /** Rows start..stop-1 along the first axis, as float32 (float data) or int32 (integer data). */
  readRows(start: number, stop = start + 1): Float32Array | Int32Array {
    const n = this.shape[0] ?? 0;
    if (!(start >= 0 && stop <= n && start < stop)) {
      throw new RangeError(`${this.file.path}: dataset '${this.name}' has ${n} rows; cannot read rows ${start}..${stop - 1}`);
    }
    return toFloat32OrInt32(this.read([[start, stop]]));
  }

  attrs(): Record<string, unknown> {
    return Object.fromEntries(Object.entries(this.ds.attrs).map(([k, a]) => [k, a.value]));
  }
}

/** A read-only HDF5 file. Close it when done (datasets opened from it share the handle). */
export class H5File {
  private refs = 1;

  private constructor(
    /** Absolute path of the file. */
    readonly path: string,
    private readonly h5: H5wModule,
    private readonly handle: H5wFile,
  ) {}

  /** Open `file` read-only; a clear error if it does not exist or is not HDF5. */
  static async open(file: string): Promise<H5File> {
    const abs = path.resolve(file);
    if (!fs.existsSync(abs)) {
      throw new Error(
        `HDF5 file not found: ${abs}${abs !== file ? ` (from '${file}', relative to ${process.cwd()})` : ''}. Check the path (e.g. data.path in the run file) or create the file first.`,
      );
    }
    if (!fs.statSync(abs).isFile()) throw new Error(`${abs} is a directory, not an HDF5 file; give the path of the .h5 file`);
    if (!hasHdf5Signature(abs)) {
      throw new Error(
        `${abs} could not be opened as HDF5: it does not start with the HDF5 signature (is it a text file, another format, or an unfinished download?)`,
      );
    }
    const h5 = await loadH5wasm();
    let handle: H5wFile;
    try {
      handle = new h5.File(abs, 'r');
    } catch (err) {
      throw new Error(
        `${abs} could not be opened as HDF5 (${hdf5Reason(err)}): the file is damaged or truncated (an unfinished download or copy?); write or copy it again`,
        { cause: err },
      );
    }
    if (handle.file_id < 0n) {
      throw new Error(`${abs} could not be opened as HDF5: is it an HDF5 file (not, e.g., a text file or an unfinished download)?`);
    }
    return new H5File(abs, h5, handle);
  }

  /** Paths of all datasets in the file, e.g. ['gr_seed0000', 'group/x']. */
  names(): string[] {
    return this.handle.paths().filter((p) => this.handle.get(p) instanceof this.h5.Dataset);
  }

  has(name: string): boolean {
    return this.handle.get(name) instanceof this.h5.Dataset;
  }

  /** A short listing for error messages: 'gr_seed0000 float32 [8, 8, 8], ...' (the first `max`). */
  describe(max = 8): string {
    const names = this.names();
    if (names.length === 0) return 'no datasets';
    const shown = names.slice(0, max).map((n) => {
      const a = this.dataset(n);
      return `${n} ${a.dtype} ${fmtShape(a.shape)}`;
    });
    return `${names.length} dataset${names.length === 1 ? '' : 's'}: ${shown.join(', ')}${names.length > max ? `, ... (${names.length - max} more)` : ''}`;
  }

  /**
   * The dataset `name`, checked: a missing name lists what the file has; `shape`
   * (null for "any size") and `rank` are checked when given.
   */
  dataset(name: string, expect: { shape?: (number | null)[]; rank?: number; what?: string } = {}): H5Array {
    const entity = this.handle.get(name);
    if (!(entity instanceof this.h5.Dataset)) {
      const kind = entity ? 'is a group, not a dataset' : 'is missing';
      throw new Error(
        `${this.path}: dataset '${name}' ${kind}${expect.what ? ` (${expect.what})` : ''}. The file has ${this.describe()}. Check the dataset name in the run file.`,
      );
    }
    const arr = new H5Array(this, name, entity);
    const shape = arr.shape;
    const want = expect.shape;
    const badRank = expect.rank !== undefined && shape.length !== expect.rank;
    const badShape = want && (shape.length !== want.length || want.some((d, i) => d !== null && d !== shape[i]));
    if (badRank || badShape) {
      const wanted = want ? fmtShape(want) : `${expect.rank} dimensions`;
      throw new Error(
        `${this.path}: dataset '${name}' has shape ${fmtShape(shape)} (${arr.dtype}), expected ${wanted}${expect.what ? ` (${expect.what})` : ''}.`,
      );
    }
    return arr;
  }

  /** Attributes of the root group (or of a dataset / group by name). */
  attrs(name = '/'): Record<string, unknown> {
    const e = (name === '/' ? this.handle : this.handle.get(name)) as H5wGroup | null;
    if (!e) throw new Error(`${this.path}: no object '${name}'`);
    return Object.fromEntries(Object.entries(e.attrs).map(([k, a]) => [k, a.value]));
  }

  /** Share the handle with one more user; each user calls close(). */
  retain(): this {
    this.refs += 1;
    return this;
  }

  close(): void {
    if (this.refs <= 0) return;
    this.refs -= 1;
    if (this.refs === 0) this.handle.close();
  }
}

// ---------------------------------------------------------------- writing

export interface H5WriteDataset {
  data: TypedArray | number[];
  /** Full shape; the product must equal data.length. */
  shape: number[];
  /** Storage type for number[] data (typed arrays keep their own); default float32. */
  dtype?: 'float32' | 'float64' | 'int32';
  attrs?: Record<string, string | number | number[]>;
}

export interface H5WriteOptions {
  /** Replace an existing file (default false: refuse, so no data is lost by accident). */
  overwrite?: boolean;
  /** gzip level 1-9 for every dataset (default: none). */
  compression?: number;
}

function asTyped(name: string, d: H5WriteDataset): TypedArray {
  const { data, shape } = d;
  if (!Array.isArray(shape) || !shape.every((s) => Number.isInteger(s) && s >= 0)) {
    throw new Error(`writeH5: dataset '${name}' needs a shape of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) throw new Error(`writeH5: dataset '${name}' has ${data.length} values, shape ${fmtShape(shape)} needs ${size}`);
  if (!Array.isArray(data)) return data;
  return d.dtype === 'float64' ? Float64Array.from(data) : d.dtype === 'int32' ? Int32Array.from(data) : Float32Array.from(data);
}

/**
 * Writes an HDF5 file that h5py and other HDF5 readers open normally. The file
 * is written under a temporary name and moved into place by close(), so an
 * existing file is replaced only by a complete one; abort() discards the new one.
 *
 *     const w = await H5Writer.create('cubes.h5', {overwrite: true, compression: 4});
 *     w.write('gr_seed0000', cube, [S, S, S]);
 *     w.setAttrs('/', {redshift: 0});
 *     w.close();
 */
export class H5Writer {
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly tmpPath: string,
    private readonly handle: H5wFile,
    private readonly compression: number | undefined,
  ) {}

  static async create(file: string, options: H5WriteOptions = {}): Promise<H5Writer> {
    const abs = path.resolve(file);
    if (fs.existsSync(abs) && !options.overwrite) {
      throw new Error(`${abs} already exists; pass {overwrite: true} to replace it, or choose another name`);
    }
    const dir = path.dirname(abs);
    if (!fs.existsSync(dir)) throw new Error(`cannot write ${abs}: the folder ${dir} does not exist; create it first`);
    const { compression } = options;
    if (compression !== undefined && !(Number.isInteger(compression) && compression >= 0 && compression <= 9)) {
      throw new Error(`H5Writer: compression is a gzip level 0-9, got ${compression}`);
    }
    const h5 = await loadH5wasm();
    const tmpPath = `${abs}.partial-${process.pid}`;
    const handle = new h5.File(tmpPath, 'w');
    if (handle.file_id < 0n) throw new Error(`cannot create ${tmpPath} (needed to write ${abs}): is the folder writable?`);
    return new H5Writer(abs, tmpPath, handle, compression || undefined);
  }

  /** Write dataset `name` (intermediate groups like 'a/b' are created). */
  write(name: string, data: TypedArray | number[], shape: number[], options: Omit<H5WriteDataset, 'data' | 'shape'> = {}): void {
    if (this.closed) throw new Error(`H5Writer: ${this.path} is already closed`);
    const typed = asTyped(name, { data, shape, ...options });
    const parts = name.split('/').filter(Boolean);
    let group: H5wGroup = this.handle;
    for (const g of parts.slice(0, -1)) group = (group.get(g) as H5wGroup | null) ?? group.create_group(g);
    const leaf = parts[parts.length - 1];
    if (!leaf) throw new Error(`H5Writer: '${name}' is not a dataset name`);
    if (group.get(leaf)) throw new Error(`H5Writer: ${this.path} already has '${name}'; each dataset is written once`);
    // Chunks of one row (first axis) keep row-wise reads cheap when compressed.
    const compress = this.compression !== undefined && typed.length > 0;
    const chunks = compress ? shape.map((d, i) => (i === 0 && shape.length > 1 ? 1 : Math.max(1, d))) : undefined;
    const ds = group.create_dataset({ name: leaf, data: typed, shape, ...(compress ? { compression: this.compression, chunks } : {}) });
    for (const [k, v] of Object.entries(options.attrs ?? {})) ds.create_attribute(k, v);
    // The CRC-32C of the values, checked by H5Array.read on a whole read (h5py ignores it).
    if (!(CHECKSUM_ATTR in (options.attrs ?? {}))) ds.create_attribute(CHECKSUM_ATTR, checksumOf(typed));
  }

  /** Attributes on the root ('/') or on a dataset already written. */
  setAttrs(name: string, attrs: Record<string, string | number | number[]>): void {
    const target = (name === '/' ? this.handle : this.handle.get(name)) as H5wGroup | null;
    if (!target) throw new Error(`H5Writer: no '${name}' in ${this.path} to put attributes on; write it first`);
    for (const [k, v] of Object.entries(attrs)) target.create_attribute(k, v);
  }

  /** Finish the file and move it into place. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handle.close();
    fs.renameSync(this.tmpPath, this.path);
  }

  /** Stop and delete the partial file; an existing file at `path` is left untouched. */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    this.handle.close();
    fs.rmSync(this.tmpPath, { force: true });
  }
}

/** Write several datasets at once; all inputs are checked before the file is touched. */
export async function writeH5(file: string, datasets: Record<string, H5WriteDataset>, options: H5WriteOptions = {}): Promise<void> {
  for (const [name, d] of Object.entries(datasets)) asTyped(name, d);
  const w = await H5Writer.create(file, options);
  try {
    for (const [name, d] of Object.entries(datasets)) w.write(name, d.data, d.shape, { dtype: d.dtype, attrs: d.attrs });
  } catch (e) {
    w.abort();
    throw e;
  }
  w.close();
}
