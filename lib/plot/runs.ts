/**
 * Several runs on one chart: `{ name: values per epoch }`, `{ name: history }`
 * or `{ name: { history } }` (anything that carries a Trainer history).
 *
 *     show(runCurves({ 'lr 0.01': h1, 'lr 0.1': h2 }, { title: 'Learning rate' }));   // val_loss of each
 *     show(runCurves(runs, { keys: ['loss', 'val_loss'], logY: true }));              // dashed val_loss
 *
 * A run keeps its colour in every chart of a kernel session (the first chart
 * that shows a name picks a colour no other run in that chart has), so "lr 0.1"
 * is the same colour wherever a lesson draws it. A run that reaches NaN or
 * infinity stops there, with a note on the chart; `yRange` clips a diverging run
 * so that it does not flatten the others.
 */
import { baseLayout, COLORS, Figure, Trace } from './figure';
import type { HistoryLike } from './loss_curves';

export interface RunCurvesOptions {
  /** Which history entries to draw per run (default ['val_loss']); the 2nd, 3rd... are dashed, dotted. */
  keys?: string[];
  title?: string;
  xTitle?: string;
  /** The y axis label (default: the key, when there is one). */
  yTitle?: string;
  logY?: boolean;
  /** Show only this y range ([low, high], in data units also on a log axis). */
  yRange?: [number, number];
  /** The x of the first value (default 1: epochs counted from 1). */
  x0?: number;
  /** 'lines+markers' (default) or 'lines' (for long series). */
  mode?: 'lines' | 'lines+markers' | 'markers';
}

const DASHES = ['solid', 'dash', 'dot', 'dashdot'];
const assigned = new Map<string, string>();

/** The colour of a run, the same in every chart; `taken` are the colours already in this chart. */
export function runColor(name: string, taken: Set<string> = new Set()): string {
  const known = assigned.get(name);
  if (known) return known;
  const used = new Set(assigned.values());
  const color = COLORS.find((c) => !taken.has(c) && !used.has(c)) ?? COLORS.find((c) => !taken.has(c)) ?? COLORS[assigned.size % COLORS.length];
  assigned.set(name, color);
  return color;
}

/** Forget the colours given so far (a new lesson, or a test). */
export function resetRunColors(): void {
  assigned.clear();
}

/** What runCurves draws for one run. */
export type RunLike = number[] | HistoryLike | { history: HistoryLike };

export function runCurves(runs: Record<string, RunLike>, opts: RunCurvesOptions = {}): Figure {
  if (!runs || typeof runs !== 'object' || Object.keys(runs).length === 0) {
    throw new Error("runCurves: expected runs by name, e.g. { 'lr 0.1': history.val_loss } or { 'lr 0.1': history }");
  }
  const keys = opts.keys ?? ['val_loss'];
  const x0 = opts.x0 ?? 1;
  const data: Trace[] = [];
  const notes: string[] = [];
  const taken = new Set<string>();
  for (const [run, given] of Object.entries(runs)) {
    const carried = given && !Array.isArray(given) && typeof given.history === 'object' && !Array.isArray(given.history);
    const entry = (carried ? (given as { history: HistoryLike }).history : given) as number[] | HistoryLike;
    const color = runColor(run, taken);
    taken.add(color);
    const series: [string, number[] | undefined][] = Array.isArray(entry)
      ? [[run, entry]]
      : keys.map((k) => [keys.length > 1 ? `${run}: ${k}` : run, entry?.[k]]);
    series.forEach(([name, values], i) => {
      if (!Array.isArray(values)) {
        const has = entry && !Array.isArray(entry) ? Object.keys(entry).join(', ') : '';
        throw new Error(`runCurves: run '${run}' has no '${keys[i]}'; it has: ${has} (pick them with { keys: [...] })`);
      }
      const stop = values.findIndex((v) => !Number.isFinite(v));
      const shown = stop < 0 ? values : values.slice(0, stop);
      if (stop >= 0) notes.push(`${name} stops at ${values[stop]} (x = ${stop + x0})`);
      const x = shown.map((_, j) => j + x0);
      data.push({ type: 'scatter', mode: opts.mode ?? 'lines+markers', name, x, y: shown, line: { color, dash: DASHES[i % DASHES.length] } });
    });
  }
  const layout = baseLayout(opts.title ?? 'Runs', opts.xTitle ?? 'epoch', opts.yTitle ?? (keys.length === 1 ? keys[0] : 'value'));
  const yaxis: Record<string, unknown> = { ...layout.yaxis };
  if (opts.logY) yaxis.type = 'log';
  if (opts.yRange) {
    const [lo, hi] = opts.yRange;
    if (!(lo < hi) || (opts.logY && !(lo > 0))) throw new Error(`runCurves: yRange must be [low, high] with low < high (and low > 0 on a log axis), got [${lo}, ${hi}]`);
    yaxis.range = opts.logY ? [Math.log10(lo), Math.log10(hi)] : [lo, hi];
    const clipped = data.filter((t) => (t.y as number[]).some((v) => v > hi || v < lo)).map((t) => t.name);
    if (clipped.length) notes.push(`clipped to [${lo}, ${hi}]: ${clipped.join(', ')}`);
  }
  layout.yaxis = yaxis;
  if (notes.length) {
    layout.annotations = notes.map((text, i) => ({ text, xref: 'paper', yref: 'paper', x: 1, y: 1 - 0.07 * i, xanchor: 'right', showarrow: false, font: { size: 11, color: '#555' } }));
  }
  return { data, layout };
}
