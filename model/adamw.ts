// AdamW with decoupled weight decay, step for step as torch.optim.AdamW (tfjs's Adam has
// no decoupled decay): p *= 1 - lr*wd; m, v moments; p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).
import * as tf from '@tensorflow/tfjs';

export interface AdamWOptions {
  readonly lr: number;
  readonly betas?: readonly [number, number];
  readonly eps?: number;
  readonly weightDecay?: number;
}

export class AdamW {
  /** Settable between steps (schedules). */
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private step_ = 0;
  private readonly moments = new Map<tf.Variable, { m: tf.Variable; v: tf.Variable }>();

  constructor(o: AdamWOptions) {
    this.lr = o.lr;
    [this.beta1, this.beta2] = o.betas ?? [0.9, 0.999];
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0.01;
  }

  get steps(): number {
    return this.step_;
  }

  /** One update of every variable that has a gradient; does not dispose the gradients. */
  step(grads: ReadonlyMap<tf.Variable, tf.Tensor>): void {
    this.step_++;
    const { lr, beta1, beta2, eps, weightDecay } = this;
    const bc1 = 1 - beta1 ** this.step_;
    const bc2 = 1 - beta2 ** this.step_;
    for (const [param, grad] of grads) {
      let s = this.moments.get(param);
      if (!s) {
        const zeros = () => tf.tidy(() => tf.variable(tf.zerosLike(param), false));
        s = { m: zeros(), v: zeros() };
        this.moments.set(param, s);
      }
      const { m, v } = s;
      tf.tidy(() => {
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(grad, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(grad), 1 - beta2)));
        const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), eps);
        const decayed = tf.mul(param, 1 - lr * weightDecay);
        param.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), lr / bc1)));
      });
    }
  }

  /** Moments and step count, for checkpointing a training run. */
  state(): { step: number; moments: Array<{ param: tf.Variable; m: tf.Tensor; v: tf.Tensor }> } {
    return { step: this.step_, moments: [...this.moments].map(([param, s]) => ({ param, m: s.m, v: s.v })) };
  }

  /** Puts back a checkpointed state: the step count and each variable's moments (the caller may dispose its tensors after). */
  restore(step: number, moments: ReadonlyArray<{ param: tf.Variable; m: tf.Tensor; v: tf.Tensor }>): void {
    this.dispose();
    this.step_ = step;
    for (const { param, m, v } of moments) this.moments.set(param, { m: tf.variable(m, false), v: tf.variable(v, false) });
  }

  dispose(): void {
    for (const s of this.moments.values()) s.m.dispose(), s.v.dispose();
    this.moments.clear();
  }
}
