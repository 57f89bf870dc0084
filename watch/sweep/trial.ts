// One sweep trial: the pipeline up to train with the trial's params, through
// the engine (so upstream stages are shared and a param set seen before is
// restored from the cache, not retrained), then its figures from the training
// record. The caller holds the project lock. Trials may run at once: each has
// its own workspace (and SQLite connection) and reads only its own results.
import { readFileSync } from 'node:fs';
import type { Display } from '../../engine/display.ts';
import { execute } from '../../engine/execute.ts';
import { parseSetFlags } from '../../engine/params.ts';
import type { Pipeline } from '../../engine/pipeline.ts';
import { plan } from '../../engine/plan.ts';
import { Workspace } from '../../engine/workspace.ts';
import { trainStage } from '../../stages/train.ts';
import type { TrainResult } from '../../train/trainer.ts';

export interface TrialResult {
  readonly status: 'ran' | 'cached' | 'failed';
  readonly bestEvalLoss: number | null;
  readonly bestStep: number | null;
  readonly lastTrainLoss: number | null;
  readonly steps: number | null;
  readonly error?: string;
}

/**
 * The stages a trial's training needs, run before trials train side by side: two trials sharing an
 * upstream stage must not both run it. Returns false when one failed (the trial then reports it).
 */
export async function prepareTrial(pipeline: Pipeline, projectDir: string, sets: readonly string[], display: Display, signal: AbortSignal): Promise<boolean> {
  const ws = new Workspace(pipeline, projectDir, parseSetFlags(sets));
  try {
    const planned = plan(ws, pipeline.upstreamOf(trainStage.name));
    if (planned.every((a) => a.state === 'fresh')) return true;
    const runId = ws.db.startRun(`sweep: run ${pipeline.upstreamOf(trainStage.name).join(' ')} ${sets.map((s) => `--set ${s}`).join(' ')}`);
    const results = await execute(ws, planned, { runId, concurrency: 1, signal, display });
    const ok = results.every((r) => r.outcome !== 'failed' && r.outcome !== 'skipped');
    ws.db.finishRun(runId, signal.aborted ? 'interrupted' : ok ? 'ok' : 'failed');
    return ok;
  } finally {
    ws.close();
  }
}

/** `ownProcess`: train in a child process, so trials running at once use several cores. */
export async function runTrial(pipeline: Pipeline, projectDir: string, sets: readonly string[], display: Display, signal: AbortSignal, ownProcess = false): Promise<TrialResult> {
  const ws = new Workspace(pipeline, projectDir, parseSetFlags(sets));
  try {
    const planned = plan(ws, [trainStage.name]);
    const runId = ws.db.startRun(`sweep trial: run ${trainStage.name} ${sets.map((s) => `--set ${s}`).join(' ')}`);
    const results = await execute(ws, planned, { runId, concurrency: 1, signal, display, ownProcess });
    const failed = results.find((r) => r.outcome === 'failed');
    ws.db.finishRun(runId, signal.aborted ? 'interrupted' : failed ? 'failed' : 'ok');
    const train = results.find((r) => r.stage === trainStage.name)!;
    if (failed || train.outcome === 'skipped') {
      return { status: 'failed', bestEvalLoss: null, bestStep: null, lastTrainLoss: null, steps: null, error: failed ? `${failed.stage}: ${failed.error}` : train.reason };
    }
    // From the store, by this trial's key: with trials at once, artifacts/train/ shows whichever committed last.
    const key = plan(ws, [trainStage.name]).at(-1)!.key!;
    const record = JSON.parse(readFileSync(ws.store.objectPath(ws.db.entry(key)!.outputs['record']!.hash), 'utf8')) as Pick<TrainResult, 'bestEvalLoss' | 'bestStep' | 'lastTrainLoss' | 'steps' | 'lastEvalLoss'>;
    return {
      status: train.outcome === 'ran' ? 'ran' : 'cached',
      bestEvalLoss: record.bestEvalLoss ?? record.lastEvalLoss,
      bestStep: record.bestStep,
      lastTrainLoss: record.lastTrainLoss,
      steps: record.steps,
    };
  } finally {
    ws.close();
  }
}
