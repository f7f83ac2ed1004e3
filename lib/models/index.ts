export * from './registry';
export * from './init_weights';
export * from './xanesnet/mlp';
