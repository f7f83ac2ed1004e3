export * from './validate';
export * from './runspec';
export { ACTIVATIONS, LOSSES, OPTIMIZERS, INITIALIZERS, SCHEDULERS, XANES_MODELS } from './schema';
export { mergeRunText, mergePatch } from './merge_run_text';
