/**
 * Starting a run from a trained model and freezing its first layers, as XANESNET's
 * run files ask for it (read here into one LoadGuessSpec; lib/runs/load_guess.ts loads
 * the weights and freezes):
 *
 *     2023 (src/learn.py, src/freeze_fn.py)         2024 (xanesnet/freeze.py)
 *     load_guess: True                             freeze: True
 *     loadguess_params:                            freeze_params:
 *       model_dir: runs/<name>                       model_path: runs/<name>
 *       freeze_mlp_params:                           n_dense: 2
 *         freeze_dense: True
 *         n_freeze_dense: 2
 *
 * A part's count n freezes its first n layer blocks (the nn.Sequential children of the
 * part, as XANESNET counts them). Parts by model (2023 block / 2024 keys):
 *
 *     mlp        freeze_mlp_params      dense                         n_dense
 *     cnn        freeze_cnn_params      conv, dense                   n_conv, n_dense
 *     lstm       freeze_lstm_params     lstm (layers), dense (all)    n_lstm, n_dense
 *     ae_mlp     freeze_ae_mlp_params   encoder, decoder, dense       n_encoder, n_decoder, n_dense
 *     ae_cnn     freeze_ae_cnn_params   encoder, decoder, dense       n_encoder, n_decoder, n_dense
 *     aegan_mlp  freeze_params          encoder1/2, decoder1/2, shared_encoder/decoder, discrim1/2
 *
 * plus 2023's `loadguess_params.n_freeze` for the lstm (learn.py): every parameter tensor
 * but the last 2 * n_freeze is frozen. The model the weights come from is a hyperlab run
 * directory, one of its checkpoint directories, or a .safetensors file with hyperlab's
 * (PyTorch's) state-dict names; a PyTorch pickle (model.pt) cannot be read.
 */
import { AEGAN_PARTS } from './schema';

export interface FreezeSpec {
  /** part -> number of first layer blocks to freeze (parts per model: see the top of this file). */
  counts: Record<string, number>;
  /** 2023 lstm `n_freeze`: freeze all parameter tensors but the last 2n (null: not given). */
  lstmTrailing: number | null;
}

export interface LoadGuessSpec {
  /** The run-file field that named the source, for messages. */
  field: string;
  /** The source as resolved (absolute path). */
  path: string;
  freeze: FreezeSpec;
}

/** The freezable parts of each model type. */
export const FREEZE_PARTS: Record<string, string[]> = {
  mlp: ['dense'],
  cnn: ['conv', 'dense'],
  lstm: ['lstm', 'dense'],
  ae_mlp: ['encoder', 'decoder', 'dense'],
  ae_cnn: ['encoder', 'decoder', 'dense'],
  aegan_mlp: AEGAN_PARTS,
};

/** The 2023 block of loadguess_params for each model type. */
export const FREEZE_BLOCKS_2023: Record<string, string> = {
  mlp: 'freeze_mlp_params',
  cnn: 'freeze_cnn_params',
  lstm: 'freeze_lstm_params',
  ae_mlp: 'freeze_ae_mlp_params',
  ae_cnn: 'freeze_ae_cnn_params',
  aegan_mlp: 'freeze_params',
};

const PICKLE = /\.(pt|pth|pkl|pickle|bin)$/i;

/** Why a source path cannot be read, from its name alone (the file system is checked when the run starts). */
export function pickleProblem(field: string, p: string): string | null {
  if (!PICKLE.test(p)) return null;
  return (
    `${field}: ${p} is a PyTorch pickle (torch.save), which hyperlab cannot read. Export the weights as safetensors in Python, ` +
    `e.g. \`import torch, safetensors.torch as st; st.save_file(torch.load('${p.split(/[\\/]/).pop()}', weights_only=False).state_dict(), 'model.safetensors')\`, ` +
    'and give the .safetensors file (its names must be the state-dict names of the hyperlab model), or give a hyperlab run directory'
  );
}

type Where = (path: string[]) => string;

/** "field (line N)" for messages. */
function at(where: Where, path: string[]): string {
  const line = where(path);
  return `${path.join('.')}${line ? ` (${line})` : ''}`;
}

/**
 * The load-guess settings of a XANESNET run file, or null when it starts from fresh weights.
 * Problems (messages for a RunFileError) are pushed to `problems`.
 */
export function loadGuessFromRunFile(
  raw: Record<string, any>,
  style: 'xanesnet-2023' | 'xanesnet-2024',
  type: string,
  resolve: (p: string) => string,
  where: Where,
  problems: string[],
): LoadGuessSpec | null {
  const parts = FREEZE_PARTS[type] ?? [];
  const counts: Record<string, number> = {};
  let lstmTrailing: number | null = null;
  let field: string;
  let source: string | undefined;
  if (style === 'xanesnet-2023') {
    if (!raw.load_guess) return null;
    const lp = raw.loadguess_params ?? {};
    field = 'loadguess_params.model_dir';
    source = lp.model_dir;
    if (!source)
      problems.push(
        `${at(where, ['load_guess'])}: load_guess is True but loadguess_params.model_dir is missing: give the run directory (runs/<name>) or .safetensors file of the model to start from`,
      );
    for (const [t, key] of Object.entries(FREEZE_BLOCKS_2023)) {
      if (lp[key] !== undefined && t !== type) {
        problems.push(
          `${at(where, ['loadguess_params', key])}: this block freezes parts of a ${t}, but the run trains ${type}: use loadguess_params.${FREEZE_BLOCKS_2023[type]} (parts: ${parts.join(', ')})`,
        );
      }
    }
    const block = lp[FREEZE_BLOCKS_2023[type]] ?? {};
    for (const part of parts) {
      const flag = block[`freeze_${part}`];
      const n = block[`n_freeze_${part}`];
      if (flag && n === undefined) {
        problems.push(
          `${at(where, ['loadguess_params', FREEZE_BLOCKS_2023[type], `freeze_${part}`])}: freeze_${part} is True but n_freeze_${part} is missing: say how many of the first ${part} layers to freeze`,
        );
      }
      // freeze_<part>: False switches the part off, whatever n_freeze_<part> says (as in XANESNET).
      if (flag && n !== undefined) counts[part] = n;
    }
    if (lp.n_freeze !== undefined) {
      if (type !== 'lstm') {
        problems.push(
          `${at(where, ['loadguess_params', 'n_freeze'])}: n_freeze is XANESNET's lstm rule; for ${type} use loadguess_params.${FREEZE_BLOCKS_2023[type]}`,
        );
      } else if (lp.freeze_lstm_params !== undefined) {
        problems.push(
          `${at(where, ['loadguess_params', 'n_freeze'])}: give either n_freeze (learn.py: all but the last 2 * n_freeze parameter tensors frozen) or freeze_lstm_params, not both`,
        );
      } else {
        lstmTrailing = lp.n_freeze;
      }
    }
  } else {
    if (!raw.freeze) return null;
    const fp = raw.freeze_params ?? {};
    field = 'freeze_params.model_path';
    source = fp.model_path;
    if (!source)
      problems.push(
        `${at(where, ['freeze'])}: freeze is True but freeze_params.model_path is missing: give the run directory (runs/<name>) or .safetensors file of the model to start from`,
      );
    for (const [key, n] of Object.entries(fp)) {
      if (key === 'model_path') continue;
      const part = key.slice(2);
      if (parts.includes(part)) counts[part] = n as number;
      else if ((n as number) > 0) {
        const hint = type === 'ae_cnn' && part === 'conv' ? " (XANESNET's ae_cnn has no conv_layers: its convolutions are the encoder layers, n_encoder)" : '';
        problems.push(
          `${at(where, ['freeze_params', key])}: ${type} has no ${part} part to freeze${hint}; its parts: ${parts.map((p) => `n_${p}`).join(', ')}`,
        );
      }
    }
  }
  if (!source) return null;
  const pickle = pickleProblem(`${at(where, field.split('.'))}`, source);
  if (pickle) problems.push(pickle);
  return { field, path: resolve(source), freeze: { counts, lstmTrailing } };
}
