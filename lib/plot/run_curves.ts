/**
 * Curves of several runs on one chart (a loss per step, a final loss per setting),
 * each run in its own colour (`runColor`: the same colour in every chart of the
 * notebook), with the y range clipped so that one diverging run does not flatten
 * the others.
 *
 *     show(runCurves({ 'lr 0.001': losses1, 'lr 0.3': losses2, 'lr 30': losses3 }, { logY: true }));
 *
 * Clipping: a run that climbs above `clipFactor` × the highest first value of any run
 * (by default 10× on a log axis, 1.5× on a linear one) leaves the chart through the
 * top, and a note in the run's colour says from which x it is off the chart and from
 * which x its values are NaN or infinite (plotly would otherwise just stop the line).
 */
import { baseLayout, Figure, finiteOrNull, Trace } from './figure';
import { runColor } from './run_colors';
import { fmt } from '../notebook/fmt';

export interface RunCurve {
  name: string;
  y: number[];
  /** The x of each value; default 0, 1, 2, ... (or `xStart`, xStart + 1, ...). */
  x?: number[];
}

export interface RunCurvesOptions {
  title?: string;
  /** Axis labels (default 'step' and 'loss'); the x label also names the x in the notes. */
  xLabel?: string;
  yLabel?: string;
  logX?: boolean;
  logY?: boolean;
  /** The first x when a run gives none (default 0). */
  xStart?: number;
  /** Draw a marker at every point (for few points, or curves that overlap). */
  markers?: boolean;
  /** The y range shown, in data units; default: clipped as described above. */
  yRange?: [number, number];
  /** The clip: how far above the highest first value a run may go (default 10 with logY, else 1.5). */
  clipFactor?: number;
}

/** What happened to one run that the chart cannot show: where it left the range, where it stopped. */
interface RunNote {
  name: string;
  exitAt?: number;
  stopAt?: number;
  lastFinite?: { x: number; y: number };
}

function asRuns(runs: Record<string, number[]> | RunCurve[]): RunCurve[] {
  const list: RunCurve[] = Array.isArray(runs) ? runs : Object.entries(runs ?? {}).map(([name, y]) => ({ name, y }));
  list.forEach((r, i) => {
    if (!r || typeof r.name !== 'string' || !Array.isArray(r.y)) {
      throw new Error(`runCurves: run ${i} must be { name, y: number[] } (or pass { name: values, ... }), got ${JSON.stringify(r)?.slice(0, 80)}`);
    }
    if (r.x && r.x.length !== r.y.length) {
      throw new Error(`runCurves: run '${r.name}' has ${r.x.length} x values for ${r.y.length} y values; give one x per y`);
    }
  });
  return list;
}

/** The y range to show: the given one, or the clipped one, or null (plotly's own autorange). */
function yLimits(runs: RunCurve[], opts: RunCurvesOptions): [number, number] | null {
  if (opts.yRange) return opts.yRange;
  const usable = (v: number) => Number.isFinite(v) && (!opts.logY || v > 0);
  const firsts = runs.map((r) => r.y.find(usable)).filter((v): v is number => v !== undefined);
  if (firsts.length === 0) return null;
  const top = Math.max(...firsts) * (opts.clipFactor ?? (opts.logY ? 10 : 1.5));
  const all = runs.flatMap((r) => r.y.filter(usable));
  if (all.every((v) => v <= top)) return null;
  const shown = all.filter((v) => v <= top);
  const lo = Math.min(...shown);
  if (opts.logY) return [lo / 2, top];
  const pad = 0.05 * (top - lo || 1);
  return [lo - pad, top];
}

export function runCurves(runs: Record<string, number[]> | RunCurve[], opts: RunCurvesOptions = {}): Figure {
  const list = asRuns(runs);
  const xLabel = opts.xLabel ?? 'step';
  const limits = yLimits(list, opts);
  const data: Trace[] = [];
  const notes: RunNote[] = [];
  for (const run of list) {
    const x = run.x ?? run.y.map((_, i) => i + (opts.xStart ?? 0));
    const color = runColor(run.name);
    const mode = opts.markers ? 'lines+markers' : 'lines';
    data.push({ type: 'scatter', mode, name: run.name, x, y: run.y.map(finiteOrNull), line: { color, width: 2 }, marker: { color, size: 6 } });
    const stop = run.y.findIndex((v) => !Number.isFinite(v));
    const exit = limits ? run.y.findIndex((v) => Number.isFinite(v) && v > limits[1]) : -1;
    const note: RunNote = { name: run.name };
    if (exit >= 0 && (stop < 0 || exit < stop)) note.exitAt = x[exit];
    if (stop >= 0) {
      note.stopAt = x[stop];
      if (stop > 0 && note.exitAt === undefined) note.lastFinite = { x: x[stop - 1], y: run.y[stop - 1] };
    }
    if (note.exitAt !== undefined || note.stopAt !== undefined) notes.push(note);
  }
  const layout = baseLayout(opts.title ?? 'Loss per step', xLabel, opts.yLabel ?? 'loss');
  layout.xaxis = { ...layout.xaxis, ...(opts.logX ? { type: 'log', exponentformat: 'power' } : {}) };
  layout.yaxis = { ...layout.yaxis, ...(opts.logY ? { type: 'log', exponentformat: 'power' } : {}) };
  if (limits) layout.yaxis.range = opts.logY ? limits.map(Math.log10) : limits;
  layout.annotations = notes.map((n, i) => noteAnnotation(n, i, xLabel, limits, opts, runColor(n.name)));
  return { data, layout };
}

/** A note in the run's colour: at the top edge where it left the chart, or at its last finite point. */
function noteAnnotation(n: RunNote, i: number, xLabel: string, limits: [number, number] | null, opts: RunCurvesOptions, color: string) {
  const parts: string[] = [];
  if (n.exitAt !== undefined) parts.push(`above ${fmt(limits![1], 3)} from ${xLabel} ${fmt(n.exitAt)}`);
  if (n.stopAt !== undefined) parts.push(`NaN/inf from ${xLabel} ${fmt(n.stopAt)}`);
  const text = `${n.name}: ${parts.join(', ')}`;
  const logX = (v: number) => (opts.logX ? Math.log10(v) : v);
  if (n.exitAt !== undefined) {
    return { x: logX(n.exitAt), y: 1, xref: 'x', yref: 'paper', text, showarrow: true, arrowcolor: color, ax: 40, ay: 25 + 20 * i, font: { color }, xanchor: 'left' };
  }
  const at = n.lastFinite ?? { x: n.stopAt!, y: NaN };
  const y = Number.isFinite(at.y) ? (opts.logY ? Math.log10(at.y) : at.y) : 0.5;
  return { x: logX(at.x), y, xref: 'x', yref: Number.isFinite(at.y) ? 'y' : 'paper', text, showarrow: true, arrowcolor: color, ax: 40, ay: -25 - 20 * i, font: { color }, xanchor: 'left' };
}
