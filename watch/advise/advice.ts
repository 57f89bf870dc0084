// Diagnoses as text: for the advise command, and for the train stage's summary
// right after a training (adviseTraining).
import type { LogEntry } from '../../train/checkpoint.ts';
import { diagnose, type AdviceParams, type Diagnosis } from './diagnose.ts';
import { fromTrainHistory } from './loss-curves.ts';

/** Advice on a finished training, as summary lines: call with TrainResult.history and the stage's params. */
export function adviseTraining(history: readonly LogEntry[], params: AdviceParams): string[] {
  return diagnose(fromTrainHistory(history), params).flatMap(formatDiagnosis);
}

export function formatDiagnosis(d: Diagnosis): string[] {
  const width = Math.max(...d.suggestions.map((s) => setFlag(s.set).length));
  return [
    `⚠ ${d.title}`,
    ...d.evidence.map((line) => `    evidence: ${line}`),
    ...d.suggestions.map((s, i) => `    ${i === 0 ? 'try' : '   '} ${setFlag(s.set).padEnd(width)}  # ${s.why}`),
  ];
}

/** One command line with the first suggestion of each diagnosis (one value per param). */
export function nextCommand(diagnoses: readonly Diagnosis[], target = 'train'): string | undefined {
  const sets = new Map<string, string>();
  for (const d of diagnoses) {
    const first = d.suggestions[0];
    if (first && !sets.has(first.set.split('=')[0]!)) sets.set(first.set.split('=')[0]!, first.set);
  }
  return sets.size ? `npx tsx pipeline.ts run ${target} ${[...sets.values()].map(setFlag).join(' ')}` : undefined;
}

/** `--set stage.param=value`, quoted for a POSIX shell when the value needs it. */
export function setFlag(set: string): string {
  return /^[\w.=+-]+$/.test(set) ? `--set ${set}` : `--set '${set.replaceAll("'", `'\\''`)}'`;
}
