/**
 * The model-specific training steps, by model name: how a run trains a model of the
 * zoo that does not learn by plain `supervised()` (lib/train/task.ts). The models
 * themselves (lib/models) are pure Modules and know nothing of training.
 */
import type { TaskBuilder } from './context';
import { autoencoderTask } from './ae_task';
import { aeganTask } from './aegan_task';
import { cubeTaskFor } from './raccoon_task';

export type { TaskContext, TaskBuilder } from './context';
export * from './ae_task';
export * from './aegan_task';
export * from './raccoon_task';

/** Models that train with their own step; every other model is trained by `supervised()`. */
export const TASKS: Record<string, TaskBuilder> = {
  // XANESNET's autoencoders: loss(recon, x) + loss(pred, y), one optimizer (ae_task.ts)
  ae_mlp: autoencoderTask,
  ae_cnn: autoencoderTask,
  // generator and discriminator updates with two optimizers (aegan_task.ts)
  aegan_mlp: aeganTask,
  // 8 transforms with an optimizer step each per batch of cubes (raccoon_task.ts)
  raccoon: cubeTaskFor,
  penguin: cubeTaskFor,
};
