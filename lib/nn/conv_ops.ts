/**
 * The convolution arithmetic behind Conv1d/Conv2d/ConvTranspose: three NHWC
 * functions, each differentiable on every backend.
 *
 * Why not just tf.conv2d? Its gradient needs the `Conv2DBackpropFilter` kernel,
 * which the wasm backend lacks (CNN training throws there), and it supports no
 * dilation in gradients. Here every gradient is written with ordinary
 * convolutions and reshapes, which every backend has, in one code path:
 *
 * - `conv2dNHWC(x, w, stride)`: y = x * w ("valid", no dilation; the layers pad
 *   first and spread a dilated kernel out with `dilateKernel`). Its gradients:
 *     dL/dx = convTranspose2dNHWC(dy, w, stride)      (see below)
 *     dL/dw = conv2dFilterGrad(x, dy, stride)         (see below)
 * - `convTranspose2dNHWC(x, w, stride, size)`: the transposed convolution (the
 *   gradient of a convolution with respect to its input), computed as one
 *   stride-1 convolution followed by a pixel shuffle. It is built from
 *   conv2dNHWC, so it is differentiable too (ConvTranspose layers train).
 * - `conv2dFilterGrad(x, dy, stride, kernel)`: the filter gradient, as a
 *   dilated convolution of the input with the output gradient.
 *
 * Layouts (tfjs): x [N, H, W, Cin], w [kh, kw, Cin, Cout], y [N, OH, OW, Cout].
 * The PyTorch-layout layers (conv.ts) transpose to and from these.
 */
import { tf } from '../engine/tf';

export type Pair = [number, number];

/** Output size of a "valid" convolution: floor((size - kernel) / stride) + 1. */
export const convOutSize = (size: number, kernel: number, stride: number) => Math.floor((size - kernel) / stride) + 1;

/**
 * y[n, oh, ow, co] = sum_{a, b, ci} x[n, oh*sh + a, ow*sw + b, ci] * w[a, b, ci, co]
 * ("valid" padding, no dilation), with gradients that work on every backend.
 */
export function conv2dNHWC(x: tf.Tensor4D, w: tf.Tensor4D, stride: Pair): tf.Tensor4D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, wi, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([xi, wi]);
    const value = tf.conv2d(xi, wi, stride, 'valid');
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as tf.Tensor4D[];
      const [, H, W] = xs.shape;
      return [convTranspose2dNHWC(dy as tf.Tensor4D, ws, stride, [H, W]), conv2dFilterGrad(xs, dy as tf.Tensor4D, stride, [ws.shape[0], ws.shape[1]])];
    };
    return { value, gradFunc };
  });
  return op(x, w) as tf.Tensor4D;
}

/**
 * The transposed convolution: the gradient of conv2dNHWC(·, w, stride) with
 * respect to its input, applied to x (here x plays the output gradient: its
 * channels are w's Cout, the result has w's Cin channels):
 *
 *     out[n, h, w', ci] = sum_{oh*sh + a = h, ow*sw + b = w'} x[n, oh, ow, co] * w[a, b, ci, co]
 *
 * Rows h >= size[0] (columns >= size[1]) are dropped; rows past the natural
 * extent (H-1)*sh + kh are zeros (PyTorch's output_padding, and the unused
 * trailing rows of a strided convolution).
 *
 * Computed without inserting zeros (which wastes sh*sw of the work): split the
 * output rows by phase, h = q*s + r (0 <= r < s). Only the taps a = j*s + r
 * reach phase r, from input row oh = q - j:
 *
 *     out[q*s + r] = sum_j x[q - j] * w[j*s + r]        j = 0 .. J-1,  J = ceil(k / s)
 *
 * which for every phase at once is ONE stride-1 convolution of x (padded by
 * J-1 on both sides) with a J x J kernel whose output channels are the s*s
 * phases times ci: K[t, ·, co, (r, ci)] = w[(J-1-t)*s + r, ·, ci, co] (the kernel,
 * zero-padded to J*s taps, regrouped by phase and flipped in j). A pixel shuffle
 * then puts the phase channels back as rows/columns: (q, r) -> q*s + r.
 */
export function convTranspose2dNHWC(x: tf.Tensor4D, w: tf.Tensor4D, stride: Pair, size: Pair): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, ci, co] = w.shape;
    const [sh, sw] = stride;
    const [N] = x.shape;
    const Jh = Math.ceil(kh / sh);
    const Jw = Math.ceil(kw / sw);
    const K = tf
      .pad(w, [
        [0, Jh * sh - kh],
        [0, Jw * sw - kw],
        [0, 0],
        [0, 0],
      ])
      .reshape([Jh, sh, Jw, sw, ci, co]) // tap a = j*s + r -> [j, r]
      .reverse([0, 2]) // j -> J-1-t
      .transpose([0, 2, 5, 1, 3, 4]) // [t_h, t_w, co, r_h, r_w, ci]
      .reshape([Jh, Jw, co, sh * sw * ci]) as tf.Tensor4D;
    const xp = tf.pad(x, [
      [0, 0],
      [Jh - 1, Jh - 1],
      [Jw - 1, Jw - 1],
      [0, 0],
    ]);
    const z = conv2dNHWC(xp, K, [1, 1]); // [N, Qh, Qw, (r_h, r_w, ci)]
    const [, Qh, Qw] = z.shape;
    const shuffled = z
      .reshape([N, Qh, Qw, sh, sw, ci])
      .transpose([0, 1, 3, 2, 4, 5]) // [N, q_h, r_h, q_w, r_w, ci]
      .reshape([N, Qh * sh, Qw * sw, ci]) as tf.Tensor4D;
    return fitSpatial(shuffled, size);
  });
}

/**
 * dL/dw of y = conv2dNHWC(x, w, stride), given dy = dL/dy:
 *
 *     dw[a, b, ci, co] = sum_{n, oh, ow} x[n, oh*sh + a, ow*sw + b, ci] * dy[n, oh, ow, co]
 *
 * Read with ci as the batch, n as the channels and dy as the filter, this is a
 * stride-1 convolution with dilation (sh, sw) (the output's taps are sh apart
 * in x) of x^T [ci, H, W, n] with dy^T [OH, OW, n, co]. Its output is
 * [ci, H - sh*(OH-1), W - sw*(OW-1), co], at least the kernel size; the rows
 * beyond it are x rows no output used, and are cropped.
 */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, stride: Pair, kernel: Pair): tf.Tensor4D {
  return tf.tidy(() => {
    const ci = x.shape[3];
    const co = dy.shape[3];
    const xT = tf.transpose(x, [3, 1, 2, 0]) as tf.Tensor4D; // [ci, H, W, n]
    const dyT = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [OH, OW, n, co]
    const g = tf.conv2d(xT, dyT, [1, 1], 'valid', 'NHWC', stride); // [ci, >=kh, >=kw, co]
    return tf.transpose(tf.slice(g, [0, 0, 0, 0], [ci, kernel[0], kernel[1], co]), [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/**
 * A dilated kernel as an ordinary one: d-1 zeros between neighbouring taps,
 * size d*(k-1)+1. conv(x, w, dilation d) = conv(x, dilateKernel(w, d)). Costs
 * d^2 times the multiplications of a native dilated convolution, but keeps one
 * code path (the gradient flows back to the real taps through pad/slice).
 */
export function dilateKernel(w: tf.Tensor4D, dilation: Pair): tf.Tensor4D {
  const [dh, dw] = dilation;
  if (dh === 1 && dw === 1) return w;
  return tf.tidy(() => {
    const [kh, kw, ci, co] = w.shape;
    const spread = tf
      .pad(w.reshape([kh, 1, kw, 1, ci, co]), [
        [0, 0],
        [0, dh - 1],
        [0, 0],
        [0, dw - 1],
        [0, 0],
        [0, 0],
      ])
      .reshape([kh * dh, kw * dw, ci, co]);
    return tf.slice(spread, [0, 0, 0, 0], [dh * (kh - 1) + 1, dw * (kw - 1) + 1, ci, co]) as tf.Tensor4D;
  });
}

/** Crop (or zero-pad at the end) the spatial dimensions of an NHWC tensor to `size`. */
function fitSpatial(t: tf.Tensor4D, [H, W]: Pair): tf.Tensor4D {
  const [N, h, w, c] = t.shape;
  let out = t;
  if (h > H || w > W) out = tf.slice(out, [0, 0, 0, 0], [N, Math.min(h, H), Math.min(w, W), c]);
  if (h < H || w < W)
    out = tf.pad(out, [
      [0, 0],
      [0, Math.max(0, H - h)],
      [0, Math.max(0, W - w)],
      [0, 0],
    ]);
  return out;
}
