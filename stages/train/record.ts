// What the train stage writes about a run, in two files: training.json holds only what the
// params and data determine (params, backend, steps, best step, losses), so a resumed, moved or
// repeated run writes it byte for byte the same and early cutoff works downstream of it;
// timings.json holds what differs between runs (wall time, tokens/s, the checkpoint folder,
// the step resumed from).
import type { BackendInfo } from '../../model/backend.ts';
import { backendRecord } from '../../model/backend.ts';
import type { LogEntry } from '../../train/checkpoint.ts';
import type { TrainerOptions, TrainResult } from '../../train/trainer.ts';

/** Logged values that measure speed, not learning. */
const TIMING_VALUES = new Set(['tokens_per_s']);

export function trainingRecord(params: TrainerOptions, backend: BackendInfo, r: TrainResult): object {
  const history: LogEntry[] = r.history.map((e) => ({ ...e, values: Object.fromEntries(Object.entries(e.values).filter(([name]) => !TIMING_VALUES.has(name))) }));
  return {
    params,
    backend: backendRecord(backend),
    steps: r.steps,
    totalSteps: r.totalSteps,
    bestStep: r.bestStep,
    bestEvalLoss: r.bestEvalLoss,
    lastTrainLoss: r.lastTrainLoss,
    lastEvalLoss: r.lastEvalLoss,
    stoppedEarly: r.stoppedEarly,
    history,
  };
}

export function timingRecord(backend: BackendInfo, r: TrainResult, seconds: number): object {
  return {
    backend: backend.description,
    seconds,
    trainTokensPerSecond: r.trainTokensPerSecond,
    threads: r.threads,
    resumedFrom: r.resumedFrom,
    checkpoint: r.checkpoint,
    tokensPerSecond: r.history.flatMap((e) => (e.values['tokens_per_s'] === undefined ? [] : [{ step: e.step, tokens_per_s: e.values['tokens_per_s'] }])),
  };
}
