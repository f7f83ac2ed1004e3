/**
 * XANESNET's `lstm` (v2023-08, and the same module names in v2024-03, shared/specs/models-from-seeds.md):
 *
 *     nn.LSTM(nIn, hidden_size, num_layers, bidirectional=True)      (not batch_first, no dropout between layers)
 *     -> Linear(2 * hidden_size, hidden_out_size) -> act -> Dropout(p) -> Linear(hidden_out_size, nOut)
 *
 * (2023 run files call hidden_out_size `hl_ini_dim`.)
 *
 * The quirk: XANESNET feeds the 2-D batch (B, nIn) straight into nn.LSTM, which
 * reads a 2-D input as ONE unbatched sequence of length B. The recurrence then
 * runs across the (shuffled) samples of each minibatch, so a sample's prediction
 * depends on the samples before and after it in the batch. hyperlab's default is
 * the intended model, each sample a sequence of length 1:
 *
 *     intended: (B, nIn) -> (L = 1, N = B, nIn) -> LSTM -> (1, B, 2h) -> (B, 2h)
 *     original: (B, nIn) =  (L = B, nIn) unbatched -> LSTM -> (B, 2h)
 *
 * and the original is `original_bugs: [lstm_batch_sequence]` in the run file.
 * Both have the same parameters; the LSTM keeps PyTorch's default initialisation
 * (XANESNET's kernel_init touches Linear and Conv layers only).
 *
 * Parameter names, as in both XANESNET layouts (src/model.py 2023-08, xanesnet/model/lstm.py 2024-03):
 * lstm.weight_ih_l0, lstm.weight_ih_l0_reverse, ..., fc.{0, 1 act, 3}. (hyperlab before 2026-12
 * named the head `dense_layers.*`; loadStateDict still reads those keys.)
 */
import { tf } from '../../engine/tf';
import { Module } from '../../nn/module';
import { Sequential } from '../../nn/containers';
import { Linear } from '../../nn/linear';
import { LSTM } from '../../nn/lstm';
import { Dropout } from '../../nn/dropout';
import { getActivation } from '../../nn/activations';
import type { StateDict } from '../../nn/module';
import { renameLegacyKeys } from './legacy_keys';

export interface XanesLSTMOptions {
  nIn: number;
  nOut: number;
  /** Features in the LSTM's hidden state. */
  hiddenSize?: number;
  /** Width of the dense layer after the LSTM (2023: hl_ini_dim). */
  hiddenOutSize?: number;
  numLayers?: number;
  dropout?: number;
  activation?: string;
  /** XANESNET's original: the batch is one sequence (originalBugs 'lstm_batch_sequence'). */
  batchAsSequence?: boolean;
}

export class XanesLSTM extends Module {
  readonly lstm: LSTM;
  readonly fc: Sequential;
  readonly nIn: number;
  readonly batchAsSequence: boolean;

  constructor(o: XanesLSTMOptions) {
    super();
    const { nIn, nOut, hiddenSize = 100, hiddenOutSize = 512, numLayers = 1, dropout = 0.2, activation = 'prelu', batchAsSequence = false } = o;
    for (const [name, v] of Object.entries({ nIn, nOut, hidden_size: hiddenSize, hidden_out_size: hiddenOutSize, num_layers: numLayers })) {
      if (!(Number.isInteger(v) && v >= 1)) throw new Error(`lstm: ${name} must be a positive integer, got ${v}`);
    }
    this.nIn = nIn;
    this.batchAsSequence = batchAsSequence;
    this.lstm = new LSTM(nIn, hiddenSize, { numLayers, bidirectional: true });
    this.fc = new Sequential(new Linear(2 * hiddenSize, hiddenOutSize), getActivation(activation), new Dropout(dropout), new Linear(hiddenOutSize, nOut));
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank !== 2 || x.shape[1] !== this.nIn) {
      throw new Error(`lstm: expected input of shape (batch, ${this.nIn}), got [${x.shape}]`);
    }
    return tf.tidy(() => {
      // h_n and c_n are not used; tidy frees them.
      const h = this.batchAsSequence ? this.lstm.forward(x)[0] : this.lstm.forward(x.expandDims(0))[0].squeeze([0]);
      return this.fc.forward(h);
    });
  }

  /** PyTorch's load_state_dict, also reading hyperlab's keys from before 2026-12 (`dense_layers.*` for `fc.*`). */
  loadStateDict(state: StateDict, strict = true): { missingKeys: string[]; unexpectedKeys: string[] } {
    const legacy = (k: string) => (k.startsWith('dense_layers.') ? `fc.${k.slice('dense_layers.'.length)}` : null);
    return super.loadStateDict(renameLegacyKeys(state, legacy, 'lstm'), strict);
  }

  extraRepr(): string {
    return this.batchAsSequence ? 'original: the batch is one sequence' : '';
  }
}
