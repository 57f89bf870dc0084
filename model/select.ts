import * as tf from '@tensorflow/tfjs';

/** Rows b*T + T-1 of h (B*T, H): each sequence's last position. Not for the gradient path (gather). */
export function lastRows(h: tf.Tensor2D, B: number, T: number): tf.Tensor2D {
  return tf.gather(h, tf.tensor1d(Int32Array.from({ length: B }, (_, b) => b * T + T - 1), 'int32'));
}
