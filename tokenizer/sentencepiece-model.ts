// Reads a SentencePiece `tokenizer.model` (a serialized ModelProto, see
// sentencepiece_model.proto) with a minimal protobuf decoder: only the fields the
// BPE encoder needs. Anything this encoder would not reproduce exactly (unigram
// models, a non-identity normaliser, suffix whitespace) is refused here rather
// than silently tokenized differently.
import { GlmflowError } from '../engine/errors.ts';

export const PieceType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export interface ModelPiece {
  readonly piece: string;
  readonly score: number;
  readonly type: number;
}

export interface SentencePieceModel {
  readonly pieces: readonly ModelPiece[];
  readonly unkId: number;
  readonly byteFallback: boolean;
  readonly addDummyPrefix: boolean;
  readonly removeExtraWhitespaces: boolean;
}

const MODEL_TYPE_BPE = 2;
const EXPECTED = 'a SentencePiece BPE model (the tokenizer.model of ChatGLM3)';

class ProtoReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const byte = this.buf[this.pos++]!;
      // Values above 2^53 never occur in the fields read here; the high bytes of negative int32s are dropped.
      if (shift < 49) result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 70) throw new Error('varint too long');
    }
  }

  /** Reads one field header; returns [fieldNumber, wireType]. */
  tag(): [number, number] {
    const key = this.varint();
    return [Math.floor(key / 8), key & 7];
  }

  bytes(): [number, number] {
    const length = this.varint();
    const start = this.pos;
    if (start + length > this.end) throw new Error('length-delimited field runs past its message');
    this.pos += length;
    return [start, start + length];
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.advance(8);
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.advance(4);
    else throw new Error(`unsupported wire type ${wireType}`);
  }

  advance(n: number): void {
    if (this.pos + n > this.end) throw new Error('fixed-size field runs past its message');
    this.pos += n;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function parseSentencePieceModel(buf: Uint8Array, file: string): SentencePieceModel {
  try {
    return decodeModel(buf);
  } catch (error) {
    if (error instanceof GlmflowError) throw error;
    throw new GlmflowError(
      `${file} is not a valid SentencePiece model (${(error as Error).message}); expected ${EXPECTED}`,
      'point the tokenizer param at the tokenizer.model file of the base model (or its folder)',
    );
  }
}

function decodeModel(buf: Uint8Array): SentencePieceModel {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const pieces: ModelPiece[] = [];
  let modelType = 1;
  let byteFallback = false;
  let treatWhitespaceAsSuffix = false;
  let normalizerName = '';
  let hasCharsMap = false;
  let addDummyPrefix = true;
  let removeExtraWhitespaces = true;
  let escapeWhitespaces = true;
  const top = new ProtoReader(buf, 0, buf.length);
  while (top.pos < top.end) {
    const [field, wire] = top.tag();
    if (wire !== 2) {
      top.skip(wire);
      continue;
    }
    const [start, end] = top.bytes();
    const sub = new ProtoReader(buf, start, end);
    if (field === 1) {
      let piece = '';
      let score = 0;
      let type: number = PieceType.NORMAL;
      while (sub.pos < sub.end) {
        const [f, w] = sub.tag();
        if (f === 1 && w === 2) {
          const [s, e] = sub.bytes();
          piece = utf8.decode(buf.subarray(s, e));
        } else if (f === 2 && w === 5) {
          score = view.getFloat32(sub.pos, true);
          sub.advance(4);
        } else if (f === 3 && w === 0) type = sub.varint();
        else sub.skip(w);
      }
      pieces.push({ piece, score, type });
    } else if (field === 2) {
      while (sub.pos < sub.end) {
        const [f, w] = sub.tag();
        if (f === 3 && w === 0) modelType = sub.varint();
        else if (f === 35 && w === 0) byteFallback = sub.varint() !== 0;
        else if (f === 24 && w === 0) treatWhitespaceAsSuffix = sub.varint() !== 0;
        else sub.skip(w);
      }
    } else if (field === 3) {
      while (sub.pos < sub.end) {
        const [f, w] = sub.tag();
        if (f === 1 && w === 2) {
          const [s, e] = sub.bytes();
          normalizerName = utf8.decode(buf.subarray(s, e));
        } else if (f === 2 && w === 2) {
          // A non-empty precompiled charsmap means a non-identity normaliser.
          const [s, e] = sub.bytes();
          hasCharsMap = e > s;
        }
        else if (f === 3 && w === 0) addDummyPrefix = sub.varint() !== 0;
        else if (f === 4 && w === 0) removeExtraWhitespaces = sub.varint() !== 0;
        else if (f === 5 && w === 0) escapeWhitespaces = sub.varint() !== 0;
        else sub.skip(w);
      }
    }
  }
  if (pieces.length === 0) throw new Error('no vocabulary pieces');
  const unkId = pieces.findIndex((p) => p.type === PieceType.UNKNOWN);
  if (unkId < 0) throw new Error('no <unk> piece');
  const unsupported = (what: string): GlmflowError =>
    new GlmflowError(`unsupported SentencePiece model: ${what}`, `glmflow's encoder reproduces ${EXPECTED} exactly and nothing else`);
  if (modelType !== MODEL_TYPE_BPE) throw unsupported(`model_type ${modelType} (only BPE = 2 is supported)`);
  if (hasCharsMap || (normalizerName !== '' && normalizerName !== 'identity')) throw unsupported(`normaliser "${normalizerName}"`);
  if (!escapeWhitespaces || treatWhitespaceAsSuffix) throw unsupported('whitespace handling other than a ▁ prefix');
  return { pieces, unkId, byteFallback, addDummyPrefix, removeExtraWhitespaces };
}
