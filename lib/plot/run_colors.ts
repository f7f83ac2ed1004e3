/**
 * One colour per run name, across every chart of a notebook: the first chart that
 * draws 'lr 0.01' picks its colour, and every later chart draws 'lr 0.01' in the
 * same one, so a reader can follow a run from a loss surface to a loss curve.
 *
 *     runColor('lr 0.01')   // '#1f77b4' the first time, and every time after
 *     runColor('lr 0.3')    // '#ff7f0e'
 *
 * The builders (lossSurface, runCurves, lrFinderPlot) colour their traces this way.
 * Names are matched exactly; `resetRunColors()` starts the assignment again.
 */
import { COLORS } from './figure';

/** plotly's ten colours, then ten darker ones (tab20b's first shades) for longer lessons. */
export const RUN_COLORS = [
  ...COLORS,
  '#393b79', '#637939', '#8c6d31', '#843c39', '#7b4173', '#3182bd', '#e6550d', '#31a354', '#756bb1', '#636363',
];

const assigned = new Map<string, string>();

/** The colour of the run called `name`: a new name gets the next unused colour of RUN_COLORS. */
export function runColor(name: string): string {
  if (typeof name !== 'string' || name === '') {
    throw new Error(`runColor: a run needs a non-empty name to get a colour, got ${JSON.stringify(name)}`);
  }
  let color = assigned.get(name);
  if (color === undefined) {
    color = RUN_COLORS[assigned.size % RUN_COLORS.length];
    assigned.set(name, color);
  }
  return color;
}

/** Forget every assignment (a new notebook, or a test). */
export function resetRunColors(): void {
  assigned.clear();
}
