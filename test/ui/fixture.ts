// A throwaway project whose state database holds what the engine would have
// written for two trainings, through the engine's own StateDb and ObjectStore:
// run 1 pretrained base, trained, was scored and finished; run 2 is a training
// with another learning rate, still running (its pid is this process).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StateDb } from '../../engine/db.ts';
import { ObjectStore, projectPaths } from '../../engine/store.ts';

export const SCORE_METRICS = { examples: 40, eval_loss: 1.8342, perplexity: 6.26, 'rouge-1': 31.5, 'rouge-2': 9.25, 'rouge-l': 24.1, 'bleu-4': 0.0712 };

export interface RunsProject {
  readonly dir: string;
  readonly db: StateDb;
  readonly finished: number;
  readonly live: number;
  /** Logs the live run's training metrics at `step`, as the trainer does. */
  logTraining(step: number): void;
  /** Closes the database and deletes the project. */
  remove(): void;
}

const trainLoss = (step: number, lr: number): number => 2.5 * Math.exp(-step * lr * 0.6) + 0.4;

export function runsProject(): RunsProject {
  const dir = mkdtempSync(path.join(tmpdir(), 'glmflow-ui-'));
  const paths = projectPaths(dir);
  mkdirSync(paths.tmp, { recursive: true });
  // Raw data for ingest to find, so the pipeline can be planned (every stage is stale: nothing was committed).
  mkdirSync(path.join(dir, 'data/raw'), { recursive: true });
  writeFileSync(path.join(dir, 'data/raw/export.csv'), 'session,role,text\n');
  const db = new StateDb(paths.db);
  const log = path.join(paths.logs, 'stage.log');
  const logTrain = (run: number, lr: number, step: number): void => {
    db.recordMetrics(run, 'train', 'train', step, { loss: trainLoss(step, lr), learning_rate: lr * (1 - step / 200), grad_norm: (lr * 40) / (1 + step / 20), tokens_per_s: 1800 + lr * 4000 + (step % 30) * 10, epoch: step / 40 });
    if (step % 40 === 0) db.recordMetrics(run, 'train', 'eval', step, { loss: trainLoss(step, lr) + 0.15 });
  };

  const finished = db.startRun('run score');
  db.startStage(finished, 'base', 'key-base', { pretrain_steps: 100, learning_rate: 0.003 }, log);
  for (let step = 10; step <= 100; step += 10) db.recordMetrics(finished, 'base', 'train', step, { loss: 6 - step / 25 });
  db.recordStage(finished, { stage: 'base', outcome: 'ran', reason: 'never ran', durationMs: 61_000, logPath: log, summary: '' });
  db.startStage(finished, 'train', 'key-train-1', { learning_rate: 0.02, weight_decay: 0 }, log);
  for (let step = 10; step <= 160; step += 10) logTrain(finished, 0.02, step);
  db.recordStage(finished, { stage: 'train', outcome: 'ran', reason: 'never ran', durationMs: 148_000, logPath: log, summary: '' });
  commitScore(db, new ObjectStore(paths), path.join(paths.tmp, 'metrics.json'));
  db.startStage(finished, 'score', 'key-score', { report_examples: 200 }, log);
  db.recordStage(finished, { stage: 'score', outcome: 'ran', reason: 'never ran', durationMs: 2_300, logPath: log, summary: '' });
  db.finishRun(finished, 'ok');

  const live = db.startRun('run train --set train.learning_rate=0.05');
  db.recordStage(live, { stage: 'base', outcome: 'fresh', reason: 'up to date', durationMs: 0, logPath: null, summary: '' });
  db.startStage(live, 'train', 'key-train-2', { learning_rate: 0.05, weight_decay: 0 }, log);
  for (let step = 10; step <= 80; step += 10) logTrain(live, 0.05, step);
  const remove = (): void => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { dir, db, finished, live, logTraining: (step) => logTrain(live, 0.05, step), remove };
}

/** score's metrics.json committed as the engine commits an output: an object in the store, the cache entry, the stage's latest pointer. */
function commitScore(db: StateDb, store: ObjectStore, staged: string): void {
  writeFileSync(staged, JSON.stringify(SCORE_METRICS));
  const metrics = store.put(staged);
  const details = { engine: 1, stage: 'score', sources: {}, params: {}, inputs: {}, files: {}, packages: {} };
  db.commit({ key: 'key-score', stage: 'score', details, outputs: { metrics }, createdAt: Date.now(), durationMs: 2_300 });
}
