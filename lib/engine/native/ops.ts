/**
 * hyperlab's own native kernels for the wasm backend (beyond the matrix
 * products of ./matmul.ts): Linear, convolutions, batch norm, LSTM, Adam, SGD, cross-entropy, MSE, binary cross-entropy on logits, LeakyReLU, PReLU,
 * sums of norms (L2 regularisation). Registered
 * with tfjs once, when hyperlab is imported; the layers use them only when
 * nativeOpsActive() (addon loaded and on, wasm backend in use).
 */
import { registerActivationKernels } from './activations';
import { registerAdamKernels } from './adam';
import { registerBatchNormKernels } from './batchnorm';
import { registerBceKernels } from './bce';
import { registerConvKernels } from './conv';
import { registerLinearKernels } from './linear';
import { registerLstmKernels } from './lstm';
import { registerLossKernels } from './losses';
import { registerNormKernels } from './norms';
import { registerPreluKernels } from './prelu';
import { registerSgdKernels } from './sgd';

export { nativeOpsActive } from './wasm';

export function registerNativeOps(): void {
  registerConvKernels();
  registerLinearKernels();
  registerBatchNormKernels();
  registerLstmKernels();
  registerAdamKernels();
  registerLossKernels();
  registerActivationKernels();
  registerPreluKernels();
  registerNormKernels();
  registerSgdKernels();
  registerBceKernels();
}
