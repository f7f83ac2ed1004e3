/**
 * XANESNET's weight initialisation: after `manualSeed(weight_seed)`, every Linear,
 * Conv1d, Conv2d and ConvTranspose1d gets `kernel_init(weight)` and `bias_init(bias)`
 * with raw torch.nn.init defaults (uniform is U(0, 1), normal N(0, 1)). Other layers
 * (BatchNorm, PReLU, LSTM) keep their PyTorch defaults, as in the original.
 *
 * The original maps `xavier_normal` to xavier_uniform (a typo in a method name);
 * hyperlab uses a real xavier_normal unless `originalBugs` lists 'xavier_normal'.
 */
import { Module } from '../nn/module';
import { Linear } from '../nn/linear';
import { Conv1d, Conv2d, ConvTranspose1d } from '../nn/conv';
import { getInitializer } from '../nn/init';
import { Parameter } from '../nn/parameter';

export function initWeights(model: Module, kernelInit: string | null, biasInit: string | null, originalBugs: string[] = []): void {
  if (!kernelInit && !biasInit) return;
  const kname = kernelInit === 'xavier_normal' && originalBugs.includes('xavier_normal') ? 'xavier_uniform' : kernelInit;
  const kernel = kname ? getInitializer(kname) : null;
  const bias = biasInit ? getInitializer(biasInit) : null;
  for (const m of model.modules()) {
    if (!(m instanceof Linear || m instanceof Conv1d || m instanceof Conv2d || m instanceof ConvTranspose1d)) continue;
    const layer = m as unknown as { weight: Parameter; bias: Parameter | null };
    if (kernel) kernel(layer.weight);
    if (bias && layer.bias) bias(layer.bias);
  }
}
