// The "small" GLM configuration of ../shared/BENCHMARKS.md (36.1M parameters, the real
// 65,024-token vocabulary), measured at batch 4 × 256 tokens by the model and GPU benches.
import { parseConfig } from '../model/config.ts';

export const SMALL = parseConfig({
  model_type: 'chatglm', num_layers: 4, hidden_size: 256, num_attention_heads: 8, kv_channels: 32,
  multi_query_attention: true, multi_query_group_num: 2, ffn_hidden_size: 704, padded_vocab_size: 65024,
  seq_length: 2048, pre_seq_len: 16, prefix_projection: false,
});
export const B = 4;
export const T = 256;
