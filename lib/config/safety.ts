/**
 * Run-file checks that keep a bad value from losing data or crashing deep inside a library
 * (issue 11's hostile-user probes), each with the field, its line and what to write instead:
 * - numbers that are not finite (`lr: .nan`, `.inf`): YAML reads them as numbers, so the
 *   schema lets them through and the first epoch fails somewhere else;
 * - run names that do not make a new folder inside runs/ (`.`, `..`);
 * - models that cannot fit in memory (`hl_ini_dim: 1e9`): their parameter count is estimated
 *   from the settings before anything is built (the model would fail with "Invalid typed
 *   array length" or "memory access out of bounds").
 */
import * as path from 'node:path';
import type { RunSpec } from './spec';

type Where = (path: string[]) => string;

function at(where: Where, p: string[]): string {
  const line = where(p);
  return `${p.join('.')}${line ? ` (${line})` : ''}`;
}

/** Every number in the file that is NaN or infinite, by path. */
function nonFinite(value: unknown, p: string[] = [], out: [string[], number][] = []): [string[], number][] {
  if (typeof value === 'number' && !Number.isFinite(value)) out.push([p, value]);
  else if (Array.isArray(value)) value.forEach((v, i) => nonFinite(v, [...p, String(i)], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) nonFinite(v, [...p, k], out);
  return out;
}

/** Bytes one float32 parameter costs while training with Adam: the value, its gradient and two moments. */
const BYTES_PER_PARAMETER = 4 * 4;
/** What one process can hold: tfjs' wasm heap and h5wasm top out near 2-4 GiB; 2 GiB leaves room for data. */
export const MEMORY_LIMIT_BYTES = 2 * 1024 ** 3;

/** A lower bound on the parameter count of the XANESNET model (the output layer is left out: its size needs the data). */
export function parameterLowerBound(spec: RunSpec, nIn: number): { count: number; key: string } | null {
  const p = spec.model.params;
  const H = Number(p.hidden_size ?? 0);
  const dense = (a: number, b: number) => a * b + b;
  switch (spec.model.type) {
    case 'mlp':
    case 'ae_mlp': {
      const N = Number(p.num_hidden_layers ?? 5);
      const s = Number(p.shrink_rate ?? 0.5);
      let count = 0;
      let prev = nIn;
      for (let i = 0; i < Math.max(1, N - (spec.model.type === 'mlp' ? 1 : 0)); i++) {
        const w = Math.trunc(H * s ** i);
        count += dense(prev, w);
        prev = w;
      }
      return { count: spec.model.type === 'ae_mlp' ? 2 * count : count, key: 'hidden_size' };
    }
    case 'lstm': {
      const h = H || 100;
      const out = Number(p.hidden_out_size ?? 512);
      const lstm = 2 * 4 * h * (nIn + h + 2) * Number(p.num_layers ?? 1);
      return lstm >= dense(2 * h, out) ? { count: lstm + dense(2 * h, out), key: 'hidden_size' } : { count: lstm + dense(2 * h, out), key: 'hidden_out_size' };
    }
    case 'aegan_mlp':
      return { count: 6 * dense(H, H), key: 'hidden_size' };
    case 'cnn':
    case 'ae_cnn': {
      const c = Number(p.out_channel ?? 32) * Number(p.channel_mul ?? 2) ** Math.max(0, Number(p.num_conv_layers ?? 3) - 1);
      return { count: dense(c, H), key: 'hidden_size' };
    }
    default:
      return null;
  }
}

/** The run-file field that sets a 2024 model parameter, in the file's own style. */
function fieldOf(spec: RunSpec, key: string): string[] {
  if (spec.style !== 'xanesnet-2023') return ['model', 'params', key];
  const names2023: Record<string, Record<string, string>> = {
    mlp: { hidden_size: 'hl_ini_dim' },
    ae_mlp: { hidden_size: 'hl_ini_dim' },
    cnn: { hidden_size: 'hidden_layer' },
    ae_cnn: { hidden_size: 'hidden_layer' },
    lstm: { hidden_out_size: 'hl_ini_dim' },
  };
  return ['hyperparams', names2023[spec.model.type]?.[key] ?? key];
}

export function safetyProblems(raw: Record<string, any>, spec: RunSpec, where: Where, nIn: number | null): string[] {
  const problems: string[] = [];
  for (const [p, v] of nonFinite(raw)) {
    problems.push(`${at(where, p)}: ${v} is not a finite number (YAML reads .nan and .inf as numbers): give a finite value`);
  }
  if (problems.length) return problems; // the sizes below would be NaN too

  // The run directory must be a new folder inside runs/.
  const runsDir = path.resolve(spec.runsDir);
  const runDir = path.resolve(runsDir, spec.name);
  if (/^\.+$/.test(spec.name) || path.dirname(runDir) !== runsDir) {
    const field = spec.style === 'raccoon' && !raw.hyperlab?.name ? ['model_params', 'name'] : ['hyperlab', 'name'];
    problems.push(
      `${at(where, field)}: the run name '${spec.name}' would put the run in ${runDir}, not in a folder of its own inside ${runsDir}: ` +
        'give a name with a letter or digit (letters, digits, . _ -), e.g. my_run',
    );
  }

  if (spec.data.kind === 'xanes' && nIn !== null) {
    const est = parameterLowerBound(spec, nIn);
    if (est && est.count * BYTES_PER_PARAMETER > MEMORY_LIMIT_BYTES) {
      const gib = (b: number) => `${(b / 1024 ** 3).toPrecision(3)} GiB`;
      problems.push(
        `${at(where, fieldOf(spec, est.key))}: this ${spec.model.type} would have at least ${est.count.toExponential(2)} parameters, ` +
          `${gib(est.count * BYTES_PER_PARAMETER)} to train with Adam (values, gradients, two moments), more than the ${gib(MEMORY_LIMIT_BYTES)} one process can hold: ` +
          'lower it (or the number of layers)',
      );
    }
  }
  return problems;
}
