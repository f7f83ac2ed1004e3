/**
 * The front door to the native CPU kernels: everything the layers, losses and
 * optimizers above lib/engine use, and nothing else (the kernels, their
 * registration and the wasm plumbing stay behind it). Each `...Native` op runs
 * only where `nativeOpsActive()` (the addon is loaded and the wasm backend is in
 * use); lib/nn/functional.ts chooses between it and tfjs' own ops.
 */
export { nativeOpsActive } from './wasm';
export { linearNative } from './linear';
export { conv2dNCHW, convTranspose2dNCHW } from './conv';
export type { ConvGeometry } from './conv';
export { leakyReluNative, reluNative } from './activations';
export { batchNormRunningStatsNative, batchNormTrainNative } from './batchnorm';
export { lstmSequenceNative } from './lstm';
export { crossEntropyNative, mseNative } from './losses';
export { bceWithLogitsNative } from './bce';
export { adamStepsInPlaceNative, adamStepsNative } from './adam';
export type { AdamStepOptions, AdamItem } from './adam';
export { sgdStepsInPlaceNative, sgdStepsNative } from './sgd';
export { preluNative } from './prelu';
export { normSumNative } from './norms';
