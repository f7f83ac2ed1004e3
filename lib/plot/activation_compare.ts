/**
 * Several activations side by side: f(x) in the left panel, f'(x) in the right,
 * one colour per activation (`runColor`, so 'tanh' has the same colour in every
 * chart of a lesson).
 *
 *     show(activationsPlot(['relu', new hl.LeakyReLU(0.05)], { range: [-3, 3] }));
 *
 * Activations often coincide on part of the axis (ReLU and LeakyReLU are both x
 * for x > 0, with slope 1): each later curve is drawn thinner and with its own
 * dash on top of the earlier ones, so a curve lying on another still shows.
 */
import { ActivationLike, activationValues } from './activation';
import { Module } from '../nn/module';
import { baseLayout, Figure, linspace, Trace } from './figure';
import { runColor } from './run_colors';

export interface ActivationsPlotOptions {
  /** The x interval drawn (default [-5, 5]). */
  range?: [number, number];
  /** How many points (default 201, so x = 0 is one of them). */
  points?: number;
  /** Legend names, one per activation (default: the name, or the module's class name). */
  names?: string[];
  title?: string;
}

const DASHES = ['solid', 'dash', 'dot', 'dashdot'];

export function activationsPlot(activations: ActivationLike[], opts: ActivationsPlotOptions = {}): Figure {
  if (!Array.isArray(activations) || activations.length === 0) {
    throw new Error("activationsPlot: expected a list of activations, e.g. ['relu', new hl.LeakyReLU(0.05)]");
  }
  if (opts.names && opts.names.length !== activations.length) {
    throw new Error(`activationsPlot: ${opts.names.length} names for ${activations.length} activations; give one name each`);
  }
  const [from, to] = opts.range ?? [-5, 5];
  if (!(from < to)) throw new Error(`activationsPlot: range must be [from, to] with from < to, got [${from}, ${to}]`);
  const xs = linspace(from, to, opts.points ?? 201);
  const data: Trace[] = [];
  activations.forEach((act, i) => {
    const { y, dy } = activationValues(act, xs);
    const name = opts.names?.[i] ?? nameOf(act);
    const line = { color: runColor(name), dash: DASHES[i % DASHES.length], width: Math.max(1.5, 4 - i) };
    const common = { type: 'scatter' as const, mode: 'lines', name, legendgroup: name, x: xs, line };
    data.push({ ...common, y }, { ...common, y: dy, xaxis: 'x2', yaxis: 'y2', showlegend: false });
  });
  const layout = baseLayout(opts.title ?? 'Activations and their gradients', 'x', 'f(x)');
  layout.xaxis = { ...layout.xaxis, domain: [0, 0.46] };
  layout.xaxis2 = { title: { text: 'x' }, domain: [0.54, 1], anchor: 'y2', zeroline: false };
  layout.yaxis2 = { title: { text: "f'(x)" }, anchor: 'x2', zeroline: false };
  return { data, layout };
}

function nameOf(activation: ActivationLike): string {
  if (typeof activation === 'string') return activation;
  if (activation instanceof Module) return activation.constructor.name;
  return activation.name || 'f';
}
