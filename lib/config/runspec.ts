/**
 * The normalized run: whatever style the file was written in, the trainer sees
 * one `RunSpec` with XANESNET-2024 parameter names (hidden_size, num_hidden_layers,
 * shrink_rate, num_conv_layers, ...), resolved paths and every default filled in.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { packageRoot } from '../data/paths';
import { ParsedRunFile, readRunFile, RunFileError, parseRunFile } from './validate';
import { loadGuessFromRunFile } from './load_guess';
import { runFileProblems } from './checks';
import type { EarlyStoppingSpec, LossSpec, RunSpec, TrainSpec, XanesDataSpec } from './spec';

export type { LoadGuessSpec, FreezeSpec } from './load_guess';
export type { LossSpec, EarlyStoppingSpec, XanesDataSpec, CubeDataSpec, TrainSpec, RunSpec } from './spec';

/** Paths in a run file are relative to the file; `hyperlab:` points into the package (embedded datasets). */
export function resolvePath(p: string, runFile: string): string {
  if (p.startsWith('hyperlab:')) return path.join(packageRoot(), p.slice('hyperlab:'.length));
  return path.resolve(path.dirname(runFile), p);
}

function loss2023(l: any, fallback = 'mse'): LossSpec {
  const reg = l?.loss_reg_type ? String(l.loss_reg_type).toLowerCase() : null;
  return {
    fn: String(l?.loss_fn ?? fallback).toLowerCase(),
    args: l?.loss_args ?? null,
    regType: reg === 'l1' || reg === 'l2' ? reg : null,
    regLambda: Number(l?.loss_reg_param ?? 0),
  };
}

function earlyStopping(es: any): EarlyStoppingSpec | null {
  if (!es) return null;
  return {
    monitor: es.monitor ?? 'val_loss',
    minDelta: es.min_delta ?? 0,
    patience: es.patience ?? 0,
    mode: es.mode ?? 'auto',
    baseline: es.baseline ?? null,
    restoreBestWeights: es.restore_best_weights ?? false,
    startFromEpoch: es.start_from_epoch ?? 0,
  };
}

function hyperlabTrain(h: any): Pick<TrainSpec, 'valSplit' | 'earlyStopping' | 'gradClip' | 'checkpointEvery' | 'tensorboard' | 'progress' | 'loadGuess'> {
  return {
    valSplit: h?.val_split ?? 0.2,
    earlyStopping: earlyStopping(h?.early_stopping),
    gradClip: h?.grad_clip ? { maxNorm: h.grad_clip.max_norm, value: h.grad_clip.value } : null,
    checkpointEvery: h?.checkpoint_every ?? 1,
    tensorboard: h?.tensorboard ?? true,
    progress: h?.progress ?? true,
    loadGuess: null, // filled in by toRunSpec for XANESNET files
  };
}

/** Does the run's schedule take its length from `epochs` (cosine without T_max, onecycle without total_steps, EpyNN's)? */
function scheduleFollowsEpochs(raw: Record<string, any>): boolean {
  const on = raw.lr_scheduler === true || raw.lr_scheduler?.scheduler === true;
  if (!on) return false;
  const type = String(raw.lr_scheduler?.scheduler_type ?? raw.scheduler_params?.type ?? '').toLowerCase();
  const params = raw.lr_scheduler?.scheduler_param ?? raw.scheduler_params ?? {};
  if (type === 'cosine') return params.T_max === undefined;
  if (type === 'onecycle') return params.total_steps === undefined && params.epochs === undefined;
  return ['steady', 'exp_decay', 'lin_decay'].includes(type);
}

/** A short stable hash of the settings that define a run (not epochs, not display options). */
function runHash(raw: Record<string, any>): string {
  const defining = JSON.parse(JSON.stringify(raw));
  // epochs does not define a run (raise it to train longer) unless the learning-rate
  // schedule's length defaults to it: then more epochs is a different schedule.
  if (!scheduleFollowsEpochs(raw)) {
    delete defining.epochs;
    if (defining.hyperparams) delete defining.hyperparams.epochs;
    if (defining.train_params) delete defining.train_params.epochs;
  }
  if (defining.hyperlab) {
    for (const k of ['progress', 'tensorboard', 'backend', 'runs_dir', 'name', 'checkpoint_every']) delete defining.hyperlab[k];
    if (Object.keys(defining.hyperlab).length === 0) delete defining.hyperlab;
  }
  const canonical = (v: any): any =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, canonical(v[k])]),
        )
      : v;
  return createHash('sha256')
    .update(JSON.stringify(canonical(defining)))
    .digest('hex')
    .slice(0, 8);
}

const modes2023: Record<string, RunSpec['mode']> = { aegan: 'train_aegan', aegan_mlp: 'train_aegan' };

/** What differs between the two XANESNET styles, read from the file; xanesRunSpec builds the rest. */
interface XanesPieces {
  type: string;
  params: Record<string, any>;
  mode: RunSpec['mode'];
  xyzPath: string;
  xanesPath: string;
  seed: number;
  kfoldSeed: number;
  weightSeed: number | null;
  epochs: number;
  lr: number;
  optimizer: string;
  loss: LossSpec;
  dis: TrainSpec['dis'];
  scheduler: TrainSpec['scheduler'];
  standardScaler: boolean;
  fourier: XanesDataSpec['fourier'];
  augment: { type: string; augment_mult?: number; normal_mean?: number; normal_sd?: number } | null;
  bootstrapSeeds: number[] | undefined;
  ensembleSeeds: number[] | undefined;
  modelEval: boolean;
  varianceThreshold: number;
}

function xanesRunSpec(p: ParsedRunFile, x: XanesPieces): RunSpec {
  const r = p.raw;
  const h = r.hyperparams;
  const hl = r.hyperlab ?? {};
  return {
    file: p.file,
    style: p.style,
    name: hl.name ?? `${path.basename(p.file).replace(/\.ya?ml$/, '')}-${x.type}-${runHash(r)}`,
    runsDir: hl.runs_dir ? resolvePath(hl.runs_dir, p.file) : path.resolve('runs'),
    backend: hl.backend ?? 'auto',
    mode: x.mode,
    model: { type: x.type, params: x.params },
    data: {
      kind: 'xanes',
      xyzPath: x.xyzPath,
      xanesPath: x.xanesPath,
      descriptor: { type: (r.descriptor?.type ?? 'wacsf').toLowerCase(), params: r.descriptor?.params ?? {} },
      seed: x.seed,
      standardScaler: x.standardScaler,
      fourier: x.fourier,
      augment: x.augment
        ? {
            type: String(x.augment.type).toLowerCase() as 'random_noise' | 'random_combination',
            mult: x.augment.augment_mult ?? 1,
            mean: x.augment.normal_mean ?? 0,
            sd: x.augment.normal_sd ?? 0.1,
          }
        : null,
      kfold: r.kfold
        ? { nSplits: r.kfold_params?.n_splits ?? 5, nRepeats: r.kfold_params?.n_repeats ?? 1, seed: x.kfoldSeed, loss: loss2023(r.kfold_params?.loss) }
        : null,
      bootstrap: r.bootstrap ? { nBoot: r.bootstrap_params?.n_boot, nSize: r.bootstrap_params?.n_size, seeds: x.bootstrapSeeds ?? [] } : null,
      ensemble: r.ensemble ? { nEns: r.ensemble_params?.n_ens, seeds: x.ensembleSeeds ?? [] } : null,
      modelEval: x.modelEval,
      maxSamples: hl.max_samples ?? null,
      rowOrder: hl.row_order ?? 'hyperlab',
      coordinates: hl.coordinates ?? 'float64',
      varianceThreshold: x.varianceThreshold,
    },
    train: {
      epochs: x.epochs,
      batchSize: h.batch_size,
      lr: x.lr,
      optimizer: x.optimizer,
      // aegan_mlp: both optimizers get weight_decay 1e-5, as XANESNET builds them.
      optimizerOptions: x.type === 'aegan_mlp' ? { weight_decay: 1e-5 } : {},
      loss: x.loss,
      dis: x.dis,
      seed: x.seed,
      weightSeed: x.weightSeed,
      kernelInit: h.kernel_init?.toLowerCase() ?? null,
      biasInit: h.bias_init?.toLowerCase() ?? null,
      scheduler: x.scheduler,
      testEvery: 1,
      ...hyperlabTrain(hl),
    },
    originalBugs: hl.original_bugs ?? [],
    raw: r,
  };
}

function fromXanes2023(p: ParsedRunFile): RunSpec {
  const r = p.raw;
  const h = r.hyperparams;
  const hl = r.hyperlab ?? {};
  const type = String(hl.model ?? h.model ?? '')
    .toLowerCase()
    .replace(/^aegan$/, 'aegan_mlp');
  if (!type) {
    throw new RunFileError(p.file, [
      'hyperparams.model is missing: name the model mode (mlp, cnn, ae_mlp, ae_cnn, aegan_mlp, lstm); XANESNET 2023 took it from --model_mode',
    ]);
  }
  // 2023 names -> 2024 names (shared/specs/models-from-seeds.md, the rename table).
  const params: Record<string, any> = {
    hidden_size: type === 'lstm' ? h.hidden_size : type.startsWith('aegan') ? h.hidden_size : type.includes('cnn') ? h.hidden_layer : h.hl_ini_dim,
    dropout: h.dropout,
    num_hidden_layers: h.n_hl,
    shrink_rate: h.hl_shrink,
    activation: h.activation,
    num_conv_layers: h.n_cl,
    out_channel: h.out_channel,
    channel_mul: h.channel_mul,
    kernel_size: h.kernel_size,
    stride: h.stride,
    hidden_out_size: type === 'lstm' ? h.hl_ini_dim : undefined,
    num_layers: h.num_layers,
    num_hidden_layers_gen: h.n_hl_gen,
    num_hidden_layers_shared: h.n_hl_shared,
    num_hidden_layers_dis: h.n_hl_dis,
  };
  for (const k of Object.keys(params)) if (params[k] === undefined) delete params[k];
  const isAegan = type === 'aegan_mlp';
  return xanesRunSpec(p, {
    type,
    params,
    mode: hl.mode ?? modes2023[type] ?? 'train_xyz',
    xyzPath: resolvePath(r.x_path, p.file),
    xanesPath: resolvePath(r.y_path, p.file),
    seed: r.seed ?? 2021,
    kfoldSeed: r.seed ?? 2021,
    weightSeed: h.weight_init_seed ?? null,
    epochs: r.epochs,
    lr: isAegan ? (h.lr_gen ?? 1e-3) : (h.lr ?? 1e-3),
    optimizer: String(isAegan ? (h.optim_fn_gen ?? 'adam') : (h.optim_fn ?? 'adam')).toLowerCase(),
    loss: loss2023(isAegan ? h.loss_gen : h.loss),
    dis: isAegan ? { lr: h.lr_dis ?? 1e-4, optimizer: String(h.optim_fn_dis ?? 'adam').toLowerCase(), loss: loss2023(h.loss_dis, 'bce') } : null,
    scheduler: r.lr_scheduler?.scheduler ? { type: String(r.lr_scheduler.scheduler_type).toLowerCase(), params: r.lr_scheduler.scheduler_param ?? {} } : null,
    standardScaler: false,
    fourier: { enabled: r.fourier_transform ?? false, concat: false },
    augment: r.data_params && r.augment ? { type: r.augment.augment_type, augment_mult: r.augment.augment_mult, ...(r.augment.augment_params ?? {}) } : null,
    bootstrapSeeds: r.bootstrap_params?.seed_boot,
    ensembleSeeds: r.ensemble_params?.weight_init_seed,
    modelEval: r.model_eval ?? false,
    // XANESNET 2023 reads variance_threshold but never applies it; 0.0 (its examples) keeps every feature.
    varianceThreshold: r.variance_threshold ?? 0,
  });
}

function fromXanes2024(p: ParsedRunFile): RunSpec {
  const r = p.raw;
  const h = r.hyperparams;
  const hl = r.hyperlab ?? {};
  const type = String(r.model.type).toLowerCase();
  const isAegan = type === 'aegan_mlp';
  // XANESNET 2024-03 keeps aegan_mlp's layer counts (n_hl_*), optimisers and losses in model.params.
  const { n_hl_gen, n_hl_shared, n_hl_dis, lr_gen, lr_dis, optim_fn_gen, optim_fn_dis, loss_gen, loss_dis, ...modelParams } = r.model.params ?? {};
  const renamed = { num_hidden_layers_gen: n_hl_gen, num_hidden_layers_shared: n_hl_shared, num_hidden_layers_dis: n_hl_dis };
  for (const [k, v] of Object.entries(renamed)) if (v !== undefined && modelParams[k] === undefined) modelParams[k] = v;
  const g = {
    lr_gen: lr_gen ?? h.lr_gen,
    lr_dis: lr_dis ?? h.lr_dis,
    optim_gen: optim_fn_gen ?? h.optim_fn,
    optim_dis: optim_fn_dis ?? h.optim_fn,
    loss_gen: loss_gen ?? h.loss_gen,
    loss_dis: loss_dis ?? h.loss_dis,
  };
  return xanesRunSpec(p, {
    type,
    params: modelParams,
    mode: r.mode ?? hl.mode ?? (isAegan ? 'train_aegan' : 'train_xyz'),
    xyzPath: resolvePath(r.xyz_path, p.file),
    xanesPath: resolvePath(r.xanes_path, p.file),
    seed: h.seed ?? 2021,
    kfoldSeed: r.kfold_params?.seed ?? h.seed ?? 2021,
    weightSeed: h.weight_seed ?? null,
    epochs: h.epochs,
    lr: isAegan ? (g.lr_gen ?? h.lr ?? 1e-3) : (h.lr ?? 1e-3),
    optimizer: String((isAegan ? g.optim_gen : h.optim_fn) ?? 'adam').toLowerCase(),
    loss: loss2023(isAegan ? (g.loss_gen ?? h.loss) : h.loss),
    dis: isAegan ? { lr: g.lr_dis ?? 1e-4, optimizer: String(g.optim_dis ?? 'adam').toLowerCase(), loss: loss2023(g.loss_dis, 'bce') } : null,
    scheduler:
      r.lr_scheduler && r.scheduler_params ? (({ type: t, ...rest }) => ({ type: String(t ?? 'step').toLowerCase(), params: rest }))(r.scheduler_params) : null,
    standardScaler: r.standardscaler ?? false,
    fourier: { enabled: r.fourier_transform ?? false, concat: r.fourier_params?.concat ?? false },
    augment: r.data_augment && r.augment_params ? (({ augment_params: nested, ...a }) => ({ ...(nested ?? {}), ...a }))(r.augment_params) : null,
    bootstrapSeeds: r.bootstrap_params?.weight_seed,
    ensembleSeeds: r.ensemble_params?.weight_seed,
    modelEval: h.model_eval ?? false,
    varianceThreshold: 0,
  });
}

function fromRaccoon(p: ParsedRunFile): RunSpec {
  const r = p.raw;
  const m = r.model_params;
  const d = r.data_params;
  const t = r.train_params;
  const hl = r.hyperlab ?? {};
  const arch = ['penguin', 'p'].includes(String(m.architecture ?? '').toLowerCase()) ? 'penguin' : 'raccoon';
  const L = m.layer_param;
  const dropout = m.dropout ?? 0.5;
  const na = d.newton_augmentation ?? 1;
  // The seed's model name: {name}_{datafile stem}_{arch}_lp{L}_do{dropout}_na{na}_ts{N}
  const stem = path.basename(d.datafile).replace(/\.[^.]+$/, '');
  // Python formats the floats dropout and newton_augmentation as 0.5 and 1.0 (not 1).
  const pyFloat = (x: number) => (Number.isInteger(x) ? x.toFixed(1) : String(x));
  const name = hl.name ?? `${m.name ?? 'run'}_${stem}_${arch}_lp${L}_do${pyFloat(dropout)}_na${pyFloat(na)}_ts${d.train_seeds}`;
  // The seed's batch sizes, counted in cubes.
  const batch = d.batch_size ?? (arch === 'raccoon' ? (L <= 16 ? 4 : L <= 32 ? 5 : 2) : L <= 16 ? 2 : 1);
  return {
    file: p.file,
    style: p.style,
    name,
    runsDir: hl.runs_dir || t.log_dir ? resolvePath(hl.runs_dir ?? t.log_dir, p.file) : path.resolve('runs'),
    backend: hl.backend ?? 'auto',
    mode: 'classify',
    model: { type: arch, params: { layer_param: L, dropout, activation: m.activation ?? 'leakyrelu', input_size: m.input_size ?? 256 } },
    data: {
      kind: 'cubes',
      datafile: resolvePath(d.datafile, p.file),
      trainSeeds: d.train_seeds,
      testSeeds: d.test_seeds,
      newtonAugmentation: na,
      targetNoise: d.target_noise ?? 0,
      transforms: t.transforms ?? true,
      slicing: (hl.original_bugs ?? []).includes('raccoon_slicing') ? 'seed' : (d.slicing ?? 'axes'),
      microBatch: t.micro_batch ?? 0,
    },
    train: {
      epochs: t.epochs,
      batchSize: batch,
      lr: t.lr,
      optimizer: 'adam',
      optimizerOptions: { betas: [0.5, 0.999], weight_decay: 1e-11 },
      loss: { fn: 'bce', args: null, regType: null, regLambda: 0 },
      dis: null,
      seed: 42,
      weightSeed: null,
      kernelInit: null,
      biasInit: null,
      scheduler: null,
      testEvery: t.test_every ?? 2,
      ...hyperlabTrain(hl),
    },
    originalBugs: hl.original_bugs ?? [],
    raw: r,
  };
}

/** The normalised run, after the checks of checks.ts (a key that would do nothing is a RunFileError). */
export function toRunSpec(parsed: ParsedRunFile): RunSpec {
  const spec = parsed.style === 'xanesnet-2023' ? fromXanes2023(parsed) : parsed.style === 'xanesnet-2024' ? fromXanes2024(parsed) : fromRaccoon(parsed);
  const where = parsed.where ?? (() => '');
  const problems: string[] = [];
  if (spec.style !== 'raccoon') {
    spec.train.loadGuess = loadGuessFromRunFile(parsed.raw, spec.style, spec.model.type, (p) => resolvePath(p, parsed.file), where, problems);
  }
  const notes: string[] = [];
  problems.push(...runFileProblems(parsed.raw, spec, where, notes));
  if (problems.length) throw new RunFileError(parsed.file, problems);
  for (const n of notes) console.warn(`${parsed.file}: note: ${n}`);
  return spec;
}

/** Read a run file from disk into a RunSpec (validation errors are RunFileError). */
export function loadRunSpec(file: string): RunSpec {
  return toRunSpec(readRunFile(path.resolve(file)));
}

/** Parse run-file text (for notebooks and tests); `file` anchors relative paths. */
export function runSpecFromText(text: string, file = path.resolve('run.yaml')): RunSpec {
  return toRunSpec(parseRunFile(text, file));
}
