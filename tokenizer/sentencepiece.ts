// SentencePiece BPE encode/decode, reimplemented to be id-for-id identical to
// the C++ library (bpe_model.cc and sentencepiece_processor.cc) for the models
// parseSentencePieceModel accepts. Tests compare it with the WebAssembly build of
// the C++ code on every shared message. It is ours rather than the wasm build
// because short messages dominate and the wasm call overhead halves throughput.
import { GlmflowError } from '../engine/errors.ts';
import { PieceType, type SentencePieceModel } from './sentencepiece-model.ts';

const SPACE = 0x20;
const META_SPACE = 0x2581;
const REPLACEMENT = '\uFFFD';
const UNK_SURFACE = ' \u2047 ';

export class SentencePiece {
  readonly size: number;
  readonly unkId: number;
  readonly eosId: number;
  readonly #pieces: readonly string[];
  readonly #types: Uint8Array;
  readonly #scores: Float64Array;
  /** Normal pieces by text (C++ `pieces_`): the only strings a merge can produce. */
  readonly #pieceIds = new Map<string, number>();
  /** id of each single UTF-16 unit that is a piece (-1 otherwise): the hot path for BMP text. */
  readonly #unitIds = new Int32Array(0x10000).fill(-1);
  /** (left id, right id) → merged id, for every split of every piece into two pieces. */
  readonly #merges = new Map<number, number>();
  readonly #byteIds: Int32Array;
  readonly #byteFallback: boolean;
  readonly #addDummyPrefix: boolean;
  readonly #removeExtraWhitespaces: boolean;

  constructor(model: SentencePieceModel) {
    this.size = model.pieces.length;
    this.unkId = model.unkId;
    this.eosId = model.pieces.findIndex((p) => p.piece === '</s>' && p.type === PieceType.CONTROL);
    if (this.eosId < 0) throw new GlmflowError('invalid SentencePiece model: it has no </s> (end of sequence) piece');
    this.#pieces = model.pieces.map((p) => p.piece);
    this.#types = Uint8Array.from(model.pieces, (p) => p.type);
    this.#scores = Float64Array.from(model.pieces, (p) => p.score);
    this.#byteFallback = model.byteFallback;
    this.#addDummyPrefix = model.addDummyPrefix;
    this.#removeExtraWhitespaces = model.removeExtraWhitespaces;
    this.#byteIds = new Int32Array(256).fill(-1);
    model.pieces.forEach((p, id) => {
      if (p.type === PieceType.NORMAL) this.#pieceIds.set(p.piece, id);
      else if (p.type === PieceType.BYTE) {
        const match = /^<0x([0-9A-F]{2})>$/.exec(p.piece);
        if (match) this.#byteIds[parseInt(match[1]!, 16)] = id;
      } else if (p.type === PieceType.USER_DEFINED || p.type === PieceType.UNUSED) {
        throw new GlmflowError(`unsupported SentencePiece model: it has ${p.type === PieceType.USER_DEFINED ? 'user-defined' : 'unused'} pieces ("${p.piece}")`);
      }
    });
    if (this.#byteFallback && this.#byteIds.includes(-1)) {
      throw new GlmflowError('invalid SentencePiece model: byte_fallback is set but some of the 256 <0xXX> pieces are missing');
    }
    for (const [piece, id] of this.#pieceIds) {
      if (piece.length === 1) this.#unitIds[piece.charCodeAt(0)] = id;
      const chars = [...piece];
      let offset = 0;
      for (let i = 1; i < chars.length; i++) {
        offset += chars[i - 1]!.length;
        const left = this.#pieceIds.get(piece.slice(0, offset));
        const right = this.#pieceIds.get(piece.slice(offset));
        if (left !== undefined && right !== undefined) this.#merges.set(left * this.size + right, id);
      }
      // A character outside the vocabulary can then never take part in a merge, which encode() relies on.
      for (const ch of chars) {
        if (!this.#pieceIds.has(ch)) throw new GlmflowError(`unsupported SentencePiece model: piece "${piece}" contains "${ch}", which is not a piece itself`);
      }
    }
  }

  pieceOf(id: number): string {
    const piece = this.#pieces[id];
    if (piece === undefined) throw new RangeError(`token id ${id} is outside the SentencePiece vocabulary (0..${this.size - 1})`);
    return piece;
  }

  encode(text: string): number[] {
    const normalized = this.#removeExtraWhitespaces ? text.replace(/ +/g, ' ').replace(/^ | $/g, '') : text;
    if (normalized.length === 0) return [];
    const s = scratch(normalized.length + 1);
    // Symbols: one per code point (▁ for every space, plus the dummy prefix), -1 when outside the vocabulary.
    let count = 0;
    if (this.#addDummyPrefix) {
      s.codes[0] = META_SPACE;
      s.ids[count++] = this.#unitIds[META_SPACE]!;
    }
    for (let i = 0; i < normalized.length; i++) {
      let code = normalized.charCodeAt(i);
      let id: number;
      if (code >= 0xd800 && code < 0xdc00 && i + 1 < normalized.length) {
        code = normalized.codePointAt(i)!;
        id = this.#pieceIds.get(normalized.slice(i, i + 2)) ?? -1;
        i++;
      } else {
        if (code === SPACE) code = META_SPACE;
        id = this.#unitIds[code]!;
      }
      s.codes[count] = code;
      s.ids[count++] = id;
    }
    return this.#emit(s, this.#merge(s, count));
  }

  /**
   * The BPE loop: repeatedly merge the adjacent pair whose result scores highest, leftmost on
   * ties (the C++ agenda order). Returns the number of symbols left, compacted to the front.
   */
  #merge(s: Scratch, count: number): number {
    const { ids, codes, next, prev, heap } = s;
    for (let i = 0; i < count; i++) {
      next[i] = i + 1 < count ? i + 1 : -1;
      prev[i] = i - 1;
    }
    heap.clear();
    const push = (left: number, right: number): void => {
      if (left < 0 || right < 0) return;
      const l = ids[left]!;
      const r = ids[right]!;
      // An unknown character is in no piece (checked at load), so it never merges.
      if (l < 0 || r < 0) return;
      const merged = this.#merges.get(l * this.size + r);
      if (merged !== undefined) heap.push(this.#scores[merged]!, left, right, l, r, merged);
    };
    for (let i = 1; i < count; i++) push(i - 1, i);
    while (heap.size > 0) {
      const e = heap.pop();
      const left = heap.left[e]!;
      const right = heap.right[e]!;
      // Stale entry: one side has merged since it was queued.
      if (ids[left] !== heap.leftId[e] || ids[right] !== heap.rightId[e] || next[left] !== right) continue;
      ids[left] = heap.merged[e]!;
      ids[right] = -2;
      const after = next[right]!;
      next[left] = after;
      if (after >= 0) prev[after] = left;
      push(prev[left]!, left);
      push(left, after);
    }
    let out = 0;
    for (let i = 0; i >= 0; i = next[i]!) {
      ids[out] = ids[i]!;
      codes[out++] = codes[i]!;
    }
    return out;
  }

  #emit(s: Scratch, count: number): number[] {
    const result: number[] = [];
    let unknownRun = false;
    for (let k = 0; k < count; k++) {
      const id = s.ids[k]!;
      if (id >= 0) {
        result.push(id);
        unknownRun = false;
      } else if (this.#byteFallback) {
        for (const byte of Buffer.from(String.fromCodePoint(s.codes[k]!), 'utf8')) result.push(this.#byteIds[byte]!);
      } else if (!unknownRun) {
        // Without byte fallback C++ SentencePiece folds a run of unknown characters into one <unk>.
        result.push(this.unkId);
        unknownRun = true;
      }
    }
    return result;
  }

  /** SentencePiece DecodeIds: control pieces vanish, ▁ becomes a space, the dummy prefix of the first piece is dropped. */
  decode(ids: readonly number[]): string {
    let text = '';
    let bytes: number[] = [];
    let atStart = true;
    for (const id of ids) {
      const piece = this.pieceOf(id);
      const type = this.#types[id]!;
      if (type === PieceType.BYTE) {
        bytes.push(parseInt(piece.slice(3, 5), 16));
        atStart = false;
        continue;
      }
      if (bytes.length > 0) {
        text += decodeUtf8Lenient(bytes);
        bytes = [];
      }
      if (type === PieceType.CONTROL) continue;
      if (type === PieceType.UNKNOWN) text += UNK_SURFACE;
      else {
        const body = atStart && this.#addDummyPrefix && piece.startsWith('\u2581') ? piece.slice(1) : piece;
        text += body.replaceAll('\u2581', ' ');
      }
      atStart = false;
    }
    if (bytes.length > 0) text += decodeUtf8Lenient(bytes);
    return text;
  }
}

/** UTF-8 with one U+FFFD per invalid byte, as SentencePiece decodes byte pieces (TextDecoder would merge them). */
function decodeUtf8Lenient(bytes: readonly number[]): string {
  let text = '';
  let i = 0;
  while (i < bytes.length) {
    const b0 = bytes[i]!;
    const length = b0 < 0x80 ? 1 : b0 >= 0xc2 && b0 < 0xe0 ? 2 : b0 >= 0xe0 && b0 < 0xf0 ? 3 : b0 >= 0xf0 && b0 < 0xf5 ? 4 : 0;
    const valid = length > 0 && i + length <= bytes.length && bytes.slice(i + 1, i + length).every((b) => (b & 0xc0) === 0x80);
    const decoded = valid ? Buffer.from(bytes.slice(i, i + length)).toString('utf8') : '';
    if (valid && !decoded.includes(REPLACEMENT)) {
      text += decoded;
      i += length;
    } else {
      text += REPLACEMENT;
      i++;
    }
  }
  return text;
}

/** Max-heap of candidate merges keyed by (score desc, left position asc); entries live in flat typed arrays. */
class PairHeap {
  score = new Float64Array(64);
  left = new Int32Array(64);
  right = new Int32Array(64);
  leftId = new Int32Array(64);
  rightId = new Int32Array(64);
  merged = new Int32Array(64);
  #order = new Int32Array(64);
  #entries = 0;
  size = 0;

  clear(): void {
    this.#entries = 0;
    this.size = 0;
  }

  push(score: number, left: number, right: number, leftId: number, rightId: number, merged: number): void {
    if (this.#entries === this.score.length) this.#grow();
    const e = this.#entries++;
    this.score[e] = score;
    this.left[e] = left;
    this.right[e] = right;
    this.leftId[e] = leftId;
    this.rightId[e] = rightId;
    this.merged[e] = merged;
    const order = this.#order;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(e, order[parent]!)) break;
      order[i] = order[parent]!;
      i = parent;
    }
    order[i] = e;
  }

  /** Removes and returns the best entry's index. */
  pop(): number {
    const order = this.#order;
    const best = order[0]!;
    const last = order[--this.size]!;
    let i = 0;
    for (;;) {
      const a = 2 * i + 1;
      if (a >= this.size) break;
      const b = a + 1;
      const child = b < this.size && this.#before(order[b]!, order[a]!) ? b : a;
      if (!this.#before(order[child]!, last)) break;
      order[i] = order[child]!;
      i = child;
    }
    order[i] = last;
    return best;
  }

  #before(a: number, b: number): boolean {
    const sa = this.score[a]!;
    const sb = this.score[b]!;
    return sa > sb || (sa === sb && this.left[a]! < this.left[b]!);
  }

  #grow(): void {
    const n = this.score.length * 2;
    const grow = <T extends Float64Array | Int32Array>(old: T, make: (n: number) => T): T => {
      const fresh = make(n);
      fresh.set(old);
      return fresh;
    };
    this.score = grow(this.score, (k) => new Float64Array(k));
    this.left = grow(this.left, (k) => new Int32Array(k));
    this.right = grow(this.right, (k) => new Int32Array(k));
    this.leftId = grow(this.leftId, (k) => new Int32Array(k));
    this.rightId = grow(this.rightId, (k) => new Int32Array(k));
    this.merged = grow(this.merged, (k) => new Int32Array(k));
    this.#order = grow(this.#order, (k) => new Int32Array(k));
  }
}

interface Scratch {
  ids: Int32Array;
  codes: Int32Array;
  next: Int32Array;
  prev: Int32Array;
  heap: PairHeap;
}

// Reused across calls: encode() is synchronous and allocation dominated the profile of short messages.
let shared: Scratch = { ids: new Int32Array(0), codes: new Int32Array(0), next: new Int32Array(0), prev: new Int32Array(0), heap: new PairHeap() };

function scratch(n: number): Scratch {
  if (shared.ids.length < n) {
    const size = Math.max(n, 2 * shared.ids.length, 256);
    shared = { ids: new Int32Array(size), codes: new Int32Array(size), next: new Int32Array(size), prev: new Int32Array(size), heap: shared.heap };
  }
  return shared;
}
