// Tensors as one flat Float32Array and back: one read-back and one transfer per exchange.
import * as tf from '@tensorflow/tfjs';

/** The values of `tensors`, flattened and concatenated in order (one read-back). */
export async function flatten(tensors: readonly tf.Tensor[]): Promise<Float32Array> {
  const all = tf.tidy(() => tf.concat(tensors.map((t) => tf.reshape(t, [-1]))));
  try {
    return (await all.data()) as Float32Array;
  } finally {
    all.dispose();
  }
}

/** New tensors shaped like `like`, cut in order from `flat`. */
export function unflatten(like: readonly tf.Tensor[], flat: Float32Array): tf.Tensor[] {
  let at = 0;
  return like.map((t) => {
    const part = tf.tensor(flat.subarray(at, at + t.size), t.shape, 'float32');
    at += t.size;
    return part;
  });
}

/** Overwrites each variable with its part of `flat`. */
export function unflattenInto(vars: readonly tf.Variable[], flat: Float32Array): void {
  const parts = unflatten(vars, flat);
  vars.forEach((v, i) => v.assign(parts[i]!));
  tf.dispose(parts);
}
