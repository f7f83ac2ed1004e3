/**
 * `LSTM(inputSize, hiddenSize, {numLayers, bias, batchFirst, dropout, bidirectional})`
 * with PyTorch's equations, gate order, parameter names and input layouts.
 *
 * At each time step t, for each layer and direction (gates in PyTorch's order i, f, g, o):
 *
 *     [i, f, g, o] = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh      (each H wide)
 *     c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)
 *     h_t = sigmoid(o) * tanh(c_t)
 *
 * The input part x_t W_ih^T + b_ih + b_hh is computed for all time steps in one
 * matMul before the loop; each step then costs one matMul for the recurrence and
 * a few elementwise ops. On wasm with the native addon, the whole loop (and its
 * backpropagation through time) is one native kernel (lib/engine/native/lstm.ts).
 * The reverse direction runs t = L-1 .. 0. Layer k > 0 reads the (concatenated,
 * for bidirectional) outputs of layer k - 1, with dropout between layers in
 * training when `dropout` > 0.
 *
 * Layouts: input (L, N, H_in), or (N, L, H_in) with batchFirst, or unbatched
 * (L, H_in) - a 2-D input is ONE sequence of length L, as in PyTorch.
 * forward returns [output, [h_n, c_n]]: output (L, N, D*H) (D = 2 if
 * bidirectional), h_n and c_n (D*numLayers, N, H) (unbatched: no N dimension).
 */
import { tf } from '../engine/tf';
import { Module } from './module';
import { Parameter } from './parameter';
import { uniform_ } from './init';
import { Dropout } from './dropout';
import { lstmSequenceNative, nativeOpsActive } from '../engine/native';

export interface LSTMOptions {
  numLayers?: number;
  bias?: boolean;
  /** Input and output as (N, L, H) instead of (L, N, H). h and c are (layers, N, H) either way. */
  batchFirst?: boolean;
  /** Dropout probability on the outputs of every layer but the last (training only). */
  dropout?: number;
  bidirectional?: boolean;
}

export type LSTMState = [tf.Tensor, tf.Tensor];

/**
 * tf.unstack along dimension 0, also for a length of 1: tfjs 4.22's Unpack
 * gradient fails when there is one output (it gets a tensor, not a list).
 */
function unstack(t: tf.Tensor): tf.Tensor[] {
  return t.shape[0] === 1 ? [t.squeeze([0])] : tf.unstack(t);
}

export class LSTM extends Module {
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;

  constructor(
    readonly inputSize: number,
    readonly hiddenSize: number,
    opts: LSTMOptions = {},
  ) {
    super();
    this.numLayers = opts.numLayers ?? 1;
    this.bias = opts.bias ?? true;
    this.batchFirst = opts.batchFirst ?? false;
    this.dropout = opts.dropout ?? 0;
    this.bidirectional = opts.bidirectional ?? false;
    const where = `LSTM(${inputSize}, ${hiddenSize})`;
    for (const [name, v] of [
      ['input_size', inputSize],
      ['hidden_size', hiddenSize],
      ['num_layers', this.numLayers],
    ] as const) {
      if (!(Number.isInteger(v) && v > 0)) throw new Error(`${where}: ${name} must be a positive integer, got ${v}`);
    }
    if (!(this.dropout >= 0 && this.dropout <= 1)) throw new Error(`${where}: dropout must be in [0, 1], got ${this.dropout}`);

    // Parameters in PyTorch's order: per layer, per direction: weight_ih, weight_hh, bias_ih, bias_hh.
    // All start as U(-1/sqrt(H), 1/sqrt(H)), as PyTorch's reset_parameters does.
    const bound = 1 / Math.sqrt(hiddenSize);
    const self = this as unknown as Record<string, Parameter>;
    for (let k = 0; k < this.numLayers; k++) {
      const inSize = k === 0 ? inputSize : hiddenSize * this.numDirections;
      for (let d = 0; d < this.numDirections; d++) {
        const sfx = `_l${k}${d === 1 ? '_reverse' : ''}`;
        const make = (shape: number[]) => uniform_(Parameter.filled(shape, 0), -bound, bound);
        self[`weight_ih${sfx}`] = make([4 * hiddenSize, inSize]);
        self[`weight_hh${sfx}`] = make([4 * hiddenSize, hiddenSize]);
        if (this.bias) {
          self[`bias_ih${sfx}`] = make([4 * hiddenSize]);
          self[`bias_hh${sfx}`] = make([4 * hiddenSize]);
        }
      }
    }
  }

  get numDirections(): number {
    return this.bidirectional ? 2 : 1;
  }

  private get where(): string {
    return `LSTM(${this.inputSize}, ${this.hiddenSize}${this.numLayers > 1 ? `, num_layers=${this.numLayers}` : ''})`;
  }

  /** The parameter `weight_ih_l0`, `bias_hh_l1_reverse`, ... (null for a bias when bias = false). */
  param(name: string): Parameter | null {
    return (this as unknown as Record<string, Parameter | undefined>)[name] ?? null;
  }

  /**
   * Run the LSTM over a sequence. `state` = [h0, c0], each (D*numLayers, N, H)
   * ((D*numLayers, H) for unbatched input); zeros when omitted.
   */
  forward(input: tf.Tensor, state?: LSTMState): [tf.Tensor, LSTMState] {
    const unbatched = this.checkInput(input, state);
    const result = tf.tidy(() => {
      // to (L, N, H_in)
      let x = unbatched ? input.expandDims(1) : this.batchFirst ? input.transpose([1, 0, 2]) : input;
      const [L, N] = x.shape;
      const layersTimesDirs = this.numLayers * this.numDirections;
      const [h0, c0] = state
        ? state.map((s) => (unbatched ? s.expandDims(1) : s))
        : [tf.zeros([layersTimesDirs, N, this.hiddenSize]), tf.zeros([layersTimesDirs, N, this.hiddenSize])];
      const h0s = unstack(h0);
      const c0s = unstack(c0);
      const hN: tf.Tensor[] = [];
      const cN: tf.Tensor[] = [];
      for (let k = 0; k < this.numLayers; k++) {
        const outs: tf.Tensor[] = [];
        for (let d = 0; d < this.numDirections; d++) {
          const i = k * this.numDirections + d;
          const [out, h, c] = this.runDirection(x, k, d === 1, h0s[i], c0s[i], L, N);
          outs.push(out);
          hN.push(h);
          cN.push(c);
        }
        x = outs.length === 1 ? outs[0] : tf.concat(outs, 2);
        if (this.training && this.dropout > 0 && k < this.numLayers - 1) x = new Dropout(this.dropout).forward(x);
      }
      let output = x; // (L, N, D*H)
      if (unbatched) output = output.squeeze([1]);
      else if (this.batchFirst) output = output.transpose([1, 0, 2]);
      const h = tf.stack(hN);
      const c = tf.stack(cN);
      return [output, unbatched ? h.squeeze([1]) : h, unbatched ? c.squeeze([1]) : c];
    });
    return [result[0], [result[1], result[2]]];
  }

  /** One layer, one direction over x (L, N, in): returns [outputs (L, N, H), h_L, c_L]. */
  private runDirection(x: tf.Tensor, k: number, reverse: boolean, h0: tf.Tensor, c0: tf.Tensor, L: number, N: number): tf.Tensor[] {
    const sfx = `_l${k}${reverse ? '_reverse' : ''}`;
    const wIh = this.param(`weight_ih${sfx}`)!;
    const wHh = this.param(`weight_hh${sfx}`)!;
    const H4 = 4 * this.hiddenSize;
    // Input projections of every step at once: (L*N, in) x (in, 4H), plus both biases.
    let proj = tf.matMul(x.reshape([L * N, x.shape[2]!]), wIh, false, true);
    if (nativeOpsActive()) {
      // the loop below (and its backward pass) as one native kernel, which also adds the biases
      return lstmSequenceNative(proj.reshape([L, N, H4]), wHh, this.param(`bias_ih${sfx}`), this.param(`bias_hh${sfx}`), h0, c0, reverse);
    }
    if (this.bias) proj = tf.add(proj, tf.add(this.param(`bias_ih${sfx}`)!, this.param(`bias_hh${sfx}`)!));
    const steps = unstack(proj.reshape([L, N, H4])); // L tensors (N, 4H)
    let h = h0;
    let c = c0;
    const outputs: tf.Tensor[] = new Array(L);
    for (let s = 0; s < L; s++) {
      const t = reverse ? L - 1 - s : s;
      const gates = tf.add(steps[t], tf.matMul(h, wHh, false, true));
      const [i, f, g, o] = tf.split(gates, 4, 1);
      c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
      h = tf.mul(tf.sigmoid(o), tf.tanh(c));
      outputs[t] = h;
    }
    return [tf.stack(outputs), h, c];
  }

  /** Check ranks and sizes as PyTorch does; returns true for an unbatched (2-D) input. */
  private checkInput(input: tf.Tensor, state?: LSTMState): boolean {
    if (input.rank !== 2 && input.rank !== 3) {
      throw new Error(
        `${this.where}: expected a 3-D input (L, N, H_in) (or (N, L, H_in) with batchFirst) or an unbatched 2-D (L, H_in), got shape [${input.shape}]`,
      );
    }
    const features = input.shape[input.rank - 1];
    if (features !== this.inputSize) {
      throw new Error(`${this.where}: input of shape [${input.shape}] has ${features} features in its last dimension, expected input_size ${this.inputSize}`);
    }
    if (input.shape[0] === 0 || (input.rank === 3 && input.shape[1] === 0)) {
      throw new Error(`${this.where}: empty input of shape [${input.shape}]`);
    }
    const unbatched = input.rank === 2;
    if (state) {
      if (!Array.isArray(state) || state.length !== 2) {
        throw new Error(`${this.where}: the state must be [h0, c0], got ${Array.isArray(state) ? `${state.length} tensors` : typeof state}`);
      }
      const N = unbatched ? null : input.shape[this.batchFirst ? 0 : 1];
      const expected = [this.numLayers * this.numDirections, ...(N === null ? [] : [N]), this.hiddenSize];
      state.forEach((s, i) => {
        if (s.shape.join(',') !== expected.join(',')) {
          throw new Error(
            `${this.where}: expected ${i === 0 ? 'h0' : 'c0'} of shape [${expected}] (num_layers * num_directions, ${N === null ? '' : 'batch, '}hidden_size), got [${s.shape}]` +
              (unbatched ? ' (the input is unbatched 2-D, so the state is 2-D too)' : ''),
          );
        }
      });
    }
    return unbatched;
  }

  extraRepr(): string {
    let s = `${this.inputSize}, ${this.hiddenSize}`;
    if (this.numLayers !== 1) s += `, num_layers=${this.numLayers}`;
    if (!this.bias) s += ', bias=False';
    if (this.batchFirst) s += ', batch_first=True';
    if (this.dropout) s += `, dropout=${this.dropout}`;
    if (this.bidirectional) s += ', bidirectional=True';
    return s;
  }
}
