// ChatGLM3 config.json, parsed once at the boundary into a typed, read-only object.
// Every field that changes the computation is read; values this implementation does not
// compute (LayerNorm, biased dense layers, non-original rope, quantized or fp16 math…)
// are rejected with a message instead of being silently ignored.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { GlmflowError } from '../engine/errors.ts';

const positiveInt = z.number().int().positive();

const rawSchema = z
  .object({
    model_type: z.literal('chatglm', { error: 'model_type must be "chatglm" (a ChatGLM3 checkpoint)' }),
    num_layers: positiveInt,
    padded_vocab_size: positiveInt,
    hidden_size: positiveInt,
    ffn_hidden_size: positiveInt,
    kv_channels: positiveInt,
    num_attention_heads: positiveInt,
    seq_length: positiveInt,
    layernorm_epsilon: z.number().positive().default(1e-5),
    rmsnorm: z.literal(true, { error: 'only rmsnorm: true is supported (ChatGLM3 uses RMSNorm)' }).default(true),
    apply_residual_connection_post_layernorm: z.boolean().default(false),
    post_layer_norm: z.boolean().default(true),
    add_bias_linear: z
      .literal(false, { error: 'add_bias_linear: true is not supported (ChatGLM3 has no bias on dense / MLP layers)' })
      .default(false),
    add_qkv_bias: z.boolean().default(true),
    multi_query_attention: z
      .literal(true, { error: 'only multi_query_attention: true is supported (the ChatGLM3 layout)' })
      .default(true),
    multi_query_group_num: positiveInt,
    original_rope: z.literal(true, { error: 'only original_rope: true is supported (ChatGLM3 rotary layout)' }).default(true),
    rope_ratio: z.number().positive().default(1),
    pre_seq_len: positiveInt.nullable().default(null),
    prefix_projection: z.boolean().default(false),
    hidden_dropout: z.literal(0, { error: 'hidden_dropout must be 0 (dropout inside the base model is not implemented)' }).default(0),
    attention_dropout: z
      .literal(0, { error: 'attention_dropout must be 0 (dropout inside the base model is not implemented)' })
      .default(0),
    quantization_bit: z
      .literal(0, { error: 'quantized checkpoints (quantization_bit > 0) are not supported: use the unquantized weights' })
      .default(0),
    tie_word_embeddings: z
      .literal(false, { error: 'tie_word_embeddings: true is not supported (ChatGLM3 has a separate output_layer)' })
      .default(false),
    eos_token_id: z.union([z.number().int(), z.array(z.number().int())]).default(2),
    pad_token_id: z.number().int().default(0),
  })
  // apply_query_key_layer_scaling, attention_softmax_in_fp32, fp32_residual_connection,
  // bias_dropout_fusion, torch_dtype, use_cache, auto_map… have no numerical effect in fp32.
  .loose()
  .superRefine((c, ctx) => {
    if (c.num_attention_heads % c.multi_query_group_num !== 0)
      ctx.addIssue({ code: 'custom', message: 'num_attention_heads must be a multiple of multi_query_group_num' });
    if (c.kv_channels % 4 !== 0)
      ctx.addIssue({ code: 'custom', message: 'kv_channels must be a multiple of 4 (rotary pairs in the first half)' });
    if (c.prefix_projection && c.pre_seq_len === null)
      ctx.addIssue({ code: 'custom', message: 'prefix_projection: true needs pre_seq_len' });
  });

/** The computation-relevant config, camelCased. */
export interface GlmConfig {
  readonly numLayers: number;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly ffnHiddenSize: number;
  readonly kvChannels: number;
  readonly numHeads: number;
  readonly numGroups: number;
  readonly seqLength: number;
  readonly layernormEpsilon: number;
  readonly residualPostLayernorm: boolean;
  readonly postLayerNorm: boolean;
  readonly addQkvBias: boolean;
  readonly ropeRatio: number;
  /** Number of P-tuning v2 virtual tokens; null = no prefix. */
  readonly preSeqLen: number | null;
  readonly prefixProjection: boolean;
  readonly eosTokenIds: readonly number[];
  readonly padTokenId: number;
}

/** Parses a config.json object; `source` names it in error messages. */
export function parseConfig(raw: unknown, source = 'config.json'): GlmConfig {
  const parsed = rawSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new GlmflowError(`invalid ChatGLM3 config in ${source}:\n${lines.join('\n')}`, 'fix the config.json of the checkpoint');
  }
  const c = parsed.data;
  return Object.freeze({
    numLayers: c.num_layers,
    vocabSize: c.padded_vocab_size,
    hiddenSize: c.hidden_size,
    ffnHiddenSize: c.ffn_hidden_size,
    kvChannels: c.kv_channels,
    numHeads: c.num_attention_heads,
    numGroups: c.multi_query_group_num,
    seqLength: c.seq_length,
    layernormEpsilon: c.layernorm_epsilon,
    residualPostLayernorm: c.apply_residual_connection_post_layernorm,
    postLayerNorm: c.post_layer_norm,
    addQkvBias: c.add_qkv_bias,
    ropeRatio: c.rope_ratio,
    preSeqLen: c.pre_seq_len,
    prefixProjection: c.prefix_projection,
    eosTokenIds: Object.freeze(Array.isArray(c.eos_token_id) ? c.eos_token_id : [c.eos_token_id]),
    padTokenId: c.pad_token_id,
  });
}

export function readConfig(dir: string): GlmConfig {
  const file = path.join(dir, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new GlmflowError(`no config.json in ${dir}`, 'a checkpoint directory holds config.json and *.safetensors');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new GlmflowError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  return parseConfig(raw, file);
}

/** The same config with a different prefix setting (training a new prefix on a base checkpoint). */
export function withPrefix(config: GlmConfig, preSeqLen: number | null, prefixProjection: boolean): GlmConfig {
  return Object.freeze({ ...config, preSeqLen, prefixProjection });
}

/** A config.json object (HF names) for a GlmConfig, for saving a model built from scratch. */
export function toHfConfig(c: GlmConfig): Record<string, unknown> {
  return {
    model_type: 'chatglm',
    architectures: ['ChatGLMModel'],
    num_layers: c.numLayers,
    padded_vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    ffn_hidden_size: c.ffnHiddenSize,
    kv_channels: c.kvChannels,
    num_attention_heads: c.numHeads,
    multi_query_attention: true,
    multi_query_group_num: c.numGroups,
    seq_length: c.seqLength,
    layernorm_epsilon: c.layernormEpsilon,
    rmsnorm: true,
    apply_residual_connection_post_layernorm: c.residualPostLayernorm,
    post_layer_norm: c.postLayerNorm,
    add_bias_linear: false,
    add_qkv_bias: c.addQkvBias,
    original_rope: true,
    rope_ratio: c.ropeRatio,
    pre_seq_len: c.preSeqLen,
    prefix_projection: c.prefixProjection,
    hidden_dropout: 0,
    attention_dropout: 0,
    tie_word_embeddings: false,
    eos_token_id: c.eosTokenIds.length === 1 ? c.eosTokenIds[0] : [...c.eosTokenIds],
    pad_token_id: c.padTokenId,
    torch_dtype: 'float32',
  };
}
