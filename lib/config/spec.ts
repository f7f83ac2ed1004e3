/**
 * The shape of a normalized run (`RunSpec`): what runspec.ts builds from a run file
 * of any style, what checks.ts inspects, and what the trainer reads.
 */
import type { RunStyle } from './validate';
import type { LoadGuessSpec } from './load_guess';

export interface LossSpec {
  fn: string;
  args: number | string | null;
  regType: 'l1' | 'l2' | null;
  regLambda: number;
}

export interface EarlyStoppingSpec {
  monitor: string;
  minDelta: number;
  patience: number;
  mode: 'auto' | 'min' | 'max';
  baseline: number | null;
  restoreBestWeights: boolean;
  startFromEpoch: number;
}

export interface XanesDataSpec {
  kind: 'xanes';
  xyzPath: string;
  xanesPath: string;
  descriptor: { type: 'wacsf' | 'rdc'; params: Record<string, unknown> };
  seed: number;
  standardScaler: boolean;
  fourier: { enabled: boolean; concat: boolean };
  augment: { type: 'random_noise' | 'random_combination'; mult: number; mean: number; sd: number } | null;
  kfold: { nSplits: number; nRepeats: number; seed: number; loss: LossSpec } | null;
  bootstrap: { nBoot: number; nSize: number; seeds: number[] } | null;
  ensemble: { nEns: number; seeds: number[] } | null;
  /** XANESNET's model_eval: a 75/15/10 split and invariance tests on the evaluation rows (lib/runs/model_eval.ts). */
  modelEval: boolean;
  maxSamples: number | null;
  /** Drop input features whose training variance is at or below this (lib/data/variance_threshold.ts); 0: keep all. */
  varianceThreshold: number;
}

export interface CubeDataSpec {
  kind: 'cubes';
  datafile: string;
  trainSeeds: number;
  testSeeds: number;
  newtonAugmentation: number;
  targetNoise: number;
  transforms: boolean;
  /**
   * How a cube becomes images: 'axes' (default, the three true axes, as intended) or
   * 'seed' (the seed's cube[:,k,:]^T, cube[k,:,:]^T, cube[k,:,:]; original_bugs: [raccoon_slicing]).
   */
  slicing: 'axes' | 'seed';
  /** Images per forward/backward chunk inside one optimizer step (0: all at once, the seed's step). */
  microBatch: number;
}

export interface TrainSpec {
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: string;
  optimizerOptions: Record<string, unknown>;
  loss: LossSpec;
  /** aegan_mlp only: the discriminator's learning rate, optimizer and loss. */
  dis: { lr: number; optimizer: string; loss: LossSpec } | null;
  seed: number;
  weightSeed: number | null;
  kernelInit: string | null;
  biasInit: string | null;
  scheduler: { type: string; params: Record<string, unknown> } | null;
  valSplit: number;
  testEvery: number;
  earlyStopping: EarlyStoppingSpec | null;
  gradClip: { maxNorm?: number; value?: number } | null;
  checkpointEvery: number;
  tensorboard: boolean;
  progress: boolean;
  /** Start from trained weights and freeze layers (2023 load_guess, 2024 freeze); null: fresh weights. */
  loadGuess: LoadGuessSpec | null;
}

export interface RunSpec {
  file: string;
  style: RunStyle;
  /** The run's name: its directory under runsDir. Same settings, same name: the run resumes. */
  name: string;
  runsDir: string;
  backend: string;
  mode: 'train_xyz' | 'train_xanes' | 'train_aegan' | 'classify';
  model: { type: string; params: Record<string, any> };
  data: XanesDataSpec | CubeDataSpec;
  train: TrainSpec;
  /** XANESNET bugs reproduced on request (see README, "Faithful to the seeds"). */
  originalBugs: string[];
  /** The validated file as read. */
  raw: Record<string, any>;
}
