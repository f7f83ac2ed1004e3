/**
 * Freezing by parameter groups, as fastai does it (fastai optimizer.py `freeze_to`,
 * learner.py `Learner.freeze_to`, `norm_bias_params`).
 *
 * A splitter cuts the model into parameter groups, body first and head last; the
 * optimizer is built with those groups, so each can have its own lr (fastai's
 * discriminative learning rates):
 *
 *     const optimizer = new Adam(paramGroups(model), { lr: 1e-3 });  // [body, head]
 *     freeze({ model, optimizer });     // only the head trains (BatchNorm layers too)
 *     unfreeze({ model, optimizer });   // everything trains
 *
 * freezeTo(n): groups before n are frozen (requiresGrad = false), groups from n on
 * train; n < 0 counts from the end. freeze() = freezeTo(−1) and needs more than one
 * group (fastai asserts this; with one group freezing would do nothing, or freeze
 * everything, which is the trap of tsai #51). unfreeze() = freezeTo(0).
 * Like fastai's Learner.freeze_to, every freezeTo clears the optimizer's state
 * (momentum buffers, Adam moments) of all groups, so the next phase starts afresh.
 * With trainBn (the default, fastai's train_bn=True), the parameters of normalisation
 * layers (BatchNorm, InstanceNorm, LayerNorm: fastai's norm_types) stay trainable in
 * frozen groups. `summary(model)` reads the live flags, so it shows the frozen layers.
 */
import { Module } from '../nn/module';
import { Parameter } from '../nn/parameter';
import { Optimizerlike, Task } from '../train/task';

/** Splits a model's parameters into groups, body first, head last. */
export type Splitter = (model: Module) => Parameter[][];

/**
 * The default splitter: the model's last child module is the head, everything else
 * (the other children and parameters the model owns directly) is the body.
 * For a Sequential(features..., classifier) that is [features, classifier].
 */
export function bodyHeadSplitter(model: Module): Parameter[][] {
  const children = [...model.namedChildren()];
  const name = model.constructor.name;
  if (children.length < 2) {
    throw new Error(
      `bodyHeadSplitter: ${name} has ${children.length} child module(s); the default splitter needs at least two ` +
        '(a body and a head, the last child). Wrap the model as Sequential(body, head) or pass a splitter (model) => [[...body params], [...head params]].',
    );
  }
  const [headName, head] = children[children.length - 1];
  const headParams = head.parameters();
  const inHead = new Set(headParams);
  const body = model.parameters().filter((p) => !inHead.has(p));
  if (headParams.length === 0) throw new Error(`bodyHeadSplitter: the head of ${name} (its last child, '${headName}') has no parameters; pass a splitter`);
  if (body.length === 0) throw new Error(`bodyHeadSplitter: the body of ${name} (every child but '${headName}') has no parameters; pass a splitter`);
  return [body, headParams];
}

/** Parameter groups for an optimizer's constructor: `new Adam(paramGroups(model), { lr })`. */
export function paramGroups(model: Module, splitter: Splitter = bodyHeadSplitter): { params: Parameter[] }[] {
  const groups = splitter(model);
  const seen = new Set<Parameter>();
  groups.forEach((g, i) => {
    if (!Array.isArray(g) || g.length === 0) throw new Error(`paramGroups: the splitter gave group ${i} with no parameters; every group needs at least one`);
    for (const p of g) {
      if (seen.has(p))
        throw new Error(`paramGroups: the splitter put a parameter in more than one group (again in group ${i}); give each parameter to one group`);
      seen.add(p);
    }
  });
  return groups.map((params) => ({ params }));
}

/** What freezing works on: a trainer, a task, or a model with its optimizer. */
export type FreezeTarget = { task: Task } | Task | { model: Module; optimizer: Optimizerlike };

/** The model and its one optimizer, from any FreezeTarget. */
export function modelAndOptimizer(target: FreezeTarget, where: string): { model: Module; optimizer: Optimizerlike } {
  if ('optimizer' in target && target.optimizer) return { model: target.model, optimizer: target.optimizer };
  const task = 'task' in target ? target.task : (target as Task);
  if (!task || !Array.isArray(task.optimizers)) {
    throw new Error(`${where}: expected a Trainer, a Task or { model, optimizer }`);
  }
  if (task.optimizers.length !== 1) {
    throw new Error(`${where}: the task has ${task.optimizers.length} optimizers; freezing works on the groups of one optimizer, so pass { model, optimizer }`);
  }
  return { model: task.model, optimizer: task.optimizers[0] };
}

/** fastai's norm_types: parameters of these layers stay trainable when frozen with trainBn. */
const NORM_LAYER = /^(BatchNorm[123]d|InstanceNorm[123]d|LayerNorm|BatchNormNd)$/;

function isNormLayer(m: Module): boolean {
  for (let proto = Object.getPrototypeOf(m); proto && proto !== Module.prototype; proto = Object.getPrototypeOf(proto)) {
    if (NORM_LAYER.test(proto.constructor.name)) return true;
  }
  return false;
}

/** The parameters of the model's normalisation layers (fastai's norm_bias_params(m, with_bias=False)). */
export function normParameters(model: Module): Set<Parameter> {
  const out = new Set<Parameter>();
  for (const m of model.modules()) if (isNormLayer(m)) for (const p of m.parameters()) out.add(p);
  return out;
}

/** Drop every state tensor of the optimizer (its lr and options stay), through its public loadStateDict. */
export function clearOptimizerState(optimizer: Optimizerlike): void {
  let index = 0;
  optimizer.loadStateDict({
    state: {},
    param_groups: optimizer.paramGroups.map((g) => ({ params: g.params.map(() => index++) })),
  });
}

export interface FreezeOptions {
  /** Normalisation layers stay trainable in frozen groups (default true, as fastai). */
  trainBn?: boolean;
}

export interface FreezeState {
  /** Number of frozen groups (those before n). */
  frozenGroups: number;
  groups: number;
  /** Parameter counts (elements) that train and that are frozen. */
  trainable: number;
  frozen: number;
}

/** Freeze the groups before n, unfreeze the rest, clear the optimizer state (fastai's freeze_to). */
export function freezeTo(target: FreezeTarget, n: number, opts: FreezeOptions = {}): FreezeState {
  const { model, optimizer } = modelAndOptimizer(target, 'freezeTo');
  const groups = optimizer.paramGroups;
  if (!Number.isInteger(n)) throw new Error(`freezeTo: n must be a whole number (a group index; negative counts from the end), got ${n}`);
  const frozenIdx = n >= 0 ? n : groups.length + n;
  if (frozenIdx >= groups.length) {
    console.warn(`freezeTo: freezing ${frozenIdx} groups; the optimizer has ${groups.length}, so the whole model is frozen`);
  }
  const keepTraining = (opts.trainBn ?? true) ? normParameters(model) : new Set<Parameter>();
  let trainable = 0;
  let frozen = 0;
  groups.forEach((g, gi) => {
    for (const p of g.params) {
      p.requiresGrad = gi >= frozenIdx || keepTraining.has(p);
      if (p.requiresGrad) trainable += p.size;
      else frozen += p.size;
    }
  });
  clearOptimizerState(optimizer);
  return { frozenGroups: Math.max(0, Math.min(frozenIdx, groups.length)), groups: groups.length, trainable, frozen };
}

/** Train only the last group (the head) and, with trainBn, normalisation layers. Needs two or more groups. */
export function freeze(target: FreezeTarget, opts: FreezeOptions = {}): FreezeState {
  const { optimizer } = modelAndOptimizer(target, 'freeze');
  if (optimizer.paramGroups.length < 2) {
    throw new Error(
      `freeze: the optimizer has ${optimizer.paramGroups.length} parameter group; freezing keeps the last group (the head) trainable, ` +
        'so with one group it would do nothing. Build the optimizer with groups: new Adam(paramGroups(model), { lr }).',
    );
  }
  return freezeTo(target, -1, opts);
}

/** Train every group (fastai's unfreeze = freeze_to(0)). */
export function unfreeze(target: FreezeTarget, opts: FreezeOptions = {}): FreezeState {
  return freezeTo(target, 0, opts);
}

/** One line per group: its size, lr and whether it trains, e.g. for a lesson to print. */
export function describeGroups(target: FreezeTarget): string {
  const { optimizer } = modelAndOptimizer(target, 'describeGroups');
  const n = optimizer.paramGroups.length;
  return optimizer.paramGroups
    .map((g, i) => {
      const size = g.params.reduce((s, p) => s + p.size, 0);
      const on = g.params.filter((p) => p.requiresGrad).reduce((s, p) => s + p.size, 0);
      const state = on === size ? 'trainable' : on === 0 ? 'frozen' : `frozen but ${on.toLocaleString('en-US')} (norm layers) trainable`;
      const role = n > 1 && i === n - 1 ? ' (head)' : n > 1 ? ' (body)' : '';
      return `group ${i}${role}: ${size.toLocaleString('en-US')} parameters, lr ${g.lr.toExponential(2)}, ${state}`;
    })
    .join('\n');
}
