/**
 * Run-file checks beyond the schema: a key the schema accepts must either take effect
 * or stop the run before any work, with the field, its line and what to write instead.
 * The schema (schema.ts) says which keys and values exist; these checks say which
 * combinations do something. Each problem is one message of a RunFileError.
 *
 * What is refused, and why:
 * - keys that the chosen model or mode does not use (an mlp's `hidden_layer`, aegan_mlp's
 *   `lr` next to `lr_gen`, `loss_gen` on an mlp, ...), except a value that means "off"
 *   (null, or dropout 0: XANESNET's in_aegan.yaml carries `dropout: 0.0`);
 * - switches without their settings (`data_params: True` without `augment`, `lr_scheduler`
 *   without a scheduler type, `bootstrap: True` without `bootstrap_params`, ...), and
 *   settings the switch ignores (normal_mean / normal_sd with random_combination);
 * - loss settings no loss reads: loss_args except for wcc, regularisation on the
 *   autoencoders and aegan_mlp (XANESNET adds it to mlp, cnn and lstm only) and on the
 *   k-fold test loss; losses, schedules and descriptors that would fail later;
 * - kfold, bootstrap and ensemble together (hyperlab runs one of them);
 * - `optuna_params.tune: True` (no Optuna here: `hyperlab sweep`), `model_eval` together
 *   with `hyperlab.val_split` (model_eval fixes the split), `checkpoint_every` other than 1,
 *   original_bugs that the run has nothing for, XANES-only hyperlab keys in a RACCOON file.
 * A switched-off block (`bootstrap: False` with its bootstrap_params, `load_guess: False`
 * with loadguess_params, ...) is fine, as in XANESNET's example files.
 */
import { getLoss } from '../losses/registry';
import { scheduleFromConfig } from '../optim/schedules';
import { makeDescriptor } from '../data/descriptors';
import { safetyProblems } from './safety';
import type { LossSpec, RunSpec, XanesDataSpec } from './spec';

type Where = (path: string[]) => string;

/** "field (line N)". */
function at(where: Where, path: string[]): string {
  const line = where(path);
  return `${path.join('.')}${line ? ` (${line})` : ''}`;
}

/** 2023 hyperparams each model reads (after the names every model reads). */
const COMMON_2023 = ['model', 'batch_size', 'activation', 'weight_init_seed', 'kernel_init', 'bias_init'];
const USED_2023: Record<string, string[]> = {
  mlp: ['loss', 'lr', 'optim_fn', 'n_hl', 'hl_ini_dim', 'hl_shrink', 'dropout'],
  ae_mlp: ['loss', 'lr', 'optim_fn', 'n_hl', 'hl_ini_dim', 'hl_shrink', 'dropout'],
  cnn: ['loss', 'lr', 'optim_fn', 'n_cl', 'out_channel', 'channel_mul', 'hidden_layer', 'kernel_size', 'stride', 'dropout'],
  ae_cnn: ['loss', 'lr', 'optim_fn', 'n_cl', 'out_channel', 'channel_mul', 'hidden_layer', 'kernel_size', 'stride', 'dropout'],
  lstm: ['loss', 'lr', 'optim_fn', 'hidden_size', 'num_layers', 'hl_ini_dim', 'dropout'],
  aegan_mlp: ['loss_gen', 'loss_dis', 'lr_gen', 'lr_dis', 'optim_fn_gen', 'optim_fn_dis', 'hidden_size', 'n_hl_gen', 'n_hl_shared', 'n_hl_dis'],
};

/** 2024 model.params each model reads. */
const USED_2024: Record<string, string[]> = {
  mlp: ['hidden_size', 'num_hidden_layers', 'shrink_rate', 'dropout', 'activation'],
  ae_mlp: ['hidden_size', 'num_hidden_layers', 'shrink_rate', 'dropout', 'activation'],
  cnn: ['hidden_size', 'num_conv_layers', 'out_channel', 'channel_mul', 'kernel_size', 'stride', 'dropout', 'activation'],
  ae_cnn: ['hidden_size', 'num_conv_layers', 'out_channel', 'channel_mul', 'kernel_size', 'stride', 'dropout', 'activation'],
  lstm: ['hidden_size', 'hidden_out_size', 'num_layers', 'dropout', 'activation'],
  aegan_mlp: [
    'hidden_size',
    'num_hidden_layers_gen',
    'num_hidden_layers_shared',
    'num_hidden_layers_dis',
    'activation',
    // XANESNET 2024-03's names for the same, and its optimisers and losses (runspec.ts moves them).
    'n_hl_gen',
    'n_hl_shared',
    'n_hl_dis',
    'lr_gen',
    'lr_dis',
    'optim_fn_gen',
    'optim_fn_dis',
    'loss_gen',
    'loss_dis',
  ],
};

/** A value that cannot mislead: null, or a dropout of 0. */
const isOff = (key: string, v: unknown) => v === null || (key === 'dropout' && v === 0);

/** Which models use a key (for "it is used by ..."). */
function usedBy(table: Record<string, string[]>, key: string): string[] {
  return Object.keys(table).filter((t) => table[t].includes(key));
}

/** A loss as the run uses it: buildable, loss_args only where read, regularisation only where added. */
function checkLoss(loss: LossSpec, raw: any, path: string[], where: Where, regAllowed: string | null, problems: string[]): void {
  if (!raw) return;
  try {
    getLoss(loss.fn, loss.args as number | null);
  } catch (err) {
    problems.push(`${at(where, path)}: ${(err as Error).message}`);
  }
  const args = raw.loss_args;
  if (args !== undefined && args !== null) {
    if (loss.fn !== 'wcc') {
      problems.push(`${at(where, [...path, 'loss_args'])}: ${loss.fn} reads no loss_args (only wcc does: its HWHM in grid points); set it to null`);
    } else if (typeof args !== 'number') {
      problems.push(`${at(where, [...path, 'loss_args'])}: wcc's loss_args is the HWHM in grid points, a number; got ${JSON.stringify(args)}`);
    }
  }
  const reg = raw.loss_reg_type ? String(raw.loss_reg_type).toLowerCase() : null;
  if (reg && reg !== 'none' && regAllowed !== null) {
    problems.push(`${at(where, [...path, 'loss_reg_type'])}: ${regAllowed}; set loss_reg_type to null`);
  }
}

/** The problems of a validated run file once normalised (an empty list when it is fine). */
export function runFileProblems(raw: Record<string, any>, spec: RunSpec, where: Where, notes: string[] = []): string[] {
  const problems: string[] = [];
  const hl = raw.hyperlab ?? {};
  // Non-finite numbers, run names outside runs/, models too big to build (safety.ts).
  let nIn: number | null = null;
  if (spec.data.kind === 'xanes' && spec.mode !== 'train_xanes') {
    try {
      nIn = makeDescriptor((spec.data as XanesDataSpec).descriptor).length;
    } catch {
      nIn = null; // reported below with the descriptor's own message
    }
  }
  const unsafe = safetyProblems(raw, spec, where, nIn);
  if (unsafe.length) return unsafe;
  if (hl.checkpoint_every !== undefined && hl.checkpoint_every !== 1) {
    problems.push(
      `${at(where, ['hyperlab', 'checkpoint_every'])}: hyperlab keeps every finished epoch and writes checkpoints/last every 10 s and when training ends ` +
        '(that is what makes a rerun resume exactly); an interval in epochs is not implemented: remove checkpoint_every',
    );
  }
  if (spec.style === 'raccoon') {
    for (const key of ['mode', 'model', 'val_split', 'max_samples', 'row_order', 'coordinates']) {
      if (hl[key] !== undefined) {
        problems.push(
          `${at(where, ['hyperlab', key])}: hyperlab.${key} is for XANESNET run files; a RACCOON/PENGUIN run takes its model from model_params and its data from data_params: remove it`,
        );
      }
    }
    if (hl.grad_clip !== undefined) {
      problems.push(`${at(where, ['hyperlab', 'grad_clip'])}: the RACCOON/PENGUIN cube step does not clip gradients (the seed does not): remove grad_clip`);
    }
    (hl.original_bugs ?? []).forEach((b: string, i: number) => {
      if (String(b).toLowerCase() !== 'raccoon_slicing') {
        problems.push(
          `${at(where, ['hyperlab', 'original_bugs', String(i)])}: '${b}' is a XANESNET bug; RACCOON/PENGUIN runs have raccoon_slicing only: remove it`,
        );
      }
    });
    return problems;
  }
  const type = spec.model.type;
  const d = spec.data as XanesDataSpec;
  const is2023 = spec.style === 'xanesnet-2023';
  const isAegan = type === 'aegan_mlp';
  const h = raw.hyperparams ?? {};

  // --- the model and its mode ---
  if (is2023) {
    if (
      hl.model !== undefined &&
      h.model !== undefined &&
      String(h.model)
        .toLowerCase()
        .replace(/^aegan$/, 'aegan_mlp') !== hl.model
    ) {
      problems.push(`${at(where, ['hyperlab', 'model'])}: hyperlab.model (${hl.model}) and hyperparams.model (${h.model}) disagree; give the model once`);
    }
    for (const key of Object.keys(h)) {
      if (COMMON_2023.includes(key) || USED_2023[type]?.includes(key) || isOff(key, h[key])) continue;
      const users = usedBy(USED_2023, key);
      const instead = isAegan && ['lr', 'optim_fn', 'loss'].includes(key) ? `; aegan_mlp reads ${key}_gen and ${key}_dis` : '';
      problems.push(
        `${at(where, ['hyperparams', key])}: ${type} does not use ${key} (${users.length ? `it is for ${users.join(', ')}` : 'no model does'})${instead}: remove it`,
      );
    }
  } else {
    if (raw.mode !== undefined && hl.mode !== undefined && raw.mode !== hl.mode) {
      problems.push(`${at(where, ['hyperlab', 'mode'])}: mode (${raw.mode}) and hyperlab.mode (${hl.mode}) disagree; give the mode once, at the top level`);
    }
    const params = raw.model?.params ?? {};
    for (const key of Object.keys(params)) {
      if (USED_2024[type]?.includes(key) || isOff(key, params[key])) continue;
      const users = usedBy(USED_2024, key);
      problems.push(
        `${at(where, ['model', 'params', key])}: ${type} does not use ${key} (${users.length ? `it is for ${users.join(', ')}` : 'no model does'}): remove it`,
      );
    }
    const aeganOnly = ['lr_gen', 'lr_dis', 'loss_gen', 'loss_dis'];
    for (const key of aeganOnly) {
      if (!isAegan && h[key] !== undefined)
        problems.push(`${at(where, ['hyperparams', key])}: only aegan_mlp reads ${key}; ${type} uses ${key.replace(/_(gen|dis)$/, '')}: remove it`);
    }
    if (isAegan && h.lr !== undefined && h.lr_gen !== undefined)
      problems.push(`${at(where, ['hyperparams', 'lr'])}: aegan_mlp's generator lr is lr_gen (lr is its fallback), so lr is not used: remove one of them`);
    if (isAegan && h.loss !== undefined && h.loss_gen !== undefined)
      problems.push(
        `${at(where, ['hyperparams', 'loss'])}: aegan_mlp's generator loss is loss_gen (loss is its fallback), so loss is not used: remove one of them`,
      );
  }
  if (spec.mode === 'train_aegan' && !isAegan) {
    problems.push(
      `${at(where, is2023 ? ['hyperlab', 'mode'] : ['mode'])}: mode train_aegan trains aegan_mlp only; ${type} trains with train_xyz (structure -> spectrum) or train_xanes`,
    );
  }

  // --- losses ---
  const noReg = isAegan ? `hyperlab adds L1/L2 regularisation to mlp, cnn and lstm only; ${type} trains without it` : null;
  // XANESNET's own autoencoder example files (2024 inputs/in_ae_*.yaml) set L2, which it reads and
  // ignores: accepted, with a note that it has no effect (here either).
  const aeReg = !isAegan && type.startsWith('ae_') && h.loss?.loss_reg_type && String(h.loss.loss_reg_type).toLowerCase() !== 'none';
  if (aeReg) {
    notes.push(
      `${at(where, ['hyperparams', 'loss', 'loss_reg_type'])}: XANESNET trains its autoencoders without regularisation (it ignores loss_reg_type), and so does hyperlab: ${h.loss.loss_reg_type} has no effect on ${type}`,
    );
  }
  if (isAegan) {
    const genKey = h.loss_gen !== undefined ? 'loss_gen' : 'loss';
    checkLoss(spec.train.loss, h[genKey], ['hyperparams', genKey], where, noReg, problems);
    checkLoss(spec.train.dis!.loss, h.loss_dis, ['hyperparams', 'loss_dis'], where, noReg, problems);
  } else {
    checkLoss(spec.train.loss, h.loss, ['hyperparams', 'loss'], where, noReg, problems);
  }
  if (d.kfold)
    checkLoss(
      d.kfold.loss,
      raw.kfold_params?.loss,
      ['kfold_params', 'loss'],
      where,
      'the k-fold test loss is the plain loss of the held-out fold (XANESNET adds no regularisation to it)',
      problems,
    );

  // --- original_bugs: each must have something to act on ---
  const bugTargets: Record<string, [boolean, string]> = {
    lstm_batch_sequence: [type === 'lstm', 'the lstm model'],
    aegan_double_sigmoid: [isAegan, 'aegan_mlp'],
    ae_cnn_padding: [type === 'ae_cnn', 'the ae_cnn model'],
    cosine: [[spec.train.loss.fn, d.kfold?.loss.fn].includes('cosine'), 'a cosine loss (loss_fn: cosine)'],
    xavier_normal: [spec.train.kernelInit === 'xavier_normal', 'kernel_init: xavier_normal'],
    raccoon_slicing: [false, 'the cube slicing of RACCOON/PENGUIN runs'],
  };
  spec.originalBugs.forEach((b, i) => {
    const [applies, what] = bugTargets[String(b).toLowerCase()] ?? [true, ''];
    if (!applies) problems.push(`${at(where, ['hyperlab', 'original_bugs', String(i)])}: '${b}' changes ${what}, which this run does not have: remove it`);
  });

  // --- switches and their settings ---
  const aug = is2023 ? raw.augment : raw.augment_params;
  const augOn = is2023 ? raw.data_params : raw.data_augment;
  const augPath = is2023 ? ['augment'] : ['augment_params'];
  if (augOn) {
    const typeKey = is2023 ? 'augment_type' : 'type';
    const normal = is2023 ? (aug?.augment_params ?? {}) : (aug ?? {});
    if (!aug)
      problems.push(
        `${at(where, [is2023 ? 'data_params' : 'data_augment'])}: augmentation is switched on but ${augPath[0]} is missing: give ${augPath[0]}: {${typeKey}: random_noise | random_combination, augment_mult: N, ...}`,
      );
    else if (!aug[typeKey]) problems.push(`${at(where, augPath)}: ${typeKey} is missing: random_noise or random_combination`);
    else if (String(aug[typeKey]).toLowerCase() === 'random_combination') {
      for (const k of ['normal_mean', 'normal_sd']) {
        if (normal[k] !== undefined)
          problems.push(
            `${at(where, [...augPath, ...(is2023 ? ['augment_params'] : []), k])}: random_combination averages two samples and adds no noise, so ${k} does nothing: remove it (or use random_noise)`,
          );
      }
    }
  }
  const sched = raw.lr_scheduler;
  if (is2023 && sched?.scheduler && !sched.scheduler_type) {
    problems.push(`${at(where, ['lr_scheduler'])}: scheduler is True but scheduler_type is missing (step, multistep, exponential, linear, constant, ...)`);
  } else if (!is2023 && sched === true && !raw.scheduler_params?.type) {
    problems.push(
      `${at(where, ['lr_scheduler'])}: lr_scheduler is True but scheduler_params${raw.scheduler_params ? '.type' : ''} is missing: give scheduler_params: {type: step, step_size: ..., gamma: ...}`,
    );
  } else if (spec.train.scheduler) {
    try {
      scheduleFromConfig(spec.train.scheduler.type, spec.train.scheduler.params, spec.train.lr, spec.train.epochs);
    } catch (err) {
      problems.push(`${at(where, is2023 ? ['lr_scheduler'] : ['scheduler_params'])}: ${(err as Error).message}`);
    }
  }
  const variants = (['kfold', 'bootstrap', 'ensemble'] as const).filter((k) => raw[k]);
  if (variants.length > 1) {
    problems.push(
      `${at(where, [variants[1]])}: ${variants.join(' and ')} are all True; hyperlab runs one of k-fold, bootstrap and ensemble at a time: set the others to False`,
    );
  }
  const seedKey = is2023 ? { bootstrap: 'seed_boot', ensemble: 'weight_init_seed' } : { bootstrap: 'weight_seed', ensemble: 'weight_seed' };
  for (const [k, countKey] of [
    ['bootstrap', 'n_boot'],
    ['ensemble', 'n_ens'],
  ] as const) {
    if (!raw[k]) continue;
    const p = raw[`${k}_params`];
    const seeds = p?.[seedKey[k]];
    if (!p || p[countKey] === undefined || !Array.isArray(seeds) || (k === 'bootstrap' && p.n_size === undefined)) {
      const needs = k === 'bootstrap' ? `n_boot, n_size and ${seedKey[k]}` : `n_ens and ${seedKey[k]}`;
      problems.push(
        `${at(where, [k])}: ${k} is True but ${k}_params ${p ? 'lacks some of' : 'is missing'}: give ${k}_params with ${needs} (one seed per model)`,
      );
    } else if (seeds.length < p[countKey]) {
      problems.push(`${at(where, [`${k}_params`, seedKey[k]])}: ${countKey} is ${p[countKey]} but ${seeds.length} seed(s) are given: give one seed per model`);
    }
  }

  // --- model_eval, optuna, the descriptor ---
  if (d.modelEval && hl.val_split !== undefined) {
    problems.push(
      `${at(where, ['hyperlab', 'val_split'])}: with model_eval the split is XANESNET's 75/15/10 (training/validation/evaluation); remove val_split or set model_eval to False`,
    );
  }
  if (raw.optuna === true) {
    problems.push(
      `${at(where, ['optuna'])}: hyperlab has no Optuna search; search with \`hyperlab sweep RUN.yaml --param hyperparams.lr=1e-3,1e-4\` ` +
        '(or --random N with --range FIELD=min:max; README, "Run files") and set optuna to False',
    );
  }
  if (raw.optuna_params?.tune) {
    problems.push(
      `${at(where, ['optuna_params', 'tune'])}: hyperlab has no Optuna search; search with \`hyperlab sweep RUN.yaml --param hyperparams.lr=1e-3,1e-4\` ` +
        '(or --random N with --range FIELD=min:max; README, "Run files") and set tune to False',
    );
  }
  try {
    makeDescriptor(d.descriptor);
  } catch (err) {
    problems.push(`${at(where, ['descriptor'])}: ${(err as Error).message}`);
  }
  return problems;
}
