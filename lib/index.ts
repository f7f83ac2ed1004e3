/**
 * hyperlab: the one import a notebook, a script or a test needs.
 *
 *     import * as hl from 'hyperlab';
 *     const model = new hl.Sequential(new hl.Linear(8, 4), new hl.ReLU(), new hl.Linear(4, 2));
 */
export { tf } from './engine/tf';
export type { Tensor } from './engine/tf';
export * from './engine/random';
export * from './engine/backend';
export * from './engine/autograd';
export * from './nn/parameter';
export * from './nn/module';
export * from './nn/init';
export * from './nn/linear';
export * from './nn/activations';
export * from './nn/containers';
export * from './nn/dropout';
export * from './nn/summary';
export * from './losses';
export * from './optim';
export * from './train';
export * from './nn/clip';
export * from './nn/conv';
export * from './nn/batchnorm';
export * from './nn/lstm';
export * from './data/paths';
export * from './data/tables';
export * from './data/elements';
export * from './data/xanes';
export * from './data/descriptors/index';
export { ArrayDataset, TensorDataset, Subset } from './data/dataset';
export type { Dataset, Sample, Field, FieldInput, TypedArray } from './data/dataset';
export { DataLoader, collate } from './data/loader';
export type { DataLoaderOptions, DataLoaderState } from './data/loader';
export { StandardScaler } from './data/scaling';
export type { StandardScalerJSON } from './data/scaling';
export * from './data/splits';
export { H5File, H5Array, H5Writer, writeH5, loadH5wasm } from './data/hdf5';
export type { H5Dtype, H5WriteDataset, H5WriteOptions } from './data/hdf5';
export { H5Dataset } from './data/h5dataset';
export { CubeDataset, cubeNames, seedRange } from './data/cubes';
export type { CubeDatasetOptions, CubeSample } from './data/cubes';
export { readTable, writeTable, readDataFrame, tableMatrix, parseCsv, formatCsv } from './data/table';
export type { Table, ColumnInput } from './data/table';
export * from './train/safetensors';
export { writeFileAtomic, writeJsonAtomic } from './train/atomic';
export * from './train/checkpoint';
export * from './train/tensorboard';
