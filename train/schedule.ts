// Learning-rate schedules as Hugging Face's get_scheduler builds them: the rate
// used by optimizer step k (counting from 0) is learning_rate × factor(k).
import type { TrainParams } from './params.ts';

export interface Schedule {
  readonly totalSteps: number;
  readonly warmupSteps: number;
  rate(step: number): number;
}

export function makeSchedule(p: Pick<TrainParams, 'learning_rate' | 'lr_scheduler_type' | 'warmup_steps' | 'warmup_ratio'>, totalSteps: number): Schedule {
  // As in Hugging Face: warmup_steps wins over warmup_ratio when both are set.
  const warmupSteps = p.warmup_steps > 0 ? p.warmup_steps : Math.ceil(p.warmup_ratio * totalSteps);
  const warm = (k: number): number => k / Math.max(1, warmupSteps);
  const progress = (k: number): number => (k - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  const factor = (k: number): number => {
    switch (p.lr_scheduler_type) {
      case 'constant':
        return 1;
      case 'constant_with_warmup':
        return k < warmupSteps ? warm(k) : 1;
      case 'linear':
        return k < warmupSteps ? warm(k) : Math.max(0, (totalSteps - k) / Math.max(1, totalSteps - warmupSteps));
      case 'cosine':
        return k < warmupSteps ? warm(k) : Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress(k))));
    }
  };
  return { totalSteps, warmupSteps, rate: (k) => p.learning_rate * factor(k) };
}
