/**
 * Synchronous reads (`tensor.dataSync()`, `arraySync()`) for tfjs' webgpu backend in Node.
 *
 * WebGPU reads GPU memory back only asynchronously (`GPUBuffer.mapAsync`). In a
 * browser tfjs-backend-webgpu fakes a synchronous read with OffscreenCanvas,
 * which Node lacks (`ReferenceError: OffscreenCanvas is not defined`), and
 * hyperlab reads scalars synchronously (`backward()` returns the loss as a
 * number, gradient clipping reads the norm, ...).
 *
 * How we read synchronously: dawn.node (the `webgpu` package) completes
 * `mapAsync` inside `wgpuInstanceProcessEvents`, which it runs from a callback it
 * hands to the global `setImmediate` while any of its promises is pending; the
 * buffer counts as mapped as soon as that callback has run, before any
 * JavaScript promise settles. We route dawn's setImmediate calls through a small
 * queue (`installEventPump`), and a synchronous read submits the copy, calls
 * mapAsync and runs the queued dawn callbacks itself until the buffer is mapped.
 * Everything else keeps running on the event loop as before: the queue is
 * flushed by one real setImmediate, so dawn's callbacks run exactly when they
 * would have.
 *
 * Dawn's callbacks are the native functions without a name that it passes with
 * no arguments; every other setImmediate call goes straight to Node's.
 */

/** What we use of a GPUBuffer (the `webgpu` package's, typed loosely so that no DOM types are needed). */
export interface MappableBuffer {
  readonly size: number;
  readonly mapState: 'unmapped' | 'pending' | 'mapped';
  mapAsync(mode: number, offset?: number, size?: number): Promise<void>;
  getMappedRange(offset?: number, size?: number): ArrayBuffer;
  unmap(): void;
}

type Callback = () => void;

let installed = false;
let pending: Callback[] = [];
let flushQueued = false;
let realSetImmediate: typeof setImmediate | null = null;

function isDawnPump(fn: unknown, args: unknown[]): fn is Callback {
  return typeof fn === 'function' && fn.name === '' && args.length === 0 && Function.prototype.toString.call(fn).includes('[native code]');
}

/** Run the dawn callbacks queued so far (each may queue the next one). */
function flush(): void {
  flushQueued = false;
  const now = pending;
  pending = [];
  for (const f of now) f();
}

/** Route dawn.node's setImmediate calls through our queue. Call before the first WebGPU call; idempotent. */
export function installEventPump(): void {
  if (installed) return;
  installed = true;
  const real = globalThis.setImmediate;
  realSetImmediate = real;
  const wrapped = function setImmediate(this: unknown, fn: unknown, ...args: unknown[]) {
    if (isDawnPump(fn, args)) {
      pending.push(fn);
      if (!flushQueued) {
        flushQueued = true;
        real(flush);
      }
      return undefined;
    }
    return (real as (...a: unknown[]) => unknown).call(this, fn, ...args);
  };
  // keep setImmediate.__promisify__ and friends
  Object.assign(wrapped, real);
  globalThis.setImmediate = wrapped as unknown as typeof setImmediate;
}

/** Whether the event pump is in place (synchronous reads work only then). */
export function eventPumpInstalled(): boolean {
  return installed && realSetImmediate !== null;
}

/** GPUMapMode.READ (the WebGPU constant; the same in every implementation). */
const MAP_READ = 0x0001;

/**
 * Map `buffer` for reading and wait for it without returning to the event loop.
 * Throws after `timeoutMs` or when dawn has nothing queued that could complete the map.
 */
export function mapReadSync(buffer: MappableBuffer, timeoutMs = 120_000): void {
  if (!eventPumpInstalled()) {
    throw new Error('webgpu: synchronous read without the event pump; use `await tensor.data()` instead of dataSync()');
  }
  const promise = buffer.mapAsync(MAP_READ);
  // the map is awaited here; a rejection is reported below through mapState
  promise.catch(() => undefined);
  const start = Date.now();
  while (buffer.mapState !== 'mapped') {
    if (buffer.mapState === 'unmapped') {
      throw new Error('webgpu: mapping a buffer for a synchronous read failed (device lost or buffer destroyed)');
    }
    if (pending.length === 0) {
      throw new Error(
        'webgpu: a synchronous read cannot progress (this version of the `webgpu` package schedules its work differently); ' +
          'use `await tensor.data()` instead of dataSync(), or another backend',
      );
    }
    flush();
    if (Date.now() - start > timeoutMs) {
      throw new Error(`webgpu: a synchronous read did not complete in ${timeoutMs} ms`);
    }
  }
}

/** Copy out the whole of a mapped-for-read `buffer`'s contents synchronously and unmap it. */
export function readBufferSync(buffer: MappableBuffer): ArrayBuffer {
  mapReadSync(buffer);
  try {
    return buffer.getMappedRange().slice(0);
  } finally {
    buffer.unmap();
  }
}
