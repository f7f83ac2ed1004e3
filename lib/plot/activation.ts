/**
 * An activation function and its derivative on one chart.
 *
 *     show(activationPlot('relu'));              // by name, as in run files
 *     show(activationPlot(new hl.LeakyReLU(0.1), { range: [-3, 3] }));
 *     show(activationPlot((x) => tf.mul(x, tf.sigmoid(x)), { name: 'SiLU' }));
 *
 * The derivative comes from the same `backward()` that trains models: x is
 * made a Parameter, backward(() => f(x).sum()) fills x.grad, and since f acts
 * on each element alone, d(sum f(x))/dx_i = f'(x_i).
 */
import { tf } from '../engine/tf';
import { backward } from '../engine/autograd';
import { Parameter } from '../nn/parameter';
import { Module } from '../nn/module';
import { getActivation } from '../nn/activations';
import { baseLayout, Figure, linspace } from './figure';

export type ActivationLike = string | Module | ((x: tf.Tensor) => tf.Tensor);

export interface ActivationPlotOptions {
  /** The x interval drawn (default [-5, 5]). */
  range?: [number, number];
  /** How many points (default 201, so x = 0 is one of them). */
  points?: number;
  /** The legend name (default: the activation's name). */
  name?: string;
}

/** f(x) and f'(x) at the points `xs`. */
export function activationValues(activation: ActivationLike, xs: number[]): { y: number[]; dy: number[] } {
  const { fn, module, owned } = resolve(activation);
  // A module's own parameters (PReLU's slope) must not collect gradients here: freeze them meanwhile.
  const params = module?.parameters() ?? [];
  const flags = params.map((p) => p.requiresGrad);
  params.forEach((p) => (p.requiresGrad = false));
  const init = tf.tensor1d(xs);
  const x = new Parameter(init);
  init.dispose(); // the Parameter keeps its own reference to the values
  try {
    backward(() => tf.sum(fn(x)));
    const y = tf.tidy(() => fn(x));
    const values = { y: Array.from(y.dataSync()), dy: Array.from(x.grad!.dataSync()) };
    y.dispose();
    return values;
  } finally {
    x.zeroGrad();
    x.dispose();
    params.forEach((p, i) => (p.requiresGrad = flags[i]));
    if (owned) module?.dispose();
  }
}

export function activationPlot(activation: ActivationLike, opts: ActivationPlotOptions = {}): Figure {
  const [from, to] = opts.range ?? [-5, 5];
  if (!(from < to)) throw new Error(`activationPlot: range must be [from, to] with from < to, got [${from}, ${to}]`);
  const xs = linspace(from, to, opts.points ?? 201);
  const { y, dy } = activationValues(activation, xs);
  const name = opts.name ?? nameOf(activation);
  return {
    data: [
      { type: 'scatter', mode: 'lines', name: `${name}(x)`, x: xs, y },
      { type: 'scatter', mode: 'lines', name: `${name}'(x)`, x: xs, y: dy, line: { dash: 'dash' } },
    ],
    layout: baseLayout(`${name} and its gradient`, 'x', 'value'),
  };
}

function resolve(activation: ActivationLike): { fn: (x: tf.Tensor) => tf.Tensor; module?: Module; owned: boolean } {
  if (typeof activation === 'string') {
    const module = getActivation(activation);
    return { fn: (x) => module.forward(x) as tf.Tensor, module, owned: true };
  }
  if (activation instanceof Module) return { fn: (x) => activation.forward(x) as tf.Tensor, module: activation, owned: false };
  if (typeof activation === 'function') return { fn: activation, owned: false };
  throw new Error(`activationPlot: expected an activation name ('relu'), a Module or a function x => f(x), got ${typeof activation}`);
}

function nameOf(activation: ActivationLike): string {
  if (typeof activation === 'string') return activation;
  if (activation instanceof Module) return activation.constructor.name;
  return activation.name || 'f';
}
