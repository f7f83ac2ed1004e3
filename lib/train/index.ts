/** The training loop: Trainer, the Task it steps, the Callback hooks it calls, metrics. */
export * from './callback';
export * from './metrics';
export * from './task';
export * from './trainer';
