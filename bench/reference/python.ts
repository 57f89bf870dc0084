// The Python references the benches compare with in the same run: PyTorch's
// ../shared/reference/torch_bench.py and C++ SentencePiece (sentencepiece_bench.py
// beside this file), run by Debian's interpreter when it has the module. Where it
// has not, a bench falls back to the stored figures of ../shared/BENCHMARKS.md and
// says so on every line (this VM drifts 2x between days, so a stored ratio is a hint).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHARED_DIR } from '../../test/shared.ts';

export const PYTHON = process.env['GLMFLOW_BENCH_PYTHON'] ?? '/usr/bin/python3';
const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Whether the interpreter can import `module` (false where there is no interpreter). */
export function pythonHas(module: string): boolean {
  return spawnSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
}

function runJson(args: readonly string[], env: NodeJS.ProcessEnv): Record<string, unknown> {
  const r = spawnSync(PYTHON, args, { env, encoding: 'utf8', maxBuffer: 16 << 20 });
  const last = r.stdout?.trim().split('\n').at(-1);
  if (r.status !== 0 || !last) throw new Error(`${PYTHON} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr?.slice(-2000)}`);
  return JSON.parse(last) as Record<string, unknown>;
}

export interface TorchFigures {
  readonly train: number;
  readonly eval: number;
  readonly gen: number;
  readonly peakRssGb: number;
}

/**
 * One run of the PyTorch CPU reference (small config, 2 threads). OPENBLAS_CORETYPE and
 * OPENBLAS_L2_SIZE are unset for this command only: OpenBLAS then picks its AVX-512 kernels,
 * the setting BENCHMARKS.md's reference figures were measured with.
 */
export function runTorchBench(opts: { trainSteps: number; evalSteps: number; genRuns: number }): TorchFigures {
  const env = torchEnv(process.env);
  const script = path.join(SHARED_DIR, 'reference/torch_bench.py');
  const out = runJson([script, '--train-steps', String(opts.trainSteps), '--train-warmup', '2', '--eval-steps', String(opts.evalSteps), '--gen-runs', String(opts.genRuns)], env) as {
    train: { tokens_per_s: number };
    eval: { tokens_per_s: number };
    generate: { new_tokens_per_s: number };
    peak_rss_mb: number;
  };
  return { train: out.train.tokens_per_s, eval: out.eval.tokens_per_s, gen: out.generate.new_tokens_per_s, peakRssGb: (out.peak_rss_mb * 2 ** 20) / 1e9 };
}

/** `env` without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (see runTorchBench). */
export function torchEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { OPENBLAS_CORETYPE: _coretype, OPENBLAS_L2_SIZE: _l2, ...rest } = env;
  return rest;
}

/** C++ SentencePiece encoding each message of `conversations` once, single-threaded: median tokens/s and the token count. */
export function runSentencePieceBench(model: string, conversations: string, runs: number): { tokensPerSecond: number; tokens: number } {
  const out = runJson([path.join(HERE, 'sentencepiece_bench.py'), model, conversations, '--runs', String(runs)], process.env) as { tokens_per_s: number; tokens: number };
  return { tokensPerSecond: out.tokens_per_s, tokens: out.tokens };
}
