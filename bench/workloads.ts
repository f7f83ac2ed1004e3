/**
 * The benchmark workloads: one training step each (forward + backward +
 * optimizer step), the same models as bench/torch_bench.py builds under the
 * same ids. Add a workload here and there; run.ts times every one with
 * `setup` on every backend and in PyTorch.
 *
 * Workloads (shared/PLATFORM.md):
 *   (a) MLP 1000-100-10, ReLU, SGD, cross-entropy, batch 64 and 1024
 *   (b) MLP 400-512-512-400, PReLU, dropout 0.2, Adam, MSE, batch 32
 *   (c) CNN 1x64x64, 3 x conv(k4,s2,p1)+BN+ReLU (16/32/64), linear 32, linear 1,
 *       BCE-with-logits, Adam, batch 32
 *   (d) LSTM seq 50, input 8, hidden 64, linear 1 on the last step, Adam, MSE, batch 32
 *   XANESNET mlp (inputs/in_mlp.yaml): 49-512-256-128-64-226, Linear -> Dropout(0.2) -> PReLU,
 *       Adam lr 1e-4, MSE, batch 64
 *   RACCOON L=16 (1x256x256, 3 x conv k4 s4 + BN + LeakyReLU(0.2), linear 2048-16-1,
 *       BCE-with-logits, Adam betas (0.5, 0.999), batch 4): lib/models/raccoon.ts
 *
 * A learner's sizes (issue 10), where per-op overhead decides:
 *   xanesnet_small_b16: the default run file (runfiles/xanes_mlp.yaml): mlp 49-256-128-226,
 *       Linear -> Dropout(0.1) -> PReLU, xavier_uniform weights, zero biases, Adam lr 1e-3,
 *       MSE + 1e-4 * (sum of each parameter tensor's L2 norm), batch 16
 *   twolayer_small_b64: the course TwoLayerNet 1000-100-10 (lessons/06), SGD lr 1e-4,
 *       MSE with reduction 'sum', batch 64
 *   simplenn_small_b32: the course SimpleNN 5-8-1 on the diabetes table (first five features
 *       and the target, standardised), Adam lr 0.02, MSE, batches of 32 rows in turn
 *   lstm_small_b1: (d)'s LSTM (seq 50, in 8, hidden 64, linear 1) at batch 1
 */
import * as hl from '../lib';
import { tf } from '../lib';
import { Raccoon } from '../lib/models/raccoon';
import { SimpleNN, TwoLayerNet } from '../lib/models/course';
import { XanesMLP } from '../lib/models/xanesnet/mlp';
import { loadDiabetes } from '../lib/data/tables';

/** One built workload: `step()` runs one training step and returns the loss. */
export interface Trainer {
  step(): number;
  dispose(): void;
}

export interface Workload {
  /** Short id, also the name bench/torch_bench.py knows the PyTorch twin by. */
  id: string;
  title: string;
  /** Build model, data and optimizer (seeded). Absent: the hyperlab side is not written yet (see `todo`). */
  setup?: () => Trainer;
  /** What is missing, for workloads without `setup`. */
  todo?: string;
  /** The target for hyperlab / PyTorch on wasm + OpenBLAS (shown in the table). */
  target?: number;
}

/** Random inputs: a normal [batch, features] tensor from a fixed seed. */
function normal(seed: number, shape: number[]): tf.Tensor {
  return tf.tensor(new hl.Generator(seed).normalArray(shape.reduce((p, d) => p * d, 1)), shape, 'float32');
}

/** Class indices 0..classes-1 (as float32, the form crossEntropyLoss takes). */
function labels(seed: number, n: number, classes: number): tf.Tensor {
  const g = new hl.Generator(seed);
  return tf.tensor(
    Array.from({ length: n }, () => g.nextUint32() % classes),
    [n],
    'float32',
  );
}

/** The usual loop body: zero grads, backward of the loss, optimizer step. */
function trainer(model: hl.Module, opt: { zeroGrad(): void; step(): void }, loss: () => tf.Tensor, data: tf.Tensor[]): Trainer {
  model.train();
  return {
    step() {
      opt.zeroGrad();
      const value = hl.backward(loss);
      opt.step();
      return value;
    },
    dispose() {
      opt.zeroGrad();
      tf.dispose(data);
      model.dispose();
      (opt as { dispose?: () => void }).dispose?.();
    },
  };
}

/** (a) MLP 1000-100-10 with ReLU, SGD lr 0.01, cross-entropy on class indices. */
function mlpA(batch: number): Trainer {
  hl.manualSeed(0);
  const model = new hl.Sequential(new hl.Linear(1000, 100), new hl.ReLU(), new hl.Linear(100, 10));
  const x = normal(1, [batch, 1000]);
  const y = labels(2, batch, 10);
  const opt = new hl.SGD(model.parameters(), { lr: 0.01 });
  return trainer(model, opt, () => hl.crossEntropyLoss(model.forward(x), y), [x, y]);
}

/** (b) MLP 400-512-512-400, PReLU and dropout 0.2 after each hidden layer, Adam lr 1e-3, MSE. */
function mlpB(): Trainer {
  hl.manualSeed(0);
  const model = new hl.Sequential(
    new hl.Linear(400, 512),
    new hl.PReLU(),
    new hl.Dropout(0.2),
    new hl.Linear(512, 512),
    new hl.PReLU(),
    new hl.Dropout(0.2),
    new hl.Linear(512, 400),
  );
  const x = normal(1, [32, 400]);
  const y = normal(2, [32, 400]);
  const opt = new hl.Adam(model.parameters(), { lr: 1e-3 });
  return trainer(model, opt, () => hl.mseLoss(model.forward(x), y), [x, y]);
}

/** XANESNET's mlp with in_mlp.yaml's settings: n_hl 5, 512 shrinking by 0.5, Linear -> Dropout -> PReLU. */
function xanesnetMlp(): Trainer {
  hl.manualSeed(0);
  const sizes = [49, 512, 256, 128, 64];
  const layers: hl.Module[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) layers.push(new hl.Linear(sizes[i], sizes[i + 1]), new hl.Dropout(0.2), new hl.PReLU());
  layers.push(new hl.Linear(64, 226));
  const model = new hl.Sequential(...layers);
  const x = normal(1, [64, 49]);
  const y = normal(2, [64, 226]);
  const opt = new hl.Adam(model.parameters(), { lr: 1e-4 });
  return trainer(model, opt, () => hl.mseLoss(model.forward(x), y), [x, y]);
}

/** Labels 0/1 as float32 [n, 1], the targets of BCE-with-logits. */
function binary(seed: number, n: number): tf.Tensor {
  const g = new hl.Generator(seed);
  return tf.tensor(
    Array.from({ length: n }, () => g.nextUint32() % 2),
    [n, 1],
    'float32',
  );
}

/** (c) CNN 1x64x64: three conv(k4, s2, p1) + BatchNorm2d + ReLU (16/32/64 channels), linear 32, linear 1. */
function cnnC(): Trainer {
  hl.manualSeed(0);
  const block = (i: number, o: number) => [new hl.Conv2d(i, o, 4, { stride: 2, padding: 1 }), new hl.BatchNorm2d(o), new hl.ReLU()];
  const model = new hl.Sequential(
    ...block(1, 16),
    ...block(16, 32),
    ...block(32, 64),
    new hl.Flatten(),
    new hl.Linear(64 * 8 * 8, 32),
    new hl.ReLU(),
    new hl.Linear(32, 1),
  );
  const x = normal(1, [32, 1, 64, 64]);
  const y = binary(2, 32);
  const opt = new hl.Adam(model.parameters(), { lr: 1e-3 });
  return trainer(model, opt, () => hl.bceWithLogitsLoss(model.forward(x), y), [x, y]);
}

/** (d) LSTM(8, 64, batch_first) over 50 steps, then Linear(64, 1) on the last step's output; MSE, Adam. */
class LstmD extends hl.Module {
  readonly lstm = new hl.LSTM(8, 64, { batchFirst: true });
  readonly head = new hl.Linear(64, 1);
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const [out] = this.lstm.forward(x); // (N, L, 64)
      const [N, L, H] = out.shape;
      return this.head.forward(out.slice([0, L - 1, 0], [N, 1, H]).reshape([N, H]));
    });
  }
}

function lstmD(batch = 32): Trainer {
  hl.manualSeed(0);
  const model = new LstmD();
  const x = normal(1, [batch, 50, 8]);
  const y = normal(2, [batch, 1]);
  const opt = new hl.Adam(model.parameters(), { lr: 1e-3 });
  return trainer(model, opt, () => hl.mseLoss(model.forward(x), y), [x, y]);
}

/** RACCOON with layer_param 16 on 1x256x256 images, LeakyReLU(0.2), dropout 0.5, Adam betas (0.5, 0.999), batch 4. */
function raccoon(): Trainer {
  hl.manualSeed(0);
  const model = new Raccoon({ layerParam: 16, inputSize: 256, activation: 'leakyrelu', negativeSlope: 0.2, dropout: 0.5 });
  const x = normal(1, [4, 1, 256, 256]);
  const y = binary(2, 4);
  const opt = new hl.Adam(model.parameters(), { lr: 1e-3, betas: [0.5, 0.999] });
  return trainer(model, opt, () => hl.bceWithLogitsLoss(model.forward(x), y), [x, y]);
}

/** The default XANESNET run file's model and loss (runfiles/xanes_mlp.yaml), on 16 random spectra. */
function xanesnetSmall(): Trainer {
  hl.manualSeed(0);
  const model = new XanesMLP({ nIn: 49, nOut: 226, hiddenSize: 256, numHiddenLayers: 3, shrinkRate: 0.5, dropout: 0.1, activation: 'prelu' });
  for (const [name, p] of model.namedParameters()) {
    if (name.endsWith('.bias')) hl.zeros_(p);
    else if (p.rank === 2) hl.xavierUniform_(p);
  }
  const x = normal(1, [16, 49]);
  const y = normal(2, [16, 226]);
  const opt = new hl.Adam(model.parameters(), { lr: 1e-3 });
  return trainer(model, opt, () => tf.add(hl.mseLoss(model.forward(x), y), hl.regularization(model, 'L2', 1e-4)), [x, y]);
}

/** lessons/06's TwoLayerNet: 1000-100-10, SGD lr 1e-4, MSE summed, batch 64. */
function twoLayerSmall(): Trainer {
  hl.manualSeed(0);
  const model = new TwoLayerNet(1000, 100, 10);
  const x = normal(1, [64, 1000]);
  const y = normal(2, [64, 10]);
  const opt = new hl.SGD(model.parameters(), { lr: 1e-4 });
  return trainer(model, opt, () => hl.mseLoss(model.forward(x), y, { reduction: 'sum' }), [x, y]);
}

/** The diabetes table's first five features and its target, each standardised (mean 0, std 1), in rows of 32. */
export function diabetesBatches(batch = 32): { x: Float32Array; y: Float32Array }[] {
  const t = loadDiabetes();
  const n = t.nSamples;
  const cols = 5;
  const standardise = (get: (i: number) => number) => {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += get(i) / n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (get(i) - mean) ** 2 / n;
    const sd = Math.sqrt(v);
    return Float32Array.from({ length: n }, (_, i) => (get(i) - mean) / sd);
  };
  const xs = Array.from({ length: cols }, (_, j) => standardise((i) => t.x[i * t.nFeatures + j]));
  const ys = standardise((i) => t.y[i]);
  const out: { x: Float32Array; y: Float32Array }[] = [];
  for (let s = 0; s + batch <= n; s += batch) {
    const x = new Float32Array(batch * cols);
    for (let i = 0; i < batch; i++) for (let j = 0; j < cols; j++) x[i * cols + j] = xs[j][s + i];
    out.push({ x, y: ys.slice(s, s + batch) });
  }
  return out;
}

/** lessons/06's SimpleNN 5-8-1 with Adam lr 0.02, on the diabetes table in batches of 32 (one batch per step, in turn). */
function simpleNNSmall(): Trainer {
  hl.manualSeed(0);
  const model = new SimpleNN(5, 8, 1);
  const batches = diabetesBatches(32).map((b) => [tf.tensor(b.x, [32, 5]), tf.tensor(b.y, [32, 1])]);
  const opt = new hl.Adam(model.parameters(), { lr: 0.02 });
  let i = 0;
  return trainer(
    model,
    opt,
    () => {
      const [x, y] = batches[i++ % batches.length];
      return hl.mseLoss(model.forward(x), y);
    },
    batches.flat(),
  );
}

export const WORKLOADS: Workload[] = [
  { id: 'a_b64', title: '(a) MLP 1000-100-10 ReLU SGD, batch 64', setup: () => mlpA(64), target: 1 },
  { id: 'a_b1024', title: '(a) MLP 1000-100-10 ReLU SGD, batch 1024', setup: () => mlpA(1024), target: 1 },
  { id: 'b', title: '(b) MLP 400-512-512-400 PReLU dropout Adam, batch 32', setup: mlpB, target: 1 },
  { id: 'xanesnet_mlp', title: 'XANESNET mlp 49-512-256-128-64-226, batch 64', setup: xanesnetMlp, target: 1 },
  { id: 'c', title: '(c) CNN 1x64x64, 3 conv+BN+ReLU, Adam, batch 32', setup: cnnC, target: 1 },
  { id: 'd', title: '(d) LSTM seq 50, in 8, hidden 64, Adam, batch 32', setup: lstmD, target: 1 },
  { id: 'xanesnet_small_b16', title: 'XANESNET default run file mlp 49-256-128-226, L2 reg, Adam, batch 16', setup: xanesnetSmall, target: 1 },
  { id: 'twolayer_small_b64', title: 'course TwoLayerNet 1000-100-10, SGD lr 1e-4, batch 64', setup: twoLayerSmall, target: 1 },
  { id: 'simplenn_small_b32', title: 'course SimpleNN 5-8-1 on diabetes, Adam, batch 32', setup: simpleNNSmall, target: 1 },
  { id: 'lstm_small_b1', title: 'LSTM seq 50, in 8, hidden 64, Adam, batch 1', setup: () => lstmD(1), target: 1 },
  // not a training step: whole epochs of `hyperlab train` (bench/run_small.ts, run by bench/run.ts itself)
  { id: 'run_small', title: 'per-epoch overhead of hyperlab train (default XANESNET run file) vs a whole PyTorch epoch', target: 0.5 },
  { id: 'raccoon', title: 'RACCOON L=16, 1x256x256, batch 4', setup: raccoon, target: 1 },
];
