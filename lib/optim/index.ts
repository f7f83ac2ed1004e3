/** Optimizers (SGD, Adam, AdamW, RMSprop) and learning-rate schedules. */
export * from './optimizer';
export * from './sgd';
export * from './adam';
export * from './rmsprop';
export * from './registry';
export * from './schedules';
export * from './lr_scheduler';
