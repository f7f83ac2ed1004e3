/**
 * The training step of XANESNET's autoencoders (ae_mlp, ae_cnn): the model returns
 * [recon, pred] and one optimizer minimises
 *
 *     L = loss(recon, x) + loss(pred, y)
 *
 * with no L1/L2 regularisation (XANESNET adds it to mlp, cnn and lstm only).
 * Reported per batch: loss (= L), loss_recon, loss_pred; predictions of y for the metrics.
 */
import { tf } from '../../engine/tf';
import { backward, noGrad } from '../../engine/autograd';
import { Module } from '../../nn/module';
import { Parameter } from '../../nn/parameter';
import { clipGradNorm_, clipGradValue_ } from '../../nn/clip';
import type { Task, Optimizerlike } from '../../train/task';
import type { TaskContext } from './context';

/** What an autoencoder model offers: forward(x) = [reconstruction of x, prediction of y]. */
interface Autoencoder extends Module {
  forward(x: tf.Tensor): [tf.Tensor, tf.Tensor];
}

/** Clip the gradients of `params` as the run asks (max_norm, then value). */
export function clipGrads(params: Parameter[], clip: TaskContext['gradClip']): void {
  if (clip?.maxNorm !== undefined) clipGradNorm_(params, clip.maxNorm);
  if (clip?.value !== undefined) clipGradValue_(params, clip.value);
}

export function autoencoderTask(ctx: TaskContext): Task {
  const model = ctx.model as Autoencoder;
  const optimizer: Optimizerlike = ctx.makeOptimizer(model.parameters());
  const read = (t: tf.Tensor) => t.dataSync()[0];
  return {
    model,
    optimizers: [optimizer],
    trainStep(batch) {
      let pred: tf.Tensor | undefined;
      let lossRecon = 0;
      let lossPred = 0;
      optimizer.zeroGrad();
      const loss = backward(() => {
        const [recon, p] = model.forward(batch.x);
        pred = tf.keep(p.clone());
        const lr = ctx.loss(recon, batch.x);
        const lp = ctx.loss(p, batch.y);
        lossRecon = read(lr);
        lossPred = read(lp);
        return tf.add(lr, lp);
      });
      clipGrads(model.parameters(), ctx.gradClip);
      optimizer.step();
      return { losses: { loss, loss_recon: lossRecon, loss_pred: lossPred }, pred, target: batch.y.clone() };
    },
    evalStep(batch) {
      return noGrad(() => {
        const [recon, pred] = model.forward(batch.x);
        const [lr, lp] = tf.tidy(() => [ctx.loss(recon, batch.x), ctx.loss(pred, batch.y)]);
        const losses = { loss: read(lr) + read(lp), loss_recon: read(lr), loss_pred: read(lp) };
        tf.dispose([recon, lr, lp]);
        return { losses, pred, target: batch.y.clone() };
      });
    },
  };
}
