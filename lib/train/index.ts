export * from './callback';
export * from './metrics';
export * from './task';
export * from './trainer';
export * from './early_stopping';
export * from './nan_guard';
export * from './csv_logger';
export * from './progress';
