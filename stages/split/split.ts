// conversations.jsonl → train/dev/test.jsonl by the session-id draw. Lines are
// copied as they are; counts (and a subset given as a count) need one extra
// read to place the cuts, holding only two numbers per conversation.
import { readJsonl, type JsonlLine } from '../../formats/jsonl.ts';
import { RejectLog } from '../../formats/rejects.ts';
import { LineWriter } from '../../formats/lines.ts';
import { boundAfter, cutsFromCounts, cutsFromRatios, draw, SPLITS, splitOf, type Cuts, type SplitName } from './assign.ts';

export interface SplitOptions {
  readonly seed: number;
  readonly ratios: Readonly<Record<SplitName, number>>;
  readonly counts: { readonly dev: number; readonly test: number } | undefined;
  /** A fraction (≤ 1) or a number of conversations (> 1). */
  readonly subset: number;
}

export interface SplitReport {
  readonly conversationsIn: number;
  readonly counts: Readonly<Record<SplitName, number>>;
  readonly outsideSubset: number;
  readonly rejected: number;
  readonly rejectedByReason: string;
}

export const SMALL_SPLIT = 32;

export async function split(conversationsFile: string, outputs: Readonly<Record<SplitName | 'rejected', string>>, options: SplitOptions): Promise<SplitReport> {
  const { cuts, subsetBound } = await placeCuts(conversationsFile, options);
  const writers = Object.fromEntries(SPLITS.map((name) => [name, new LineWriter(outputs[name])])) as Record<SplitName, LineWriter>;
  const counts: Record<SplitName, number> = { train: 0, dev: 0, test: 0 };
  const rejects = new RejectLog(outputs.rejected);
  let conversationsIn = 0;
  let outsideSubset = 0;
  try {
    for await (const line of readJsonl(conversationsFile)) {
      conversationsIn++;
      const session = sessionOf(line);
      if (session === undefined) {
        await rejects.reject({ file: 'conversations.jsonl', line: line.line, reason: line.ok ? 'no session_id' : 'malformed JSON', detail: line.text.slice(0, 200) });
        continue;
      }
      const { u, w } = draw(options.seed, session);
      if (w >= subsetBound) {
        outsideSubset++;
        continue;
      }
      const name = splitOf(u, cuts);
      counts[name]++;
      await writers[name].write(line.text);
    }
  } finally {
    await Promise.all([...Object.values(writers).map((writer) => writer.close()), rejects.close()]);
  }
  const out = counts.train + counts.dev + counts.test;
  if (conversationsIn !== out + outsideSubset + rejects.total) throw new Error(`split lost conversations: ${conversationsIn} in, ${out} out, ${outsideSubset} outside the subset, ${rejects.total} rejected`);
  return { conversationsIn, counts, outsideSubset, rejected: rejects.total, rejectedByReason: rejects.describe() };
}

/** Advice for each split too small to give a steady loss. */
export function smallSplitWarnings(report: SplitReport, options: SplitOptions): string[] {
  return SPLITS.filter((name) => report.counts[name] < SMALL_SPLIT).map((name) => {
    const fixes = [
      options.subset !== 1 ? 'use more of the data (raise split.subset)' : 'add data',
      name === 'train' ? 'lower split.ratios.dev/test' : `--set split.counts.${name}=${Math.max(SMALL_SPLIT, 64)} or raise split.ratios.${name}`,
    ];
    return `warning: ${name} holds ${report.counts[name]} conversations (< ${SMALL_SPLIT}): ${name === 'train' ? 'too few to learn from' : 'its loss will be too noisy to compare runs'}; ${fixes.join(', or ')}`;
  });
}

async function placeCuts(file: string, options: SplitOptions): Promise<{ cuts: Cuts; subsetBound: number }> {
  const subsetIsCount = options.subset > 1;
  // draws are below 1, so a fraction is its own bound
  if (!options.counts && !subsetIsCount) return { cuts: cutsFromRatios(options.ratios), subsetBound: options.subset };
  const us: number[] = [];
  const ws: number[] = [];
  for await (const line of readJsonl(file)) {
    const session = sessionOf(line);
    if (session === undefined) continue;
    const { u, w } = draw(options.seed, session);
    us.push(u);
    ws.push(w);
  }
  const ascending = (a: number, b: number): number => a - b;
  // Counts apply to the whole data set, before the subset, so a subset keeps its conversations' splits.
  const cuts = options.counts ? cutsFromCounts(us.sort(ascending), options.counts) : cutsFromRatios(options.ratios);
  return { cuts, subsetBound: subsetIsCount ? boundAfter(ws.sort(ascending), options.subset) : options.subset };
}

function sessionOf(line: JsonlLine): string | undefined {
  if (!line.ok) return undefined;
  const id = (line.value as { session_id?: unknown }).session_id;
  return typeof id === 'string' ? id : undefined;
}
