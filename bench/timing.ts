// Timing helpers shared by the benches: medians, since these VMs drift within minutes.

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median seconds of `runs` calls after `warmup` untimed ones (kernel and shader compilation, first-step allocations). */
export async function timed(runs: number, warmup: number, fn: () => Promise<void> | void): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  return median(times);
}
