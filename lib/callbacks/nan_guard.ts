/**
 * Stops training at the first batch whose loss is NaN or infinite, with a message
 * that says where and what to try. The last good checkpoint stays as it was
 * (ModelCheckpoint never writes after a non-finite loss, see model_checkpoint.ts).
 */
import { Callback, Logs } from '../train/callback';

export class NaNGuard extends Callback {
  /** The message of the stop, or null. */
  message: string | null = null;

  onBatchEnd(step: number, logs: Logs): void {
    for (const [k, v] of Object.entries(logs)) {
      if (k !== 'lr' && !Number.isFinite(v)) {
        this.message =
          `the ${k} became ${v} at step ${step} (epoch ${this.trainer.epoch + 1}); training stopped and the last good checkpoint was kept. ` +
          'Try a smaller learning rate, gradient clipping (hyperlab: {grad_clip: {max_norm: 1}}), or check the data for NaN/Inf values.';
        this.trainer.stopTraining = true;
        this.trainer.stopReason = `non-finite loss: ${this.message}`;
        return;
      }
    }
  }
}
