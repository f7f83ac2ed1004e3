/**
 * Checkpoints: everything needed to continue a run, in one directory.
 *
 *     saveCheckpoint('runs/exp1/checkpoints/last', { model, optimizer, scheduler, epoch, step, bestMetric });
 *     ...
 *     const { epoch, step } = restoreCheckpoint('runs/exp1/checkpoints/last', { model, optimizer, scheduler });
 *
 * The directory holds
 *
 *     checkpoint.json              epoch, step, best metric, random-generator state, optimizer and
 *                                  schedule state, free-form extra, and the names, sizes and SHA-256
 *                                  of the files below; written last, it marks the checkpoint complete
 *     model.<id>.safetensors       the model's state dict, PyTorch names and layouts
 *                                  (PyTorch: model.load_state_dict(safetensors.torch.load_file(f)))
 *     state.<id>.safetensors       tensors found inside the optimizer/schedule state or extra, if any
 *
 * Saving writes every file to a temp file first, then renames the data files into place, and
 * checkpoint.json last. Each save uses a fresh <id>, so the previous checkpoint.json keeps naming
 * files that still exist until the new one replaces it: an interrupted save leaves the previous
 * checkpoint loadable, and files no longer named are deleted after the new checkpoint is complete.
 *
 * Inside the JSON state, numeric arrays go to state.<id>.safetensors and the JSON holds
 * {"$tensor": key} for a tf tensor, {"$tensor": key, "$as": "Float32Array"} for a typed array, and
 * {"$tensor": key, "$as": "shape-data"} for an object {shape, data: number[]} (the optimizers' JSON
 * form of a tensor, stored as F32 when every value is a float32, else F64: exact either way).
 * NaN and ±Infinity are written {"$number": "NaN"}, bigints {"$bigint": "123"}. `loadCheckpoint`
 * decodes them all back to what was saved.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from '../engine/tf';
import { defaultGenerator, Generator, GeneratorState } from '../engine/random';
import type { Module, StateDict } from '../nn/module';
import { commitFile, removeStaleTemps, stageFile, TEMP_FILE_PATTERN } from './atomic';
import { decodeSafetensors, encodeSafetensors, RawTensor, rawToTensor, stateDictToRaw } from './safetensors';

/**
 * Anything with PyTorch-style state: optimizers, schedules. `stateDict()` returns JSON-serialisable
 * data (tensors allowed: they are stored in safetensors). `loadStateDict` must copy any tensor it
 * keeps, as Module.loadStateDict does: the tensors passed in are disposed after it returns.
 */
export interface HasStateDict {
  stateDict(): unknown;
  loadStateDict(state: any): void;
}

export interface CheckpointInput {
  model: Module;
  optimizer?: HasStateDict;
  scheduler?: HasStateDict;
  epoch?: number;
  step?: number;
  bestMetric?: number | null;
  /** Whose random state to save (default: the global generator, as `manualSeed` seeds). */
  generator?: Generator;
  /** Anything else to keep (JSON values; tensors, typed arrays, NaN and Infinity allowed). */
  extra?: Record<string, unknown>;
}

export interface Checkpoint {
  dir: string;
  createdAt: string;
  epoch: number | null;
  step: number | null;
  bestMetric: number | null;
  /** The model's state dict by PyTorch key (tensors: free them with dispose()). */
  weights: StateDict;
  optimizer: unknown;
  scheduler: unknown;
  generator: GeneratorState | null;
  extra: Record<string, unknown>;
  /** Free the tensors in weights, optimizer and scheduler (extra's tensors are the caller's). */
  dispose(): void;
}

export const CHECKPOINT_FILE = 'checkpoint.json';
const FORMAT = 'hyperlab-checkpoint';
const VERSION = 1;
/** The data files a save writes: model.<id>.safetensors, state.<id>.safetensors. */
const DATA_FILE_PATTERN = /^(model|state)\.[0-9a-z]+\.safetensors$/;

interface FileEntry {
  file: string;
  bytes: number;
  sha256: string;
}

interface CheckpointJson {
  format: typeof FORMAT;
  version: number;
  createdAt: string;
  files: { model: FileEntry; state?: FileEntry };
  epoch: number | null;
  step: number | null;
  bestMetric: unknown;
  generator: GeneratorState | null;
  optimizer: unknown;
  scheduler: unknown;
  extra: unknown;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

// ---- encoding values JSON cannot hold ----------------------------------------------------------

const TYPED_ARRAYS = { Float32Array: 'F32', Float64Array: 'F64', Int32Array: 'I32', Uint8Array: 'U8' } as const;
type TypedArrayName = keyof typeof TYPED_ARRAYS;

/** An object {shape, data} with a numeric `data` of the shape's size (how optimizers write tensors as JSON). */
function isShapeData(v: object): v is { shape: number[]; data: number[] } {
  const o = v as { shape?: unknown; data?: unknown };
  if (Object.keys(v).length !== 2 || !Array.isArray(o.shape) || !Array.isArray(o.data)) return false;
  if (!o.shape.every((d) => Number.isInteger(d) && d >= 0)) return false;
  return o.data.length === o.shape.reduce((a: number, b: number) => a * b, 1) && o.data.every((x) => typeof x === 'number');
}

/** `value` made JSON-safe; tensors and typed arrays go into `tensors` under their path (e.g. `optimizer.state.0.exp_avg`). */
function encodeValue(value: unknown, where: string, tensors: Record<string, tf.Tensor | RawTensor>, stack: object[] = []): unknown {
  const tensorKey = () => {
    let k = where;
    for (let i = 1; k in tensors; i++) k = `${where}#${i}`;
    return k;
  };
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : { $number: String(value) };
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (value === undefined) return undefined;
  if (typeof value !== 'object') {
    throw new Error(`saveCheckpoint: ${where} is a ${typeof value}, which cannot be saved; keep only data (numbers, strings, arrays, objects, tensors) in it`);
  }
  if (value instanceof tf.Tensor) {
    if (value.isDisposed) throw new Error(`saveCheckpoint: ${where} is a disposed tensor`);
    const k = tensorKey();
    tensors[k] = value;
    return { $tensor: k };
  }
  const arrayName = value.constructor?.name as TypedArrayName;
  if (ArrayBuffer.isView(value) && arrayName in TYPED_ARRAYS) {
    const data = (value as Float32Array).slice();
    const k = tensorKey();
    tensors[k] = { dtype: TYPED_ARRAYS[arrayName], shape: [data.length], data };
    return { $tensor: k, $as: arrayName };
  }
  if (isShapeData(value)) {
    const f32 = value.data.every((v) => Object.is(Math.fround(v), v));
    const k = tensorKey();
    tensors[k] = { dtype: f32 ? 'F32' : 'F64', shape: value.shape, data: f32 ? Float32Array.from(value.data) : Float64Array.from(value.data) };
    return { $tensor: k, $as: 'shape-data' };
  }
  if (stack.includes(value)) throw new Error(`saveCheckpoint: ${where} refers back to itself (a cycle); it cannot be saved`);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return (value as { toJSON(): unknown }).toJSON(); // Date
  if (Array.isArray(value)) {
    return value.map((v, i) => encodeValue(v, `${where}.${i}`, tensors, [...stack, value]) ?? null);
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new Error(
      `saveCheckpoint: ${where} is a ${value.constructor?.name ?? 'class instance'}; ` +
        'only plain objects, arrays, numbers, strings, booleans, null, tensors and typed arrays can be saved (return plain data from stateDict())',
    );
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const enc = encodeValue(v, `${where}.${k}`, tensors, [...stack, value]);
    if (enc !== undefined) out[k] = enc;
  }
  return out;
}

/** The inverse of encodeValue; `tensors` are the stored tensors by key, `made` collects the tf tensors created. */
function decodeValue(value: unknown, tensors: Record<string, RawTensor>, made: tf.Tensor[], where: string): unknown {
  if (Array.isArray(value)) return value.map((v) => decodeValue(v, tensors, made, where));
  if (value === null || typeof value !== 'object') return value;
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1 && typeof o.$number === 'string') return Number(o.$number);
  if (keys.length === 1 && typeof o.$bigint === 'string') return BigInt(o.$bigint);
  if (typeof o.$tensor === 'string' && (keys.length === 1 || (keys.length === 2 && typeof o.$as === 'string'))) {
    const raw = tensors[o.$tensor];
    if (!raw) throw new Error(`${where}: the state refers to tensor '${o.$tensor}', which the state file does not hold: the checkpoint is damaged`);
    if (o.$as === 'shape-data') return { shape: [...raw.shape], data: Array.from(raw.data as Float32Array | Float64Array) };
    if (o.$as) return raw.data.slice();
    const t = rawToTensor(raw, o.$tensor);
    made.push(t);
    return t;
  }
  return Object.fromEntries(keys.map((k) => [k, decodeValue(o[k], tensors, made, where)]));
}

// ---- saving ------------------------------------------------------------------------------------

function checkCount(name: string, v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (!Number.isInteger(v) || (v as number) < 0) throw new Error(`saveCheckpoint: ${name} must be a non-negative integer, got ${String(v)}`);
  return v as number;
}

/** Save a checkpoint into `dir` (created if needed), replacing the one there atomically. Returns the checkpoint.json path. */
export function saveCheckpoint(dir: string, input: CheckpointInput): string {
  const { model, optimizer, scheduler, generator = defaultGenerator, extra = {} } = input;
  if (!model || typeof model.stateDict !== 'function') throw new Error('saveCheckpoint: pass { model } (a Module) to save');
  const epoch = checkCount('epoch', input.epoch);
  const step = checkCount('step', input.step);
  const bestMetric = input.bestMetric ?? null;
  if (bestMetric !== null && typeof bestMetric !== 'number') {
    throw new Error(`saveCheckpoint: bestMetric must be a number or null, got ${typeof bestMetric} (use .dataSync()[0] for a tensor)`);
  }
  const id = Date.now().toString(36) + randomBytes(3).toString('hex');

  // Everything is encoded before anything is written, so a bad value leaves the directory as it was.
  const stateTensors: Record<string, tf.Tensor | RawTensor> = {};
  const json: Omit<CheckpointJson, 'files'> = {
    format: FORMAT,
    version: VERSION,
    createdAt: new Date().toISOString(),
    epoch,
    step,
    bestMetric: encodeValue(bestMetric, 'bestMetric', stateTensors),
    generator: generator.getState(),
    optimizer: optimizer ? encodeValue(optimizer.stateDict(), 'optimizer', stateTensors) : null,
    scheduler: scheduler ? encodeValue(scheduler.stateDict(), 'scheduler', stateTensors) : null,
    extra: encodeValue(extra, 'extra', stateTensors) ?? {},
  };
  const data: [string, Uint8Array][] = [[`model.${id}.safetensors`, encodeSafetensors(stateDictToRaw(model), { format: 'pt' })]];
  if (Object.keys(stateTensors).length) data.push([`state.${id}.safetensors`, encodeSafetensors(stateTensors)]);
  const files = Object.fromEntries(
    data.map(([file, bytes]) => [file.split('.')[0], { file, bytes: bytes.length, sha256: sha256(bytes) }]),
  ) as CheckpointJson['files'];
  // One top-level field a line, each value compact (optimizer state can hold long arrays).
  const fields = Object.entries({ ...json, files }).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  const text = `{\n${fields.join(',\n')}\n}\n`;

  // Stage every file, then rename the data files into place, checkpoint.json last (the commit).
  fs.mkdirSync(dir, { recursive: true });
  const staged: [string, string][] = [];
  try {
    for (const [file, bytes] of data) staged.push([stageFile(path.join(dir, file), bytes), path.join(dir, file)]);
    staged.push([stageFile(path.join(dir, CHECKPOINT_FILE), text), path.join(dir, CHECKPOINT_FILE)]);
  } catch (err) {
    for (const [temp] of staged) fs.rmSync(temp, { force: true });
    throw err;
  }
  for (const [temp, file] of staged) commitFile(temp, file);

  // The new checkpoint is complete: drop the files of earlier ones and temps of interrupted saves.
  const keep = new Set(data.map(([file]) => file));
  for (const name of fs.readdirSync(dir)) {
    if (DATA_FILE_PATTERN.test(name) && !keep.has(name)) fs.rmSync(path.join(dir, name), { force: true });
  }
  removeStaleTemps(dir);
  return path.join(dir, CHECKPOINT_FILE);
}

// ---- loading -----------------------------------------------------------------------------------

function readJson(dir: string): CheckpointJson {
  const file = path.join(dir, CHECKPOINT_FILE);
  if (!fs.existsSync(dir)) throw new Error(`checkpoint directory ${dir} does not exist`);
  if (!fs.statSync(dir).isDirectory()) throw new Error(`${dir} is a file, not a checkpoint directory (give the directory that holds ${CHECKPOINT_FILE})`);
  if (!fs.existsSync(file)) {
    const leftovers = fs.readdirSync(dir).filter((n) => TEMP_FILE_PATTERN.test(n) || DATA_FILE_PATTERN.test(n));
    throw new Error(
      leftovers.length
        ? `${file} is missing: a save into ${dir} was interrupted before it completed (found ${leftovers.join(', ')}), ` +
            'so it holds no complete checkpoint; load an earlier checkpoint, or save again'
        : `${file} is missing: ${dir} is not a checkpoint directory (saveCheckpoint writes ${CHECKPOINT_FILE} there)`,
    );
  }
  let json: CheckpointJson;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}): the file is damaged; load an earlier checkpoint`, { cause: err });
  }
  if (json?.format !== FORMAT) throw new Error(`${file} is not a hyperlab checkpoint (its "format" is ${JSON.stringify(json?.format)}, expected "${FORMAT}")`);
  if (json.version > VERSION) {
    throw new Error(`${file} has checkpoint version ${json.version}; this hyperlab reads up to version ${VERSION}: update hyperlab`);
  }
  if (!json.files?.model?.file) throw new Error(`${file} names no model file ("files.model" is missing): the file is damaged`);
  return json;
}

/** Read one data file named in checkpoint.json, checking its size and SHA-256. */
function readDataFile(dir: string, entry: FileEntry): Record<string, RawTensor> {
  const file = path.join(dir, entry.file);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing (${CHECKPOINT_FILE} names it): the checkpoint is incomplete; load an earlier one`);
  const bytes = fs.readFileSync(file);
  if (bytes.length !== entry.bytes) {
    throw new Error(`${file} has ${bytes.length} bytes, ${CHECKPOINT_FILE} recorded ${entry.bytes}: the file is truncated or was replaced`);
  }
  if (sha256(bytes) !== entry.sha256) {
    throw new Error(`${file} does not match the SHA-256 recorded in ${CHECKPOINT_FILE}: the file is corrupt or was replaced`);
  }
  return decodeSafetensors(bytes, file).tensors;
}

/** Read a checkpoint. The caller frees its tensors with `dispose()`. */
export function loadCheckpoint(dir: string): Checkpoint {
  const json = readJson(dir);
  const jsonFile = path.join(dir, CHECKPOINT_FILE);
  const modelRaw = readDataFile(dir, json.files.model);
  const stateRaw = json.files.state ? readDataFile(dir, json.files.state) : {};
  const weights: StateDict = {};
  const made: tf.Tensor[] = [];
  try {
    for (const [name, raw] of Object.entries(modelRaw)) weights[name] = rawToTensor(raw, name);
    const optimizer = decodeValue(json.optimizer ?? null, stateRaw, made, jsonFile);
    const scheduler = decodeValue(json.scheduler ?? null, stateRaw, made, jsonFile);
    const owned = [...made]; // extra's tensors go to the caller
    const extra = decodeValue(json.extra ?? {}, stateRaw, made, jsonFile) as Record<string, unknown>;
    return {
      dir,
      createdAt: json.createdAt,
      epoch: json.epoch ?? null,
      step: json.step ?? null,
      bestMetric: decodeValue(json.bestMetric ?? null, {}, [], jsonFile) as number | null,
      weights,
      optimizer,
      scheduler,
      generator: json.generator ?? null,
      extra,
      dispose() {
        for (const t of [...Object.values(weights), ...owned]) if (!t.isDisposed) t.dispose();
      },
    };
  } catch (err) {
    for (const t of [...Object.values(weights), ...made]) t.dispose();
    throw err;
  }
}

/**
 * Load a checkpoint into a model (and optimizer, schedule, random generator). Returns the
 * run position and extra data. With `strict` (the default) the model's keys must match exactly.
 */
export function restoreCheckpoint(
  dir: string,
  targets: { model: Module; optimizer?: HasStateDict; scheduler?: HasStateDict; generator?: Generator | null; strict?: boolean },
): { epoch: number | null; step: number | null; bestMetric: number | null; extra: Record<string, unknown>; createdAt: string } {
  const { model, optimizer, scheduler, generator = defaultGenerator, strict = true } = targets;
  const ck = loadCheckpoint(dir);
  const where = `restoring ${path.join(dir, CHECKPOINT_FILE)}`;
  try {
    try {
      model.loadStateDict(ck.weights, strict);
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).message}`, { cause: err });
    }
    for (const [name, target, state] of [
      ['optimizer', optimizer, ck.optimizer],
      ['scheduler', scheduler, ck.scheduler],
    ] as const) {
      if (!target) continue;
      if (state === null || state === undefined) {
        throw new Error(`${where}: the checkpoint holds no ${name} state (it was saved without one); restore without the ${name}, or start it fresh`);
      }
      try {
        target.loadStateDict(state);
      } catch (err) {
        throw new Error(`${where}: ${name}: ${(err as Error).message}`, { cause: err });
      }
    }
    if (generator && ck.generator) generator.setState(ck.generator);
    return { epoch: ck.epoch, step: ck.step, bestMetric: ck.bestMetric, extra: ck.extra, createdAt: ck.createdAt };
  } finally {
    ck.dispose();
  }
}
