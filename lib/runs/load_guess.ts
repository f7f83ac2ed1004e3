/**
 * XANESNET's load_guess (2023) / freeze (2024): the run starts from a trained model's
 * weights instead of kernel_init / bias_init, and the first layer blocks of the parts
 * the run file names stay frozen (requiresGrad = false: no gradient, the optimizer
 * skips them). The settings are read by lib/config/load_guess.ts; see its top for the
 * run-file keys.
 *
 * Where the weights come from (`loadguess_params.model_dir`, `freeze_params.model_path`):
 *
 *     a hyperlab run directory     runs/<name>: its checkpoints/best (checkpoints/last if
 *                                  it has no best); its config.json must train the same model
 *     a checkpoint directory       runs/<name>/checkpoints/last (holds checkpoint.json)
 *     a .safetensors file          a state dict with the hyperlab model's (PyTorch's) names
 *
 * XANESNET loads a pickled module (torch.load of model.pt), whatever its architecture;
 * hyperlab builds the model the run file describes and loads the weights into it, so
 * the architecture settings must be those of the run that saved them (a mismatch is an
 * error naming the first differing tensor). A PyTorch pickle cannot be read from
 * TypeScript: export the state dict as safetensors (the error says how).
 *
 * Freezing as XANESNET counts: "the first n layers" of a part are its first n
 * nn.Sequential children (a hidden block Linear -> Dropout -> act, a conv block, the
 * output Linear in its own Sequential, ...). Two lstm rules differ: the lstm part freezes
 * whole LSTM layers (8 parameter tensors per bidirectional layer) and the dense part
 * freezes all dense layers whatever n > 0 is (XANESNET prints a note saying so); 2023's
 * `n_freeze` freezes every parameter tensor but the last 2 * n_freeze.
 *
 * Fixed on purpose: XANESNET 2024 re-initialises the loaded weights (setup_weight runs
 * after Freeze), which throws the loaded model away; here, as in 2023, the loaded weights
 * are kept. Its aegan discriminator-2 rule tests n_discrim1 instead of n_discrim2; here
 * each part uses its own count.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from '../engine/tf';
import { Module } from '../nn/module';
import { Sequential } from '../nn/containers';
import { Parameter } from '../nn/parameter';
import { RunFileError, RunSpec } from '../config';
import type { FreezeSpec } from '../config';
import { pickleProblem } from '../config/load_guess';
import { CHECKPOINT_FILE, loadCheckpoint } from '../io/checkpoint';
import { loadSafetensors } from '../io/safetensors';
import { checkpointDir, openRunDir, subRuns } from './run_dir';

/** Where each part lives in the model (XANESNET's attribute names, kept by lib/models/xanesnet). */
const PART_PATHS: Record<string, string> = {
  dense: 'dense_layers',
  conv: 'conv_layers',
  encoder: 'encoder_layers',
  decoder: 'decoder_layers',
  lstm: 'lstm',
  encoder1: 'gen_a.encoder_layers',
  encoder2: 'gen_b.encoder_layers',
  decoder1: 'gen_a.decoder_layers',
  decoder2: 'gen_b.decoder_layers',
  shared_encoder: 'enc_shared.dense_layers',
  shared_decoder: 'dec_shared.dense_layers',
  discrim1: 'dis_a.dense_layers',
  discrim2: 'dis_b.dense_layers',
};

/** Parameter tensors per layer of XANESNET's bidirectional LSTM (w_ih, w_hh, b_ih, b_hh, both directions). */
const LSTM_BLOCK_SIZE = 8;

export interface GuessSource {
  kind: 'checkpoint' | 'safetensors';
  /** The checkpoint directory or the .safetensors file. */
  path: string;
  /** For messages: how it was found. */
  description: string;
}

function fail(spec: RunSpec, msg: string): never {
  throw new RunFileError(spec.file, [`${spec.train.loadGuess!.field}: ${msg}`]);
}

/**
 * Find the weights a run starts from, checking everything that can be checked without
 * building the model; called before the run directory is made. Errors are RunFileErrors.
 */
export function resolveGuessSource(spec: RunSpec): GuessSource {
  const lg = spec.train.loadGuess;
  if (!lg) throw new Error('resolveGuessSource: the run does not start from trained weights');
  const p = lg.path;
  const kinds = 'a hyperlab run directory (runs/<name>), one of its checkpoint directories (runs/<name>/checkpoints/last) or a .safetensors file';
  if (!fs.existsSync(p)) fail(spec, `${p} does not exist; give ${kinds}`);
  const pickle = pickleProblem(lg.field, p);
  if (pickle) throw new RunFileError(spec.file, [pickle]);
  if (fs.statSync(p).isFile()) {
    if (!p.toLowerCase().endsWith('.safetensors')) fail(spec, `${p} is neither a directory nor a .safetensors file; give ${kinds}`);
    return { kind: 'safetensors', path: p, description: p };
  }
  if (fs.existsSync(path.join(p, CHECKPOINT_FILE))) return { kind: 'checkpoint', path: p, description: `checkpoint ${p}` };
  if (fs.existsSync(path.join(p, 'model.pt'))) {
    throw new RunFileError(spec.file, [
      pickleProblem(lg.field, path.join(p, 'model.pt'))!.replace(' or give a hyperlab run directory', ' (XANESNET model directories hold a pickled model.pt)'),
    ]);
  }
  if (!['config.json', 'run.yaml'].some((f) => fs.existsSync(path.join(p, f)))) {
    const subs = subRuns(p);
    if (subs.length)
      fail(
        spec,
        `${p} trained ${subs.length} models (${subs.slice(0, 3).join(', ')}${subs.length > 3 ? ', ...' : ''}); give one of them, e.g. ${path.join(p, subs[0])}`,
      );
    fail(spec, `${p} holds no checkpoint.json, config.json or model weights; give ${kinds}`);
  }
  let run;
  try {
    run = openRunDir(p);
  } catch (err) {
    fail(spec, (err as Error).message);
  }
  if (run.spec.model?.type !== spec.model.type) {
    fail(spec, `the run in ${p} trained a ${run.spec.model?.type}, this run file builds a ${spec.model.type}; start from a run of the same model`);
  }
  const has = (w: string) => fs.existsSync(path.join(p, 'checkpoints', w, CHECKPOINT_FILE));
  const which = has('best') ? 'best' : 'last';
  let dir: string;
  try {
    dir = checkpointDir(run, which);
  } catch (err) {
    fail(spec, (err as Error).message);
  }
  return { kind: 'checkpoint', path: dir, description: `run ${run.spec.name}, checkpoints/${which}` };
}

/** Load the source's weights into the model (strict: every name and shape must match). */
export function loadGuessWeights(spec: RunSpec, model: Module, source: GuessSource): void {
  let tensors: Record<string, tf.Tensor>;
  let release: () => void;
  if (source.kind === 'checkpoint') {
    const ck = loadCheckpoint(source.path);
    tensors = ck.weights;
    release = () => ck.dispose();
  } else {
    tensors = loadSafetensors(source.path).tensors;
    release = () => Object.values(tensors).forEach((t) => t.dispose());
  }
  try {
    model.loadStateDict(tensors, true);
  } catch (err) {
    fail(
      spec,
      `the weights of ${source.description} do not fit the ${spec.model.type} this run file describes (${(err as Error).message}); ` +
        'the model settings and the data sizes must be those of the model that saved them',
    );
  } finally {
    release();
  }
}

function get(model: Module, dotted: string): Module | undefined {
  return dotted.split('.').reduce<any>((m, k) => (m == null ? m : m[k]), model);
}

function freezeAll(params: Parameter[]): number {
  let n = 0;
  for (const p of params) {
    p.requiresGrad = false;
    n += p.size;
  }
  return n;
}

/** Freeze what the run file says; returns one line per frozen part, for the run's messages. */
export function applyFreeze(model: Module, type: string, freeze: FreezeSpec): string[] {
  const lines: string[] = [];
  if (freeze.lstmTrailing !== null && freeze.lstmTrailing > 0) {
    // 2023 learn.py: all parameter tensors but the last 2 * n_freeze.
    const params = model.parameters();
    const cut = Math.max(0, params.length - 2 * freeze.lstmTrailing);
    const size = freezeAll(params.slice(0, cut));
    lines.push(
      `n_freeze ${freeze.lstmTrailing}: froze the first ${cut} of ${params.length} parameter tensors (${size} values); the last ${params.length - cut} train`,
    );
  }
  for (const [part, n] of Object.entries(freeze.counts)) {
    if (!(n > 0)) continue;
    // The lstm's dense head is `fc` (XANESNET's name), every other model's `dense_layers`.
    const where = type === 'lstm' && part === 'dense' ? 'fc' : PART_PATHS[part];
    const container = get(model, where);
    if (!container) throw new Error(`freeze: ${type} has no ${where} for part '${part}'`);
    if (type === 'lstm' && part === 'lstm') {
      const params = container.parameters();
      const frozen = params.filter((_, k) => Math.floor(k / LSTM_BLOCK_SIZE) + 1 <= n);
      const layers = Math.ceil(params.length / LSTM_BLOCK_SIZE);
      lines.push(`lstm: froze ${Math.min(n, layers)} of ${layers} LSTM layer(s) (${freezeAll(frozen)} values)`);
      continue;
    }
    if (type === 'lstm' && part === 'dense') {
      lines.push(
        `dense: froze all dense layers (${freezeAll(container.parameters())} values; XANESNET freezes the whole dense head of its lstm for any count > 0)`,
      );
      continue;
    }
    const blocks = [...container.namedChildren()].filter(([, m]) => m instanceof Sequential);
    const frozen = blocks.slice(0, n);
    const size = freezeAll(frozen.flatMap(([, m]) => m.parameters()));
    const more = n > blocks.length ? ` (asked for ${n}; it has ${blocks.length}, all frozen)` : '';
    lines.push(`${part}: froze the first ${frozen.length} of ${blocks.length} blocks of ${where}${more} (${size} values)`);
  }
  return lines;
}

/**
 * The whole step for a new run: weights from the source, then freezing. Returns the
 * messages to print. (A resumed run restores its own checkpoint afterwards; the frozen
 * flags, which checkpoints do not hold, are set here every time.)
 */
export function startFromGuess(spec: RunSpec, model: Module, source: GuessSource): string[] {
  loadGuessWeights(spec, model, source);
  const lines = applyFreeze(model, spec.model.type, spec.train.loadGuess!.freeze);
  const total = model.parameters().reduce((s, p) => s + p.size, 0);
  const trainable = model.parameters().reduce((s, p) => s + (p.requiresGrad ? p.size : 0), 0);
  return [
    `weights from ${source.description} (kernel_init and bias_init not applied)`,
    ...lines.map((l) => `  ${l}`),
    `  ${trainable} of ${total} parameter values train`,
  ];
}
