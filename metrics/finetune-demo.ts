// The scores of ChatGLM3 finetune_demo's compute_metrics, per example and
// averaged: both texts stripped (Python's strip) and segmented with jieba; ROUGE
// F-scores (rouge_chinese on the space-joined words) times 100, rounded to 4
// decimals as the demo does; sentence BLEU-4 with smoothing method 3, unscaled
// (0..1), also as the demo does, so figures compare directly with a Python run's.
// Where the prediction or the reference is empty after the strip, the demo stops
// with an error (rouge_chinese raises); here that pair scores 0 and says so.
import { sentenceBleu } from './bleu.ts';
import { pyStrip } from './python-text.ts';
import { rougeChinese } from './rouge.ts';
import { segment } from './segment.ts';

export const SCORE_NAMES = ['rouge-1', 'rouge-2', 'rouge-l', 'bleu-4'] as const;
export type ScoreName = (typeof SCORE_NAMES)[number];
export type Scores = Readonly<Record<ScoreName, number>>;

export interface ExampleScores {
  readonly scores: Scores;
  /** The prediction or the reference is empty after the strip: every score is 0, where the demo would stop. */
  readonly empty: boolean;
}

// Python's round(x, 4) rounds the exact binary value to the nearest; toFixed does too
// (the two differ only on exact ties, which these F-scores with their 1e-8 term do not hit).
const round4 = (x: number): number => Number(x.toFixed(4));

const ZERO: Scores = { 'rouge-1': 0, 'rouge-2': 0, 'rouge-l': 0, 'bleu-4': 0 };

export function scoreExample(prediction: string, reference: string): ExampleScores {
  const pred = pyStrip(prediction);
  const ref = pyStrip(reference);
  if (pred === '' || ref === '') return { scores: ZERO, empty: true };
  return { scores: scorePair(pred, ref), empty: false };
}

function scorePair(prediction: string, reference: string): Scores {
  const predWords = segment(prediction);
  const refWords = segment(reference);
  const rouge = rougeChinese(predWords.join(' '), refWords.join(' '));
  return {
    'rouge-1': round4(rouge['rouge-1'].f * 100),
    'rouge-2': round4(rouge['rouge-2'].f * 100),
    'rouge-l': round4(rouge['rouge-l'].f * 100),
    'bleu-4': sentenceBleu([refWords], predWords),
  };
}

/** Mean of each score (0 for no examples). */
export function meanScores(all: readonly Scores[]): Scores {
  const mean = (name: ScoreName) => (all.length === 0 ? 0 : all.reduce((s, x) => s + x[name], 0) / all.length);
  return { 'rouge-1': mean('rouge-1'), 'rouge-2': mean('rouge-2'), 'rouge-l': mean('rouge-l'), 'bleu-4': mean('bleu-4') };
}
