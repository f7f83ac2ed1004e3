/**
 * Losses by the names XANESNET run files use (`loss: {loss_fn: wcc, loss_args: 10}`):
 *
 *     const lossFn = getLoss('wcc', 10);
 *     backward(() => lossFn(model.forward(x), y));
 *
 * | name            | loss                                   | loss_args                     |
 * |-----------------|----------------------------------------|-------------------------------|
 * | mse             | mseLoss (mean)                         | ignored                       |
 * | l1              | l1Loss (mean)                          | ignored                       |
 * | bce             | bceWithLogitsLoss (mean)               | ignored                       |
 * | emd             | emd (summed over the batch)            | ignored                       |
 * | cosine          | cosine: 1 - mean cos (intended)        | ignored                       |
 * | wcc             | wcc                                    | HWHM in grid points (10)      |
 * | cross_entropy   | crossEntropyLoss (mean)                | ignored                       |
 *
 * A number or null as loss_args behaves as in XANESNET (only wcc reads it). An object
 * passes options to the loss: `getLoss('cosine', { original: true })` for XANESNET's
 * original cosine value, `getLoss('mse', { reduction: 'sum' })`, `getLoss('wcc', { hwhm: 5 })`.
 * Unlike XANESNET, which silently trains with MSE when it does not know a name, an
 * unknown name is an error that lists the valid ones.
 */
import { LossFn } from './common';
import { l1Loss, mseLoss } from './basic';
import { bceWithLogitsLoss } from './bce';
import { cosine } from './cosine';
import { crossEntropyLoss } from './crossentropy';
import { emd } from './emd';
import { wcc } from './wcc';

/** XANESNET's loss_args: a number (wcc's HWHM), null, or options for the loss. */
export type LossArgs = number | null | undefined | Record<string, unknown>;

type Maker = (args: LossArgs) => LossFn;

const opts = (args: LossArgs): Record<string, any> => (args !== null && typeof args === 'object' ? args : {});

/** The registry: a name (lower case, no '_' or '-') to a function that builds the loss. */
export const losses: Record<string, Maker> = {
  mse: (a) => (p, t) => mseLoss(p, t, opts(a)),
  l1: (a) => (p, t) => l1Loss(p, t, opts(a)),
  bce: (a) => (p, t) => bceWithLogitsLoss(p, t, opts(a)),
  emd: () => (p, t) => emd(p, t),
  cosine: (a) => (p, t) => cosine(p, t, opts(a)),
  wcc: (a) => {
    const o = typeof a === 'number' ? { hwhm: a } : opts(a);
    // Check the HWHM now, so a bad run file fails before training starts.
    if (o.hwhm !== undefined && !(typeof o.hwhm === 'number' && o.hwhm > 0)) {
      throw new Error(`getLoss('wcc'): loss_args is the Gaussian HWHM in grid points and must be a positive number, got ${JSON.stringify(o.hwhm)}`);
    }
    return (p, t) => wcc(p, t, o);
  },
  crossentropy: (a) => (p, t) => crossEntropyLoss(p, t, opts(a)),
};

/** The names as a run file writes them. */
export const lossNames = ['mse', 'l1', 'bce', 'emd', 'cosine', 'wcc', 'cross_entropy'];

/** The loss called `name` (case, '_' and '-' ignored) with XANESNET's loss_args. */
export function getLoss(name: string, lossArgs?: LossArgs): LossFn {
  const make = losses[String(name).toLowerCase().replace(/[_-]/g, '')];
  if (!make) {
    throw new Error(`unknown loss '${name}'; use one of: ${lossNames.join(', ')} (XANESNET would silently use mse here)`);
  }
  return make(lossArgs);
}
