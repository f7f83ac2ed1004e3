/**
 * `summary(model, inputShape?)`: the Keras / torchinfo table of a model.
 *
 * One row per layer (indented by depth): its output shape (when an input shape
 * is given, from one forward pass in eval mode on zeros, so batch-norm statistics
 * are untouched), its parameter count and whether it trains. Frozen layers are
 * marked. Totals count each parameter once, even if two layers share it, and are
 * computed from the live `requiresGrad` flags, so the table never goes stale.
 */
import { tf } from '../engine/tf';
import { noGrad } from '../engine/autograd';
import { Module } from './module';
import { Parameter } from './parameter';

export type TrainableFlag = 'yes' | 'no' | 'partly' | '-';

export interface SummaryRow {
  /** PyTorch name of the layer (`0`, `encoder.1`). */
  name: string;
  type: string;
  depth: number;
  /** Output shape(s) with the batch size, or null without an input shape. */
  outputShape: number[] | number[][] | null;
  /** Parameters of this layer (for a container: of everything inside it). */
  params: number;
  trainable: TrainableFlag;
}

export interface ModelSummary {
  model: string;
  rows: SummaryRow[];
  total: number;
  trainable: number;
  nonTrainable: number;
  /** The table as text, frozen layers marked. */
  toString(): string;
}

function count(params: Iterable<Parameter>): { all: number; trainable: number } {
  let all = 0;
  let trainable = 0;
  for (const p of params) {
    all += p.size;
    if (p.requiresGrad) trainable += p.size;
  }
  return { all, trainable };
}

function flag(c: { all: number; trainable: number }): TrainableFlag {
  if (c.all === 0) return '-';
  if (c.trainable === c.all) return 'yes';
  return c.trainable === 0 ? 'no' : 'partly';
}

function shapesOf(out: unknown): number[] | number[][] | null {
  if (out instanceof tf.Tensor) return out.shape.slice();
  if (Array.isArray(out)) {
    const flat = out.flat(2).filter((o): o is tf.Tensor => o instanceof tf.Tensor);
    return flat.map((t) => t.shape.slice());
  }
  return null;
}

/** Record each module's output shape during one forward pass on zeros of `inputShape`. */
function traceShapes(model: Module, inputShape: number[]): Map<Module, number[] | number[][] | null> {
  const shapes = new Map<Module, number[] | number[][] | null>();
  const modules = [...model.modules()];
  const modes = modules.map((m) => m.training);
  const originals = modules.map((m) => Object.prototype.hasOwnProperty.call(m, 'forward'));
  for (const m of modules) {
    const forward = m.forward;
    m.forward = (...args: unknown[]) => {
      const out = forward.apply(m, args);
      shapes.set(m, shapesOf(out));
      return out;
    };
  }
  try {
    model.eval();
    tf.tidy(() => {
      noGrad(() => model.forward(tf.zeros(inputShape)));
    });
  } catch (e) {
    throw new Error(
      `summary(${model.constructor.name}): the forward pass on an input of shape [${inputShape}] failed: ${(e as Error).message}. Check the input shape (it includes the batch size).`,
    );
  } finally {
    modules.forEach((m, i) => {
      if (!originals[i]) delete (m as { forward?: unknown }).forward;
      m.training = modes[i];
    });
  }
  return shapes;
}

/** Summarise `model`; give `inputShape` (with the batch size, e.g. [1, 49]) to get output shapes. */
export function summary(model: Module, inputShape?: number[]): ModelSummary {
  const shapes = inputShape ? traceShapes(model, inputShape) : null;
  const rows: SummaryRow[] = [];
  for (const [name, m] of model.namedModules()) {
    if (m === model) continue;
    const c = count(m.parameters());
    rows.push({
      name,
      type: m.constructor.name,
      depth: name.split('.').length - 1,
      outputShape: shapes ? (shapes.get(m) ?? null) : null,
      params: c.all,
      trainable: flag(c),
    });
  }
  const totals = count(model.parameters());
  const result: ModelSummary = {
    model: model.constructor.name,
    rows,
    total: totals.all,
    trainable: totals.trainable,
    nonTrainable: totals.all - totals.trainable,
    toString: () => formatSummary(result),
  };
  return result;
}

function showShape(s: SummaryRow['outputShape']): string {
  if (s === null) return '-';
  if (s.length > 0 && Array.isArray(s[0])) return (s as number[][]).map((x) => `[${x.join(', ')}]`).join(' ');
  return `[${(s as number[]).join(', ')}]`;
}

const fmt = (n: number) => n.toLocaleString('en-US');

export function formatSummary(s: ModelSummary): string {
  const head = ['Layer (type)', 'Output shape', 'Param #', 'Trainable'];
  const body = s.rows.map((r) => [
    `${'  '.repeat(r.depth)}${r.name} (${r.type})`,
    showShape(r.outputShape),
    fmt(r.params),
    r.trainable === 'no' ? 'no  (frozen)' : r.trainable === 'partly' ? 'partly frozen' : r.trainable,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('   ')
      .trimEnd();
  const rule = '='.repeat(widths.reduce((a, b) => a + b, 0) + 9);
  return [
    `${s.model}`,
    rule,
    line(head),
    '-'.repeat(rule.length),
    ...body.map(line),
    rule,
    `Total params: ${fmt(s.total)}`,
    `Trainable params: ${fmt(s.trainable)}`,
    `Non-trainable params: ${fmt(s.nonTrainable)}` + (s.nonTrainable > 0 ? '  (frozen layers marked above)' : ''),
    rule,
  ].join('\n');
}
