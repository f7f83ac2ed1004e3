/**
 * Losses and regularisation.
 *
 * - basic.ts: mseLoss, l1Loss
 * - bce.ts: bceWithLogitsLoss, bceLoss
 * - crossentropy.ts: crossEntropyLoss
 * - cosine.ts, emd.ts, wcc.ts: XANESNET's spectrum losses
 * - modules.ts: MSELoss, L1Loss, BCEWithLogitsLoss, BCELoss, CrossEntropyLoss (PyTorch style)
 * - registry.ts: getLoss(name, lossArgs) by XANESNET name
 * - regularization.ts: XANESNET's L1 / L2 penalty
 */
export type { Reduction, LossFn } from './common';
export * from './basic';
export * from './bce';
export * from './crossentropy';
export * from './cosine';
export * from './emd';
export * from './wcc';
export * from './modules';
export * from './registry';
export * from './regularization';
