/**
 * hyperlab: the one import a notebook, a script or a test needs.
 *
 *     import * as hl from 'hyperlab';
 *     const model = new hl.Sequential(new hl.Linear(8, 4), new hl.ReLU(), new hl.Linear(4, 2));
 */
export { tf } from './engine/tf';
export type { Tensor } from './engine/tf';
export * from './engine/random';
export * from './engine/backend';
export * from './engine/autograd';
export * from './nn/parameter';
export * from './nn/module';
export * from './nn/init';
export * from './nn/linear';
export * from './nn/activations';
export * from './nn/containers';
export * from './nn/dropout';
