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
 *       BCE-with-logits, Adam, batch 32                       TODO: needs Conv2d, BatchNorm2d
 *   (d) LSTM seq 50, input 8, hidden 64, linear 1, Adam, batch 32   TODO: needs LSTM
 *   XANESNET mlp (inputs/in_mlp.yaml): 49-512-256-128-64-226, Linear -> Dropout(0.2) -> PReLU,
 *       Adam lr 1e-4, MSE, batch 64
 *   RACCOON L=16 (1x256x256, 3 x conv k4 s4 + BN + LeakyReLU(0.2), linear 2048-16-1,
 *       BCE-with-logits, Adam, batch 4)                         TODO: needs Conv2d, BatchNorm2d
 */
import * as hl from '../lib';
import { tf } from '../lib';

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
}

/** Random inputs: a normal [batch, features] tensor from a fixed seed. */
function normal(seed: number, shape: number[]): tf.Tensor {
  return tf.tensor(new hl.Generator(seed).normalArray(shape.reduce((p, d) => p * d, 1)), shape, 'float32');
}

/** Class indices 0..classes-1 (as float32, the form crossEntropyLoss takes). */
function labels(seed: number, n: number, classes: number): tf.Tensor {
  const g = new hl.Generator(seed);
  return tf.tensor(Array.from({ length: n }, () => g.nextUint32() % classes), [n], 'float32');
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
    new hl.Linear(400, 512), new hl.PReLU(), new hl.Dropout(0.2),
    new hl.Linear(512, 512), new hl.PReLU(), new hl.Dropout(0.2),
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

export const WORKLOADS: Workload[] = [
  { id: 'a_b64', title: '(a) MLP 1000-100-10 ReLU SGD, batch 64', setup: () => mlpA(64) },
  { id: 'a_b1024', title: '(a) MLP 1000-100-10 ReLU SGD, batch 1024', setup: () => mlpA(1024) },
  { id: 'b', title: '(b) MLP 400-512-512-400 PReLU dropout Adam, batch 32', setup: mlpB },
  { id: 'xanesnet_mlp', title: 'XANESNET mlp 49-512-256-128-64-226, batch 64', setup: xanesnetMlp },
  // TODO(lead): hyperlab sides of these, once lib/nn has the layers; torch_bench.py has the PyTorch twins.
  { id: 'c', title: '(c) CNN 1x64x64, 3 conv+BN+ReLU, Adam, batch 32', todo: 'needs Conv2d and BatchNorm2d in lib/nn' },
  { id: 'd', title: '(d) LSTM seq 50, in 8, hidden 64, Adam, batch 32', todo: 'needs LSTM in lib/nn' },
  { id: 'raccoon', title: 'RACCOON L=16, 1x256x256, batch 4', todo: 'needs Conv2d and BatchNorm2d in lib/nn (and the model zoo)' },
];
