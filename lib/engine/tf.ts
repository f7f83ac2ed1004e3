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
