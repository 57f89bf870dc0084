// Chinese word segmentation for the metrics, as finetune_demo does it with
// Python's `jieba.cut(text)` (accurate mode, HMM on for unknown words).
import { createRequire } from 'node:module';

interface Jieba {
  cut(sentence: string, hmm?: boolean): string[];
}

const require = createRequire(import.meta.url);
let jieba: Jieba | undefined;

/** The words of `text`; whitespace and newlines come back as words of their own, as in jieba. */
export function segment(text: string): string[] {
  if (text === '') return [];
  // Built on first use: loading the dictionary takes a moment that importing this module should not.
  jieba ??= (() => {
    const { Jieba } = require('@node-rs/jieba') as { Jieba: { withDict(dict: Uint8Array): Jieba } };
    const { dict } = require('@node-rs/jieba/dict') as { dict: Uint8Array };
    return Jieba.withDict(dict);
  })();
  return jieba.cut(text, true);
}
