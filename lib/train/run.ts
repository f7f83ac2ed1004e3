/**
 * A full run from a run file: `hyperlab train RUN.yaml` and `runFromFile()` in a notebook.
 *
 *     run file -> RunSpec (lib/config) -> data, model, loss, optimizer, schedule
 *              -> Trainer.fit with the run's callbacks -> the run directory
 *
 * The run directory `<runs_dir>/<name>/` holds
 *
 *     run.yaml              the run file as given (first run)
 *     config.json           the resolved settings (RunSpec)
 *     metrics.csv           one row per epoch
 *     tensorboard/          TensorBoard event files
 *     checkpoints/last      the state after the last finished epoch (resume point)
 *     checkpoints/best      the state at the best validation loss
 *     scaler.json           the input scaler, when the run standardises inputs
 *     split.json            which samples were used for training and validation
 *     report.html           curves and metrics (hyperlab report)
 *
 * Running the same file again resumes from checkpoints/last and trains up to `epochs`
 * (raise `epochs` to train longer); changing a setting that defines the run gives a
 * new name, so a new run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { tf } from '../engine/tf';
import { autoBackend, useBackend, BackendName, DeviceReport } from '../engine/backend';
import { manualSeed } from '../engine/random';
import { loadRunSpec, runSpecFromText, RunSpec, XanesDataSpec, CubeDataSpec } from '../config';
import { getLoss } from '../losses';
import { regularization } from '../losses/regularization';
import { optimizerFromConfig, LRScheduler } from '../optim';
import { Module } from '../nn/module';
import { Parameter } from '../nn/parameter';
import { buildModel, TASKS } from '../models/registry';
import { initWeights } from '../models/init_weights';
import { ArrayDataset } from '../data/dataset';
import { DataLoader } from '../data/loader';
import { StandardScaler } from '../data/scaling';
import { trainTestSplit, shuffledIndices, takeRows } from '../data/splits';
import { loadXanesDataset, readSpectrum } from '../data/xanes';
import { makeDescriptor } from '../data/descriptors';
import { Trainer, History, BatchSource } from './trainer';
import { supervised, Task, Optimizerlike } from './task';
import { Callback } from './callback';
import { ProgressBar } from './progress';
import { CSVLogger } from './csv_logger';
import { TensorBoardLogger } from './tensorboard_callback';
import { ModelCheckpoint, hasCheckpoint, resumeTrainer } from './checkpoint_callback';
import { NaNGuard } from './nan_guard';
import { InterruptHandler } from './interrupt';
import { EarlyStopping } from './early_stopping';
import { MetricTask } from './metrics';

export interface RunOptions {
  /** Override the run file's backend. */
  backend?: string;
  /** Extra callbacks (a notebook's live plot). */
  callbacks?: Callback[];
  /** A progress bar (true), one line per epoch ('lines'), or nothing (false); default: the run file's setting. */
  progress?: boolean | 'lines';
  /** Print messages (default true). */
  verbose?: boolean;
}

export interface RunResult {
  spec: RunSpec;
  runDir: string;
  history: History;
  /** The epoch the run resumed from, or null for a fresh run. */
  resumedFrom: number | null;
  stopReason: string | null;
  device: DeviceReport;
  trainer: Trainer;
  /** Free the model and the data tensors. */
  dispose(): void;
}

/** What the model sees: features in, targets out, with their sizes. */
export interface PreparedData {
  train: BatchSource & { length: number };
  validation: BatchSource & { length: number };
  nIn: number;
  nOut: number;
  metrics: MetricTask | null;
  /** Loaders whose shuffling must be restored on resume. */
  stateful: { getState(): unknown; setState(s: any): void }[];
  extra: Record<string, unknown>;
}

function say(opts: RunOptions, msg: string): void {
  if (opts.verbose !== false) console.log(msg);
}

/** XANESNET data: descriptors of the structures and the spectra, split train/validation. */
export function prepareXanes(spec: RunSpec, runDir: string | null): PreparedData {
  const d = spec.data as XanesDataSpec;
  const ds = loadXanesDataset(d.xyzPath, d.xanesPath, d.descriptor);
  // train_xyz: structure -> spectrum; train_xanes: spectrum -> structure.
  const forward = spec.mode !== 'train_xanes';
  let x = Float32Array.from(forward ? ds.x : ds.y);
  let y = Float32Array.from(forward ? ds.y : ds.x);
  const nIn = forward ? ds.nFeatures : ds.nEnergies;
  const nOut = forward ? ds.nEnergies : ds.nFeatures;
  // XANESNET shuffles all samples with `seed` (optionally keeping max_samples), then splits 80/20.
  const order = shuffledIndices(ds.nSamples, { seed: d.seed, nSamples: d.maxSamples ?? undefined });
  x = takeRows(x, nIn, order);
  y = takeRows(y, nOut, order);
  const ids = Array.from(order, (i) => ds.ids[i]);
  const n = order.length;
  const split = trainTestSplit(n, { testSize: spec.train.valSplit, seed: 42 });
  let xTrain = takeRows(x, nIn, split.train);
  let xVal = takeRows(x, nIn, split.test);
  const yTrain = takeRows(y, nOut, split.train);
  const yVal = takeRows(y, nOut, split.test);
  let scaler: StandardScaler | null = null;
  if (d.standardScaler) {
    // Fitted on the training split only (XANESNET refits on every input it sees; see README).
    scaler = new StandardScaler().fit({ data: xTrain, shape: [split.train.length, nIn] });
    xTrain = Float32Array.from(scaler.transform({ data: xTrain, shape: [split.train.length, nIn] }).data);
    xVal = Float32Array.from(scaler.transform({ data: xVal, shape: [split.test.length, nIn] }).data);
  }
  if (runDir) {
    if (scaler) fs.writeFileSync(path.join(runDir, 'scaler.json'), JSON.stringify(scaler.toJSON(), null, 1));
    fs.writeFileSync(
      path.join(runDir, 'split.json'),
      JSON.stringify({ train: Array.from(split.train, (i) => ids[i]), validation: Array.from(split.test, (i) => ids[i]) }, null, 1),
    );
  }
  const train = new DataLoader(new ArrayDataset({ x: { data: xTrain, shape: [split.train.length, nIn] }, y: { data: yTrain, shape: [split.train.length, nOut] } }), {
    batchSize: spec.train.batchSize,
    shuffle: true,
    seed: d.seed,
  });
  const validation = new DataLoader(new ArrayDataset({ x: { data: xVal, shape: [split.test.length, nIn] }, y: { data: yVal, shape: [split.test.length, nOut] } }), {
    batchSize: spec.train.batchSize,
  });
  return {
    train,
    validation,
    nIn,
    nOut,
    metrics: 'regression',
    stateful: [train],
    extra: { energies: Array.from(ds.energies), nTrain: split.train.length, nValidation: split.test.length },
  };
}

/**
 * The model's input and output sizes without loading the data set: the
 * descriptor's length and one spectrum's length (for `hyperlab summary`).
 */
export async function inputShapeOf(spec: RunSpec): Promise<{ nIn: number; nOut: number; inputShape: number[] }> {
  if (spec.data.kind === 'cubes') {
    const size = Number(spec.model.params.input_size ?? 256);
    return { nIn: 1, nOut: 1, inputShape: [2, 1, size, size] };
  }
  const d = spec.data as XanesDataSpec;
  const nFeatures = makeDescriptor(d.descriptor).length;
  if (!fs.existsSync(d.xanesPath)) throw new Error(`run ${spec.name}: the spectra folder ${d.xanesPath} does not exist (check xanes_path / y_path)`);
  const first = fs.readdirSync(d.xanesPath).filter((f) => f.endsWith('.txt')).sort()[0];
  if (!first) throw new Error(`run ${spec.name}: no .txt spectrum in ${d.xanesPath}`);
  const nEnergies = readSpectrum(path.join(d.xanesPath, first)).energies.length;
  const forward = spec.mode !== 'train_xanes';
  const nIn = forward ? nFeatures : nEnergies;
  return { nIn, nOut: forward ? nEnergies : nFeatures, inputShape: [2, nIn] };
}

/** Data preparers by RunSpec data kind; the cube data (RACCOON/PENGUIN) registers itself here. */
export const DATA_PREPARERS: Record<string, (spec: RunSpec, runDir: string | null) => PreparedData | Promise<PreparedData>> = {
  xanes: prepareXanes,
};

async function chooseBackend(spec: RunSpec, opts: RunOptions): Promise<DeviceReport> {
  const asked = opts.backend ?? (spec.backend === 'auto' ? undefined : spec.backend);
  return asked ? useBackend(asked as BackendName, opts.backend ? 'asked for on the command line' : 'asked for by the run file') : autoBackend();
}

/** Build model, data, task and callbacks for a RunSpec, resume if the run directory holds a checkpoint, and train. */
export async function runSpec(spec: RunSpec, opts: RunOptions = {}): Promise<RunResult> {
  const device = await chooseBackend(spec, opts);
  const runDir = path.join(spec.runsDir, spec.name);
  const resuming = hasCheckpoint(path.join(runDir, 'checkpoints', 'last'));
  fs.mkdirSync(runDir, { recursive: true });
  if (!resuming) {
    // The run file as given (or, for a run from text, as parsed).
    if (fs.existsSync(spec.file)) fs.copyFileSync(spec.file, path.join(runDir, 'run.yaml'));
    else fs.writeFileSync(path.join(runDir, 'run.yaml'), stringifyYaml(spec.raw));
    fs.writeFileSync(path.join(runDir, 'config.json'), JSON.stringify({ ...spec, raw: undefined }, null, 2));
  }
  const prepare = DATA_PREPARERS[spec.data.kind];
  if (!prepare) throw new Error(`run ${spec.name}: no data preparer for '${spec.data.kind}' data`);
  const data = await prepare(spec, runDir);

  // Weights: seeded as XANESNET does (manual_seed(weight_seed) before initialising).
  manualSeed(spec.train.weightSeed ?? spec.train.seed);
  const model = buildModel(spec.model.type, spec.model.params, { nIn: data.nIn, nOut: data.nOut }, spec.originalBugs);
  initWeights(model, spec.train.kernelInit, spec.train.biasInit, spec.originalBugs);
  manualSeed(spec.train.seed);

  const loss = getLoss(spec.train.loss.fn, spec.train.loss.args as number | null);
  const makeOptimizer = (params: Parameter[], which: 'gen' | 'dis' = 'gen'): Optimizerlike => {
    const o = which === 'dis' && spec.train.dis ? spec.train.dis : spec.train;
    return optimizerFromConfig(o.optimizer, params, { lr: o.lr, ...spec.train.optimizerOptions }) as unknown as Optimizerlike;
  };
  let task: Task;
  const custom = TASKS[spec.model.type];
  if (custom) {
    task = custom({
      model,
      loss,
      lossDis: spec.train.dis ? getLoss(spec.train.dis.loss.fn, spec.train.dis.loss.args as number | null) : undefined,
      makeOptimizer,
      gradClip: spec.train.gradClip,
      originalBugs: spec.originalBugs,
      spec,
    });
  } else {
    const reg = spec.train.loss.regType;
    const lambda = spec.train.loss.regLambda;
    task = supervised({
      model,
      optimizer: makeOptimizer(model.parameters()),
      loss,
      regularization: reg && lambda ? (params) => regularization(params, reg === 'l1' ? 'L1' : 'L2', lambda) : undefined,
      gradClip: spec.train.gradClip,
      keepPredictions: data.metrics !== null,
    });
  }
  const schedulers = spec.train.scheduler
    ? task.optimizers.map((o) => {
        const s = LRScheduler.fromConfig(o as any, spec.train.scheduler!.type, spec.train.scheduler!.params, spec.train.epochs);
        return { scheduler: s, per: s.interval };
      })
    : [];

  const callbacks: Callback[] = [];
  const progress = opts.progress ?? spec.train.progress;
  if (progress) callbacks.push(new ProgressBar(process.stdout, { bar: progress === true }));
  callbacks.push(new NaNGuard());
  if (spec.train.earlyStopping) callbacks.push(new EarlyStopping(spec.train.earlyStopping));
  callbacks.push(new CSVLogger(path.join(runDir, 'metrics.csv')));
  if (spec.train.tensorboard) callbacks.push(new TensorBoardLogger(path.join(runDir, 'tensorboard')));
  callbacks.push(new ModelCheckpoint(path.join(runDir, 'checkpoints'), { monitor: 'val_loss' }));
  callbacks.push(new InterruptHandler());
  callbacks.push(...(opts.callbacks ?? []));

  const trainer = new Trainer({
    task,
    metrics: data.metrics,
    callbacks,
    schedulers,
    stateful: data.stateful,
    validateEvery: spec.train.testEvery,
  });
  let resumedFrom: number | null = null;
  if (resuming) {
    resumedFrom = resumeTrainer(trainer, path.join(runDir, 'checkpoints', 'last')).epoch;
    say(opts, `resuming ${spec.name} from epoch ${resumedFrom} (${path.join(runDir, 'checkpoints', 'last')})`);
  } else {
    say(opts, `new run ${spec.name} on ${device.backend}: ${spec.model.type}, ${data.train.length} batches per epoch`);
  }
  if (resumedFrom !== null && resumedFrom >= spec.train.epochs) {
    say(opts, `${spec.name} already has ${resumedFrom} of ${spec.train.epochs} epochs; raise epochs in the run file to train longer`);
  }
  const history = await trainer.fit(data.train, { epochs: spec.train.epochs, validation: data.validation });
  const interrupted = trainer.stopReason?.startsWith('interrupted') ?? false;
  if (interrupted) say(opts, `interrupted: run the same command again to resume from epoch ${trainer.epoch} (${runDir})`);
  return {
    spec,
    runDir,
    history,
    resumedFrom,
    stopReason: trainer.stopReason,
    device,
    trainer,
    dispose: () => model.dispose(),
  };
}

/** Run a run file (see runSpec). */
export async function runFromFile(file: string, opts: RunOptions = {}): Promise<RunResult> {
  return runSpec(loadRunSpec(file), opts);
}

/** Run YAML text (a notebook cell); `file` anchors relative paths and names the run. */
export async function runFromText(text: string, file: string, opts: RunOptions = {}): Promise<RunResult> {
  return runSpec(runSpecFromText(text, path.resolve(file)), opts);
}

export type { Module };
