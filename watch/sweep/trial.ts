// One sweep trial: the pipeline up to train with the trial's params, through
// the engine (so upstream stages are shared and a param set seen before is
// restored from the cache, not retrained), then its figures from the training
// record. The caller holds the project lock.
import { readFileSync } from 'node:fs';
import path from 'node:path';
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

export async function runTrial(pipeline: Pipeline, projectDir: string, sets: readonly string[], display: Display, signal: AbortSignal): Promise<TrialResult> {
  const ws = new Workspace(pipeline, projectDir, parseSetFlags(sets));
  try {
    const planned = plan(ws, [trainStage.name]);
    const runId = ws.db.startRun(`sweep trial: run ${trainStage.name} ${sets.map((s) => `--set ${s}`).join(' ')}`);
    const results = await execute(ws, planned, { runId, concurrency: 1, signal, display });
    const failed = results.find((r) => r.outcome === 'failed');
    ws.db.finishRun(runId, signal.aborted ? 'interrupted' : failed ? 'failed' : 'ok');
    const train = results.find((r) => r.stage === trainStage.name)!;
    if (failed || train.outcome === 'skipped') {
      return { status: 'failed', bestEvalLoss: null, bestStep: null, lastTrainLoss: null, steps: null, error: failed ? `${failed.stage}: ${failed.error}` : train.reason };
    }
    // The artifacts view now shows this trial's record, whether it trained or was restored.
    const record = JSON.parse(readFileSync(path.join(ws.paths.artifacts, trainStage.name, trainStage.outputs.record.file), 'utf8')) as Pick<TrainResult, 'bestEvalLoss' | 'bestStep' | 'lastTrainLoss' | 'steps' | 'lastEvalLoss'>;
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
