/** The callbacks a run attaches to `Trainer.fit` (Keras' names and hooks). */
export * from './early_stopping';
export * from './nan_guard';
export * from './csv_logger';
export * from './progress';
export * from './model_checkpoint';
export * from './tensorboard';
export * from './interrupt';
