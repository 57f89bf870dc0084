// Encoding with a memo of whole texts: about a quarter of real customer-service
// messages repeat exactly ("好的", greetings, canned answers). prepare() encodes
// the texts a chunk of conversations needs (on worker threads when a pool is
// given), after which encode() is a synchronous lookup for the preprocessing.
import type { EncodePool } from './encode-pool.ts';
import type { Ids } from './preprocess.ts';
import type { Tokenizer } from './tokenizer.ts';

/** Past this many entries the memo starts over, so a huge corpus cannot exhaust memory. */
const MAX_ENTRIES = 500_000;

export class MemoEncoder {
  readonly #memo = new Map<string, Ids>();
  /** Texts asked for and texts actually encoded: their ratio is the share the memo saved. */
  requested = 0;
  encoded = 0;

  constructor(
    readonly tokenizer: Tokenizer,
    readonly pool?: EncodePool,
  ) {}

  /** Makes sure every text is in the memo. */
  async prepare(texts: Iterable<string>): Promise<void> {
    const missing = new Set<string>();
    for (const text of texts) {
      this.requested++;
      if (!this.#memo.has(text)) missing.add(text);
    }
    this.encoded += missing.size;
    if (missing.size === 0) return;
    if (this.#memo.size + missing.size > MAX_ENTRIES) this.#memo.clear();
    const list = [...missing];
    const encoded = this.pool && list.length > 1 ? await this.pool.encodeMany(list) : list.map((text) => this.tokenizer.encode(text));
    list.forEach((text, i) => this.#memo.set(text, encoded[i]!));
  }

  readonly encode = (text: string): Ids => {
    let ids = this.#memo.get(text);
    if (ids) return ids;
    // Only texts prepare() was not given (e.g. after the memo started over) land here.
    ids = this.tokenizer.encode(text);
    this.#memo.set(text, ids);
    return ids;
  };
}
