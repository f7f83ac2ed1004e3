/**
 * hyperlab's own native kernels for the wasm backend (beyond the matrix
 * products of ./matmul.ts): Linear, convolutions, batch norm, LSTM, Adam, cross-entropy, LeakyReLU. Registered
 * with tfjs once, when hyperlab is imported; the layers use them only when
 * nativeOpsActive() (addon loaded and on, wasm backend in use).
 */
import { registerActivationKernels } from './activations';
import { registerAdamKernels } from './adam';
import { registerBatchNormKernels } from './batchnorm';
import { registerConvKernels } from './conv';
import { registerLinearKernels } from './linear';
import { registerLstmKernels } from './lstm';
import { registerLossKernels } from './losses';

export { nativeOpsActive } from './wasm';

export function registerNativeOps(): void {
  registerConvKernels();
  registerLinearKernels();
  registerBatchNormKernels();
  registerLstmKernels();
  registerAdamKernels();
  registerLossKernels();
  registerActivationKernels();
}
