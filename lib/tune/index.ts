/** fastai's tuning recipes on the Trainer: the learning-rate finder, one-cycle, freezing, fine-tuning. */
export * from './lr_find';
export * from './freeze';
export * from './one_cycle';
export * from './fine_tune';
