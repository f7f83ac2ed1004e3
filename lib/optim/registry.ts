/**
 * Optimizers by name, for run files: XANESNET's `optim_fn: Adam | SGD | RMSprop`
 * (any case), with PyTorch's keyword arguments in snake_case.
 *
 *     optimizerFromConfig('Adam', model.parameters(), { lr: 1e-4, weight_decay: 1e-5 });
 *     optimizerFromConfig('sgd', model.parameters(), { lr: 0.01, momentum: 0.9, nesterov: true });
 */
import { Parameter } from '../nn/parameter';
import { Optimizer, BaseOptimizerOptions, ParamsArg } from './optimizer';
import { camelToSnake, snakeToCamel } from './keys';
import { SGD, SGD_DEFAULTS } from './sgd';
import { Adam, AdamW, ADAM_DEFAULTS } from './adam';
import { RMSprop, RMSPROP_DEFAULTS } from './rmsprop';

interface Entry {
  name: string;
  defaults: object;
  make: (params: any, options: any) => Optimizer<BaseOptimizerOptions>;
}

const OPTIMIZERS: Record<string, Entry> = {
  adam: { name: 'Adam', defaults: ADAM_DEFAULTS, make: (p, o) => new Adam(p, o) },
  adamw: { name: 'AdamW', defaults: ADAM_DEFAULTS, make: (p, o) => new AdamW(p, o) },
  sgd: { name: 'SGD', defaults: SGD_DEFAULTS, make: (p, o) => new SGD(p, o) },
  rmsprop: { name: 'RMSprop', defaults: RMSPROP_DEFAULTS, make: (p, o) => new RMSprop(p, o) },
};

/** The optimizer names optimizerFromConfig knows. */
export const optimizerNames = (): string[] => Object.values(OPTIMIZERS).map((e) => e.name);

/**
 * Build an optimizer from its name (case-insensitive) and options, given in
 * PyTorch's snake_case (`weight_decay`) or camelCase (`weightDecay`).
 * An unknown name or option throws, naming the valid ones.
 */
export function optimizerFromConfig(name: string, params: ParamsArg<any>, options: Record<string, unknown> = {}): Optimizer<BaseOptimizerOptions> {
  const entry = OPTIMIZERS[String(name).toLowerCase()];
  if (!entry) {
    throw new Error(`unknown optimizer '${name}'; use one of: ${optimizerNames().join(', ')} (case does not matter)`);
  }
  const known = Object.keys(entry.defaults);
  const toCamel = (opts: Record<string, unknown>, where: string): Record<string, unknown> => {
    const camel: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(opts ?? {})) {
      if (key === 'params') continue;
      const k = snakeToCamel(key);
      if (!known.includes(k)) {
        throw new Error(`optimizer ${entry.name}: unknown option '${key}'${where}; the options are ${known.map(camelToSnake).join(', ')}`);
      }
      camel[k] = Array.isArray(value) ? [...value] : value; // YAML gives betas as a list
    }
    return camel;
  };
  // Parameter groups may carry their own snake_case overrides too.
  const groups =
    Array.isArray(params) && params.length > 0 && !(params[0] instanceof Parameter)
      ? (params as Array<Record<string, unknown> & { params: Parameter[] }>).map((g, i) => ({ ...toCamel(g, ` in parameter group ${i}`), params: g.params }))
      : params;
  return entry.make(groups, toCamel(options, ''));
}
