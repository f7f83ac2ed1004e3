/** Files: safetensors weights, checkpoint directories, TensorBoard event files, atomic writes. */
export * from './safetensors';
export { writeFileAtomic, writeJsonAtomic } from './atomic';
export * from './checkpoint';
export * from './tensorboard';
