// The trials of a sweep: `--set stage.param=a,b,c` flags are axes, a single
// value is fixed for every trial; the grid is every combination, or a seeded
// random sample of it (--random N).
import { GlmflowError } from '../../engine/errors.ts';
import { Rng } from '../../model/random.ts';

export interface Axis {
  /** "stage.param" */
  readonly param: string;
  readonly values: readonly string[];
}

export interface SweepSpace {
  /** --set values every trial shares. */
  readonly fixed: readonly string[];
  readonly axes: readonly Axis[];
}

/** A trial is its --set values, one per axis. */
export type Trial = readonly string[];

export function sweepSpace(flags: readonly string[]): SweepSpace {
  const fixed: string[] = [];
  const axes: Axis[] = [];
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq < 0) throw new GlmflowError(`--set "${flag}" is not of the form stage.param=value[,value…]`, 'for example: --set train.learning_rate=2e-5,5e-5');
    const param = flag.slice(0, eq);
    const values = splitValues(flag.slice(eq + 1));
    if (values.length === 1) fixed.push(flag);
    else if (axes.some((a) => a.param === param)) throw new GlmflowError(`--set ${param} is given twice`, 'list all its values in one flag: --set stage.param=a,b,c');
    else axes.push({ param, values });
  }
  return { fixed, axes };
}

/** Every combination of the axes' values, the first axis varying slowest. */
export function grid(axes: readonly Axis[]): Trial[] {
  return axes.reduce<Trial[]>((trials, axis) => trials.flatMap((t) => axis.values.map((v) => [...t, `${axis.param}=${v}`])), [[]]);
}

/** `count` distinct trials drawn from the grid, in grid order (the same seed draws the same ones). */
export function sample(trials: readonly Trial[], count: number, seed: number): Trial[] {
  if (count >= trials.length) return [...trials];
  const rng = new Rng(seed);
  const order = trials.map((_, i) => i);
  // Partial Fisher-Yates: the first `count` places end up a uniform draw.
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rng.next() * (order.length - i));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.slice(0, count).sort((a, b) => a - b).map((i) => trials[i]!);
}

/** --set values with later ones replacing earlier ones of the same param, as the engine reads them: a clean line to print. */
export function latestSets(sets: readonly string[]): string[] {
  const byParam = new Map<string, string>();
  for (const set of sets) {
    const param = set.slice(0, set.indexOf('='));
    byParam.delete(param);
    byParam.set(param, set);
  }
  return [...byParam.values()];
}

/** Values split on commas outside brackets and quotes, so a JSON list or object stays one value. */
function splitValues(text: string): string[] {
  const values: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"' && text[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && (c === '[' || c === '{')) depth++;
    else if (!quoted && (c === ']' || c === '}')) depth--;
    else if (!quoted && depth === 0 && c === ',') {
      values.push(text.slice(start, i));
      start = i + 1;
    }
  }
  values.push(text.slice(start));
  return values;
}
