/**
 * TensorBoard event files, written and read without TensorFlow (like `torch.utils.tensorboard`).
 *
 *     const writer = new SummaryWriter('runs/exp1');
 *     writer.addScalar('loss/train', 0.42, step);
 *     writer.close();
 *     // then: tensorboard --logdir runs
 *
 * An event file (`events.out.tfevents.<unix seconds>.<hostname>`) is a TFRecord file (./tfrecord.ts)
 * of serialized `tensorflow.Event` protobufs. The first says `file_version: "brain.Event:2"`; each
 * scalar is an Event with a Summary holding one Value{tag, simple_value}. The protobuf fields used
 * (from tensorflow/core/util/event.proto and framework/summary.proto):
 *
 *     Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
 *     Summary { repeated Value value = 1; }
 *     Value   { string tag = 1; float simple_value = 2; TensorProto tensor = 8; }
 *
 * A resumed run opens a new file in the same directory (TensorBoard reads them all, in name order);
 * nothing is ever appended to an older file.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '../engine/tf';
import { frameRecord, readRecords } from './tfrecord';

// ---- protobuf encoding: the few wire types needed --------------------------------------------
// A field is a key varint (field number << 3 | wire type) followed by its value:
// wire type 0 = varint, 1 = 8 bytes little-endian, 2 = varint length + bytes, 5 = 4 bytes little-endian.

function varint(value: bigint): number[] {
  let v = BigInt.asUintN(64, value); // negative int64 values take 10 bytes, as in protobuf
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return out;
}

const key = (field: number, wire: number): number[] => varint(BigInt((field << 3) | wire));

function doubleField(field: number, x: number): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, x, true);
  return [...key(field, 1), ...b];
}

function floatField(field: number, x: number): number[] {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, x, true);
  return [...key(field, 5), ...b];
}

const int64Field = (field: number, n: number): number[] => [...key(field, 0), ...varint(BigInt(n))];

function bytesField(field: number, bytes: ArrayLike<number>): number[] {
  return [...key(field, 2), ...varint(BigInt(bytes.length)), ...Array.from(bytes)];
}

const stringField = (field: number, s: string): number[] => bytesField(field, Buffer.from(s, 'utf8'));

/** Serialized Event{wall_time, file_version}: the first record of every event file. */
export function fileVersionEvent(wallTime: number): Uint8Array {
  return Uint8Array.from([...doubleField(1, wallTime), ...stringField(3, 'brain.Event:2')]);
}

/** Serialized Event{wall_time, step, summary{value{tag, simple_value}}}. */
export function scalarEvent(tag: string, value: number, step: number, wallTime: number): Uint8Array {
  const summaryValue = [...stringField(1, tag), ...floatField(2, value)];
  const summary = bytesField(1, summaryValue);
  return Uint8Array.from([...doubleField(1, wallTime), ...int64Field(2, step), ...bytesField(5, summary)]);
}

// ---- the writer --------------------------------------------------------------------------------

export interface SummaryWriterOptions {
  /** Write to disk once this many events wait (default 10, as PyTorch). */
  maxQueue?: number;
  /** ... or when the oldest waiting event is this many seconds old (default 120, as PyTorch). */
  flushSecs?: number;
  /** Appended to the file name. */
  filenameSuffix?: string;
}

export class SummaryWriter {
  readonly logDir: string;
  /** The event file this writer appends to. */
  readonly file: string;
  private fd: number | null;
  private pending: Uint8Array[] = [];
  private pendingSince = 0;
  private readonly maxQueue: number;
  private readonly flushSecs: number;
  private readonly onExit = () => this.flush();

  constructor(logDir: string, options: SummaryWriterOptions = {}) {
    this.logDir = logDir;
    this.maxQueue = options.maxQueue ?? 10;
    this.flushSecs = options.flushSecs ?? 120;
    fs.mkdirSync(logDir, { recursive: true });
    const base = `events.out.tfevents.${Math.floor(Date.now() / 1000)}.${os.hostname()}`;
    const suffix = options.filenameSuffix ?? '';
    // Never reuse a file: a second writer within the same second gets a distinct name.
    const candidates = [base + suffix, ...Array.from({ length: 100 }, (_, i) => `${base}.${process.pid}.${i}${suffix}`)];
    let fd: number | null = null;
    let file = '';
    for (const name of candidates) {
      file = path.join(logDir, name);
      try {
        fd = fs.openSync(file, 'wx');
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new Error(`SummaryWriter: cannot create event file ${file}: ${(err as Error).message}`, { cause: err });
        }
      }
    }
    if (fd === null) throw new Error(`SummaryWriter: no free event file name in ${logDir} (tried ${base}${suffix} and 100 more)`);
    this.fd = fd;
    this.file = file;
    fs.writeSync(fd, frameRecord(fileVersionEvent(Date.now() / 1000)));
    process.on('exit', this.onExit); // flush what is left if the program ends without close()
  }

  /**
   * Log one scalar (`writer.add_scalar(tag, value, global_step)`). `value` is a number or a
   * one-element tensor; `wallTime` is in seconds since 1970 (default: now).
   */
  addScalar(tag: string, value: number | tf.Tensor, step = 0, wallTime = Date.now() / 1000): void {
    if (this.fd === null) throw new Error(`SummaryWriter(${this.logDir}): addScalar('${tag}') after close(); open a new SummaryWriter`);
    if (typeof tag !== 'string' || tag === '') throw new Error(`SummaryWriter.addScalar: the tag must be a non-empty string, got ${JSON.stringify(tag)}`);
    let v = value;
    if (v instanceof tf.Tensor) {
      if (v.size !== 1) throw new Error(`SummaryWriter.addScalar('${tag}'): expected a one-element tensor, got shape [${v.shape}]`);
      v = v.dataSync()[0];
    }
    if (typeof v !== 'number') throw new Error(`SummaryWriter.addScalar('${tag}'): the value must be a number, got ${typeof v}`);
    if (!Number.isInteger(step)) throw new Error(`SummaryWriter.addScalar('${tag}'): the step must be an integer, got ${step}`);
    if (this.pending.length === 0) this.pendingSince = Date.now();
    this.pending.push(frameRecord(scalarEvent(tag, v, step, wallTime)));
    if (this.pending.length >= this.maxQueue || Date.now() - this.pendingSince >= this.flushSecs * 1000) this.flush();
  }

  /** Write every waiting event to the file. */
  flush(): void {
    if (this.fd === null || this.pending.length === 0) return;
    fs.writeSync(this.fd, Buffer.concat(this.pending)); // one write: records stay whole
    this.pending = [];
  }

  /** Flush, sync to disk and close the file. Calling it again does nothing. */
  close(): void {
    if (this.fd === null) return;
    this.flush();
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.fd = null;
    process.off('exit', this.onExit);
  }
}

// ---- reading ----------------------------------------------------------------------------------

/** One protobuf field: varints as bigint, fixed 4/8-byte values and length-delimited ones as bytes. */
interface Field {
  field: number;
  wire: number;
  varint?: bigint;
  bytes?: Uint8Array;
}

function readVarint(buf: Uint8Array, at: number, where: string): [bigint, number] {
  let v = 0n;
  for (let shift = 0n; shift < 70n; shift += 7n) {
    if (at >= buf.length) break;
    const b = buf[at++];
    v |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [v, at];
  }
  throw new Error(`${where}: malformed protobuf varint`);
}

function decodeFields(buf: Uint8Array, where: string): Field[] {
  const fields: Field[] = [];
  let at = 0;
  while (at < buf.length) {
    const [k, next] = readVarint(buf, at, where);
    at = next;
    const field = Number(k >> 3n);
    const wire = Number(k & 7n);
    if (wire === 0) {
      const [v, after] = readVarint(buf, at, where);
      fields.push({ field, wire, varint: v });
      at = after;
      continue;
    }
    let len: number;
    if (wire === 1) len = 8;
    else if (wire === 5) len = 4;
    else if (wire === 2) {
      const [n, after] = readVarint(buf, at, where);
      len = Number(n);
      at = after;
    } else throw new Error(`${where}: unsupported protobuf wire type ${wire}`);
    if (at + len > buf.length) throw new Error(`${where}: protobuf field ${field} runs past the end of its message`);
    fields.push({ field, wire, bytes: buf.subarray(at, at + len) });
    at += len;
  }
  return fields;
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** A scalar from Value.tensor (TensorProto: dtype = 1, tensor_content = 4, float_val = 5, double_val = 6). */
function tensorScalar(tensor: Uint8Array, where: string): number | undefined {
  const fields = decodeFields(tensor, where);
  for (const f of fields) {
    // float_val / double_val, packed (wire type 2) or not (5 / 1): the first value starts at byte 0 either way
    if (f.field === 5 && f.bytes && f.bytes.length >= 4) return view(f.bytes).getFloat32(0, true);
    if (f.field === 6 && f.bytes && f.bytes.length >= 8) return view(f.bytes).getFloat64(0, true);
  }
  const dtype = Number(fields.find((f) => f.field === 1)?.varint ?? 0n);
  const content = fields.find((f) => f.field === 4)?.bytes;
  if (content && dtype === 1 && content.length >= 4) return view(content).getFloat32(0, true); // DT_FLOAT
  if (content && dtype === 2 && content.length >= 8) return view(content).getFloat64(0, true); // DT_DOUBLE
  return undefined;
}

export interface TensorBoardEvent {
  wallTime: number;
  step: number;
  /** Only in the first event of a file: "brain.Event:2". */
  fileVersion?: string;
  /** The scalar values of this event's summary (other summary kinds are skipped). */
  scalars: { tag: string; value: number }[];
}

/** Every event of one event file, CRCs checked. */
export function readEvents(file: string): TensorBoardEvent[] {
  const records = readRecords(fs.readFileSync(file), file);
  return records.map((record, i) => {
    const where = `${file}: record ${i}`;
    const event: TensorBoardEvent = { wallTime: 0, step: 0, scalars: [] };
    for (const f of decodeFields(record, where)) {
      if (f.field === 1 && f.wire === 1) event.wallTime = view(f.bytes!).getFloat64(0, true);
      else if (f.field === 2 && f.wire === 0) event.step = Number(BigInt.asIntN(64, f.varint!));
      else if (f.field === 3 && f.wire === 2) event.fileVersion = Buffer.from(f.bytes!).toString('utf8');
      else if (f.field === 5 && f.wire === 2) {
        for (const v of decodeFields(f.bytes!, where)) {
          if (v.field !== 1 || !v.bytes) continue;
          let tag = '';
          let value: number | undefined;
          for (const g of decodeFields(v.bytes, where)) {
            if (g.field === 1 && g.bytes) tag = Buffer.from(g.bytes).toString('utf8');
            else if (g.field === 2 && g.wire === 5) value = view(g.bytes!).getFloat32(0, true);
            else if (g.field === 8 && g.bytes) value = tensorScalar(g.bytes, where);
          }
          if (value !== undefined) event.scalars.push({ tag, value });
        }
      }
    }
    return event;
  });
}

export interface ScalarPoint {
  tag: string;
  step: number;
  value: number;
  wallTime: number;
}

/**
 * Every scalar in an event file, or in all event files of a log directory (read in name order,
 * which is creation order: a resumed run's later files come after).
 */
export function readScalars(fileOrDir: string): ScalarPoint[] {
  if (!fs.existsSync(fileOrDir)) throw new Error(`readScalars: ${fileOrDir} does not exist`);
  const files = fs.statSync(fileOrDir).isDirectory()
    ? fs
        .readdirSync(fileOrDir)
        .filter((n) => n.includes('tfevents'))
        .sort()
        .map((n) => path.join(fileOrDir, n))
    : [fileOrDir];
  const out: ScalarPoint[] = [];
  for (const file of files) {
    for (const e of readEvents(file)) {
      for (const s of e.scalars) out.push({ tag: s.tag, step: e.step, value: s.value, wallTime: e.wallTime });
    }
  }
  return out;
}
