// The scores of ChatGLM3 finetune_demo's compute_metrics, per example and
// averaged: both texts stripped and segmented with jieba; ROUGE F-scores
// (rouge_chinese on the space-joined words) times 100, rounded to 4 decimals
// as the demo does; sentence BLEU-4 with smoothing method 3, unscaled (0..1),
// also as the demo does, so figures compare directly with a Python run's.
import { sentenceBleu } from './bleu.ts';
import { rougeChinese } from './rouge.ts';
import { segment } from './segment.ts';

export const SCORE_NAMES = ['rouge-1', 'rouge-2', 'rouge-l', 'bleu-4'] as const;
export type ScoreName = (typeof SCORE_NAMES)[number];
export type Scores = Readonly<Record<ScoreName, number>>;

const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;

export function scoreExample(prediction: string, reference: string): Scores {
  const predWords = segment(prediction.trim());
  const refWords = segment(reference.trim());
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
