/**
 * `Adam` and `AdamW`, exactly as `torch.optim.Adam` and `torch.optim.AdamW`.
 *
 * The update rule (PyTorch's documentation), for learning rate γ, betas β1 β2,
 * weight decay λ, step t (counted per parameter, from 1):
 *
 *     g ← ∇θ                               (−∇θ when maximize)
 *     Adam:  g ← g + λ θ                    (L2 penalty coupled into the gradient)
 *     AdamW: θ ← θ (1 − γ λ)                (decoupled weight decay, applied to θ directly)
 *     m ← β1 m + (1 − β1) g                 (first moment: moving average of g)
 *     v ← β2 v + (1 − β2) g²                (second moment: moving average of g²)
 *     amsgrad: v_max ← max(v_max, v), and v_max replaces v below
 *     θ ← θ − γ / (1 − β1^t) · m / ( √v / √(1 − β2^t) + ε )
 *
 * The two bias corrections undo the pull towards 0 of m and v, which start at 0.
 *
 *     const opt = new Adam(model.parameters(), { lr: 1e-3 });
 *     const optW = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 1e-2 });
 */
import { tf } from '../engine/tf';
import { Parameter } from '../nn/parameter';
import { Optimizer, ParamGroup, ParamsArg, ParamState } from './optimizer';
import { adamStepsInPlaceNative, adamStepsNative, nativeOpsActive } from '../engine/native';

export interface AdamOptions {
  /** Learning rate γ (default 1e-3). */
  lr: number;
  /** Decay rates of the first and second moment averages (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator for numerical stability (default 1e-8). */
  eps: number;
  /** Weight decay λ: an L2 penalty for Adam (default 0), decoupled for AdamW (default 1e-2). */
  weightDecay: number;
  /** Use the maximum of past second moments (AMSGrad). */
  amsgrad: boolean;
  /** Maximise the objective instead of minimising it. */
  maximize: boolean;
}

export const ADAM_DEFAULTS: AdamOptions = {
  lr: 1e-3,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  amsgrad: false,
  maximize: false,
};

export const ADAMW_DEFAULTS: AdamOptions = { ...ADAM_DEFAULTS, weightDecay: 1e-2 };

export class Adam extends Optimizer<AdamOptions> {
  constructor(params: ParamsArg<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, ADAM_DEFAULTS, options);
  }

  /** False: Adam adds λθ to the gradient. AdamW overrides this with true. */
  protected get decoupledWeightDecay(): boolean {
    return false;
  }

  protected stateKeys(): string[] {
    return ['step', 'exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'];
  }

  protected checkOptions(o: AdamOptions, where: string): void {
    const n = this.name;
    if (!(o.lr >= 0)) throw new Error(`${n}: lr must be >= 0 in ${where}, got ${o.lr}`);
    if (!(o.eps >= 0)) throw new Error(`${n}: eps must be >= 0 in ${where}, got ${o.eps}`);
    if (!Array.isArray(o.betas) || o.betas.length !== 2) {
      throw new Error(`${n}: betas must be a pair [beta1, beta2] in ${where}, got ${JSON.stringify(o.betas)}`);
    }
    o.betas.forEach((b, i) => {
      if (!(b >= 0 && b < 1)) throw new Error(`${n}: betas[${i}] must be in [0, 1) in ${where}, got ${b}`);
    });
    if (!(o.weightDecay >= 0)) throw new Error(`${n}: weightDecay must be >= 0 in ${where}, got ${o.weightDecay}`);
  }

  /** On wasm with the native kernels: every float32 parameter of the group in one kernel (lib/engine/native/adam.ts). */
  protected updateGroup(items: { p: Parameter; grad: tf.Tensor; state: ParamState }[], group: ParamGroup<AdamOptions>): void {
    if (!nativeOpsActive() || items.some(({ p, grad }) => p.dtype !== 'float32' || grad.dtype !== 'float32')) {
      super.updateGroup(items, group);
      return;
    }
    const { lr, betas, eps, weightDecay, amsgrad, maximize } = group;
    const moment = (state: ParamState, key: string) => (state[key] instanceof tf.Variable ? (state[key] as tf.Variable) : undefined);
    const steps = items.map(({ state }) => (state.step = (typeof state.step === 'number' ? state.step : 0) + 1));
    const native = items.map(({ p, grad, state }, i) => ({
      param: p,
      grad,
      expAvg: moment(state, 'exp_avg'),
      expAvgSq: moment(state, 'exp_avg_sq'),
      maxExpAvgSq: amsgrad ? moment(state, 'max_exp_avg_sq') : undefined,
      step: steps[i],
    }));
    const options = { lr, beta1: betas[0], beta2: betas[1], eps, weightDecay, decoupled: this.decoupledWeightDecay, amsgrad, maximize };
    // in place (p.addcdiv_ in PyTorch) where no other tensor shares a parameter's or moment's data
    if (adamStepsInPlaceNative(native, options)) return;
    tf.tidy(() => {
      const outs = adamStepsNative(native, options);
      items.forEach(({ p, state }, i) => {
        const [theta, m, v, vMax] = outs[i];
        this.setState(state, 'exp_avg', m);
        this.setState(state, 'exp_avg_sq', v);
        if (amsgrad) this.setState(state, 'max_exp_avg_sq', vMax);
        p.assign(theta);
      });
    });
  }

  protected update(p: Parameter, grad: tf.Tensor, group: ParamGroup<AdamOptions>, state: ParamState): void {
    const { lr, betas, eps, weightDecay, amsgrad, maximize } = group;
    const [beta1, beta2] = betas;
    const step = (typeof state.step === 'number' ? state.step : 0) + 1;
    state.step = step;

    let g = maximize ? tf.neg(grad) : grad;
    let theta: tf.Tensor = p;
    if (this.decoupledWeightDecay) theta = tf.mul(p, 1 - lr * weightDecay);
    else if (weightDecay !== 0) g = tf.add(g, tf.mul(p, weightDecay));

    const m0 = state.exp_avg instanceof tf.Variable ? state.exp_avg : tf.zerosLike(p);
    const v0 = state.exp_avg_sq instanceof tf.Variable ? state.exp_avg_sq : tf.zerosLike(p);
    const m = this.setState(state, 'exp_avg', tf.add(tf.mul(m0, beta1), tf.mul(g, 1 - beta1)));
    const v = this.setState(state, 'exp_avg_sq', tf.add(tf.mul(v0, beta2), tf.mul(tf.mul(g, 1 - beta2), g)));
    let second: tf.Tensor = v;
    if (amsgrad) {
      const prev = state.max_exp_avg_sq instanceof tf.Variable ? state.max_exp_avg_sq : tf.zerosLike(p);
      second = this.setState(state, 'max_exp_avg_sq', tf.maximum(prev, v));
    }

    const biasCorrection1 = 1 - beta1 ** step;
    const biasCorrection2 = 1 - beta2 ** step;
    const stepSize = lr / biasCorrection1;
    const denom = tf.add(tf.div(tf.sqrt(second), Math.sqrt(biasCorrection2)), eps);
    p.assign(tf.add(theta, tf.div(tf.mul(m, -stepSize), denom)));
  }
}

/** AdamW: Adam with decoupled weight decay θ ← θ(1 − γλ) (default λ = 1e-2). See Adam for the rule. */
export class AdamW extends Adam {
  constructor(params: ParamsArg<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, { ...options, weightDecay: options.weightDecay ?? ADAMW_DEFAULTS.weightDecay });
  }

  protected get decoupledWeightDecay(): boolean {
    return true;
  }
}
