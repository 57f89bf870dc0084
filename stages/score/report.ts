// report.html: one self-contained page (no scripts, no external files) with
// the metrics and a table of examples, worst first, every text HTML-escaped.
import type { ExampleScores } from '../../metrics/finetune-demo.ts';
import { pyStrip } from '../../metrics/python-text.ts';
import type { Generation } from '../../formats/generation.ts';
import type { Metrics } from './run.ts';

export interface ScoredExample extends Generation, ExampleScores {
  readonly index: number;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** Worst first: lowest ROUGE-L, then lowest BLEU-4, then highest loss; ties keep the test order. */
export function worstFirst(examples: readonly ScoredExample[]): ScoredExample[] {
  return [...examples].sort(
    (a, b) => a.scores['rouge-l'] - b.scores['rouge-l'] || a.scores['bleu-4'] - b.scores['bleu-4'] || b.loss - a.loss || a.index - b.index,
  );
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}
th{background:#f3f3f3}td.num{text-align:right;white-space:nowrap}td.text{white-space:pre-wrap;max-width:32em}
.empty{color:#a00;font-style:italic}`;

const num = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

function text(value: string): string {
  return pyStrip(value) === '' ? '<span class="empty">(empty)</span>' : escapeHtml(value);
}

export function renderReport(metrics: Metrics, examples: readonly ScoredExample[], maxRows: number): string {
  const summary: [string, string][] = [
    ['examples', String(metrics.examples)],
    ['eval loss', num(metrics.eval_loss, 4)],
    ['perplexity', num(metrics.perplexity)],
    ['ROUGE-1 (F)', num(metrics['rouge-1'])],
    ['ROUGE-2 (F)', num(metrics['rouge-2'])],
    ['ROUGE-L (F)', num(metrics['rouge-l'])],
    ['BLEU-4', num(metrics['bleu-4'])],
    ['empty predictions', String(metrics.empty_predictions)],
    ['pairs scored 0 (prediction or reference empty)', String(metrics.empty_pairs)],
    ['cut at max_new_tokens', String(metrics.truncated_predictions)],
  ];
  const shown = worstFirst(examples).slice(0, maxRows);
  const rows = shown.map(
    (e) => `<tr><td class="num">${e.index}</td><td class="text">${text(e.prompt)}</td><td class="text">${text(e.reference)}</td><td class="text">${text(e.prediction)}</td>` +
      `<td class="num">${num(e.scores['rouge-l'])}</td><td class="num">${num(e.scores['bleu-4'])}</td><td class="num">${num(e.loss, 3)}</td></tr>`,
  );
  return `<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>glmflow evaluation</title><style>${STYLE}</style></head>
<body>
<h1>Evaluation on the test split</h1>
<p>Scores as ChatGLM3's finetune_demo computes them (jieba words; ROUGE F on a 0-100 scale, BLEU-4 on 0-1 as the demo logs it; averaged over examples). Loss: mean cross-entropy per reference token, teacher-forced.</p>
<table>${summary.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td class="num">${escapeHtml(v)}</td></tr>`).join('')}</table>
<h2>Examples, worst first (${shown.length} of ${examples.length})</h2>
<table><tr><th>#</th><th>prompt</th><th>reference</th><th>prediction</th><th>ROUGE-L</th><th>BLEU-4</th><th>loss</th></tr>
${rows.join('\n')}
</table>
</body></html>
`;
}
