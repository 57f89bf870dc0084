// One transformer layer (GLMBlock): pre-norm attention and MLP with residuals.
import * as tf from '@tensorflow/tfjs';
import { type AttentionInputs, type DecodeCache, type DecodeInputs, decodeAttention, type KeyValues, SelfAttention } from './attention.ts';
import type { GlmConfig } from './config.ts';
import { MLP } from './mlp.ts';
import type { ParamBuilder } from './params.ts';
import { RMSNorm } from './rmsnorm.ts';

export class GLMBlock {
  readonly inputLayernorm: RMSNorm;
  readonly selfAttention: SelfAttention;
  readonly postAttentionLayernorm: RMSNorm;
  readonly mlp: MLP;
  private readonly residualPostLayernorm: boolean;

  constructor(b: ParamBuilder, index: number, c: GlmConfig) {
    const name = `transformer.encoder.layers.${index}`;
    this.inputLayernorm = new RMSNorm(b, `${name}.input_layernorm`, c.hiddenSize, c.layernormEpsilon);
    this.selfAttention = new SelfAttention(b, `${name}.self_attention`, c);
    this.postAttentionLayernorm = new RMSNorm(b, `${name}.post_attention_layernorm`, c.hiddenSize, c.layernormEpsilon);
    this.mlp = new MLP(b, `${name}.mlp`, c);
    this.residualPostLayernorm = c.residualPostLayernorm;
  }

  apply(x: tf.Tensor2D, a: AttentionInputs, past: KeyValues | undefined): { out: tf.Tensor2D; present: KeyValues } {
    const ln1 = this.inputLayernorm.apply(x);
    const { out: attn, present } = this.selfAttention.apply(ln1, a, past);
    const h: tf.Tensor2D = tf.add(this.residualPostLayernorm ? ln1 : x, attn);
    const ln2 = this.postAttentionLayernorm.apply(h);
    return { out: tf.add(this.residualPostLayernorm ? ln2 : h, this.mlp.apply(ln2)), present };
  }

  /** One token at batch 1 (see decodeAttention). */
  decode(x: tf.Tensor2D, d: DecodeInputs, denseExpanded: tf.Tensor2D, cache: DecodeCache): { out: tf.Tensor2D; cache: DecodeCache } {
    const ln1 = this.inputLayernorm.apply(x);
    const { out: attn, cache: next } = decodeAttention(this.selfAttention, ln1, d, denseExpanded, cache);
    const h: tf.Tensor2D = tf.add(this.residualPostLayernorm ? ln1 : x, attn);
    const ln2 = this.postAttentionLayernorm.apply(h);
    return { out: tf.add(this.residualPostLayernorm ? ln2 : h, this.mlp.apply(ln2)), cache: next };
  }
}
