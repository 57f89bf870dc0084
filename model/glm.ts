// ChatGLM3 (ChatGLMForConditionalGeneration) with an optional P-tuning v2 prefix, in tfjs.
// Hidden states stay 2-D (B*T, H) end to end so every projection is a plain 2-D product.
import * as tf from '@tensorflow/tfjs';
import { GlmflowError } from '../engine/errors.ts';
import type { AttentionInputs, KeyValues } from './attention.ts';
import { GLMBlock } from './block.ts';
import type { GlmConfig } from './config.ts';
import { Embedding } from './embedding.ts';
import { generate, type GenerateOptions } from './generate.ts';
import { causalLmLoss, evalLoss, shiftedTargets } from './loss.ts';
import { attentionBias, blockedPattern, checkMatrix, defaultPositionIds, type IdMatrix, idRows } from './masks.ts';
import { checkTensorFits } from './limits.ts';
import { checkWasmMemory } from './memory.ts';
import { OutputLayer } from './output_layer.ts';
import { type Param, ParamBuilder, type Trainable, type VariableGrads, type WeightSource, isPrefixParam } from './params.ts';
import { PrefixEncoder } from './prefix_encoder.ts';
import { RMSNorm } from './rmsnorm.ts';
import { lastRows } from './select.ts';
import { ropeSwap, ropeTables } from './rotary.ts';

export type { IdMatrix } from './masks.ts';

export interface ForwardInput {
  readonly inputIds: IdMatrix;
  /** 1 = token, 0 = padding (left padding); does not include the prefix. */
  readonly attentionMask?: IdMatrix;
  /** Default: 0..T-1 in every row, as the reference (pass the tokenizer's ids with padding). */
  readonly positionIds?: IdMatrix;
  /** Unshifted: labels[b][t+1] is the target of position t; -100 = ignored. */
  readonly labels?: IdMatrix;
}

export interface ForwardOptions {
  /** Which logits to return: every position [B, T, V] (default), the last one [B, 1, V], or none. */
  readonly logits?: 'all' | 'last' | 'none';
  /** Also return the embedding output and each layer's output, [B, T, H] each (L + 1 tensors). */
  readonly hiddenStates?: boolean;
}

export interface ForwardOutput {
  /** The caller disposes it. */
  readonly logits?: tf.Tensor3D;
  readonly loss?: number;
  readonly hiddenStates?: tf.Tensor3D[];
}

export interface TrainOptions {
  /** The reference's prefix Dropout(0.1) in train mode; default 0 (eval semantics). */
  readonly prefixDropout?: number;
  readonly dropoutSeed?: number;
}

/** A batch checked and flattened for one pass. */
export interface PreparedBatch {
  readonly batch: number;
  readonly length: number;
  readonly ids: Int32Array;
  readonly positions: Int32Array;
  readonly attentionMask: number[][] | undefined;
}

export class GlmModel {
  readonly embedding: Embedding;
  readonly layers: readonly GLMBlock[];
  readonly finalLayernorm: RMSNorm | undefined;
  readonly outputLayer: OutputLayer;
  readonly prefixEncoder: PrefixEncoder | undefined;
  /** Every weight by its Hugging Face name. */
  readonly params: readonly Param[];
  private readonly owned: tf.Tensor[];
  private readonly swapQ: ReturnType<typeof ropeSwap>;
  private readonly swapK: ReturnType<typeof ropeSwap>;

  constructor(
    readonly config: GlmConfig,
    source: WeightSource,
    readonly trainable: Trainable,
  ) {
    const b = new ParamBuilder(source, trainable);
    const c = config;
    this.embedding = new Embedding(b, c.vocabSize, c.hiddenSize);
    this.layers = Array.from({ length: c.numLayers }, (_, i) => new GLMBlock(b, i, c));
    this.finalLayernorm = c.postLayerNorm ? new RMSNorm(b, 'transformer.encoder.final_layernorm', c.hiddenSize, c.layernormEpsilon) : undefined;
    this.outputLayer = new OutputLayer(b, 'transformer.output_layer', c.vocabSize, c.hiddenSize);
    this.prefixEncoder = c.preSeqLen !== null ? new PrefixEncoder(b, c, c.preSeqLen) : undefined;
    this.swapQ = ropeSwap(c.numHeads, c.kvChannels);
    this.swapK = ropeSwap(c.numGroups, c.kvChannels);
    for (const s of [this.swapQ, this.swapK]) b.own(s.matrix), b.own(s.transposed);
    this.params = b.params;
    this.owned = b.owned;
  }

  /** The variables an optimizer updates (the prefix encoder's, or all with trainable 'all'). */
  trainableVariables(): tf.Variable[] {
    return this.params.flatMap((p) => p.variables);
  }

  /** HF-named values (new tensors) of the parameters selected by `filter`; the caller disposes them. */
  namedWeights(filter: (name: string) => boolean = () => true): Map<string, tf.Tensor> {
    return new Map(this.params.filter((p) => filter(p.name)).map((p) => [p.name, p.hf()]));
  }

  prefixWeights(): Map<string, tf.Tensor> {
    return this.namedWeights(isPrefixParam);
  }

  /** HF-named, HF-layout gradients (new tensors) from gradients keyed by variable. */
  namedGrads(grads: VariableGrads): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const p of this.params) {
      const g = p.hfGrad(grads);
      if (g) out.set(p.name, g);
    }
    return out;
  }

  /**
   * Checks a batch and flattens it; positions default to 0..T-1 per row. The attention mask
   * covers the T tokens, or (generation) the `past` cached columns too.
   */
  async prepare(input: Omit<ForwardInput, 'labels'>, past = 0): Promise<PreparedBatch> {
    const ids = await idRows(input.inputIds);
    const B = ids.length;
    const T = ids[0]?.length ?? 0;
    if (B === 0 || T === 0) throw new GlmflowError('inputIds is empty');
    checkMatrix('inputIds', ids, B, T);
    const V = this.config.vocabSize;
    const flatIds = Int32Array.from(ids.flat());
    const bad = flatIds.findIndex((id) => !(id >= 0 && id < V));
    if (bad >= 0) throw new GlmflowError(`token id ${flatIds[bad]} at [${Math.floor(bad / T)}, ${bad % T}] is outside the vocabulary [0, ${V})`);
    const positions = input.positionIds ? await idRows(input.positionIds) : defaultPositionIds(B, T);
    checkMatrix('positionIds', positions, B, T);
    const flatPos = Int32Array.from(positions.flat());
    const maxPos = flatPos.reduce((a, p) => Math.max(a, p), 0);
    if (maxPos >= this.config.seqLength || flatPos.some((p) => p < 0))
      throw new GlmflowError(`position ids must lie in [0, ${this.config.seqLength}) (seq_length in config.json); got ${maxPos}`);
    let mask: number[][] | undefined;
    if (input.attentionMask) {
      mask = await idRows(input.attentionMask);
      const width = mask[0]?.length === past + T ? past + T : T;
      checkMatrix('attentionMask', mask, B, width);
    }
    return { batch: B, length: T, ids: flatIds, positions: flatPos, attentionMask: mask };
  }

  /**
   * Final hidden states (B*T, H) after the final norm, and each layer's keys/values.
   * `past`: cached keys/values (generation); without it the prefix (if any) is the past.
   * Call inside tf.tidy.
   */
  hidden(
    p: PreparedBatch,
    past: readonly KeyValues[] | undefined,
    opts: { collect?: tf.Tensor2D[]; train?: TrainOptions } = {},
  ): { h: tf.Tensor2D; presents: KeyValues[] } {
    const c = this.config;
    const { batch: B, length: T } = p;
    const pastKv = past ?? this.prefixEncoder?.keyValues(B, opts.train?.prefixDropout ?? 0, opts.train?.dropoutSeed);
    const P = pastKv?.[0]?.kT[0]?.shape[1] ?? 0;
    const mask = p.attentionMask && P > 0 && p.attentionMask[0]!.length === T ? p.attentionMask.map((r) => [...new Array<number>(P).fill(1), ...r]) : p.attentionMask;
    const rep = c.numHeads / c.numGroups;
    const S = P + T;
    const bias = attentionBias(blockedPattern(mask, B, T, P), B, T, S, rep);
    const a: AttentionInputs = {
      batch: B,
      length: T,
      ropeQ: ropeTables(p.positions, c.numHeads, c.kvChannels, c.ropeRatio, 1 / Math.sqrt(c.kvChannels)),
      ropeK: ropeTables(p.positions, c.numGroups, c.kvChannels, c.ropeRatio),
      swapQ: this.swapQ.apply,
      swapK: this.swapK.apply,
      bias: Array.from({ length: B }, (_, b) => tf.tensor2d(bias.subarray(b * T * rep * S, (b + 1) * T * rep * S), [T * rep, S])),
    };
    let x = this.embedding.apply(tf.tensor1d(p.ids, 'int32')); // (B*T, H)
    const presents: KeyValues[] = [];
    this.layers.forEach((layer, i) => {
      opts.collect?.push(x);
      const { out, present } = layer.apply(x, a, pastKv?.[i]);
      x = out;
      presents.push(present);
    });
    opts.collect?.push(x);
    return { h: this.finalLayernorm ? this.finalLayernorm.apply(x) : x, presents };
  }

  /** Logits and/or loss for a batch (no gradient). */
  async forward(input: ForwardInput, opts: ForwardOptions = {}): Promise<ForwardOutput> {
    const p = await this.prepare(input);
    const which = opts.logits ?? 'all';
    const labels = input.labels ? await idRows(input.labels) : undefined;
    if (labels) checkMatrix('labels', labels, p.batch, p.length);
    const targets = labels ? shiftedTargets(labels, this.config.vocabSize) : undefined;
    const logitRows = (which === 'all' ? p.batch * p.length : which === 'last' ? p.batch : 0) + (targets?.rows.length ?? 0);
    checkWasmMemory(this.config, { batch: p.batch, length: p.length, past: this.config.preSeqLen ?? 0, logitRows, backward: false }, 'a forward pass');
    if (which !== 'none')
      checkTensorFits('logits', [p.batch, which === 'all' ? p.length : 1, this.config.vocabSize], 'ask for logits: "last" or "none" (the loss is computed in vocabulary blocks either way), or pass fewer rows');
    const collect: tf.Tensor2D[] | undefined = opts.hiddenStates ? [] : undefined;
    const out = tf.tidy(() => {
      const { h } = this.hidden(p, undefined, collect ? { collect } : {});
      const H = this.config.hiddenSize;
      const hLogits = which === 'all' ? h : which === 'last' ? lastRows(h, p.batch, p.length) : undefined;
      const logits = hLogits && (tf.reshape(this.outputLayer.apply(hLogits), [p.batch, which === 'all' ? p.length : 1, -1]) as tf.Tensor3D);
      const loss = targets && evalLoss(h, targets, this.outputLayer);
      const hiddenStates = collect?.map((x) => tf.reshape(x, [p.batch, p.length, H]) as tf.Tensor3D);
      return { logits, loss, hiddenStates };
    });
    const loss = out.loss ? (await out.loss.data())[0] : undefined;
    out.loss?.dispose();
    return {
      ...(out.logits ? { logits: out.logits } : {}),
      ...(loss !== undefined ? { loss } : {}),
      ...(out.hiddenStates ? { hiddenStates: out.hiddenStates } : {}),
    };
  }

  /**
   * Loss and gradients of the trainable variables (the prefix encoder's unless trainable 'all').
   * The loss stays on the device (a scalar tensor): a training step reads it back once, with
   * whatever else it needs (gradient norm), after the update is queued. The caller disposes the
   * loss and the gradients (or passes them to AdamW.step, then disposes them).
   */
  async lossAndGrads(input: ForwardInput, opts: TrainOptions = {}): Promise<{ loss: tf.Scalar; grads: Map<tf.Variable, tf.Tensor> }> {
    const vars = this.trainableVariables();
    if (vars.length === 0) throw new GlmflowError('this model has nothing to train', 'load it with a prefix (pre_seq_len) or trainable: "all"');
    if (!input.labels) throw new GlmflowError('training needs labels');
    const p = await this.prepare(input);
    const labels = await idRows(input.labels);
    checkMatrix('labels', labels, p.batch, p.length);
    const targets = shiftedTargets(labels, this.config.vocabSize);
    checkWasmMemory(
      this.config,
      { batch: p.batch, length: p.length, past: this.config.preSeqLen ?? 0, logitRows: targets.rows.length, backward: true },
      'a training step',
    );
    const kept: tf.Tensor[] = [];
    let result: { value: tf.Scalar; grads: tf.NamedTensorMap };
    try {
      result = tf.variableGrads(() => causalLmLoss(this.hidden(p, undefined, { train: opts }).h, targets, this.outputLayer, kept), vars);
    } finally {
      tf.dispose(kept); // normally released by the backward pass already
    }
    const { value, grads } = result;
    const byName = new Map(vars.map((v) => [v.name, v]));
    return { loss: value, grads: new Map(Object.entries(grads).map(([name, g]) => [byName.get(name)!, g])) };
  }

  /** New token ids per row (see GenerateOptions). */
  generate(promptIds: IdMatrix, opts: GenerateOptions): Promise<number[][]> {
    return generate(this, promptIds, opts);
  }

  dispose(): void {
    for (const t of this.owned) t.dispose();
  }
}

export function disposeGrads(grads: ReadonlyMap<unknown, tf.Tensor>): void {
  for (const g of grads.values()) g.dispose();
}
