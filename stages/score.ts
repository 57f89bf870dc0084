// score: the second half of evaluation. Scores generate's answers the way
// ChatGLM3's finetune_demo does (ROUGE-1/2/L, BLEU-4 on jieba words) plus eval
// loss and perplexity, and writes a report a person can open. Cheap: changing
// the metric code reruns only this stage.
import { z } from 'zod';
import { defineStage, output, type StageContext } from '../engine/stage.ts';

export const scoreParams = z.object({
  /** Rows in the HTML report's table, worst first (all are in predictions.jsonl). */
  report_examples: z.number().int().min(0).default(200),
});

export const scoreStage = defineStage({
  name: 'score',
  module: import.meta.url,
  description: 'Score the generated answers (finetune_demo ROUGE/BLEU on jieba words, eval loss, perplexity) and write an HTML report',
  params: scoreParams,
  inputs: { generations: 'generations' },
  outputs: {
    metrics: output('metrics', 'metrics.json', 'eval_loss, perplexity, rouge-1, rouge-2, rouge-l (0-100), bleu-4 (0-1), counts (empty_pairs scored 0, empty and truncated predictions)'),
    predictions: output('predictions', 'predictions.jsonl', 'per example: prompt, reference, prediction, scores, empty (scored 0 for an empty text), loss'),
    report: output('report', 'report.html', 'self-contained HTML report: metrics and examples, worst first'),
  },
  packages: ['@node-rs/jieba'],
  async run(ctx) {
    // Loaded here: jieba's dictionary is large and a no-op run should not load it.
    const { runScore } = await import('./score/run.ts');
    await runScore(ctx);
  },
});

export type ScoreContext = StageContext<z.output<typeof scoreParams>, (typeof scoreStage)['inputs'], (typeof scoreStage)['outputs'], never>;
