/**
 * The safetensors format (Hugging Face), read and written in plain TypeScript.
 *
 * A file is
 *
 *     8 bytes    N = the header length, unsigned 64-bit little-endian
 *     N bytes    a JSON header, padded with spaces to a multiple of 8 bytes:
 *                  {"__metadata__": {"format": "pt"},                      (optional, strings only)
 *                   "0.weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, ...}
 *     the rest   the tensors' bytes, row-major and little-endian, back to back; each
 *                `data_offsets` is [begin, end) into this part, and together they cover it exactly.
 *
 * `saveWeights(model, file)` / `loadWeights(model, file)` move a model's state dict with
 * PyTorch's names and layouts, so in PyTorch
 *
 *     model.load_state_dict(safetensors.torch.load_file("model.safetensors"))
 *
 * loads what hyperlab saved, and the other way round.
 *
 * tfjs holds only float32, int32 and bool tensors, so `loadSafetensors` turns F64/F16/BF16 into
 * float32 and the integer types into int32 (a value outside the int32 range is an error);
 * `readSafetensors` gives the stored values exactly, as typed arrays.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { tf } from '../engine/tf';
import type { Module } from '../nn/module';
import { writeFileAtomic } from './atomic';

/** The element types read and written here, with their size in bytes. */
const DTYPE_BYTES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
} as const;

export type SafetensorsDtype = keyof typeof DTYPE_BYTES;

export type RawData =
  Float64Array | Float32Array | BigInt64Array | BigUint64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

/**
 * A tensor exactly as stored. `data` is a typed array matching the dtype: Float64Array (F64),
 * Float32Array (F32), Uint16Array of raw bits (F16, BF16), BigInt64Array (I64), Int32Array (I32),
 * Int16Array, Int8Array, BigUint64Array (U64), Uint32Array, Uint16Array, Uint8Array (U8, and BOOL as 0/1).
 */
export interface RawTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: RawData;
}

/** Header metadata: string keys and string values only (the format allows nothing else). */
export type SafetensorsMetadata = Record<string, string>;

export interface SafetensorsSaveOptions {
  /** Store these tensors with another dtype, e.g. `{ step: 'I64' }` (default: float32 → F32, int32 → I32, bool → BOOL). */
  dtypes?: Record<string, SafetensorsDtype>;
}

/** The reference implementation refuses headers above 100 MB; so do we. */
const MAX_HEADER_BYTES = 100_000_000;

if (os.endianness() !== 'LE') {
  throw new Error('hyperlab safetensors: this machine is big-endian; only little-endian machines are supported');
}

const isDtype = (d: unknown): d is SafetensorsDtype => typeof d === 'string' && Object.hasOwn(DTYPE_BYTES, d);
const numel = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
const supported = Object.keys(DTYPE_BYTES).join(', ');

// ---- values <-> typed arrays -----------------------------------------------------------

/** [lowest, highest + 1) of the integer dtypes, for checking conversions. */
const INT_RANGE: Partial<Record<SafetensorsDtype, [number, number]>> = {
  I64: [-(2 ** 63), 2 ** 63],
  I32: [-(2 ** 31), 2 ** 31],
  I16: [-(2 ** 15), 2 ** 15],
  I8: [-128, 128],
  U64: [0, 2 ** 64],
  U32: [0, 2 ** 32],
  U16: [0, 2 ** 16],
  U8: [0, 256],
  BOOL: [0, 2],
};

/** Numbers as a typed array of `dtype`; integer dtypes require integers in range. */
function toRaw(values: ArrayLike<number>, dtype: SafetensorsDtype, name: string): RawData {
  const range = INT_RANGE[dtype];
  if (range) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!Number.isInteger(v) || v < range[0] || v >= range[1]) {
        throw new Error(
          `safetensors: tensor '${name}' cannot be stored as ${dtype}: element ${i} is ${v} ` +
            `(${dtype} holds integers in [${range[0]}, ${range[1]})); choose a float dtype for it`,
        );
      }
    }
  }
  switch (dtype) {
    case 'F64':
      return Float64Array.from(values);
    case 'F32':
      return Float32Array.from(values);
    case 'I64':
      return BigInt64Array.from(Array.from(values, (v) => BigInt(v)));
    case 'U64':
      return BigUint64Array.from(Array.from(values, (v) => BigInt(v)));
    case 'I32':
      return Int32Array.from(values);
    case 'U32':
      return Uint32Array.from(values);
    case 'I16':
      return Int16Array.from(values);
    case 'U16':
      return Uint16Array.from(values);
    case 'I8':
      return Int8Array.from(values);
    case 'U8':
    case 'BOOL':
      return Uint8Array.from(values);
    default:
      throw new Error(`safetensors: writing ${dtype} from a tensor is not supported (use F32 or F64, or pass a RawTensor)`);
  }
}

/** The typed-array class that views the bytes of each dtype. */
function viewBytes(bytes: Uint8Array, dtype: SafetensorsDtype): RawData {
  const { buffer, byteOffset: o, byteLength: n } = bytes; // `bytes` is a fresh aligned copy
  switch (dtype) {
    case 'F64':
      return new Float64Array(buffer, o, n / 8);
    case 'F32':
      return new Float32Array(buffer, o, n / 4);
    case 'I64':
      return new BigInt64Array(buffer, o, n / 8);
    case 'U64':
      return new BigUint64Array(buffer, o, n / 8);
    case 'I32':
      return new Int32Array(buffer, o, n / 4);
    case 'U32':
      return new Uint32Array(buffer, o, n / 4);
    case 'I16':
      return new Int16Array(buffer, o, n / 2);
    case 'F16':
    case 'BF16':
    case 'U16':
      return new Uint16Array(buffer, o, n / 2);
    case 'I8':
      return new Int8Array(buffer, o, n);
    case 'U8':
    case 'BOOL':
      return new Uint8Array(buffer, o, n);
  }
}

/** IEEE half-precision bits to a number. */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** A tf tensor of a stored tensor: floats become float32, integers int32, BOOL bool. */
export function rawToTensor(raw: RawTensor, name = 'tensor'): tf.Tensor {
  const { dtype, shape, data } = raw;
  switch (dtype) {
    case 'F64':
    case 'F32':
      return tf.tensor(Float32Array.from(data as Float32Array | Float64Array), shape, 'float32');
    case 'F16':
      return tf.tensor(Float32Array.from(data as Uint16Array, halfToNumber), shape, 'float32');
    case 'BF16': // bfloat16 is the top half of a float32
      return tf.tensor(new Float32Array(Uint32Array.from(data as Uint16Array, (b) => b << 16).buffer), shape, 'float32');
    case 'BOOL':
      return tf.tensor(data as Uint8Array, shape, 'bool');
    default: {
      const out = new Int32Array(data.length);
      for (let i = 0; i < data.length; i++) {
        const v = Number(data[i]);
        if (v < -(2 ** 31) || v > 2 ** 31 - 1) {
          throw new Error(
            `safetensors: tensor '${name}' (${dtype}) holds ${data[i]} at element ${i}, outside the int32 range ` +
              'that tfjs tensors hold; read it with readSafetensors() to get the exact values',
          );
        }
        out[i] = v;
      }
      return tf.tensor(out, shape, 'int32');
    }
  }
}

/** A tf tensor as a RawTensor of `dtype` (default: float32 → F32, int32 → I32, bool → BOOL). */
export function tensorToRaw(t: tf.Tensor, name = 'tensor', dtype?: SafetensorsDtype): RawTensor {
  const natural: Partial<Record<string, SafetensorsDtype>> = { float32: 'F32', int32: 'I32', bool: 'BOOL' };
  const target = dtype ?? natural[t.dtype];
  if (!target) {
    throw new Error(`safetensors: tensor '${name}' has dtype ${t.dtype}, which safetensors cannot hold; cast it to float32`);
  }
  const values = t.dataSync() as Float32Array | Int32Array | Uint8Array;
  const same = (target === 'F32' && values instanceof Float32Array) || (target === 'I32' && values instanceof Int32Array);
  return { dtype: target, shape: [...t.shape], data: same ? values.slice() : toRaw(values, target, name) };
}

// ---- bytes -----------------------------------------------------------------------------

/**
 * The bytes of a safetensors file holding `tensors` (tf tensors or RawTensors). The data is laid
 * out largest element size first, so each tensor starts aligned, as the reference implementation does.
 */
export function encodeSafetensors(
  tensors: Record<string, tf.Tensor | RawTensor>,
  metadata?: SafetensorsMetadata,
  options: SafetensorsSaveOptions = {},
): Uint8Array {
  const raws: [string, RawTensor][] = Object.entries(tensors).map(([name, t]) => {
    if (name === '__metadata__') throw new Error("safetensors: '__metadata__' is reserved and cannot name a tensor");
    const raw = t instanceof tf.Tensor ? tensorToRaw(t, name, options.dtypes?.[name]) : t;
    checkRaw(raw, name);
    return [name, raw];
  });
  // The header lists the tensors in the order given (a state dict keeps PyTorch's order); the data
  // holds them largest element first (a stable sort), so that each starts aligned.
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = checkMetadata(metadata, 'metadata to save');
  for (const [name] of raws) header[name] = null;
  raws.sort((a, b) => DTYPE_BYTES[b[1].dtype] - DTYPE_BYTES[a[1].dtype]);
  let offset = 0;
  for (const [name, raw] of raws) {
    header[name] = { dtype: raw.dtype, shape: raw.shape, data_offsets: [offset, offset + raw.data.byteLength] };
    offset += raw.data.byteLength;
  }
  let json = JSON.stringify(header);
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - (jsonBytes % 8)) % 8); // pad to 8-byte alignment with spaces
  const headerBytes = Buffer.from(json, 'utf8');

  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const [, raw] of raws) {
    out.set(new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength), at);
    at += raw.data.byteLength;
  }
  return out;
}

function checkRaw(raw: RawTensor, name: string): void {
  if (!isDtype(raw.dtype)) throw new Error(`safetensors: tensor '${name}' has unknown dtype ${raw.dtype} (known: ${supported})`);
  if (!Array.isArray(raw.shape) || !raw.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`safetensors: tensor '${name}' has shape ${JSON.stringify(raw.shape)}; expected non-negative integers`);
  }
  if (raw.data.length !== numel(raw.shape) || raw.data.BYTES_PER_ELEMENT !== DTYPE_BYTES[raw.dtype]) {
    throw new Error(
      `safetensors: tensor '${name}': ${raw.data.length} elements of ${raw.data.BYTES_PER_ELEMENT} bytes ` +
        `do not match shape [${raw.shape}] of ${raw.dtype} (${DTYPE_BYTES[raw.dtype]} bytes each)`,
    );
  }
}

function checkMetadata(meta: unknown, where: string): SafetensorsMetadata {
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    throw new Error(`${where}: __metadata__ must be an object of strings`);
  }
  for (const [k, v] of Object.entries(meta)) {
    if (typeof v !== 'string') {
      throw new Error(`${where}: __metadata__ value '${k}' is ${typeof v}; safetensors metadata holds strings only (use JSON.stringify)`);
    }
  }
  return meta as SafetensorsMetadata;
}

/** Parse and check the bytes of a safetensors file; `where` names the source in errors. */
export function decodeSafetensors(bytes: Uint8Array, where = 'safetensors data'): { tensors: Record<string, RawTensor>; metadata: SafetensorsMetadata } {
  const bad = (what: string) => new Error(`${where}: ${what}`);
  if (bytes.length < 8) throw bad(`only ${bytes.length} bytes: too short to be a safetensors file (truncated?)`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n > BigInt(Math.min(bytes.length - 8, MAX_HEADER_BYTES))) {
    throw bad(`the header length field says ${n} bytes but the file has ${bytes.length - 8} after it: truncated, or not a safetensors file`);
  }
  const headerText = Buffer.from(bytes.buffer, bytes.byteOffset + 8, Number(n)).toString('utf8');
  if (!headerText.startsWith('{')) throw bad('the header does not start with "{": not a safetensors file');
  let header: Record<string, any>;
  try {
    header = JSON.parse(headerText);
  } catch (err) {
    throw bad(`the JSON header does not parse (${(err as Error).message}): the file is damaged`);
  }
  const metadata = header.__metadata__ === undefined ? {} : checkMetadata(header.__metadata__, where);
  const dataStart = 8 + Number(n);
  const dataLength = bytes.length - dataStart;

  const entries = Object.entries(header).filter(([name]) => name !== '__metadata__');
  const tensors: Record<string, RawTensor> = {};
  for (const [name, info] of entries) {
    const { dtype, shape, data_offsets: offs } = info ?? {};
    if (!isDtype(dtype)) throw bad(`tensor '${name}' has dtype ${JSON.stringify(dtype)}, not supported here (supported: ${supported})`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw bad(`tensor '${name}' has shape ${JSON.stringify(shape)}; expected a list of non-negative integers`);
    }
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o)) || offs[0] > offs[1]) {
      throw bad(`tensor '${name}' has data_offsets ${JSON.stringify(offs)}; expected [begin, end] with begin <= end`);
    }
    const expected = numel(shape) * DTYPE_BYTES[dtype];
    if (offs[1] - offs[0] !== expected) {
      throw bad(`tensor '${name}' spans ${offs[1] - offs[0]} bytes, but shape [${shape}] of ${dtype} needs ${expected}`);
    }
    if (offs[1] > dataLength) {
      throw bad(`tensor '${name}' ends at byte ${offs[1]} of the data, which has only ${dataLength} bytes: the file is truncated`);
    }
    const copy = new Uint8Array(bytes.subarray(dataStart + offs[0], dataStart + offs[1])); // a fresh, aligned copy
    tensors[name] = { dtype, shape, data: viewBytes(copy, dtype) };
  }
  // As the reference implementation: the tensors must tile the data exactly, without gaps or overlaps.
  const spans = entries.map(([name, info]) => [name, info.data_offsets[0], info.data_offsets[1]] as const);
  spans.sort((a, b) => a[1] - b[1] || a[2] - b[2]);
  let end = 0;
  for (const [name, begin, stop] of spans) {
    if (begin !== end) throw bad(`tensor '${name}' starts at data byte ${begin}, expected ${end}: overlapping or gapped offsets`);
    end = stop;
  }
  if (end !== dataLength) throw bad(`the tensors cover ${end} bytes of data but the file holds ${dataLength}: damaged file`);
  return { tensors, metadata };
}

// ---- files -----------------------------------------------------------------------------

/** Write tensors (tf tensors or RawTensors) to a safetensors file, atomically. */
export function saveSafetensors(
  file: string,
  tensors: Record<string, tf.Tensor | RawTensor>,
  metadata?: SafetensorsMetadata,
  options: SafetensorsSaveOptions = {},
): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata, options));
}

function readBytes(file: string): Uint8Array {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new Error(`safetensors file ${file} does not exist`, { cause: err });
    throw new Error(`could not read safetensors file ${file}: ${e.message}`, { cause: err });
  }
}

/** The tensors of a safetensors file exactly as stored (typed arrays), and its metadata. */
export function readSafetensors(file: string): { tensors: Record<string, RawTensor>; metadata: SafetensorsMetadata } {
  return decodeSafetensors(readBytes(file), file);
}

/** The tensors of a safetensors file as tf tensors (the caller disposes them), and its metadata. */
export function loadSafetensors(file: string): { tensors: Record<string, tf.Tensor>; metadata: SafetensorsMetadata } {
  const { tensors: raws, metadata } = readSafetensors(file);
  const tensors: Record<string, tf.Tensor> = {};
  try {
    for (const [name, raw] of Object.entries(raws)) tensors[name] = rawToTensor(raw, name);
  } catch (err) {
    for (const t of Object.values(tensors)) t.dispose();
    throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
  }
  return { tensors, metadata };
}

// ---- a model's state dict --------------------------------------------------------------

/**
 * A model's state dict as safetensors entries with PyTorch's dtypes: integer buffers
 * (BatchNorm's `num_batches_tracked`) are int64 in PyTorch, so they are stored as I64.
 */
export function stateDictToRaw(model: Module): Record<string, RawTensor> {
  const out: Record<string, RawTensor> = {};
  for (const [name, t] of Object.entries(model.stateDict())) {
    const integer = t.dtype === 'int32' || name === 'num_batches_tracked' || name.endsWith('.num_batches_tracked');
    out[name] = tensorToRaw(t, name, integer ? 'I64' : undefined);
  }
  return out;
}

/**
 * Save a model's weights and buffers with PyTorch's names and layouts (`safetensors.torch.save_model`).
 * Metadata `format: "pt"` is added, as PyTorch-side tools expect.
 */
export function saveWeights(model: Module, file: string, metadata: SafetensorsMetadata = {}): void {
  saveSafetensors(file, stateDictToRaw(model), { format: 'pt', ...metadata });
}

/**
 * Load weights saved by `saveWeights` or by PyTorch (`safetensors.torch.save_file(model.state_dict(), f)`)
 * into `model`. With `strict` (the default) a missing or unexpected key is an error.
 */
export function loadWeights(model: Module, file: string, strict = true): { missingKeys: string[]; unexpectedKeys: string[]; metadata: SafetensorsMetadata } {
  const { tensors, metadata } = loadSafetensors(file);
  try {
    return { ...model.loadStateDict(tensors, strict), metadata };
  } catch (err) {
    throw new Error(`loading ${file}: ${(err as Error).message}`, { cause: err });
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
}
