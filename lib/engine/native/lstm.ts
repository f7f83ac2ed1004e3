/**
 * One LSTM layer direction over a whole sequence as one native kernel forward
 * and one backward (backpropagation through time), fused.cc, for the wasm
 * backend. Step by step in tfjs that is ~10 kernels per step forward and ~25
 * backward, each with tfjs' per-op overhead; lib/nn/lstm.ts has the equations
 * and uses this when nativeOpsActive().
 *
 *     HyperlabLSTM      proj [L, N, 4H], w_hh [4H, H], b_ih? b_hh? [4H], h0 [N, H], c0 [N, H]
 *                       -> out [L, N, H], hN, cN [N, H], gates [L, N, 4H], cells [L, N, H]
 *     HyperlabLSTMGrad  dOut?, dhN?, dcN?, gates, cells, out, h0, c0, w_hh
 *                       -> dproj, dw_hh, dbias, dh0, dc0
 *
 * proj is x_t W_ih^T for every step (one matMul before, whose gradients tfjs
 * computes); the kernel adds both biases. gates (after their activations) and
 * cells are kept for the backward pass only.
 */
import { tf } from '../tf';
import { addonFor, checkFloat32, heapOf, KernelArgs, offsetOf, optionalOffset, registerWasmKernel, runKernel } from './wasm';

const LSTM = 'HyperlabLSTM';
const LSTM_GRAD = 'HyperlabLSTMGrad';

function lstmKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const { proj, whh, bih, bhh, h0, c0 } = inputs as Record<string, tf.TensorInfo>;
  checkFloat32(LSTM, inputs);
  const [L, N, H4] = proj.shape;
  const H = H4 / 4;
  const out = backend.makeOutput([L, N, H], 'float32');
  const hN = backend.makeOutput([N, H], 'float32');
  const cN = backend.makeOutput([N, H], 'float32');
  const gates = backend.makeOutput([L, N, H4], 'float32');
  const cells = backend.makeOutput([L, N, H], 'float32');
  const heap = heapOf(backend);
  const off = (t: tf.TensorInfo) => offsetOf(backend, t);
  addonFor(LSTM).lstmForward(
    heap,
    off(proj),
    off(whh),
    optionalOffset(backend, bih),
    optionalOffset(backend, bhh),
    off(h0),
    off(c0),
    off(out),
    off(hN),
    off(cN),
    off(gates),
    off(cells),
    L,
    N,
    H,
    Boolean(attrs.reverse),
  );
  return [out, hN, cN, gates, cells];
}

function lstmGradKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const { dOut, dhN, dcN, gates, cells, out, h0, c0, whh } = inputs;
  checkFloat32(LSTM_GRAD, inputs);
  const [L, N, H4] = gates!.shape;
  const H = H4 / 4;
  const dproj = backend.makeOutput([L, N, H4], 'float32');
  const dwhh = backend.makeOutput([H4, H], 'float32');
  const db = backend.makeOutput([H4], 'float32');
  const dh0 = backend.makeOutput([N, H], 'float32');
  const dc0 = backend.makeOutput([N, H], 'float32');
  const heap = heapOf(backend);
  const off = (t: tf.TensorInfo | undefined) => optionalOffset(backend, t);
  addonFor(LSTM_GRAD).lstmBackward(
    heap,
    off(dOut),
    off(dhN),
    off(dcN),
    off(gates),
    off(cells),
    off(out),
    off(h0),
    off(c0),
    off(whh),
    off(dproj),
    off(dwhh),
    off(db),
    off(dh0),
    off(dc0),
    L,
    N,
    H,
    Boolean(attrs.reverse),
  );
  return [dproj, dwhh, db, dh0, dc0];
}

let registered = false;

export function registerLstmKernels(): void {
  if (registered) return;
  registered = true;
  registerWasmKernel(LSTM, lstmKernel);
  registerWasmKernel(LSTM_GRAD, lstmGradKernel);
  tf.registerGradient({
    kernelName: LSTM,
    inputsToSave: ['whh', 'h0', 'c0'],
    outputsToSave: [true, false, false, true, true],
    gradFunc: (dys, saved, attrs) => {
      const [whh, h0, c0, out, gates, cells] = saved;
      const [dOut, dhN, dcN] = (dys as (tf.Tensor | null)[]).map((d) => d ?? undefined);
      const [dproj, dwhh, db, dh0, dc0] = runKernel<tf.Tensor[]>(LSTM_GRAD, { dOut, dhN, dcN, gates, cells, out, h0, c0, whh }, attrs);
      // b_ih and b_hh get the same gradient (a copy each: gradients are owned by the parameters)
      return { proj: () => dproj, whh: () => dwhh, bih: () => db.clone(), bhh: () => db.clone(), h0: () => dh0, c0: () => dc0 };
    },
  });
}

/**
 * Run one direction over the sequence: proj [L, N, 4H] (input projections x_t W_ih^T),
 * wHh [4H, H], the biases [4H] (null without), h0 and c0 [N, H]. Returns [out [L, N, H], hN, cN].
 */
export function lstmSequenceNative(
  proj: tf.Tensor,
  wHh: tf.Tensor,
  bIh: tf.Tensor | null,
  bHh: tf.Tensor | null,
  h0: tf.Tensor,
  c0: tf.Tensor,
  reverse: boolean,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const [out, hN, cN, gates, cells] = runKernel<tf.Tensor[]>(LSTM, { proj, whh: wHh, bih: bIh ?? undefined, bhh: bHh ?? undefined, h0, c0 }, { reverse });
  // gates and cells are kept by the tape (when recording) for the backward pass; not needed here
  gates.dispose();
  cells.dispose();
  return [out, hN, cN];
}
