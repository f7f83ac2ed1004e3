/**
 * The one place hyperlab imports TensorFlow.js from.
 *
 * `@tensorflow/tfjs` brings tfjs-core with every gradient registered and the
 * plain JavaScript `cpu` backend; we add the WebAssembly `wasm` backend. Faster
 * backends are chosen in ./backend.ts.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export { tf };
export type Tensor = tf.Tensor;

// Start on the plain `cpu` backend, which initialises synchronously, so that
// `new Linear(...)` works right after the import, even before any `await`
// (tfjs would otherwise pick `wasm`, which must be awaited first). Faster
// backends are a call away: `await useBackend('wasm')` or `await autoBackend()`.
void tf.setBackend('cpu');
(tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null)!.firstUse = false;
