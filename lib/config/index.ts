export * from './validate';
export * from './runspec';
export { ACTIVATIONS, LOSSES, OPTIMIZERS, INITIALIZERS, SCHEDULERS, XANES_MODELS } from './schema';
