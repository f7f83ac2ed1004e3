/**
 * Automatic freeing of tensors a notebook can no longer reach, so lessons never
 * call `dispose`, `tidy` or `keep`:
 *
 *     let x = tf.ones([1000]);
 *     x = x.add(1);        // the first tensor is unreachable: freed at the next collection
 *
 * How: every tensor that lives outside any `tf.tidy` scope (created at the top
 * level, or returned out of the outermost tidy) and every variable (Parameter,
 * optimizer state) is registered with a FinalizationRegistry. When JavaScript's
 * garbage collector finds one unreachable, its data is released exactly as
 * `dispose()` would (the tensor's share of its data buffer: tensors that share
 * data through reshape or clone keep it alive). tfjs keeps every variable in
 * `engine.state.registeredVariables`, which would keep them reachable forever;
 * while automatic freeing is on, that table holds them weakly.
 *
 * When: the garbage collector does not see backend memory (wasm heap, GPU
 * buffers), so a collection is forced (1) when the kernel goes idle after a
 * cell that created tensors, and (2) in the middle of a long cell, when the
 * registered tensors not yet disposed grow by more than 10,000 or 256 MB since
 * the last collection (a loop that disposes what it makes never triggers it).
 * A collection is a full GC, tens of ms in a kernel; both triggers are rate
 * limited so collections take at most about 5% of the time.
 *
 * Unchanged: `tf.tidy` (tensors inside a scope are never registered; the scope
 * frees them as always), explicit `dispose()` (a disposed tensor is
 * unregistered), and everything held: a tensor in a variable, a module's
 * parameters, an optimizer's state stay as long as something refers to them.
 *
 * Why not an engine scope per cell that keeps what the top-level bindings
 * reach: tslab offers no hook around a cell, a scope cannot span a cell's
 * awaits, and finding what the bindings reach is what the garbage collector
 * already does, through closures, arrays and modules included.
 *
 * On in tslab notebook kernels (and so in `hyperlab lessons run`), off
 * elsewhere: library code and the trainer manage memory explicitly and their
 * tests check that tf.memory().numTensors stays flat. `HYPERLAB_AUTOFREE=1`
 * or `autoFree()` turns it on in a script, `HYPERLAB_AUTOFREE=0` off in a kernel.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { tf } from './tf';

/** What the finalizer needs to release a tensor: the fields engine.disposeTensor reads. */
interface Held {
  dataId: object;
  dtype: tf.DataType;
  size: number;
  /** Set for variables: their name in the registered-variables table. */
  name?: string;
}

interface EngineState {
  activeScope: unknown;
  registeredVariables: Record<string, tf.Variable>;
}

interface EngineInternals {
  state: EngineState;
  track<T>(result: T): T;
  keep<T>(result: T): T;
  incRef(a: tf.Tensor, backend: unknown): void;
  disposeTensor(a: tf.Tensor | Held): void;
  disposeVariable(v: tf.Variable | Held): void;
  reset(): void;
}

/** Thresholds of the memory-pressure trigger (registrations since the last collection). */
export const AUTOFREE_LIMITS = { tensors: 10_000, bytes: 256 * 2 ** 20, maxGcShare: 0.05 };

const HELD = Symbol('hyperlab.autofree');
type Registered = tf.Tensor & { [HELD]?: Held };

// A full GC on demand, and a registry whose cleanupSome() runs finalizers
// synchronously (so a long cell frees memory before it ends). Both come from a
// fresh vm context created after setting the V8 flags; where a flag is not
// available the registry still frees, just later (after the current cell).
let gc: (() => void) | null = null;
let Registry: typeof FinalizationRegistry = FinalizationRegistry;
function loadGc(): void {
  if (gc) return;
  v8.setFlagsFromString('--expose-gc');
  v8.setFlagsFromString('--harmony-weak-refs-with-cleanup-some');
  const context = vm.createContext({});
  gc = vm.runInContext('gc', context) as () => void;
  Registry = vm.runInContext('FinalizationRegistry', context) as typeof FinalizationRegistry;
}

let enabled = false;
let engine: EngineInternals | null = null;
let registry: FinalizationRegistry<Held> | null = null;
const original: Partial<EngineInternals> = {};
/**
 * live/liveBytes: registered tensors neither disposed nor freed yet; base/baseBytes: the
 * same after the last collection (growth past the limits triggers one); registered:
 * registrations since the last collection (the idle trigger).
 */
const stats = { live: 0, liveBytes: 0, base: 0, baseBytes: 0, registered: 0, freed: 0, collections: 0, gcMs: 0, lastGcEnd: 0, lastGcMs: 0 };
let idleArmed = false;
/** Shared with the lesson runner's kernel agent (lib/notebook/kernel_agent.ts), which may have made it first. */
const hook = ((globalThis as { __hyperlab__?: { runnerCollects?: boolean; [k: string]: unknown } }).__hyperlab__ ??= {});

const bytesOf = (t: { size: number; dtype: tf.DataType }) => (t.dtype === 'string' || t.dtype === 'complex64' ? 0 : t.size * tf.util.bytesPerElement(t.dtype));

/** The finalizer: release an unreachable tensor's share of its data, as dispose() does. */
function release(held: Held): void {
  if (!engine) return;
  stats.freed++;
  forgetLive(held);
  engine.disposeTensor(held);
  if (held.name === undefined) return;
  const table = engine.state.registeredVariables as unknown as WeakVariables;
  table[FORGET]?.(held.name);
}

function register(t: Registered): void {
  if (!enabled || t[HELD] || t.isDisposed) return;
  const held: Held = { dataId: t.dataId, dtype: t.dtype, size: t.size };
  if (t instanceof tf.Variable) held.name = t.name;
  t[HELD] = held;
  registry!.register(t, held, held);
  stats.live++;
  stats.liveBytes += bytesOf(t);
  stats.registered++;
  if (stats.live - stats.base > AUTOFREE_LIMITS.tensors || stats.liveBytes - stats.baseBytes > AUTOFREE_LIMITS.bytes) collectNow(true);
  else armIdle();
}

function unregister(t: Registered): void {
  const held = t[HELD];
  if (!held) return;
  registry!.unregister(held);
  t[HELD] = undefined;
  forgetLive(held);
}

/** A registered tensor was disposed or freed: it no longer counts towards the next collection. */
function forgetLive(held: Held): void {
  stats.live--;
  stats.liveBytes -= bytesOf(held);
  stats.base = Math.min(stats.base, stats.live);
  stats.baseBytes = Math.min(stats.baseBytes, stats.liveBytes);
}

/**
 * Force a collection and run the finalizers (synchronously where V8 allows).
 * `pressure`: rate-limited so that collections take at most maxGcShare of the time.
 */
function collectNow(pressure: boolean): void {
  if (!registry || !gc) return;
  const now = performance.now();
  if (pressure && now - stats.lastGcEnd < pause()) return;
  gc();
  (registry as unknown as { cleanupSome?: () => void }).cleanupSome?.();
  const end = performance.now();
  stats.collections++;
  stats.lastGcMs = end - now;
  stats.gcMs += stats.lastGcMs;
  stats.lastGcEnd = end;
  stats.base = stats.live;
  stats.baseBytes = stats.liveBytes;
  stats.registered = 0;
}

/** The pause after a collection that keeps collections under maxGcShare of the time. */
const pause = () => stats.lastGcMs * (1 / AUTOFREE_LIMITS.maxGcShare - 1);

/**
 * After the current cell (the next turn of the event loop), collect if anything was registered.
 * Not in the lesson runner's kernel: the runner reads the memory right after every cell, and that
 * read collects (freeUnused), so an idle collection would be a second full GC of the same heap
 * (lib/notebook/kernel_agent.ts sets `runnerCollects`).
 */
function armIdle(): void {
  if (idleArmed || hook.runnerCollects) return;
  idleArmed = true;
  const onIdle = () => {
    if (!enabled || stats.registered === 0) {
      idleArmed = false;
      return;
    }
    const wait = stats.lastGcEnd + pause() - performance.now();
    if (wait > 0) {
      setTimeout(onIdle, wait).unref();
      return;
    }
    idleArmed = false;
    collectNow(false);
  };
  setImmediate(onIdle).unref();
}

const FORGET = Symbol('forget');
type WeakVariables = Record<string, tf.Variable> & { [FORGET]?: (name: string) => void };

/**
 * tfjs' registered-variables table, holding its variables weakly (a Proxy over
 * a Map of WeakRefs): lookups, `for...in` and `delete` work as on the plain
 * object tfjs expects, but the table alone keeps no variable alive.
 */
function weakVariables(initial: Record<string, tf.Variable>): WeakVariables {
  const refs = new Map<string, WeakRef<tf.Variable>>();
  const live = (name: string) => refs.get(name)?.deref();
  const forget = (name: string) => {
    if (refs.has(name) && live(name) === undefined) refs.delete(name);
  };
  const proxy = new Proxy({} as WeakVariables, {
    get: (_t, key) => (key === FORGET ? forget : typeof key === 'string' ? live(key) : undefined),
    set: (_t, key, value: tf.Variable) => {
      if (typeof key !== 'string') return false;
      refs.set(key, new WeakRef(value));
      register(value as Registered);
      return true;
    },
    has: (_t, key) => typeof key === 'string' && live(key) !== undefined,
    deleteProperty: (_t, key) => {
      if (typeof key === 'string') refs.delete(key);
      return true;
    },
    ownKeys: () => [...refs.keys()].filter((k) => live(k) !== undefined),
    getOwnPropertyDescriptor: (_t, key) => {
      const v = typeof key === 'string' ? live(key) : undefined;
      return v === undefined ? undefined : { value: v, writable: true, enumerable: true, configurable: true };
    },
  });
  for (const [name, v] of Object.entries(initial)) proxy[name] = v;
  return proxy;
}

function install(e: EngineInternals): void {
  engine = e;
  registry ??= new Registry<Held>(release);
  original.track = e.track;
  original.keep = e.keep;
  original.incRef = e.incRef;
  original.disposeTensor = e.disposeTensor;
  original.disposeVariable = e.disposeVariable;
  original.reset = e.reset;
  // A tensor that ends up outside every scope (tfjs' track() is called when a
  // tensor is made, and again when it leaves a scope) or is kept out of one.
  e.track = function <T>(this: EngineInternals, result: T): T {
    const r = original.track!.call(this, result) as T;
    if (this.state.activeScope == null && r instanceof tf.Tensor) register(r as Registered);
    return r;
  };
  e.keep = function <T>(this: EngineInternals, result: T): T {
    const r = original.keep!.call(this, result) as T;
    if (r instanceof tf.Tensor) register(r as Registered);
    return r;
  };
  // Variable.assign() points the variable at new data: the finalizer must release that.
  e.incRef = function (this: EngineInternals, a: tf.Tensor, backend: unknown) {
    original.incRef!.call(this, a, backend);
    const held = (a as Registered)[HELD];
    if (held) held.dataId = a.dataId;
  };
  e.disposeTensor = function (this: EngineInternals, a: tf.Tensor | Held) {
    if (!(a instanceof tf.Variable) && a instanceof tf.Tensor) unregister(a as Registered);
    original.disposeTensor!.call(this, a);
  };
  e.disposeVariable = function (this: EngineInternals, v: tf.Variable | Held) {
    if (v instanceof tf.Variable) unregister(v as Registered);
    original.disposeVariable!.call(this, v);
  };
  e.reset = function (this: EngineInternals) {
    original.reset!.call(this);
    if (enabled) this.state.registeredVariables = weakVariables({});
  };
}

/**
 * Turn automatic freeing on (default) or off for this process. On in notebook
 * kernels already; a script that wants notebook behaviour calls `hl.autoFree()`.
 * Off: no new tensor is registered and variables are held strongly again;
 * tensors registered while it was on are still freed when unreachable.
 */
export function autoFree(on = true): void {
  const e = tf.engine() as unknown as EngineInternals;
  if (on === enabled) return;
  enabled = on;
  if (on) {
    loadGc();
    if (engine !== e) install(e);
    e.state.registeredVariables = weakVariables(e.state.registeredVariables);
  } else {
    const plain: Record<string, tf.Variable> = {};
    for (const name in e.state.registeredVariables) plain[name] = e.state.registeredVariables[name];
    e.state.registeredVariables = plain;
  }
}

export const autoFreeEnabled = (): boolean => enabled;

/**
 * Collect now and release every unreachable tensor; resolves with tf.memory()
 * afterwards. `hyperlab lessons run` calls this after each cell to record the
 * memory a lesson holds. Without autoFree it only reports tf.memory().
 */
export async function freeUnused(): Promise<tf.MemoryInfo> {
  if (enabled) {
    // A new task first: objects touched by WeakRefs in the current one are kept until it ends.
    await new Promise((resolve) => setImmediate(resolve));
    collectNow(false);
    // Finalizers that cleanupSome could not run are posted as tasks: let them run.
    await new Promise((resolve) => setTimeout(resolve, 0));
    await new Promise((resolve) => setImmediate(resolve));
  }
  return tf.memory();
}

/** Counters for tests and reports: collections so far, their total ms, tensors freed. */
export function autoFreeStats(): { collections: number; gcMs: number; freed: number } {
  return { collections: stats.collections, gcMs: stats.gcMs, freed: stats.freed };
}

/**
 * What the lesson runner calls in the kernel after each cell (lib/notebook/kernel_agent.ts):
 * tf.memory() after the collection the kernel makes when it goes idle after a cell, under the
 * same rule (collect when the cell registered a tensor), without its rate limit. A cell that made
 * no tensor is not followed by a full GC of the kernel's heap (~110 MB with TypeScript's program,
 * 0.1-0.2 s), so a tensor it dropped counts until the next collection: the record can only err
 * high, never hide a tensor that is held.
 */
hook.memory = async () => {
  const m = !enabled || stats.registered > 0 ? await freeUnused() : tf.memory();
  return { numTensors: m.numTensors, numBytes: m.numBytes };
};

// Notebook kernels (tslab sets globalThis.__tslab__ before any cell runs) free automatically.
const inKernel = (globalThis as { __tslab__?: unknown }).__tslab__ !== undefined;
const asked = process.env.HYPERLAB_AUTOFREE;
if (asked === '1' || (asked !== '0' && inKernel)) autoFree();
