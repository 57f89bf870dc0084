// The training loop: Hugging Face Trainer semantics (AdamW, schedules, clipping,
// accumulation, logging/eval/save steps, best checkpoint, early stopping) on a
// GlmModel whose trainable variables are the prefix (P-tuning v2) or, for the
// embedded base model, every weight. Resumes from its latest checkpoint.
import * as tf from '@tensorflow/tfjs';
import { GlmflowError } from '../engine/errors.ts';
import { AdamW } from '../model/adamw.ts';
import { disposeGrads, type GlmModel } from '../model/glm.ts';
import type { TrainRow } from '../tokenizer/examples-arrow.ts';
import { collate, MicroBatches, totalSteps } from './batches.ts';
import { DataParallel, trainingThreads } from './parallel/pool.ts';
import { Checkpoints, type LogEntry, type TrainerState } from './checkpoint.ts';
import type { TrainParams } from './params.ts';
import { makeSchedule } from './schedule.ts';

export interface TrainHooks {
  readonly signal?: AbortSignal;
  log(line: string): void;
  metric(series: 'train' | 'eval', step: number, values: Readonly<Record<string, number>>): void;
  progress(step: number, total: number, detail: string): void;
}

export interface TrainData {
  readonly train: readonly TrainRow[];
  readonly dev: readonly TrainRow[];
  readonly padId: number;
}

export interface TrainResult {
  readonly steps: number;
  readonly totalSteps: number;
  readonly resumedFrom: number | null;
  readonly bestStep: number | null;
  readonly bestEvalLoss: number | null;
  readonly lastTrainLoss: number | null;
  readonly lastEvalLoss: number | null;
  readonly stoppedEarly: boolean;
  readonly trainTokensPerSecond: number;
  /** Threads the steps ran on (data-parallel workers and this one). */
  readonly threads: number;
  readonly history: readonly LogEntry[];
  /** The checkpoint the result comes from (best or last), whose weights.safetensors is the output. */
  readonly checkpoint: string;
}

export type TrainerOptions = Omit<TrainParams, 'pre_seq_len' | 'prefix_projection'>;

export async function train(model: GlmModel, data: TrainData, p: TrainerOptions, checkpoints: Checkpoints, hooks: TrainHooks): Promise<TrainResult> {
  if (data.train.length === 0) throw new GlmflowError('no training examples', 'check the split and tokenize summaries: every conversation may have been rejected');
  const micro = new MicroBatches(data.train, p.per_device_train_batch_size, p.seed, data.padId);
  const total = totalSteps(p, micro.perEpoch);
  const schedule = makeSchedule(p, total);
  const optimizer = new AdamW({ lr: p.learning_rate, betas: [p.adam_beta1, p.adam_beta2], eps: p.adam_epsilon, weightDecay: p.weight_decay });
  const vars = model.trainableVariables();

  let state: TrainerState = { step: 0, bestEvalLoss: null, bestStep: null, evalsWithoutImprovement: 0, history: [] };
  const resumeFrom = checkpoints.latest(total);
  if (resumeFrom !== undefined) {
    state = checkpoints.restore(resumeFrom, model, optimizer);
    hooks.log(`resumed from ${checkpoints.path(resumeFrom)} (step ${resumeFrom} of ${total})`);
  }
  hooks.log(`training ${vars.reduce((n, v) => n + v.size, 0)} parameters for ${total} steps: ${data.train.length} examples, ${micro.perEpoch} batches of ${p.per_device_train_batch_size} per epoch, accumulation ${p.gradient_accumulation_steps}, warmup ${schedule.warmupSteps}`);
  const parallel = await DataParallel.start(model, trainingThreads(p.workers));
  if (parallel.threads > 1) hooks.log(`data-parallel on ${parallel.threads} threads (this one and ${parallel.threads - 1} worker${parallel.threads > 2 ? 's' : ''}, each with a copy of the model)`);
  try {
    return await trainLoop(model, parallel, data, p, checkpoints, hooks, { micro, total, schedule, optimizer, state, resumeFrom });
  } finally {
    await parallel.close();
    optimizer.dispose();
  }
}

interface LoopSetup {
  readonly micro: MicroBatches;
  readonly total: number;
  readonly schedule: ReturnType<typeof makeSchedule>;
  readonly optimizer: AdamW;
  readonly state: TrainerState;
  readonly resumeFrom: number | undefined;
}

async function trainLoop(model: GlmModel, parallel: DataParallel, data: TrainData, p: TrainerOptions, checkpoints: Checkpoints, hooks: TrainHooks, setup: LoopSetup): Promise<TrainResult> {
  const { micro, total, schedule, optimizer, resumeFrom } = setup;
  let state = setup.state;

  const history = [...state.history];
  const record = (entry: LogEntry): void => {
    history.push(entry);
    hooks.metric(entry.series, entry.step, entry.values);
  };
  let windowLoss = 0;
  let windowSteps = 0;
  let lastTrainLoss: number | null = null;
  let lastEvalLoss: number | null = null;
  let stoppedEarly = false;
  let tokens = 0;
  let trainMs = 0;
  let windowTokens = 0;
  let windowMs = 0;

  const checkpointState = (): TrainerState => ({ ...state, history });
  // A fresh run's first point: the dev loss before any update, the baseline the curve falls from.
  if (resumeFrom === undefined && data.dev.length > 0) record({ step: 0, series: 'eval', values: { loss: await evaluateLoss(parallel, data.dev, p.per_device_eval_batch_size, data.padId) } });
  const exhausted = (): boolean => p.early_stopping_patience > 0 && state.evalsWithoutImprovement >= p.early_stopping_patience;
  stoppedEarly = exhausted();
  while (state.step < total && !stoppedEarly) {
    if (hooks.signal?.aborted) throw new GlmflowError('training interrupted', `rerun the same command to resume from the last checkpoint in ${checkpoints.dir}`);
    const started = performance.now();
    const lr = schedule.rate(state.step);
    optimizer.lr = lr;
    let lossSum: tf.Scalar | undefined;
    let summed: Map<tf.Variable, tf.Tensor> | undefined;
    for (let a = 0; a < p.gradient_accumulation_steps; a++) {
      const batch = micro.get(state.step * p.gradient_accumulation_steps + a);
      const out = await parallel.lossAndGrads(batch);
      const prev = lossSum;
      lossSum = tf.tidy(() => {
        const part = tf.mul(out.loss, 1 / p.gradient_accumulation_steps) as tf.Scalar;
        return prev ? (tf.add(prev, part) as tf.Scalar) : part;
      });
      tf.dispose([prev, out.loss]);
      tokens += batch.tokens;
      windowTokens += batch.tokens;
      summed = accumulate(summed, out.grads, 1 / p.gradient_accumulation_steps);
    }
    const step = state.step + 1;
    const normT = clipByGlobalNorm(summed!, p.max_grad_norm);
    optimizer.step(summed!);
    disposeGrads(summed!);
    // The step's only read-back, queued behind the update: the loss and the gradient norm together
    // (and the updated trainable values, for data-parallel workers).
    const read = await parallel.readBack([lossSum!, normT]);
    tf.dispose([lossSum!, normT]);
    const loss = read[0]!;
    const gradNorm = read[1]!;
    if (!Number.isFinite(loss)) {
      // The update has already been applied to the in-memory weights; the checkpoints on disk are untouched.
      const last = checkpoints.latest(total);
      throw new GlmflowError(
        `training loss became ${loss} at step ${step} (learning rate ${lr.toExponential(2)})`,
        `lower the learning rate (e.g. --set train.learning_rate=${(p.learning_rate / 10).toExponential(0)}), raise warmup (--set train.warmup_steps=…), or check the data for empty or extreme examples; ${last === undefined ? 'no checkpoint was saved yet' : `the last good checkpoint is ${checkpoints.path(last)}`}`,
      );
    }
    const ms = performance.now() - started;
    trainMs += ms;
    windowMs += ms;
    state = { ...state, step };
    lastTrainLoss = loss;
    windowLoss += loss;
    windowSteps++;

    if (step % p.logging_steps === 0 || step === total) {
      record({ step, series: 'train', values: { loss: windowLoss / windowSteps, learning_rate: lr, grad_norm: gradNorm, tokens_per_s: (windowTokens / windowMs) * 1000, epoch: (step * p.gradient_accumulation_steps) / micro.perEpoch } });
      windowLoss = windowSteps = windowTokens = windowMs = 0;
    }
    let saveNow = step % p.save_steps === 0 || step === total;
    if (data.dev.length > 0 && (step % p.eval_steps === 0 || step === total)) {
      lastEvalLoss = await evaluateLoss(parallel, data.dev, p.per_device_eval_batch_size, data.padId);
      record({ step, series: 'eval', values: { loss: lastEvalLoss } });
      const improved = state.bestEvalLoss === null || lastEvalLoss < state.bestEvalLoss - p.early_stopping_threshold;
      state = improved ? { ...state, bestEvalLoss: lastEvalLoss, bestStep: step, evalsWithoutImprovement: 0 } : { ...state, evalsWithoutImprovement: state.evalsWithoutImprovement + 1 };
      // The best model must be restorable at the end, whatever save_steps says.
      if (improved && p.load_best_model_at_end) saveNow = true;
      if (exhausted()) {
        stoppedEarly = true;
        saveNow = true;
        hooks.log(`early stopping at step ${step}: eval loss has not improved for ${state.evalsWithoutImprovement} evaluations (best ${state.bestEvalLoss?.toFixed(4)} at step ${state.bestStep})`);
      }
    }
    if (saveNow) {
      await checkpoints.save(step, model, optimizer, checkpointState());
      checkpoints.rotate(p.save_total_limit, state.bestStep);
    }
    hooks.progress(step, total, `loss ${loss.toFixed(4)}${lastEvalLoss === null ? '' : ` · eval ${lastEvalLoss.toFixed(4)}`} · lr ${lr.toExponential(2)}`);
  }

  // Every way out of the loop saved a checkpoint (the last step, or early stopping); a resumed, finished run has one.
  const lastStep = checkpoints.latest(total)!;
  const useBest = p.load_best_model_at_end && state.bestStep !== null && checkpoints.steps().includes(state.bestStep);
  const finalState = checkpoints.state(lastStep);
  return {
    steps: state.step,
    totalSteps: total,
    resumedFrom: resumeFrom ?? null,
    bestStep: state.bestStep,
    bestEvalLoss: state.bestEvalLoss,
    lastTrainLoss: lastTrainLoss ?? lastLogged(finalState.history, 'train'),
    lastEvalLoss: lastEvalLoss ?? lastLogged(finalState.history, 'eval'),
    stoppedEarly,
    trainTokensPerSecond: trainMs > 0 ? (tokens / trainMs) * 1000 : 0,
    threads: parallel.threads,
    history: finalState.history,
    checkpoint: checkpoints.path(useBest ? state.bestStep! : lastStep),
  };
}

/** Mean loss over the examples, each batch's mean weighted by its size (as Hugging Face's evaluation loop). */
export async function evaluateLoss(parallel: Pick<DataParallel, 'evalLosses'>, rows: readonly TrainRow[], batchSize: number, padId: number): Promise<number> {
  const slices: TrainRow[][] = [];
  for (let i = 0; i < rows.length; i += batchSize) slices.push(rows.slice(i, i + batchSize));
  const losses = await parallel.evalLosses(slices.map((slice) => collate(slice, padId)));
  return losses.reduce((sum, loss, i) => sum + loss * slices[i]!.length, 0) / rows.length;
}

function accumulate(sum: Map<tf.Variable, tf.Tensor> | undefined, grads: Map<tf.Variable, tf.Tensor>, scale: number): Map<tf.Variable, tf.Tensor> {
  const out = new Map<tf.Variable, tf.Tensor>();
  for (const [v, g] of grads) {
    const prev = sum?.get(v);
    out.set(v, tf.tidy(() => (prev ? tf.add(prev, tf.mul(g, scale)) : scale === 1 ? tf.clone(g) : tf.mul(g, scale))));
    prev?.dispose();
    g.dispose();
  }
  return out;
}

/**
 * torch.nn.utils.clip_grad_norm_, on the device: every gradient is scaled by min(1, max / (norm + 1e-6))
 * (max 0: no clipping). Returns the global norm before clipping as a scalar tensor (the caller disposes it).
 */
function clipByGlobalNorm(grads: Map<tf.Variable, tf.Tensor>, max: number): tf.Scalar {
  // stack + sum rather than addN: webgpu's AddN binds every input at once, and a shader may bind only 16 buffers on some GPUs
  const norm = tf.tidy(() => tf.sqrt(tf.sum(tf.stack([...grads.values()].map((g) => tf.sum(tf.square(g)))))) as tf.Scalar);
  if (max > 0) {
    const coef = tf.tidy(() => tf.minimum(1, tf.div(max, tf.add(norm, 1e-6))));
    for (const [v, g] of grads) {
      grads.set(v, tf.mul(g, coef));
      g.dispose();
    }
    coef.dispose();
  }
  return norm;
}

function lastLogged(history: readonly LogEntry[], series: LogEntry['series']): number | null {
  return history.filter((e) => e.series === series).at(-1)?.values['loss'] ?? null;
}
