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
 *     variance_threshold.json  the kept input features, when variance_threshold > 0
 *     split.json            which samples were used for training and validation (and evaluation)
 *     model_eval.json       the invariance tests, when model_eval is on (lib/runs/model_eval.ts)
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
import { loadRunSpec, runSpecFromText, RunSpec, XanesDataSpec } from '../config';
import { getLoss } from '../losses';
import { regularization } from '../losses/regularization';
import { optimizerFromConfig, LRScheduler } from '../optim';
import { Module } from '../nn/module';
import { Parameter } from '../nn/parameter';
import { buildModel } from '../models/registry';
import { TASKS } from './tasks';
import { initWeights } from '../models/init_weights';
import { takeRows, repeatedKFold, bootstrapIndices } from '../data/splits';
import { readSpectrum } from '../data/xanes';
import { makeDescriptor } from '../data/descriptors';
import { Trainer, History, TrainerOptions } from '../train/trainer';
import { supervised, Task, Optimizerlike } from '../train/task';
import { Callback, StopReason } from '../train/callback';
import { ProgressBar } from '../callbacks/progress';
import { CSVLogger } from '../callbacks/csv_logger';
import { TensorBoardLogger } from '../callbacks/tensorboard';
import { ModelCheckpoint, checkpointState, resumeTrainer } from '../callbacks/model_checkpoint';
import { lockRunDir } from './run_lock';
import { subRuns } from './run_dir';
import { CHECKPOINT_FILE } from '../io/checkpoint';
import { NaNGuard } from '../callbacks/nan_guard';
import { InterruptHandler } from '../callbacks/interrupt';
import { EarlyStopping } from '../callbacks/early_stopping';
import type { DataPreparer, PreparedData } from './prepared';
import { prepareCubes } from './cubes_data';
import { loadXanesArrays, xanesLoaders, prepareXanes, XanesArrays } from './xanes_data';
import { modelEvalAfterTraining, ModelEvalResults, ModelEvalSets } from './model_eval';
import { resolveGuessSource, startFromGuess } from './load_guess';

/**
 * Seconds between checkpoint writes in a run (ModelCheckpoint's `interval`): the finished
 * epochs in between are kept in memory and the last one is written when training ends, also
 * after Ctrl-C, so a rerun resumes exactly; only a process killed outright loses up to this
 * much training. Writing after every epoch (fsync'ed files) cost more than a small run's epoch.
 */
export const CHECKPOINT_INTERVAL_S = 10;

export interface RunOptions {
  /** Override the run file's backend. */
  backend?: string;
  /** Extra callbacks (a notebook's live plot). */
  callbacks?: Callback[];
  /** A progress bar (true), one line per epoch ('lines'), or nothing (false); default: the run file's setting. */
  progress?: boolean | 'lines';
  /** Print messages (default true). */
  verbose?: boolean;
  /**
   * Start the run over: an existing run directory is kept, renamed `<name>.before-restart-<time>`,
   * and a new one is trained (`hyperlab train --restart`).
   */
  restart?: boolean;
  /** Resume from checkpoints/best instead of checkpoints/last (the way out when last is damaged: `--resume-from best`). */
  resumeFrom?: 'last' | 'best';
  /**
   * Seconds between checkpoint writes (default CHECKPOINT_INTERVAL_S; 0: after every epoch). A queue
   * worker on machines that may vanish mid-trial sets it lower (`hyperlab worker --checkpoint-interval`).
   */
  checkpointInterval?: number;
}

export interface RunResult {
  spec: RunSpec;
  runDir: string;
  history: History;
  /** The epoch the run resumed from, or null for a fresh run. */
  resumedFrom: number | null;
  /** Why training stopped early (typed: early_stopping, interrupted, non_finite), or null. */
  stopped: StopReason | null;
  /** The same as one line to print. */
  stopReason: string | null;
  device: DeviceReport;
  trainer: Trainer;
  /** Sub-runs of a k-fold, bootstrap or ensemble run (the fields above are the last one's). */
  variants?: VariantResult[];
  /** The invariance tests of model_eval (XANESNET's core_eval), when the run file asks for them. */
  modelEval?: ModelEvalResults;
  /** Free the model and the data tensors. */
  dispose(): void;
}

function say(opts: RunOptions, msg: string): void {
  if (opts.verbose !== false) console.log(msg);
}

export type { DataPreparer, PreparedData } from './prepared';
export { loadXanesArrays, xanesLoaders, prepareXanes } from './xanes_data';
export type { XanesArrays } from './xanes_data';

/** A run's loss by name; `original_bugs: [cosine]` selects XANESNET's original cosine (the similarity itself). */
export function lossOf(spec: RunSpec, name: string, args: unknown): (pred: tf.Tensor, target: tf.Tensor) => tf.Tensor {
  if (name === 'cosine' && spec.originalBugs.includes('cosine')) return getLoss('cosine', { original: true });
  return getLoss(name, args as number | null);
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
  const first = fs
    .readdirSync(d.xanesPath)
    .filter((f) => f.endsWith('.txt'))
    .sort()[0];
  if (!first) throw new Error(`run ${spec.name}: no .txt spectrum in ${d.xanesPath}`);
  const nEnergies = readSpectrum(path.join(d.xanesPath, first)).energies.length;
  // The Fourier transform turns a spectrum of L points into 2L (3L with concat).
  const spectrum = d.fourier.enabled ? nEnergies * (d.fourier.concat ? 3 : 2) : nEnergies;
  const forward = spec.mode !== 'train_xanes';
  const nIn = forward ? nFeatures : spectrum;
  return { nIn, nOut: forward ? spectrum : nFeatures, inputShape: [2, nIn] };
}

/** Data preparers by RunSpec data kind; the cube data (RACCOON/PENGUIN) registers itself here. */
export const DATA_PREPARERS: Record<string, DataPreparer> = {
  xanes: prepareXanes,
  cubes: prepareCubes,
};

async function chooseBackend(spec: RunSpec, opts: RunOptions): Promise<DeviceReport> {
  const asked = opts.backend ?? (spec.backend === 'auto' ? undefined : spec.backend);
  return asked ? useBackend(asked as BackendName, opts.backend ? 'asked for on the command line' : 'asked for by the run file') : autoBackend();
}

/** One sub-run of a k-fold, bootstrap or ensemble run. */
export interface VariantResult {
  name: string;
  runDir: string;
  history: History;
  /** k-fold: the fold's test loss (kfold_params.loss on the held-out fold). */
  testLoss?: number;
}

/**
 * Build model, data, task and callbacks for a RunSpec, resume if the run directory
 * holds a checkpoint, and train. A XANESNET run with kfold, bootstrap or ensemble
 * trains one sub-run per fold / resample / seed in `fold_<k>`, `boot_<i>`, `ens_<i>`
 * (each resumes on its own) and writes a table of them (`kfold.csv`, ...).
 */
export async function runSpec(spec: RunSpec, opts: RunOptions = {}): Promise<RunResult> {
  const device = await chooseBackend(spec, opts);
  // Fail before any work: the weights a load_guess / freeze run starts from must be readable.
  if (spec.train.loadGuess) resolveGuessSource(spec);
  const runsDir = path.resolve(spec.runsDir);
  const runDir = path.join(runsDir, spec.name);
  if (/^\.+$/.test(spec.name) || path.dirname(path.resolve(runDir)) !== runsDir) {
    throw new Error(
      `run name '${spec.name}' would put the run in ${path.resolve(runDir)}, not in a folder of its own inside ${runsDir}: give a name with a letter or digit`,
    );
  }
  if (opts.restart && fs.existsSync(runDir) && fs.readdirSync(runDir).length > 0) {
    const kept = `${runDir}.before-restart-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    fs.renameSync(runDir, kept);
    say(opts, `--restart: the old run directory is kept as ${kept}`);
  }
  const created = !fs.existsSync(runDir);
  fs.mkdirSync(runDir, { recursive: true });
  const lock = lockRunDir(runDir);
  for (const n of lock.notes) say(opts, n);
  try {
    if (!fs.existsSync(path.join(runDir, 'config.json'))) {
      // The run file as given (or, for a run from text, as parsed).
      if (fs.existsSync(spec.file)) fs.copyFileSync(spec.file, path.join(runDir, 'run.yaml'));
      else fs.writeFileSync(path.join(runDir, 'run.yaml'), stringifyYaml(spec.raw));
      fs.writeFileSync(path.join(runDir, 'config.json'), JSON.stringify({ ...spec, raw: undefined }, null, 2));
    }
    const d = spec.data;
    if (d.kind === 'xanes' && (d.kfold || d.bootstrap || d.ensemble)) return await runVariants(spec, runDir, device, opts);
    const prepare = DATA_PREPARERS[spec.data.kind];
    if (!prepare) throw new Error(`run ${spec.name}: no data preparer for '${spec.data.kind}' data`);
    const data = await prepare(spec, runDir);
    return await runOne(spec, runDir, data, spec.train.weightSeed ?? spec.train.seed, device, opts);
  } catch (err) {
    // A run that failed before its first checkpoint leaves no empty run directory behind.
    lock.release();
    if (created && !fs.existsSync(path.join(runDir, 'checkpoints')) && !subRuns(runDir).length) fs.rmSync(runDir, { recursive: true, force: true });
    throw err;
  } finally {
    lock.release();
  }
}

/**
 * Where a run resumes from: checkpoints/last (or best with `resumeFrom: 'best'`), null for a
 * new run. A damaged checkpoint stops the run before anything is written, naming the file
 * and the ways out; with `resumeFrom: 'best'` the damaged one is kept aside as last.damaged-<time>.
 */
function resumePoint(spec: RunSpec, runDir: string, opts: RunOptions): string | null {
  const lastDir = path.join(runDir, 'checkpoints', 'last');
  const bestDir = path.join(runDir, 'checkpoints', 'best');
  const last = checkpointState(lastDir);
  const best = checkpointState(bestDir);
  const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');
  if (opts.resumeFrom === 'best') {
    if (best.state !== 'ok') {
      throw new Error(
        `run ${spec.name}: --resume-from best, but ${bestDir} ${best.state === 'absent' ? 'does not exist' : `is damaged too (${(best as { reason: string }).reason})`}; start over with --restart`,
      );
    }
    if (last.state !== 'absent') fs.renameSync(lastDir, `${lastDir}.${last.state === 'damaged' ? 'damaged' : 'replaced'}-${stamp()}`);
    const csv = path.join(runDir, 'metrics.csv');
    if (fs.existsSync(csv)) fs.copyFileSync(csv, path.join(runDir, `metrics.before-resume-${stamp()}.csv`));
    return bestDir;
  }
  if (last.state === 'ok') return lastDir;
  if (last.state === 'absent') return null;
  const bestEpoch = best.state === 'ok' ? (JSON.parse(fs.readFileSync(path.join(bestDir, CHECKPOINT_FILE), 'utf8')).epoch as number) : null;
  throw new Error(
    `run ${spec.name}: the checkpoint to resume from is damaged: ${(last as { reason: string }).reason}. Nothing was changed. Ways out: ` +
      (bestEpoch !== null
        ? `resume from checkpoints/best (epoch ${bestEpoch}) with \`hyperlab train RUN.yaml --resume-from best\` (the damaged one is kept as last.damaged-<time>); `
        : '') +
      `or start over with \`hyperlab train RUN.yaml --restart\` (the run directory ${runDir} is kept as ${path.basename(runDir)}.before-restart-<time>)`,
  );
}

async function runVariants(spec: RunSpec, runDir: string, device: DeviceReport, opts: RunOptions): Promise<RunResult> {
  const d = spec.data as XanesDataSpec;
  const a = loadXanesArrays(spec);
  const n = a.ids.length;
  const weightSeed = spec.train.weightSeed ?? spec.train.seed;
  const variants: { name: string; rows: Int32Array | null; testRows?: Int32Array; seed: number }[] = [];
  let kind: 'kfold' | 'bootstrap' | 'ensemble';
  if (d.kfold) {
    kind = 'kfold';
    repeatedKFold(n, { nSplits: d.kfold.nSplits, nRepeats: d.kfold.nRepeats, seed: d.kfold.seed }).forEach((f, k) =>
      variants.push({ name: `fold_${k}`, rows: f.train, testRows: f.test, seed: weightSeed }),
    );
  } else if (d.bootstrap) {
    kind = 'bootstrap';
    const b = d.bootstrap;
    if (b.seeds.length < b.nBoot)
      throw new Error(`run ${spec.name}: bootstrap n_boot is ${b.nBoot} but only ${b.seeds.length} seeds are given; give one seed per model`);
    for (let i = 0; i < b.nBoot; i++) variants.push({ name: `boot_${i}`, rows: bootstrapIndices(n, { nSize: b.nSize, seed: b.seeds[i] }), seed: b.seeds[i] });
  } else {
    kind = 'ensemble';
    const e = d.ensemble!;
    if (e.seeds.length < e.nEns)
      throw new Error(`run ${spec.name}: ensemble n_ens is ${e.nEns} but only ${e.seeds.length} weight seeds are given; give one per model`);
    for (let i = 0; i < e.nEns; i++) variants.push({ name: `ens_${i}`, rows: null, seed: e.seeds[i] });
  }
  const results: VariantResult[] = [];
  let last: RunResult | null = null;
  for (const v of variants) {
    const dir = path.join(runDir, v.name);
    fs.mkdirSync(dir, { recursive: true });
    say(opts, `${kind} ${v.name} (${variants.indexOf(v) + 1} of ${variants.length})`);
    const data = xanesLoaders(spec, a, v.rows, dir);
    last?.dispose();
    last = await runOne(spec, dir, data, v.seed, device, opts);
    const r: VariantResult = { name: v.name, runDir: dir, history: last.history };
    if (v.testRows && d.kfold) r.testLoss = foldTestLoss(last, a, v.testRows, data, lossOf(spec, d.kfold.loss.fn, d.kfold.loss.args));
    results.push(r);
    if (last.stopped?.kind === 'interrupted') break;
  }
  const lastOf = (h: History, k: string) => (h[k] ? h[k][h[k].length - 1] : NaN);
  const header = kind === 'kfold' ? 'variant,test_loss,loss,val_loss' : 'variant,loss,val_loss';
  const rows = results.map((r) => [r.name, ...(kind === 'kfold' ? [r.testLoss] : []), lastOf(r.history, 'loss'), lastOf(r.history, 'val_loss')].join(','));
  fs.writeFileSync(path.join(runDir, `${kind}.csv`), [header, ...rows].join('\n') + '\n');
  if (kind === 'kfold') {
    const t = results.map((r) => r.testLoss!).filter(Number.isFinite);
    const mean = t.reduce((x, y) => x + y, 0) / t.length;
    const std = Math.sqrt(t.reduce((x, y) => x + (y - mean) ** 2, 0) / t.length);
    say(opts, `k-fold test loss (${d.kfold!.loss.fn}): ${mean.toPrecision(4)} +- ${std.toPrecision(3)} over ${t.length} folds`);
  }
  return { ...last!, runDir, variants: results };
}

/** The k-fold loss of a trained fold on its held-out rows (XANESNET: kfold loss(y_test, pred)). */
function foldTestLoss(run: RunResult, a: XanesArrays, rows: Int32Array, data: PreparedData, loss: (pred: tf.Tensor, target: tf.Tensor) => tf.Tensor): number {
  // The model's inputs as in training: variance_threshold's features, then the scaler.
  const prepareInputs = data.extra.prepareInputs as (x: Float32Array, n: number) => Float32Array;
  const x = prepareInputs(takeRows(a.x, a.nIn, rows), rows.length);
  const y = takeRows(a.y, a.nOut, rows);
  const model = run.trainer.model;
  model.eval();
  const value = tf.tidy(() => {
    const out = model.forward(tf.tensor(x, [rows.length, data.nIn]));
    const pred = Array.isArray(out) ? out[out.length - 1] : out; // autoencoders return [recon, pred]
    return loss(pred, tf.tensor(y, [rows.length, a.nOut])).dataSync()[0];
  });
  model.train();
  return value;
}

/**
 * The model of a run: built from the zoo with its seeded initialisation (manual_seed(weight_seed)
 * before initialising, as XANESNET does), or started from trained weights (load_guess / freeze,
 * lib/runs/load_guess.ts) with their messages. Leaves the global seed at the run's seed.
 */
function buildRunModel(spec: RunSpec, data: PreparedData, weightSeed: number): { model: Module; guess: string[] | null } {
  manualSeed(weightSeed);
  const model = buildModel(spec.model.type, spec.model.params, { nIn: data.nIn, nOut: data.nOut }, spec.originalBugs);
  const guess = spec.train.loadGuess ? startFromGuess(spec, model, resolveGuessSource(spec)) : null;
  if (!guess) initWeights(model, spec.train.kernelInit, spec.train.biasInit, spec.originalBugs);
  manualSeed(spec.train.seed);
  return { model, guess };
}

/** The training step of a run: the model's own task (lib/runs/tasks) or supervised() with the run's loss, optimizer and regularisation. */
function buildRunTask(spec: RunSpec, model: Module, data: PreparedData): Task {
  const loss = lossOf(spec, spec.train.loss.fn, spec.train.loss.args);
  const makeOptimizer = (params: Parameter[], which: 'gen' | 'dis' = 'gen'): Optimizerlike => {
    const o = which === 'dis' && spec.train.dis ? spec.train.dis : spec.train;
    return optimizerFromConfig(o.optimizer, params, { lr: o.lr, ...spec.train.optimizerOptions }) as unknown as Optimizerlike;
  };
  const custom = TASKS[spec.model.type];
  if (custom) {
    return custom({
      model,
      loss,
      lossDis: spec.train.dis ? getLoss(spec.train.dis.loss.fn, spec.train.dis.loss.args as number | null) : undefined,
      makeOptimizer,
      gradClip: spec.train.gradClip,
      originalBugs: spec.originalBugs,
      spec,
    });
  }
  const reg = spec.train.loss.regType;
  const lambda = spec.train.loss.regLambda;
  return supervised({
    model,
    optimizer: makeOptimizer(model.parameters()),
    loss,
    regularization: reg && lambda ? (params) => regularization(params, reg === 'l1' ? 'L1' : 'L2', lambda) : undefined,
    gradClip: spec.train.gradClip,
    keepPredictions: data.metrics !== null,
  });
}

/** The run file's learning-rate schedule, one scheduler per optimizer of the task. */
function runSchedulers(spec: RunSpec, task: Task, data: PreparedData): TrainerOptions['schedulers'] {
  const sched = spec.train.scheduler;
  if (!sched) return [];
  return task.optimizers.map((o) => {
    // A per-batch schedule (onecycle) counts batches: its default length is epochs x batches per epoch.
    const length = sched.type === 'onecycle' ? spec.train.epochs * data.train.length : spec.train.epochs;
    const s = LRScheduler.fromConfig(o as any, sched.type, sched.params, length);
    return { scheduler: s, per: s.interval };
  });
}

/** The callbacks of every run: progress, NaN guard, early stopping, CSV, TensorBoard, checkpoints, Ctrl-C, then the caller's. */
function runCallbacks(spec: RunSpec, runDir: string, opts: RunOptions): Callback[] {
  const callbacks: Callback[] = [];
  const progress = opts.progress ?? spec.train.progress;
  if (progress) callbacks.push(new ProgressBar(process.stdout, { bar: progress === true }));
  callbacks.push(new NaNGuard());
  if (spec.train.earlyStopping) callbacks.push(new EarlyStopping(spec.train.earlyStopping));
  callbacks.push(new CSVLogger(path.join(runDir, 'metrics.csv'), { overwrite: true })); // the run's own file
  if (spec.train.tensorboard) callbacks.push(new TensorBoardLogger(path.join(runDir, 'tensorboard')));
  const interval = opts.checkpointInterval ?? CHECKPOINT_INTERVAL_S;
  callbacks.push(new ModelCheckpoint(path.join(runDir, 'checkpoints'), { monitor: 'val_loss', interval }));
  callbacks.push(new InterruptHandler());
  callbacks.push(...(opts.callbacks ?? []));
  return callbacks;
}

/** Put the trainer back to `resumeDir` (resumePoint's choice) and say so, or announce a new run; the epoch it resumes from, or null. */
function resumeOrStart(trainer: Trainer, spec: RunSpec, resumeDir: string | null, device: DeviceReport, data: PreparedData, opts: RunOptions): number | null {
  if (!resumeDir) {
    say(opts, `new run ${spec.name} on ${device.backend}: ${spec.model.type}, ${data.train.length} batches per epoch`);
    return null;
  }
  const resumedFrom = resumeTrainer(trainer, resumeDir).epoch;
  say(opts, `resuming ${spec.name} from epoch ${resumedFrom} (${resumeDir})`);
  return resumedFrom;
}

/** One training run in `runDir`: model, task, schedules and callbacks, resume if there is a checkpoint, fit, then model_eval. */
async function runOne(spec: RunSpec, runDir: string, data: PreparedData, weightSeed: number, device: DeviceReport, opts: RunOptions): Promise<RunResult> {
  const resumeDir = resumePoint(spec, runDir, opts); // before anything is built or written
  const { model, guess } = buildRunModel(spec, data, weightSeed);
  const task = buildRunTask(spec, model, data);
  const trainer = new Trainer({
    task,
    metrics: data.metrics,
    callbacks: runCallbacks(spec, runDir, opts),
    schedulers: runSchedulers(spec, task, data),
    stateful: data.stateful,
    validateEvery: spec.train.testEvery,
  });
  const resumedFrom = resumeOrStart(trainer, spec, resumeDir, device, data, opts);
  for (const m of [...((data.extra.messages as string[] | undefined) ?? []), ...(guess ?? [])]) say(opts, m);
  if (resumedFrom !== null && resumedFrom >= spec.train.epochs) {
    say(opts, `${spec.name} already has ${resumedFrom} of ${spec.train.epochs} epochs; raise epochs in the run file to train longer`);
  }
  const history = await trainer.fit(data.train, { epochs: spec.train.epochs, validation: data.validation });
  const interrupted = trainer.stopped?.kind === 'interrupted';
  if (interrupted) say(opts, `interrupted: run the same command again to resume from epoch ${trainer.epoch} (${runDir})`);
  // model_eval: XANESNET's invariance tests on the evaluation rows, once training is done.
  const evalSets = data.extra.modelEval as ModelEvalSets | undefined;
  const modelEval =
    evalSets && !interrupted
      ? modelEvalAfterTraining(model, evalSets, {
          type: spec.model.type,
          batchSize: spec.train.batchSize,
          seed: spec.train.seed,
          runDir,
          say: (m) => say(opts, m),
        })
      : undefined;
  return {
    spec,
    runDir,
    history,
    modelEval,
    resumedFrom,
    stopped: trainer.stopped,
    stopReason: trainer.stopReason,
    device,
    trainer,
    dispose: () => {
      model.dispose();
      for (const o of task.optimizers) (o as { dispose?: () => void }).dispose?.();
      (data.extra.close as (() => void) | undefined)?.();
    },
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
