/**
 * The training step of RACCOON/PENGUIN on whole cubes (P2 commit 30eaeed,
 * `train_utils.py`: `slice_and_rearrange_cube`, `train_one_epoch_cube_version`,
 * `evaluate_cube_version`).
 *
 * A batch holds N cubes (N, S, S, S) and their labels (N, 1). Each step:
 *
 * 1. Slice: every cube becomes 3S one-channel images, so the batch becomes 3SN images
 *    (768 N for the seed's S = 256), each with its cube's label. Cube by cube, in order:
 *
 *      'seed' (default, what the seed computes):  cube[:, k, :]^T, then cube[k, :, :]^T, then cube[k, :, :]
 *      'axes' (what it meant, HEAD's image set):  cube[k, :, :],   then cube[:, k, :],   then cube[:, :, k]
 *
 *    The seed's quirk comes from `permute(...).reshape(-1, 1, H, W)` (see sliceCubes):
 *    two of its three image sets are slices along axis 0 and none along axis 2.
 * 2. Transforms: the 8 symmetries of the square (identity, rot90, rot180, rot270, hflip,
 *    and hflip followed by rot90/180/270, as torchvision's RandomRotation((a, a)) after
 *    RandomHorizontalFlip(p=1)) are visited in a random order. For each one: a fresh
 *    random permutation of all 3SN images, then ONE optimizer step on all of them
 *    (BCE with logits, mean over the images). So a batch gives 8 optimizer steps and
 *    its loss is the mean of the 8 step losses, making the epoch loss
 *    sum / (n_batches * 8) as in the seed.
 *    With `transforms: false` (HEAD's TRANSFORMS = False) a batch gives one step on
 *    its permuted images, untransformed.
 * 3. Evaluation is the same loop under noGrad in eval mode: every transform of every
 *    image, no step. Eval mode makes each image's logit independent of the others,
 *    so the order and the permutation change nothing and are skipped.
 *
 * Steps 1 and 2 (slice, permute, transform) are one index map on the cube data in
 * JavaScript (cubeImages), which builds each chunk of images directly; the tensor
 * versions sliceCubes and TRANSFORMS say the same in tfjs ops and are checked
 * against it and against numpy (test/raccoon.test.ts).
 *
 * Micro-batches: the forward and backward passes of one step can run in chunks of
 * `microBatch` images whose gradients are accumulated, each chunk's mean loss
 * weighted by (chunk size / all images), so the summed gradient is that of the
 * mean over all images. Default 0: one chunk holding every image, which is the
 * seed's step exactly. In training mode BatchNorm normalises with its chunk's
 * statistics, so smaller chunks are then not bit-for-bit the big batch: they
 * behave like the seed's DistributedDataParallel runs, where each GPU normalised
 * its own share of the images (no SyncBatchNorm). Memory of one chunk, roughly:
 * chunk * L * (S/4)^2 * 4 bytes * ~6 (RACCOON's first block dominates), e.g.
 * 3072 images at S = 256, L = 16 need ~5 GB; microBatch 256 needs ~0.4 GB.
 *
 * Metrics: predictions (logits) and targets are returned for every image of every
 * transform, paired correctly. (The seed compared the permuted predictions with the
 * unpermuted targets, so its train/test accuracies were not those of the model.)
 *
 * Randomness (transform order, permutations, dropout) comes from the global
 * generator, which checkpoints save and restore, so a resumed run is exact.
 */
import { tf } from '../../engine/tf';
import { backward, noGrad } from '../../engine/autograd';
import { defaultGenerator, Generator } from '../../engine/random';
import { Module } from '../../nn/module';
import { bceWithLogitsLoss } from '../../losses/bce';
import type { Batch, Optimizerlike, StepResult, Task } from '../../train/task';
import type { TaskContext } from './context';
import type { CubeDataSpec } from '../../config';

export type Slicing = 'seed' | 'axes';

/**
 * The 3S images of each cube, cube after cube: (N, S, S, S) -> (3 S N, 1, S, S).
 *
 * The seed's code, per cube c of shape (D, H, W):
 *   slice_d = c.permute(1, 2, 0).reshape(-1, 1, H, W)  ->  image k [r, s] = c[s, k, r] = (c[:, k, :]^T)[r, s]
 *   slice_h = c.permute(0, 2, 1).reshape(-1, 1, D, W)  ->  image k [r, s] = c[k, s, r] = (c[k, :, :]^T)[r, s]
 *   slice_w = c.reshape(-1, 1, D, H)                   ->  image k [r, s] = c[k, r, s]
 * i.e. the transposes below ([0, 2, 3, 1] and [0, 1, 3, 2] on the batch).
 */
export function sliceCubes(cubes: tf.Tensor, slicing: Slicing = 'axes'): tf.Tensor4D {
  if (cubes.rank !== 4 || cubes.shape[1] !== cubes.shape[2] || cubes.shape[2] !== cubes.shape[3]) {
    throw new Error(`sliceCubes: expected a batch of cubes (N, S, S, S), got shape [${cubes.shape}]`);
  }
  const [N, S] = cubes.shape;
  const perms: Record<Slicing, number[][]> = {
    seed: [
      [0, 2, 3, 1], // image k = cube[:, k, :]^T
      [0, 1, 3, 2], // image k = cube[k, :, :]^T
      [0, 1, 2, 3], // image k = cube[k, :, :]
    ],
    axes: [
      [0, 1, 2, 3], // image k = cube[k, :, :]
      [0, 2, 1, 3], // image k = cube[:, k, :]
      [0, 3, 1, 2], // image k = cube[:, :, k]
    ],
  };
  const p = perms[slicing];
  if (!p) throw new Error(`sliceCubes: slicing must be 'seed' or 'axes', got '${slicing}'`);
  return tf.tidy(() => {
    const sets = p.map((perm) => (perm.join() === '0,1,2,3' ? cubes : tf.transpose(cubes, perm)));
    // (N, 3, S, S, S): cube n, image set j, slice k -> image number (n * 3 + j) * S + k
    return tf.stack(sets, 1).reshape([N * 3 * S, 1, S, S]) as tf.Tensor4D;
  });
}

/** Each cube's label repeated for its 3S images: (N, 1) -> (3 S N, 1). */
export function sliceTargets(labels: tf.Tensor, S: number): tf.Tensor2D {
  return tf.tidy(() => {
    const n = labels.shape[0];
    return tf.tile(labels.reshape([n, 1]), [1, 3 * S]).reshape([n * 3 * S, 1]) as tf.Tensor2D;
  });
}

// ---- the 8 transforms of (M, 1, S, S) images (rotations counter-clockwise, like np.rot90) ----

/** rot90: out[i, j] = x[j, S-1-i] (np.rot90(x, 1) = torchvision rotate by +90 degrees). */
const rot90 = (x: tf.Tensor) => tf.transpose(tf.reverse(x, 3), [0, 1, 3, 2]);
const rot180 = (x: tf.Tensor) => tf.reverse(x, [2, 3]);
/** rot270: out[i, j] = x[S-1-j, i]. */
const rot270 = (x: tf.Tensor) => tf.reverse(tf.transpose(x, [0, 1, 3, 2]), 3);
/** hflip: mirror left-right (the last axis), torchvision's RandomHorizontalFlip(p=1). */
const hflip = (x: tf.Tensor) => tf.reverse(x, 3);

export interface ImageTransform {
  name: string;
  apply(x: tf.Tensor): tf.Tensor;
}

/** The seed's list, in its order: identity, rot90, rot180, rot270, flip, fliprot90, fliprot180, fliprot270. */
export const TRANSFORMS: ImageTransform[] = [
  { name: 'identity', apply: (x) => x.clone() },
  { name: 'rot90', apply: (x) => tf.tidy(() => rot90(x)) },
  { name: 'rot180', apply: (x) => tf.tidy(() => rot180(x)) },
  { name: 'rot270', apply: (x) => tf.tidy(() => rot270(x)) },
  { name: 'hflip', apply: (x) => tf.tidy(() => hflip(x)) },
  { name: 'hflip+rot90', apply: (x) => tf.tidy(() => rot90(hflip(x))) },
  { name: 'hflip+rot180', apply: (x) => tf.tidy(() => rot180(hflip(x))) },
  { name: 'hflip+rot270', apply: (x) => tf.tidy(() => rot270(hflip(x))) },
];

// ---- the same, as one index map on the cube data (what the task uses) ----------------

/**
 * Strides (per slice k, image row a, image column b) into a row-major (S, S, S) cube
 * for the three image sets of each slicing; image k of set j has pixel
 * [a, b] = cube[k * sk + a * sa + b * sb].
 */
function sliceStrides(slicing: Slicing, S: number): [number, number, number][] {
  const S2 = S * S;
  if (slicing === 'seed')
    return [
      [S, 1, S2],
      [S2, 1, S],
      [S2, S, 1],
    ]; // c[b,k,a], c[k,b,a], c[k,a,b]
  return [
    [S2, S, 1],
    [S, S2, 1],
    [1, S2, S],
  ]; // c[k,a,b], c[a,k,b], c[a,b,k]
}

/**
 * Where output pixel [i, j] of transform t reads its source image: [a, b] =
 * [a0 + ai i + aj j, b0 + bi i + bj j] (m = S - 1). Same order as TRANSFORMS:
 * rot90 out[i, j] = in[j, m - i]; hflip out[i, j] = in[i, m - j]; hflip+rot90 is the transpose.
 */
function transformMap(t: number, m: number): [number, number, number, number, number, number] {
  switch (t) {
    case 0:
      return [0, 1, 0, 0, 0, 1]; //        identity: a = i,     b = j
    case 1:
      return [0, 0, 1, m, -1, 0]; //       rot90:    a = j,     b = m - i
    case 2:
      return [m, -1, 0, m, 0, -1]; //      rot180:   a = m - i, b = m - j
    case 3:
      return [m, 0, -1, 0, 1, 0]; //       rot270:   a = m - j, b = i
    case 4:
      return [0, 1, 0, m, 0, -1]; //       hflip:    a = i,     b = m - j
    case 5:
      return [0, 0, 1, 0, 1, 0]; //        hflip+rot90:  a = j,     b = i
    case 6:
      return [m, -1, 0, 0, 0, 1]; //       hflip+rot180: a = m - i, b = j
    case 7:
      return [m, 0, -1, m, -1, 0]; //      hflip+rot270: a = m - j, b = m - i
    default:
      throw new Error(`transform ${t} is not one of 0..7 (${TRANSFORMS.map((x) => x.name).join(', ')})`);
  }
}

/**
 * Images `order[0], order[1], ...` of a batch of cubes (the numbering of sliceCubes:
 * image (n * 3 + j) * S + k), each with transform `t` applied, as one (M, 1, S, S)
 * row-major array: sliceCubes + gather + TRANSFORMS[t] in one pass over the data.
 */
export function cubeImages(cubes: Float32Array, S: number, slicing: Slicing, t: number, order: ArrayLike<number>): Float32Array {
  const strides = sliceStrides(slicing, S);
  const [a0, ai, aj, b0, bi, bj] = transformMap(t, S - 1);
  const S2 = S * S;
  const out = new Float32Array(order.length * S2);
  for (let m = 0; m < order.length; m++) {
    const img = order[m];
    const k = img % S;
    const j = Math.floor(img / S) % 3;
    const n = Math.floor(img / (3 * S));
    const [sk, sa, sb] = strides[j];
    // source offset of output pixel [r, c]: base + r * dr + c * dc (linear in r and c)
    const base = n * S2 * S + k * sk + a0 * sa + b0 * sb;
    const dr = ai * sa + bi * sb;
    const dc = aj * sa + bj * sb;
    let o = m * S2;
    for (let r = 0; r < S; r++) {
      let src = base + r * dr;
      for (let c = 0; c < S; c++, src += dc) out[o++] = cubes[src];
    }
  }
  return out;
}

/** The labels of images `order[...]` (image number / 3S is its cube). */
export function cubeImageTargets(labels: ArrayLike<number>, S: number, order: ArrayLike<number>): Float32Array {
  const out = new Float32Array(order.length);
  for (let m = 0; m < order.length; m++) out[m] = labels[Math.floor(order[m] / (3 * S))];
  return out;
}

// ---- the task --------------------------------------------------------------------

export interface CubeTaskOptions {
  model: Module;
  optimizer: Optimizerlike;
  /** loss(logits, targets), a mean over images; default BCE with logits (the seed's). */
  loss?: (pred: tf.Tensor, target: tf.Tensor) => tf.Tensor;
  /** The 8 transforms with a step each (default true, the seed at 30eaeed); false: one step per batch. */
  transforms?: boolean;
  /** Which slices make the images (default 'seed', see sliceCubes). */
  slicing?: Slicing;
  /** Images per forward/backward chunk; 0 (default) = all images in one chunk (exact). */
  microBatch?: number;
  /** Source of the transform order and permutations (default: the global generator). */
  generator?: Generator;
}

/**
 * The RACCOON/PENGUIN Task: cubes in, 8 optimizer steps (or 1) per batch out.
 * Images are built on the CPU by cubeImages (one pass over the cube data per chunk),
 * so only one chunk of images is ever a tensor.
 */
export function cubeTask(o: CubeTaskOptions): Task {
  const lossFn = o.loss ?? ((p: tf.Tensor, t: tf.Tensor) => bceWithLogitsLoss(p, t));
  const useTransforms = o.transforms ?? true;
  const slicing = o.slicing ?? 'axes';
  const microBatch = o.microBatch ?? 0;
  const gen = () => o.generator ?? defaultGenerator;
  if (!(Number.isInteger(microBatch) && microBatch >= 0)) {
    throw new Error(`cubeTask: microBatch must be a whole number of images >= 0 (0 = all at once), got ${microBatch}`);
  }
  if (slicing !== 'seed' && slicing !== 'axes') throw new Error(`cubeTask: slicing must be 'seed' or 'axes', got '${slicing}'`);

  /** The batch's cube data, side and labels, checked. */
  const read = (batch: Batch): { cubes: Float32Array; S: number; labels: Float32Array; M: number } => {
    const cubes = batch.cube ?? batch.x;
    const labels = batch.label ?? batch.y;
    if (!cubes || !labels) {
      throw new Error(`RACCOON/PENGUIN task: a batch needs 'cube' (N, S, S, S) and 'label' (N, 1), got fields ${Object.keys(batch).join(', ')}`);
    }
    const [N, S] = cubes.shape;
    if (cubes.rank !== 4 || cubes.shape[2] !== S || cubes.shape[3] !== S) {
      throw new Error(`RACCOON/PENGUIN task: 'cube' must be (N, S, S, S), got [${cubes.shape}]`);
    }
    if (labels.size !== N) throw new Error(`RACCOON/PENGUIN task: ${N} cubes but ${labels.size} labels (shape [${labels.shape}])`);
    return { cubes: cubes.dataSync() as Float32Array, S: S!, labels: labels.dataSync() as Float32Array, M: 3 * S! * N! };
  };

  /** Chunks [start, end) of M images. */
  const chunks = (M: number): [number, number][] => {
    const size = microBatch > 0 ? microBatch : M;
    const out: [number, number][] = [];
    for (let s = 0; s < M; s += size) out.push([s, Math.min(M, s + size)]);
    return out;
  };

  /** Images `order` with transform t, as (n, 1, S, S) and (n, 1) tensors. */
  const tensors = (d: ReturnType<typeof read>, t: number, order: ArrayLike<number>) => {
    const n = order.length;
    return {
      x: tf.tensor4d(cubeImages(d.cubes, d.S, slicing, t, order), [n, 1, d.S, d.S]),
      y: tf.tensor2d(cubeImageTargets(d.labels, d.S, order), [n, 1]),
    };
  };

  const concat = (parts: tf.Tensor[]): tf.Tensor => {
    if (parts.length === 1) return parts[0];
    const all = tf.concat(parts, 0);
    tf.dispose(parts);
    return all;
  };

  return {
    model: o.model,
    optimizers: [o.optimizer],

    /**
     * For each transform (random order): a fresh permutation, then ONE optimizer step
     * on all images: zeroGrad, backward per chunk of the chunk's mean loss times
     * (chunk size / M) (so the gradients add up to those of the mean over all M), step.
     */
    trainStep(batch): StepResult {
      const d = read(batch);
      const logits: tf.Tensor[] = [];
      const targets = new Float32Array((useTransforms ? TRANSFORMS.length : 1) * d.M);
      let total = 0;
      try {
        const order = useTransforms ? Array.from(gen().permutation(TRANSFORMS.length)) : [0];
        order.forEach((t, done) => {
          const perm = gen().permutation(d.M); // the seed's torch.randperm, one per transform
          o.optimizer.zeroGrad();
          for (const [s, e] of chunks(d.M)) {
            const idx = perm.subarray(s, e);
            const { x, y } = tensors(d, t, idx);
            try {
              total += backward(() => {
                const out = o.model.forward(x) as tf.Tensor;
                logits.push(tf.keep(out.clone()));
                const l = lossFn(out, y);
                return e - s === d.M ? l : tf.mul(l, (e - s) / d.M);
              });
            } finally {
              x.dispose();
              y.dispose();
            }
            targets.set(cubeImageTargets(d.labels, d.S, idx), done * d.M + s);
          }
          o.optimizer.step();
        });
        // The batch's loss is the mean of its step losses: the epoch mean is then sum / (n_batches * 8).
        return { losses: { loss: total / order.length }, pred: concat(logits), target: tf.tensor2d(targets, [targets.length, 1]) };
      } catch (e) {
        tf.dispose(logits);
        throw e;
      }
    },

    /** Every transform of every image, no step, in eval mode under noGrad (order irrelevant). */
    evalStep(batch): StepResult {
      const d = read(batch);
      const ts = useTransforms ? TRANSFORMS.length : 1;
      const natural = Int32Array.from({ length: d.M }, (_, i) => i);
      const logits: tf.Tensor[] = [];
      let total = 0;
      try {
        noGrad(() => {
          for (let t = 0; t < ts; t++) {
            for (const [s, e] of chunks(d.M)) {
              const { x, y } = tensors(d, t, natural.subarray(s, e));
              const out = tf.tidy(() => o.model.forward(x) as tf.Tensor);
              total += tf.tidy(() => lossFn(out, y).dataSync()[0]) * ((e - s) / d.M);
              logits.push(out);
              tf.dispose([x, y]);
            }
          }
        });
        const targets = cubeImageTargets(d.labels, d.S, natural);
        const target = tf.tidy(() => tf.tile(tf.tensor2d(targets, [d.M, 1]), [ts, 1]));
        return { losses: { loss: total / ts }, pred: concat(logits), target };
      } catch (e) {
        tf.dispose(logits);
        throw e;
      }
    },
  };
}

/**
 * The TASKS entry for 'raccoon' and 'penguin' (lib/runs/tasks/index.ts): the run's
 * optimizer over every parameter, the run's loss (bce = BCE with logits), and from
 * the run spec `transforms` (train_params.transforms, default true), the slicing
 * (data_params.slicing: 'axes' (default, intended) | 'seed' (the seed's quirk,
 * also original_bugs: [raccoon_slicing])) and the micro-batch
 * (train_params.micro_batch, default 0 = all images at once).
 */
export function cubeTaskFor(ctx: TaskContext): Task {
  const data = ctx.spec?.data as (CubeDataSpec & { slicing?: Slicing; microBatch?: number }) | undefined;
  const raw = ctx.spec?.raw ?? {};
  return cubeTask({
    model: ctx.model,
    optimizer: ctx.makeOptimizer(ctx.model.parameters()),
    loss: ctx.loss,
    transforms: data?.transforms ?? true,
    slicing: data?.slicing ?? raw.data_params?.slicing ?? 'axes',
    microBatch: data?.microBatch ?? raw.train_params?.micro_batch ?? 0,
  });
}
