/**
 * `Optimizer`: the base of SGD, Adam, AdamW and RMSprop, like `torch.optim.Optimizer`.
 *
 *     const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 *     for (...) {
 *       opt.zeroGrad();
 *       backward(() => lossFn(model.forward(x), y)); // fills p.grad
 *       opt.step();                                  // p ← p − lr · (update from p.grad)
 *     }
 *
 * Parameter groups: pass `[{ params, lr, ...overrides }, ...]` instead of a list of
 * parameters to give groups their own learning rate or options (fine-tuning with a
 * small lr for a pretrained body and a larger one for a new head). Every group in
 * `paramGroups` carries all its options, so a schedule or trainer changes the lr
 * with `group.lr = ...` (or `setLr(opt, lr)`).
 *
 * Per-parameter state (momentum buffers, Adam's moving averages) lives in
 * non-trainable tf.Variables created on the first step that touches the parameter
 * and updated in place afterwards, so the tensor count stays flat during training.
 * `stateDict()` gives PyTorch's layout as plain JSON:
 *
 *     { state: { "0": { step: 5, exp_avg: { shape: [3, 4], data: [...] }, ... }, ... },
 *       param_groups: [ { lr: 0.001, betas: [0.9, 0.999], ..., params: [0, 1, 2, 3] } ] }
 *
 * Option names are camelCase in TypeScript (`weightDecay`) and PyTorch's snake_case
 * (`weight_decay`) in the state dict, so a state dict moves between the two.
 */
import { tf } from '../engine/tf';
import { Parameter } from '../nn/parameter';
import { camelToSnake, snakeToCamel } from './keys';

/** A tensor as JSON: its shape and its values flattened in row-major order. */
export interface SerializedTensor {
  shape: number[];
  data: number[];
}

/** What one parameter's state holds: tensors (as variables), step counters, or null (PyTorch's None). */
export type OptimizerStateValue = tf.Variable | number | null;
export type ParamState = Record<string, OptimizerStateValue>;

/** PyTorch's optimizer state dict, JSON-ready. */
export interface OptimizerStateDict {
  state: Record<string, Record<string, SerializedTensor | number | null>>;
  param_groups: Array<Record<string, unknown> & { params: number[] }>;
}

/** Every optimizer's options include the learning rate. */
export interface BaseOptimizerOptions {
  lr: number;
}

/** A parameter group: its parameters and every option (defaults filled in). */
export type ParamGroup<O extends BaseOptimizerOptions> = O & {
  params: Parameter[];
  /** Set by LRScheduler: the lr the group started with (PyTorch's `initial_lr`). */
  initialLr?: number;
};

/** What the constructor takes for one group: parameters and the options that differ from the defaults. */
export type ParamGroupSpec<O extends BaseOptimizerOptions> = Partial<O> & { params: Parameter[] };

/** A list of parameters (one group) or a list of parameter groups. */
export type ParamsArg<O extends BaseOptimizerOptions> = Parameter[] | ParamGroupSpec<O>[];

/** Keys PyTorch keeps in param_groups that mean nothing here; ignored when loading. */
const TORCH_ONLY_GROUP_KEYS = new Set(['foreach', 'capturable', 'differentiable', 'fused']);

function isSerializedTensor(v: unknown): v is SerializedTensor {
  return typeof v === 'object' && v !== null && Array.isArray((v as SerializedTensor).shape) && Array.isArray((v as SerializedTensor).data);
}

export abstract class Optimizer<O extends BaseOptimizerOptions = BaseOptimizerOptions> {
  /** The groups with all their options; change `lr` here to schedule the learning rate. */
  readonly paramGroups: ParamGroup<O>[] = [];
  /** The defaults, for groups added later with addParamGroup. */
  readonly defaults: O;
  /** Per-parameter state, created on the first step that updates the parameter. */
  protected readonly state = new Map<Parameter, ParamState>();

  /**
   * @param params   the parameters, or parameter groups `[{ params, ...overrides }]`
   * @param defaults every option with its value for groups that do not override it
   * @param options  what the user passed (checked: an unknown key is an error, so a typo is not ignored)
   */
  protected constructor(params: ParamsArg<O>, defaults: O, options: object = {}) {
    this.checkKeys(options, Object.keys(defaults), 'options');
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.defaults = { ...defaults, ...given } as O;
    if (!Array.isArray(params) || params.length === 0) {
      throw new Error(
        `${this.name}: got an empty parameter list. Pass model.parameters() ` +
          '(or parameter groups [{ params: [...], lr }]); check that the model has parameters.',
      );
    }
    const isGroups = !(params[0] instanceof Parameter);
    const specs = isGroups ? (params as ParamGroupSpec<O>[]) : [{ params: params as Parameter[] } as ParamGroupSpec<O>];
    for (const spec of specs) this.addParamGroup(spec);
  }

  /** The optimizer's name in messages (SGD, Adam, ...). */
  get name(): string {
    return this.constructor.name;
  }

  /** The state keys this optimizer keeps per parameter (PyTorch's names), for checking loaded state. */
  protected abstract stateKeys(): string[];

  /** Throw a clear error when a group's options are out of range. `where` names the group. */
  protected abstract checkOptions(options: O, where: string): void;

  /** Update one parameter from its gradient (called inside tf.tidy by step()). */
  protected abstract update(p: Parameter, grad: tf.Tensor, group: ParamGroup<O>, state: ParamState): void;

  /** Add a group (`optimizer.add_param_group`): parameters plus options that override the defaults. */
  addParamGroup(spec: ParamGroupSpec<O>): void {
    const where = `parameter group ${this.paramGroups.length}`;
    if (typeof spec !== 'object' || spec === null || !Array.isArray(spec.params)) {
      throw new Error(`${this.name}: ${where} must be an object { params: Parameter[], ...options }, got ${String(spec)}`);
    }
    const { params, ...overrides } = spec;
    this.checkKeys(overrides, Object.keys(this.defaults), where);
    if (params.length === 0) throw new Error(`${this.name}: ${where} has no parameters`);
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    params.forEach((p, i) => {
      if (!(p instanceof Parameter)) {
        throw new Error(`${this.name}: item ${i} of ${where} is not a Parameter (got ${typeof p}); pass model.parameters()`);
      }
      if (seen.has(p)) {
        throw new Error(`${this.name}: item ${i} of ${where} appears more than once across the parameter groups; give each parameter to one group`);
      }
      seen.add(p);
    });
    const given = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
    const group = { ...this.defaults, ...given, params: [...params] } as ParamGroup<O>;
    this.checkOptions(group, where);
    this.paramGroups.push(group);
  }

  /** Drop every parameter's gradient (`zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) p.zeroGrad();
  }

  /**
   * One update of every parameter that has a gradient. Parameters whose `grad` is
   * null or whose `requiresGrad` is false are skipped and left untouched (their
   * state too), as in PyTorch.
   */
  step(): void {
    this.paramGroups.forEach((group, gi) => {
      this.checkOptions(group, `parameter group ${gi}`); // options are mutable: check them as used
      const items: { p: Parameter; grad: tf.Tensor; state: ParamState }[] = [];
      for (const p of group.params) {
        if (!p.requiresGrad || p.grad === null) continue;
        if (p.isDisposed) throw new Error(`${this.name}.step(): a parameter of parameter group ${gi} has been disposed`);
        let state = this.state.get(p);
        if (!state) this.state.set(p, (state = {}));
        items.push({ p, grad: p.grad, state });
      }
      if (items.length) this.updateGroup(items, group);
    });
  }

  /**
   * Update the parameters of one group that have gradients. By default one
   * `update` each, each in its own tf.tidy; an optimizer may override this to
   * update them all at once (Adam does, with one native kernel on wasm).
   */
  protected updateGroup(items: { p: Parameter; grad: tf.Tensor; state: ParamState }[], group: ParamGroup<O>): void {
    for (const { p, grad, state } of items) tf.tidy(() => this.update(p, grad, group, state));
  }

  /**
   * Write `value` into state[key]: the first time as a new non-trainable variable,
   * afterwards in place (`assign`), so no tensor is created per step.
   * Call inside tf.tidy; `value` itself is freed by the tidy.
   */
  protected setState(state: ParamState, key: string, value: tf.Tensor): tf.Variable {
    const current = state[key];
    if (current instanceof tf.Variable) {
      current.assign(value);
      return current;
    }
    const v = tf.variable(value, false);
    state[key] = v;
    return v;
  }

  /** The state tensor `key` of a parameter (after setState created it). */
  protected tensorState(state: ParamState, key: string): tf.Variable {
    const v = state[key];
    if (!(v instanceof tf.Variable)) throw new Error(`${this.name}: internal error, state '${key}' is not a tensor`);
    return v;
  }

  // ---- state dict -------------------------------------------------------------

  /** Index of every parameter in PyTorch's numbering (groups in order, parameters in order). */
  private indexOf(): Map<Parameter, number> {
    const index = new Map<Parameter, number>();
    for (const g of this.paramGroups) for (const p of g.params) index.set(p, index.size);
    return index;
  }

  /** The state in PyTorch's layout, as plain JSON (tensors copied to arrays). */
  stateDict(): OptimizerStateDict {
    return this.stateDictOf(this.state, this.paramGroups);
  }

  /**
   * The state as it is now, to turn into stateDict() later (a checkpoint written
   * after a few more steps, lib/callbacks/model_checkpoint.ts). Its tensors share
   * the current data, no copy: the optimizer's next steps replace its variables'
   * data and leave these alone. dispose() frees them.
   */
  snapshot(): { stateDict(): OptimizerStateDict; dispose(): void } {
    const held: tf.Tensor[] = [];
    const state = new Map<Parameter, ParamState>();
    for (const [p, s] of this.state) {
      state.set(p, Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v instanceof tf.Tensor ? held[held.push(tf.clone(v)) - 1] : v])) as ParamState);
    }
    // the options as they are now (a schedule changes lr later)
    const groups = this.paramGroups.map((g) => Object.fromEntries(Object.entries(g).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v])) as ParamGroup<O>);
    return { stateDict: () => this.stateDictOf(state, groups), dispose: () => tf.dispose(held) };
  }

  private stateDictOf(stateMap: Map<Parameter, ParamState>, paramGroups: ParamGroup<O>[]): OptimizerStateDict {
    const index = this.indexOf();
    const state: OptimizerStateDict['state'] = {};
    for (const [p, s] of stateMap) {
      const i = index.get(p);
      if (i === undefined) continue;
      state[String(i)] = Object.fromEntries(
        Object.entries(s).map(([k, v]) => [k, v instanceof tf.Tensor ? { shape: [...v.shape], data: Array.from(v.dataSync()) } : v]),
      );
    }
    const param_groups = paramGroups.map((g) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(g)) {
        if (k === 'params' || v === undefined) continue;
        out[camelToSnake(k)] = Array.isArray(v) ? [...v] : v;
      }
      return { ...out, params: g.params.map((p) => index.get(p)!) };
    });
    return { state, param_groups };
  }

  /**
   * Load a state saved by stateDict() (or by PyTorch, converted to JSON). Groups
   * must match in number and size, and every state tensor must have its
   * parameter's shape. Everything is checked before anything changes: a bad state
   * dict leaves the optimizer as it was. Group options (lr included) are replaced
   * by the saved ones, as in PyTorch.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const where = `${this.name}.loadStateDict`;
    if (typeof sd !== 'object' || sd === null || typeof sd.state !== 'object' || !Array.isArray(sd.param_groups)) {
      throw new Error(`${where}: not an optimizer state dict; expected { state: {...}, param_groups: [...] } as written by stateDict()`);
    }
    if (sd.param_groups.length !== this.paramGroups.length) {
      throw new Error(
        `${where}: the state dict has ${sd.param_groups.length} parameter group(s), this optimizer has ${this.paramGroups.length}. ` +
          'Build the optimizer with the same parameter groups as the one that was saved.',
      );
    }
    // Saved index -> our parameter, group by group.
    const byIndex = new Map<number, Parameter>();
    const newGroups: ParamGroup<O>[] = [];
    sd.param_groups.forEach((saved, gi) => {
      const group = this.paramGroups[gi];
      if (!Array.isArray(saved.params) || saved.params.length !== group.params.length) {
        throw new Error(
          `${where}: parameter group ${gi} has ${saved.params?.length ?? 'no'} parameters in the state dict, ` +
            `${group.params.length} in this optimizer. Build the optimizer from the same model and groups.`,
        );
      }
      saved.params.forEach((idx, j) => byIndex.set(Number(idx), group.params[j]));
      const options: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(saved)) {
        if (key === 'params' || TORCH_ONLY_GROUP_KEYS.has(key)) continue;
        const camel = snakeToCamel(key);
        if (!(camel in this.defaults) && camel !== 'initialLr') {
          throw new Error(
            `${where}: parameter group ${gi} has option '${key}', which ${this.name} does not have ` +
              `(its options: ${Object.keys(this.defaults).map(camelToSnake).join(', ')}). Was it saved from another optimizer?`,
          );
        }
        options[camel] = Array.isArray(value) ? [...value] : value;
      }
      const next = { ...group, ...options, params: group.params } as ParamGroup<O>;
      this.checkOptions(next, `parameter group ${gi} of the state dict`);
      newGroups.push(next);
    });
    // Check every state entry before creating any tensor.
    const allowed = this.stateKeys();
    for (const [idx, entry] of Object.entries(sd.state)) {
      const p = byIndex.get(Number(idx));
      if (!p) {
        throw new Error(`${where}: the state dict has state for parameter ${idx}, which none of its param_groups lists`);
      }
      for (const [key, value] of Object.entries(entry)) {
        if (!allowed.includes(key)) {
          throw new Error(
            `${where}: state of parameter ${idx} has '${key}', which ${this.name} does not keep (it keeps ${allowed.join(', ')}). ` +
              'Was the state saved from another optimizer?',
          );
        }
        if (isSerializedTensor(value)) {
          const size = value.shape.reduce((a, b) => a * b, 1);
          const scalarStep = key === 'step' && value.shape.length === 0;
          if (!scalarStep && value.shape.join(',') !== p.shape.join(',')) {
            throw new Error(
              `${where}: state '${key}' of parameter ${idx} has shape [${value.shape}], the parameter has shape [${p.shape}]. ` +
                'The state dict comes from a different model.',
            );
          }
          if (value.data.length !== size) {
            throw new Error(`${where}: state '${key}' of parameter ${idx} has ${value.data.length} values for shape [${value.shape}]`);
          }
        } else if (value !== null && typeof value !== 'number') {
          throw new Error(`${where}: state '${key}' of parameter ${idx} must be a number, null or { shape, data }, got ${typeof value}`);
        }
      }
    }
    // All checks passed: replace groups and state.
    newGroups.forEach((g, gi) => Object.assign(this.paramGroups[gi], g));
    this.disposeState();
    for (const [idx, entry] of Object.entries(sd.state)) {
      const s: ParamState = {};
      for (const [key, value] of Object.entries(entry)) {
        if (isSerializedTensor(value)) {
          // PyTorch keeps Adam's step as a 0-d tensor; here it is a number.
          const v = value;
          s[key] = key === 'step' && v.shape.length === 0 ? v.data[0] : tf.tidy(() => tf.variable(tf.tensor(v.data, v.shape, 'float32'), false));
        } else {
          s[key] = value;
        }
      }
      this.state.set(byIndex.get(Number(idx))!, s);
    }
  }

  /** Free the state tensors (momentum buffers, moving averages); the next step starts afresh. */
  private disposeState(): void {
    for (const s of this.state.values()) for (const v of Object.values(s)) if (v instanceof tf.Variable) v.dispose();
    this.state.clear();
  }

  /** Free all state tensors. The parameters belong to the model and are not touched. */
  dispose(): void {
    this.disposeState();
  }

  /** An unknown option name is an error (a typo would otherwise be silently ignored). */
  private checkKeys(options: object, known: string[], where: string): void {
    for (const k of Object.keys(options)) {
      if (k === 'params') continue;
      if (!known.includes(k)) {
        const hint = known.includes(snakeToCamel(k)) ? ` (did you mean '${snakeToCamel(k)}'? options are camelCase here)` : '';
        throw new Error(`${this.name}: unknown option '${k}' in ${where}${hint}; the options are ${known.join(', ')}`);
      }
    }
  }
}
