/**
 * Ctrl-C during `fit`: the first SIGINT stops training after the current batch
 * (the unfinished epoch is dropped, so a resume repeats it from the checkpoint of
 * the last finished epoch and gives the same numbers as an uninterrupted run);
 * a second SIGINT exits at once.
 *
 * The listener is registered when training starts and removed when it ends, so
 * outside `fit` Ctrl-C behaves as usual (and in a notebook the kernel's own
 * interrupt is left alone unless this callback is used).
 */
import { Callback } from '../train/callback';

export class InterruptHandler extends Callback {
  interrupted = false;
  private count = 0;
  private readonly listener = () => {
    this.count++;
    if (this.count > 1) {
      process.stderr.write('\nsecond Ctrl-C: exiting now (the last checkpoint is kept)\n');
      process.exit(130);
    }
    this.interrupted = true;
    this.trainer.stopTraining = true;
    this.trainer.stopReason = `interrupted (Ctrl-C) during epoch ${this.trainer.epoch + 1}`;
    process.stderr.write('\nCtrl-C: stopping after this batch (press again to exit at once)\n');
  };

  onTrainBegin(): void {
    this.count = 0;
    this.interrupted = false;
    process.on('SIGINT', this.listener);
  }

  onTrainEnd(): void {
    process.off('SIGINT', this.listener);
  }
}
