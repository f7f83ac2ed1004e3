/**
 * Loss modules for PyTorch habits: `const criterion = new MSELoss(); criterion.forward(pred, y)`.
 * Each holds its options and calls the function of the same name.
 */
import { tf } from '../engine/tf';
import { Module } from '../nn/module';
import { Reduction, checkReduction } from './common';
import { ReductionOptions, l1Loss, mseLoss } from './basic';
import { BCEOptions, BCEWithLogitsOptions, bceLoss, bceWithLogitsLoss } from './bce';
import { CrossEntropyOptions, crossEntropyLoss } from './crossentropy';

/** The base of the loss modules: options, a reduction, `forward(pred, target)`; no parameters. */
export abstract class Loss extends Module {
  readonly reduction: Reduction;
  constructor(reduction: Reduction = 'mean') {
    super();
    this.reduction = checkReduction(reduction, this.constructor.name);
  }
  abstract forward(pred: tf.Tensor, target: tf.Tensor): tf.Tensor;
  extraRepr(): string {
    return this.reduction === 'mean' ? '' : `reduction=${this.reduction}`;
  }
}

/** `nn.MSELoss(reduction=...)`: `new MSELoss()` or `new MSELoss({ reduction: 'sum' })`. */
export class MSELoss extends Loss {
  constructor(options: ReductionOptions = {}) {
    super(options.reduction);
  }
  forward(pred: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return mseLoss(pred, target, { reduction: this.reduction });
  }
}

/** `nn.L1Loss(reduction=...)`: `new L1Loss()` or `new L1Loss({ reduction: 'none' })`. */
export class L1Loss extends Loss {
  constructor(options: ReductionOptions = {}) {
    super(options.reduction);
  }
  forward(pred: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return l1Loss(pred, target, { reduction: this.reduction });
  }
}

/** `nn.BCEWithLogitsLoss(weight, reduction, pos_weight)`: sigmoid + binary cross-entropy in one stable step. */
export class BCEWithLogitsLoss extends Loss {
  constructor(readonly options: BCEWithLogitsOptions = {}) {
    super(options.reduction);
  }
  forward(pred: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return bceWithLogitsLoss(pred, target, this.options);
  }
}

/** `nn.BCELoss(weight, reduction)`: on probabilities in [0, 1]. */
export class BCELoss extends Loss {
  constructor(readonly options: BCEOptions = {}) {
    super(options.reduction);
  }
  forward(pred: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return bceLoss(pred, target, this.options);
  }
}

/** `nn.CrossEntropyLoss(weight, ignore_index, reduction, label_smoothing)`: logits against class indices or probabilities. */
export class CrossEntropyLoss extends Loss {
  constructor(readonly options: CrossEntropyOptions = {}) {
    super(options.reduction);
  }
  forward(pred: tf.Tensor, target: tf.Tensor): tf.Tensor {
    return crossEntropyLoss(pred, target, this.options);
  }
  extraRepr(): string {
    const parts = [super.extraRepr()];
    if (this.options.labelSmoothing) parts.push(`label_smoothing=${this.options.labelSmoothing}`);
    return parts.filter(Boolean).join(', ');
  }
}
