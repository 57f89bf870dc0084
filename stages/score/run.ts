// The score stage's work: score every generation, aggregate, write the three outputs.
import { readFileSync, writeFileSync } from 'node:fs';
import { meanScores, scoreExample, type Scores } from '../../metrics/finetune-demo.ts';
import { evalLoss } from '../../metrics/loss.ts';
import { pyStrip } from '../../metrics/python-text.ts';
import { readGenerations } from '../../formats/generation.ts';
import type { ScoreContext } from '../score.ts';
import { renderReport, type ScoredExample } from './report.ts';

export interface Metrics extends Scores {
  readonly examples: number;
  readonly eval_loss: number;
  readonly perplexity: number;
  readonly empty_predictions: number;
  /** Pairs whose prediction or reference is empty after the strip: scored 0 (finetune_demo would stop on them). */
  readonly empty_pairs: number;
  readonly truncated_predictions: number;
}

export async function runScore(ctx: ScoreContext): Promise<void> {
  const generations = readGenerations(readFileSync(ctx.inputs.generations, 'utf8'));
  const scored: ScoredExample[] = generations.map((g, i) => {
    if (i % 100 === 0) ctx.progress(i, generations.length);
    return { ...g, index: i, ...scoreExample(g.prediction, g.reference) };
  });
  const loss = evalLoss(generations);
  const metrics: Metrics = {
    examples: generations.length,
    eval_loss: loss,
    perplexity: Math.exp(loss),
    ...meanScores(scored.map((s) => s.scores)),
    empty_predictions: generations.filter((g) => pyStrip(g.prediction) === '').length,
    empty_pairs: scored.filter((s) => s.empty).length,
    truncated_predictions: generations.filter((g) => g.finish === 'length').length,
  };
  writeFileSync(ctx.outputs.metrics, JSON.stringify(metrics, null, 1) + '\n');
  writeFileSync(
    ctx.outputs.predictions,
    scored.map((s) => JSON.stringify({ prompt: s.prompt, reference: s.reference, prediction: s.prediction, ...s.scores, empty: s.empty, loss: s.loss }) + '\n').join(''),
  );
  writeFileSync(ctx.outputs.report, renderReport(metrics, scored, ctx.params.report_examples));
  const f = (x: number) => x.toFixed(2);
  ctx.summary(`${metrics.examples} examples: eval loss ${metrics.eval_loss.toFixed(4)}, perplexity ${f(metrics.perplexity)}`);
  ctx.summary(`ROUGE-1 ${f(metrics['rouge-1'])}, ROUGE-2 ${f(metrics['rouge-2'])}, ROUGE-L ${f(metrics['rouge-l'])}, BLEU-4 ${f(metrics['bleu-4'])}`);
  // finetune_demo stops on such a pair; here it counts 0 in the means, so say how many there were.
  ctx.summary(`${metrics.empty_pairs} scored 0 for an empty prediction or reference (${metrics.empty_predictions} empty predictions)`);
  ctx.summary(`report: ${ctx.artifactPaths.report}`);
}
