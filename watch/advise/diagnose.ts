// The tuning advisor's diagnoses: pure functions from a run's loss curves and
// train params to what looks wrong, the evidence (steps, values, slopes), and
// the `--set` to try next. Thresholds are named below; each is a judgement
// call, chosen so the textbook shapes are caught and ordinary noise is not.
import type { TrainParams } from '../../train/params.ts';
import type { LossCurves, Point } from './loss-curves.ts';

export type AdviceParams = Pick<
  TrainParams,
  'learning_rate' | 'weight_decay' | 'early_stopping_patience' | 'per_device_train_batch_size' | 'max_steps' | 'num_train_epochs' | 'load_best_model_at_end' | 'max_grad_norm'
>;

export type DiagnosisKind = 'diverged' | 'oscillating' | 'slow' | 'overfitting' | 'eval-minimum' | 'train-above-eval';

export interface Suggestion {
  /** One `--set` value, e.g. "train.learning_rate=0.06". */
  readonly set: string;
  readonly why: string;
}

export interface Diagnosis {
  readonly kind: DiagnosisKind;
  readonly title: string;
  readonly evidence: readonly string[];
  readonly suggestions: readonly Suggestion[];
}

/** Train loss this many times its minimum, after falling to it, is divergence. */
const DIVERGE_RISE = 1.5;
/** Oscillation: direction changes on this share of logged points… */
const OSCILLATION_TURNS = 0.6;
/**
 * …with swings averaging this share of the loss level. Minibatch noise alone
 * reaches about 10% on the embedded run (batch 8, logged every 10 steps), so
 * the bar sits above it…
 */
const OSCILLATION_SWING = 0.2;
/** …and a path this many times longer than the net change (noise around a trend is not it). */
const OSCILLATION_PATH = 3;
/** A whole run that lowers train loss by less than this share is learning too slowly. */
const SLOW_DROP = 0.1;
/**
 * Losses have a floor (the data's own entropy), so "near zero" is measured
 * against the start: train loss at most this share of its first value…
 */
const OVERFIT_TRAIN_LEFT = 0.5;
/** …eval loss at least this many times the train loss… */
const OVERFIT_GAP = 1.5;
/** …and eval loss, over the later half of evaluations, improving by less than this share. */
const FLAT = 0.03;
/** Eval loss climbing more than this share over the later half of evaluations is rising, not flat. */
const RISING = 0.01;
/** Eval loss this far above its minimum, at least MIN_EVALS_AFTER evaluations later, is a rise (and train loss, that many points later, for divergence). */
const EVAL_RISE = 0.03;
const MIN_EVALS_AFTER = 2;
/** Train loss above eval loss by this share at every later evaluation. */
const TRAIN_ABOVE = 0.1;
/** Train loss still falling by this share over the last third of the run: not converged. */
const STILL_FALLING = 0.05;

export function diagnose(curves: LossCurves, params: AdviceParams): Diagnosis[] {
  const train = curves.train.filter((p) => Number.isFinite(p.value));
  const evaluation = curves.eval.filter((p) => Number.isFinite(p.value));
  const unstable = nonFinite(curves, params) ?? divergence(train, params) ?? oscillation(train, params);
  return [
    unstable,
    // Raising the rate of a run that is already unstable would make it worse.
    unstable ? undefined : slowFall(train, params),
    overfitting(train, evaluation, params),
    evalMinimum(evaluation, params),
    trainAboveEval(train, evaluation, params),
  ].filter((d): d is Diagnosis => d !== undefined);
}

function nonFinite(curves: LossCurves, p: AdviceParams): Diagnosis | undefined {
  const bad = (['train', 'eval'] as const)
    .map((series) => ({ series, point: curves[series].find((pt) => !Number.isFinite(pt.value)) }))
    .filter((b): b is { series: 'train' | 'eval'; point: Point } => b.point !== undefined)
    .sort((a, b) => a.point.step - b.point.step)[0];
  if (!bad) return undefined;
  const before = curves[bad.series].filter((pt) => pt.step < bad.point.step && Number.isFinite(pt.value)).at(-1);
  return {
    kind: 'diverged',
    title: `${bad.series} loss became ${bad.point.value}: training diverged`,
    evidence: [`${bad.series} loss was ${bad.point.value} at step ${bad.point.step}${before ? ` (${fmt(before.value)} at step ${before.step})` : ''}`],
    suggestions: calmer(p),
  };
}

function divergence(train: readonly Point[], p: AdviceParams): Diagnosis | undefined {
  if (train.length < 3) return undefined;
  const low = argMin(train);
  const last = train.at(-1)!;
  // The last points all high, not just the last one: a zigzag that ends on a peak is oscillation.
  const tail = train.slice(-MIN_EVALS_AFTER);
  if (train.length - 1 - low < MIN_EVALS_AFTER || tail.some((pt) => pt.value < DIVERGE_RISE * train[low]!.value)) return undefined;
  return {
    kind: 'diverged',
    title: 'train loss rose again after falling: training is diverging',
    evidence: [`train loss fell to ${fmt(train[low]!.value)} at step ${train[low]!.step}, then rose to ${fmt(last.value)} by step ${last.step} (×${fmt(last.value / train[low]!.value)})`],
    suggestions: calmer(p),
  };
}

function oscillation(train: readonly Point[], p: AdviceParams): Diagnosis | undefined {
  if (train.length < 6) return undefined;
  const deltas = train.slice(1).map((pt, i) => pt.value - train[i]!.value);
  const turns = deltas.slice(1).filter((d, i) => Math.sign(d) * Math.sign(deltas[i]!) < 0).length;
  const path = deltas.reduce((sum, d) => sum + Math.abs(d), 0);
  const swing = path / deltas.length;
  const level = mean(train.map((pt) => pt.value));
  const net = Math.abs(train.at(-1)!.value - train[0]!.value);
  if (turns < OSCILLATION_TURNS * (deltas.length - 1) || swing < OSCILLATION_SWING * level || path < OSCILLATION_PATH * net) return undefined;
  return {
    kind: 'oscillating',
    title: 'train loss oscillates: the steps are too large for the gradient noise',
    evidence: [
      `train loss changed direction ${turns} times in ${train.length} logged points (steps ${train[0]!.step}–${train.at(-1)!.step})`,
      `average swing ${fmt(swing)} (${pct(swing / level)} of its mean level ${fmt(level)}), against a net change of ${fmt(net)} over the run`,
    ],
    suggestions: calmer(p),
  };
}

function calmer(p: AdviceParams): Suggestion[] {
  const suggestions: Suggestion[] = [
    { set: `train.learning_rate=${num(p.learning_rate / 4)}`, why: `a quarter of the current ${num(p.learning_rate)}: smaller updates stay where the loss is low` },
    { set: `train.per_device_train_batch_size=${p.per_device_train_batch_size * 2}`, why: `twice the current ${p.per_device_train_batch_size}: averages out gradient noise` },
  ];
  if (p.max_grad_norm === 0) suggestions.push({ set: 'train.max_grad_norm=1', why: 'gradient clipping is off; it caps the size of any one update' });
  return suggestions;
}

function slowFall(train: readonly Point[], p: AdviceParams): Diagnosis | undefined {
  if (train.length < 3 || train[0]!.value <= 0) return undefined;
  const first = train[0]!;
  const last = train.at(-1)!;
  const drop = (first.value - last.value) / first.value;
  if (drop >= SLOW_DROP) return undefined;
  return {
    kind: 'slow',
    title: 'train loss falls too slowly: the learning rate is probably too low',
    evidence: [
      `train loss fell only ${pct(drop)} (${fmt(first.value)} → ${fmt(last.value)}) over steps ${first.step}–${last.step}`,
      `slope ${perHundred(slope(train))} (least squares over ${train.length} points)`,
    ],
    suggestions: [{ set: `train.learning_rate=${num(Math.min(1, p.learning_rate * 3))}`, why: `three times the current ${num(p.learning_rate)}; if that oscillates, settle between the two` }],
  };
}

function overfitting(train: readonly Point[], evaluation: readonly Point[], p: AdviceParams): Diagnosis | undefined {
  if (train.length < 2 || evaluation.length < 3) return undefined;
  const first = train[0]!;
  const last = train.at(-1)!;
  const lastEval = evaluation.at(-1)!;
  const late = evaluation.slice(Math.floor(evaluation.length / 2));
  const lateChange = (slope(late) * (late.at(-1)!.step - late[0]!.step)) / mean(late.map((pt) => pt.value));
  if (last.value > OVERFIT_TRAIN_LEFT * first.value || lastEval.value < OVERFIT_GAP * last.value || lateChange < -FLAT) return undefined;
  const best = evaluation[argMin(evaluation)]!;
  const suggestions: Suggestion[] = [];
  if (p.weight_decay < 0.1) {
    const decay = p.weight_decay === 0 ? 0.01 : Math.min(0.1, p.weight_decay * 10);
    suggestions.push({ set: `train.weight_decay=${num(decay)}`, why: `now ${num(p.weight_decay)}: decay keeps the prefix from fitting the training examples by rote` });
  }
  suggestions.push({ set: 'split.subset=1', why: 'more data: the full data if this ran on a subset (or add conversations)' });
  if (best.step < lastEval.step) suggestions.push({ set: `train.max_steps=${best.step}`, why: `stop earlier: eval loss was lowest at step ${best.step}` });
  return {
    kind: 'overfitting',
    title: `overfitting: train loss keeps falling while eval loss is ${lateChange > RISING ? 'rising' : 'flat'}`,
    evidence: [
      `train loss fell ${pct(1 - last.value / first.value)} (${fmt(first.value)} → ${fmt(last.value)}) by step ${last.step}`,
      `eval loss over steps ${late[0]!.step}–${late.at(-1)!.step}: ${fmt(late[0]!.value)} → ${fmt(late.at(-1)!.value)}, slope ${perHundred(slope(late))}`,
      `at step ${lastEval.step} eval loss is ${fmt(lastEval.value / last.value)}× the train loss`,
    ],
    suggestions,
  };
}

function evalMinimum(evaluation: readonly Point[], p: AdviceParams): Diagnosis | undefined {
  if (evaluation.length < 3) return undefined;
  const low = argMin(evaluation);
  const best = evaluation[low]!;
  const last = evaluation.at(-1)!;
  const after = evaluation.length - 1 - low;
  if (after < MIN_EVALS_AFTER || last.value < best.value * (1 + EVAL_RISE)) return undefined;
  const suggestions: Suggestion[] = [];
  if (p.early_stopping_patience === 0) {
    suggestions.push({ set: `train.early_stopping_patience=${Math.min(3, after)}`, why: `stop after ${Math.min(3, after)} evaluations without improvement instead of training on (off now)` });
  }
  if (!p.load_best_model_at_end) suggestions.push({ set: 'train.load_best_model_at_end=true', why: `the output is now the last checkpoint, worse than step ${best.step}'s` });
  suggestions.push({ set: `train.max_steps=${best.step}`, why: 'a rerun that ends at the best step spends no time past it' });
  return {
    kind: 'eval-minimum',
    title: `eval loss was lowest at step ${best.step}, then rose`,
    evidence: [
      `eval loss lowest at step ${best.step}: ${fmt(best.value)} (evaluation ${low + 1} of ${evaluation.length})`,
      `then rose to ${fmt(last.value)} by step ${last.step} (+${pct(last.value / best.value - 1)} over ${after} evaluations)`,
      p.load_best_model_at_end ? `the output is step ${best.step}'s checkpoint (load_best_model_at_end)` : 'load_best_model_at_end is off: the output is the last checkpoint',
    ],
    suggestions,
  };
}

function trainAboveEval(train: readonly Point[], evaluation: readonly Point[], p: AdviceParams): Diagnosis | undefined {
  // Train loss is logged as the mean over its window, so pair each evaluation with the train point logged at or before it.
  const pairs = evaluation
    .slice(Math.floor(evaluation.length / 2))
    .map((e) => ({ e, t: train.filter((pt) => pt.step <= e.step).at(-1) }))
    .filter((pair): pair is { e: Point; t: Point } => pair.t !== undefined);
  if (pairs.length < 2 || pairs.some(({ e, t }) => t.value <= e.value * (1 + TRAIN_ABOVE))) return undefined;
  const tail = train.slice(Math.floor((train.length * 2) / 3));
  const stillFalling = tail.length >= 2 ? (tail[0]!.value - tail.at(-1)!.value) / tail[0]!.value : 0;
  const suggestions: Suggestion[] = [];
  if (stillFalling > STILL_FALLING) {
    suggestions.push(
      p.max_steps > 0
        ? { set: `train.max_steps=${p.max_steps * 2}`, why: `not converged: train loss still fell ${pct(stillFalling)} over the last third; continues from this run's checkpoints` }
        : { set: `train.num_train_epochs=${num(p.num_train_epochs * 2)}`, why: `not converged: train loss still fell ${pct(stillFalling)} over the last third` },
    );
  }
  suggestions.push({ set: 'split.ratios={"train":0.7,"dev":0.2,"test":0.1}', why: 'a larger dev split: a small or easy one flatters the model' });
  return {
    kind: 'train-above-eval',
    title: 'train loss is above eval loss: the dev set may be too small or easy, or training has not converged',
    evidence: [
      `at steps ${pairs.map(({ e }) => e.step).join(', ')}: train loss ${pairs.map(({ t }) => fmt(t.value)).join(', ')} vs eval ${pairs.map(({ e }) => fmt(e.value)).join(', ')}`,
      `train is ${pct(mean(pairs.map(({ e, t }) => t.value / e.value - 1)))} higher on average; over the last third train loss fell ${pct(stillFalling)}`,
    ],
    suggestions,
  };
}

function argMin(points: readonly Point[]): number {
  return points.reduce((best, pt, i) => (pt.value < points[best]!.value ? i : best), 0);
}

function mean(values: readonly number[]): number {
  return values.reduce((a, v) => a + v, 0) / values.length;
}

/** Least-squares slope, loss per step. */
function slope(points: readonly Point[]): number {
  const mx = mean(points.map((pt) => pt.step));
  const my = mean(points.map((pt) => pt.value));
  const sxx = points.reduce((s, pt) => s + (pt.step - mx) ** 2, 0);
  return sxx === 0 ? 0 : points.reduce((s, pt) => s + (pt.step - mx) * (pt.value - my), 0) / sxx;
}

function perHundred(perStep: number): string {
  return `${perStep >= 0 ? '+' : '−'}${fmt(Math.abs(perStep * 100))} per 100 steps`;
}

function fmt(value: number): string {
  return String(Number(value.toPrecision(3)));
}

function pct(share: number): string {
  return `${Number((share * 100).toPrecision(2))}%`;
}

/** A param value as --set takes it: two significant digits, exponent form when small. */
function num(value: number): string {
  const rounded = Number(value.toPrecision(2));
  return rounded !== 0 && Math.abs(rounded) < 1e-3 ? rounded.toExponential() : String(rounded);
}
