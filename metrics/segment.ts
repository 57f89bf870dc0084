// Chinese word segmentation for the metrics, word for word as finetune_demo gets
// it from Python jieba 0.42.1's `jieba.cut(text)` (accurate mode, HMM on).
//
// @node-rs/jieba alone differs from Python's: it keeps "2-3", "2019-06" and
// "GB+6" whole where Python's rules for Latin and digits split them, it treats
// characters beyond U+9FD5 as Chinese, and where two routes through the
// dictionary score the same it takes another one than Python. So this module
// does what Python's jieba does around its HMM: the split into blocks, the
// dictionary route (on @node-rs/jieba's own dict.txt, with Python's tie rule),
// the grouping of unknown characters and the rules for Latin and digits. Only
// the HMM (Viterbi over B/M/E/S) on runs of Chinese characters is left to
// @node-rs/jieba, given no dictionary, so that it runs nothing but the HMM:
// measured equal to Python's on 27,254 runs and pieces of runs of the shared
// texts and on 30,000 random ones. The npm dict.txt is Python jieba's less one
// entry ("B超"); whole texts measured equal on ../shared's 5,436 and on 20,000
// random mixes of Chinese, rare and astral characters, Latin, digits and odd whitespace.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PY_SPACE, pyStrip } from './python-text.ts';

interface HmmCutter {
  cut(sentence: string, hmm?: boolean): string[];
}

/** Word frequencies, with every prefix of a word present at 0, and their total, as jieba builds them. */
interface Dictionary {
  readonly freq: ReadonlyMap<string, number>;
  readonly logTotal: number;
}

// Python jieba's patterns. Outside the Chinese-and-ASCII blocks, each whitespace
// character (or \r\n) is a word and every other character is a word of its own.
const BLOCK = /([\u4E00-\u9FD5a-zA-Z0-9+#&._%-]+)/;
const SKIP = new RegExp(`(\\r\\n|${PY_SPACE})`);
// Inside a run the HMM is given: Chinese characters go to Viterbi, and the rest
// is cut into Latin/digit words (a decimal and a percent sign kept on) and single others.
const HAN = /([\u4E00-\u9FD5]+)/;
const LATIN = /([a-zA-Z0-9]+(?:\.[0-9]+)?%?)/;

const require = createRequire(import.meta.url);
let loaded: { dictionary: Dictionary; hmm: HmmCutter } | undefined;

function loadDictionary(file: string): Dictionary {
  const freq = new Map<string, number>();
  let total = 0;
  for (const [i, raw] of readFileSync(file, 'utf8').split('\n').entries()) {
    const line = pyStrip(raw);
    if (line === '') continue;
    const [word, count] = line.split(' ');
    if (!word || !/^[0-9]+$/.test(count ?? '')) throw new Error(`${file}:${i + 1}: not "word frequency [tag]": ${JSON.stringify(line)}`);
    const n = Number(count);
    freq.set(word, n);
    total += n;
    for (let end = 1; end < word.length; end++) {
      const prefix = word.slice(0, end);
      if (!freq.has(prefix)) freq.set(prefix, 0);
    }
  }
  return { freq, logTotal: Math.log(total) };
}

// Built on first use: reading the dictionary takes a moment that importing this module should not.
function segmenter(): { dictionary: Dictionary; hmm: HmmCutter } {
  loaded ??= (() => {
    const { Jieba } = require('@node-rs/jieba') as { Jieba: new () => HmmCutter };
    return { dictionary: loadDictionary(require.resolve('@node-rs/jieba/dict.txt')), hmm: new Jieba() };
  })();
  return loaded;
}

/** For each start, the ends (inclusive) of the dictionary words starting there; the start alone if none. */
function wordEnds(block: string, freq: ReadonlyMap<string, number>): number[][] {
  const ends: number[][] = [];
  for (let k = 0; k < block.length; k++) {
    const here: number[] = [];
    for (let i = k; i < block.length; i++) {
      const f = freq.get(block.slice(k, i + 1));
      if (f === undefined) break;
      if (f > 0) here.push(i);
    }
    ends.push(here.length > 0 ? here : [k]);
  }
  return ends;
}

/** The most probable route's word end from each start. Ties go to the later end, as Python's max over (score, end) does. */
function bestRoute(block: string, { freq, logTotal }: Dictionary): number[] {
  const ends = wordEnds(block, freq);
  const score = new Float64Array(block.length + 1);
  const next: number[] = new Array<number>(block.length);
  for (let k = block.length - 1; k >= 0; k--) {
    let best = -Infinity;
    for (const end of ends[k]!) {
      const s = Math.log(freq.get(block.slice(k, end + 1)) || 1) - logTotal + score[end + 1]!;
      if (s >= best) [best, next[k]] = [s, end];
    }
    score[k] = best;
  }
  return next;
}

/** Characters the route left single, none a dictionary word together: the HMM decides, Latin and digits by rule. */
function* unknownRun(run: string, hmm: HmmCutter): Generator<string> {
  for (const part of run.split(HAN)) {
    if (part === '') continue;
    if (HAN.test(part)) yield* hmm.cut(part, true);
    else yield* part.split(LATIN).filter((w) => w !== '');
  }
}

function* routeBlock(block: string, { dictionary, hmm }: { dictionary: Dictionary; hmm: HmmCutter }): Generator<string> {
  const next = bestRoute(block, dictionary);
  let single = '';
  const flush = function* (): Generator<string> {
    if (single.length === 1) yield single;
    else if (single.length > 1) {
      if (dictionary.freq.get(single)) yield* single;
      else yield* unknownRun(single, hmm);
    }
    single = '';
  };
  for (let k = 0; k < block.length; ) {
    const end = next[k]! + 1;
    if (end - k === 1) single += block[k];
    else {
      yield* flush();
      yield block.slice(k, end);
    }
    k = end;
  }
  yield* flush();
}

/** The words of `text`; whitespace characters come back as words of their own, as in jieba. */
export function segment(text: string): string[] {
  const words: string[] = [];
  for (const block of text.split(BLOCK)) {
    if (block === '') continue;
    if (BLOCK.test(block)) {
      for (const word of routeBlock(block, segmenter())) words.push(word);
      continue;
    }
    for (const piece of block.split(SKIP)) {
      if (SKIP.test(piece)) words.push(piece);
      // for..of walks code points, as Python walks a str: a character beyond the BMP stays whole.
      else for (const ch of piece) words.push(ch);
    }
  }
  return words;
}
