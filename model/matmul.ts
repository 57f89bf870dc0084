// 2-D matrix products with gradients on wasm's fast paths. tfjs's own matMul gradient multiplies
// with transpose flags, which drop tfjs's wasm product to a naive loop (~10x slower); these
// wrappers multiply through kernels/kernels.ts, whose product reads transposed operands in place
// (and otherwise transposes them explicitly first).
import * as tf from '@tensorflow/tfjs';
import { matMul } from './kernels/kernels.ts';

/** a [m, k] @ b [k, n], both possibly on the gradient path. */
export const matMul2d = tf.customGrad((a, b, save) => {
  (save as tf.GradSaveFunc)([a as tf.Tensor2D, b as tf.Tensor2D]);
  return {
    value: matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy, saved) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [matMul(dy as tf.Tensor2D, sb, false, true), matMul(sa, dy as tf.Tensor2D, true, false)];
    },
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/**
 * x [m, k] @ w [k, n] for a constant w, given its transpose wT [n, k] too so that the
 * input gradient dy @ wT is itself an untransposed product (without wT: a transposed product,
 * which GPU backends run at full speed). No gradient flows to w.
 */
export function constMatMul(w: tf.Tensor2D, wT: tf.Tensor2D | undefined): (x: tf.Tensor2D) => tf.Tensor2D {
  return tf.customGrad((x) => ({
    value: matMul(x as tf.Tensor2D, w),
    gradFunc: (dy) => (wT ? matMul(dy as tf.Tensor2D, wT) : matMul(dy as tf.Tensor2D, w, false, true)),
  })) as (x: tf.Tensor2D) => tf.Tensor2D;
}
