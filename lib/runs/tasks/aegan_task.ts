/**
 * The training step of XANESNET's aegan_mlp (src/aegan_learn.py + AEGANTrainer, v2023-08).
 * a = batch.x, b = batch.y (structure descriptor and spectrum in train_xyz / train_aegan).
 *
 * Two optimizers, both with the run's weight_decay (1e-5 in XANESNET):
 *     gen: every parameter whose name does not contain "dis", learning rate lr_gen
 *     dis: dis_a and dis_b, learning rate lr_dis
 *
 * Per batch, in training mode (so every forward pass below updates the batch-norm
 * running statistics, in this order, as in XANESNET):
 *
 * 1. gen_update, with ℓ = loss_gen and max(.) over the whole batch:
 *        L_gen = ℓ(recon_a, a)/max(a) + ℓ(recon_b, b)/max(b) + ℓ(pred_a, a)/max(a) + ℓ(pred_b, b)/max(b)
 *    backward, generator step. There is no adversarial term.
 * 2. dis_update, with ℓd = loss_dis, on the generator outputs of a fresh forward pass:
 *        loss_real = ½ [ℓd(Da(a), 1) + ℓd(Db(b), 1)]
 *        loss_fake = ¼ [ℓd(Da(pred_a), Da(a)) + ℓd(Da(recon_a), Da(a)) + ℓd(Db(pred_b), Db(b)) + ℓd(Db(recon_b), Db(b))]
 *    backward of loss_real + loss_fake, discriminator step only. The "targets" of the fake
 *    terms are the discriminator's own outputs on real data (gradients flow through them too).
 *    The generator outputs are constants here: XANESNET lets gradients reach the generator,
 *    but never applies them (the next gen_update zeroes them), so the result is the same.
 * 3. A logging pass in training mode (which moves the batch-norm statistics once more):
 *    loss = ℓ(recon_a, a) + ℓ(recon_b, b) + ℓ(pred_a, a) + ℓ(pred_b, b), unscaled.
 *
 * The discriminators end in a sigmoid, so their outputs are probabilities. XANESNET's
 * `bce` is BCEWithLogitsLoss, which applies a second sigmoid. hyperlab's default with
 * loss_dis bce is the intended plain binary cross-entropy on the probabilities
 * (bceLoss); `original_bugs: [aegan_double_sigmoid]` keeps BCEWithLogits.
 *
 * Reported: loss (the logging pass's sum; also what validation reports), loss_gen (L_gen),
 * loss_dis, loss_recon_x, loss_recon_y, loss_pred_x, loss_pred_y (x = a, y = b).
 * The predictions for the metrics are pred_b, i.e. y predicted from x.
 */
import { tf } from '../../engine/tf';
import { backward, noGrad } from '../../engine/autograd';
import { bceLoss } from '../../losses/bce';
import { getLoss } from '../../losses/registry';
import type { LossFn } from '../../losses/common';
import type { Task, StepResult } from '../../train/task';
import type { TaskContext } from './context';
import { XanesAEGAN, AEGANOutputs } from '../../models/xanesnet/aegan_mlp';
import { clipGrads } from './ae_task';

/**
 * The discriminator loss: the run's loss_dis (ctx.spec), except that `bce` is plain BCE on the
 * probabilities unless the original double sigmoid is asked for. Without a run spec (a task
 * built by hand) ctx.lossDis is used as given, and plain BCE when there is none.
 */
export function aeganDisLoss(ctx: TaskContext): LossFn {
  const original = ctx.originalBugs.map((b) => b.toLowerCase()).includes('aegan_double_sigmoid');
  const dis = ctx.spec?.train.dis?.loss;
  if (!dis) return ctx.lossDis ?? (original ? getLoss('bce') : (p, t) => bceLoss(p, t));
  if (dis.fn.toLowerCase() === 'bce' && !original) return (p, t) => bceLoss(p, t);
  return ctx.lossDis ?? getLoss(dis.fn, dis.args as number | null);
}

export function aeganTask(ctx: TaskContext): Task {
  if (!(ctx.model instanceof XanesAEGAN)) throw new Error(`aegan_mlp task: the model must be a XanesAEGAN, got ${ctx.model.constructor.name}`);
  const model = ctx.model;
  const genParams = [...model.namedParameters()].filter(([n]) => !n.includes('dis')).map(([, p]) => p);
  const disParams = [...model.dis_a.parameters(), ...model.dis_b.parameters()];
  const genOpt = ctx.makeOptimizer(genParams, 'gen');
  const disOpt = ctx.makeOptimizer(disParams, 'dis');
  const loss = ctx.loss;
  const lossDis = aeganDisLoss(ctx);
  const read = (t: tf.Tensor) => t.dataSync()[0];

  /** The four unscaled generator losses of `o`, as numbers. */
  function parts(o: AEGANOutputs, a: tf.Tensor, b: tf.Tensor): Record<string, number> {
    const ls = tf.tidy(() => [loss(o.reconA, a), loss(o.reconB, b), loss(o.predA, a), loss(o.predB, b)]);
    const [rx, ry, px, py] = ls.map(read);
    tf.dispose(ls);
    return { loss: rx + ry + px + py, loss_recon_x: rx, loss_recon_y: ry, loss_pred_x: px, loss_pred_y: py };
  }

  function genUpdate(a: tf.Tensor, b: tf.Tensor): number {
    genOpt.zeroGrad();
    const [aMax, bMax] = tf.tidy(() => [tf.max(a), tf.max(b)]);
    const value = backward(() => {
      const encA = model.gen_a.encode(a);
      const encB = model.gen_b.encode(b);
      const sharedA = model.dec_shared.forward(model.enc_shared.forward(encA));
      const sharedB = model.dec_shared.forward(model.enc_shared.forward(encB));
      const reconA = model.gen_a.decode(sharedA);
      const reconB = model.gen_b.decode(sharedB);
      const predA = model.gen_a.decode(sharedB);
      const predB = model.gen_b.decode(sharedA);
      const terms = [tf.div(loss(reconA, a), aMax), tf.div(loss(reconB, b), bMax), tf.div(loss(predA, a), aMax), tf.div(loss(predB, b), bMax)];
      return tf.addN(terms);
    });
    tf.dispose([aMax, bMax]);
    clipGrads(genParams, ctx.gradClip);
    genOpt.step();
    return value;
  }

  function disUpdate(a: tf.Tensor, b: tf.Tensor): number {
    disOpt.zeroGrad();
    // The generator pass of XANESNET's dis_update (its batch-norm updates in the same order), as constants.
    const { predA, predB, reconA, reconB } = noGrad(() => model.generateAll(a, b));
    const value = backward(() => {
      const Da = (v: tf.Tensor) => model.dis_a.forward(v);
      const Db = (v: tf.Tensor) => model.dis_b.forward(v);
      const realA = Da(a);
      const advA = lossDis(realA, tf.onesLike(realA));
      const realB = Db(b);
      const advB = lossDis(realB, tf.onesLike(realB));
      // calc_dis_loss(fake, real) = ℓd(D(fake), D(real)): fake first, then real, each its own forward pass
      const fakeTerm = (D: typeof Da, fake: tf.Tensor, real: tf.Tensor) => {
        const dFake = D(fake);
        return lossDis(dFake, D(real));
      };
      const genAdvA = fakeTerm(Da, predA, a);
      const genAdvB = fakeTerm(Db, predB, b);
      const genReconA = fakeTerm(Da, reconA, a);
      const genReconB = fakeTerm(Db, reconB, b);
      const lossReal = tf.mul(0.5, tf.add(advA, advB));
      const lossFake = tf.mul(0.25, tf.addN([genAdvA, genReconA, genAdvB, genReconB]));
      return tf.add(lossReal, lossFake);
    });
    tf.dispose([predA, predB, reconA, reconB]);
    clipGrads(disParams, ctx.gradClip);
    disOpt.step();
    return value;
  }

  return {
    model,
    optimizers: [genOpt, disOpt],
    trainStep(batch): StepResult {
      const a = batch.x;
      const b = batch.y;
      const lossGen = genUpdate(a, b);
      const lossDisValue = disUpdate(a, b);
      // 3. the logging pass, still in training mode
      const o = noGrad(() => model.generateAll(a, b));
      const losses = { ...parts(o, a, b), loss_gen: lossGen, loss_dis: lossDisValue };
      tf.dispose([o.reconA, o.reconB, o.predA]);
      return { losses, pred: o.predB, target: b.clone() };
    },
    evalStep(batch): StepResult {
      const o = noGrad(() => model.generateAll(batch.x, batch.y));
      const losses = parts(o, batch.x, batch.y);
      tf.dispose([o.reconA, o.reconB, o.predA]);
      return { losses, pred: o.predB, target: batch.y.clone() };
    },
  };
}
