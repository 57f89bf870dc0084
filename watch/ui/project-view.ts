// What the dashboard shows about one project, read from the engine's state
// database and object store and never written: runs, the params that differ
// between runs, metric curves, the DAG with each stage's status, and the
// evaluation metrics each scoring run produced.
import { readFileSync } from 'node:fs';
import type { RunRecord, StageOutcome } from '../../engine/db.ts';
import { formatDuration } from '../../engine/display.ts';
import { describeError } from '../../engine/errors.ts';
import { canonicalJson } from '../../engine/hash.ts';
import { isAlive } from '../../engine/lock.ts';
import { NO_PARAMS, type ParamSources } from '../../engine/params.ts';
import type { Pipeline } from '../../engine/pipeline.ts';
import { plan, type PlanState } from '../../engine/plan.ts';
import { Workspace } from '../../engine/workspace.ts';
import { RunHistory, type Curve } from '../history.ts';

/** 'killed': recorded as running, but its process is gone. */
export type RunStatus = 'running' | 'ok' | 'failed' | 'interrupted' | 'killed';

export interface RunSummary {
  readonly id: number;
  readonly startedAt: number;
  /** How long it took (formatted as the CLI does), null while it runs. */
  readonly took: string | null;
  readonly command: string;
  readonly status: RunStatus;
  readonly stages: readonly { stage: string; outcome: StageOutcome | 'killed'; took: string }[];
}

export interface DagNode {
  readonly stage: string;
  readonly upstream: readonly string[];
  /** As `pipeline.ts status` would say; 'unknown' when planning failed (e.g. no raw data yet). */
  readonly state: PlanState | 'unknown';
  readonly reasons: readonly string[];
  /** The latest run that did something with this stage (ran, restored, failed or is running). */
  readonly last: { readonly runId: number; readonly outcome: StageOutcome | 'killed'; readonly took: string } | null;
}

export interface Dag {
  readonly nodes: readonly DagNode[];
  readonly error: string | null;
}

export interface ParamDiff {
  readonly runs: readonly number[];
  /** `stage.param` → its value in each run (JSON), null where that run did not run the stage. */
  readonly rows: readonly { readonly param: string; readonly values: readonly (string | null)[] }[];
}

export interface Evaluation {
  readonly runId: number;
  readonly stage: string;
  readonly startedAt: number;
  /** Its outputs are what artifacts/<stage>/ holds now. */
  readonly latest: boolean;
  readonly metrics: Readonly<Record<string, number>>;
}

const RUN_LIMIT = 200;
/** Outcomes that say something about a stage; 'fresh' and 'skipped' runs left it as it was. */
const ACTED: ReadonlySet<StageOutcome | 'killed'> = new Set(['running', 'ran', 'restored', 'failed', 'killed']);
/** A stage counts as one that logs curves if one of its latest attempts did. */
const CURVE_PROBE = 5;

export class ProjectView {
  readonly #ws: Workspace;
  readonly #history: RunHistory;

  constructor(
    readonly pipeline: Pipeline,
    projectDir: string,
    params: ParamSources = NO_PARAMS,
  ) {
    // A live dry-run workspace: it sees later runs, writes nothing but an empty state database
    // in a project that has none yet, so a new project shows "no runs" instead of failing.
    this.#ws = new Workspace(pipeline, projectDir, params, true, true);
    this.#history = new RunHistory(projectDir);
  }

  get projectDir(): string {
    return this.#ws.paths.project;
  }

  close(): void {
    this.#history.close();
    this.#ws.close();
  }

  runs(): RunSummary[] {
    return this.#ws.db.runs(RUN_LIMIT).map((run) => ({
      id: run.id,
      startedAt: run.startedAt,
      took: run.finishedAt === null ? null : formatDuration(run.finishedAt - run.startedAt),
      command: run.command,
      status: killed(run) ? 'killed' : run.status,
      stages: run.stages.map(({ stage, outcome, durationMs }) => ({ stage, outcome: outcome === 'running' && killed(run) ? 'killed' : outcome, took: formatDuration(durationMs) })),
    }));
  }

  /** Stages that log metric curves (train, and base's pretraining), in pipeline order. */
  curveStages(): string[] {
    return this.pipeline.names.filter((stage) => this.#history.attempts(stage, CURVE_PROBE).some((a) => this.#history.curves(a.runId, stage).length > 0));
  }

  curves(runId: number, stage: string): Curve[] {
    return this.#history.curves(runId, stage);
  }

  lastMetricRowid(): number {
    return this.#history.lastMetricRowid();
  }

  metricsSince(rowid: number): ReturnType<RunHistory['metricsSince']> {
    return this.#history.metricsSince(rowid);
  }

  /**
   * The params, across every stage these runs ran, that two or more of them ran with
   * different values. A stage a run did not run (it was cached) is not a difference.
   */
  paramDiff(runIds: readonly number[]): ParamDiff {
    const byRun = new Map<number, Map<string, string>>(runIds.map((id) => [id, new Map()]));
    for (const stage of this.pipeline.names) {
      for (const attempt of this.#history.attempts(stage, RUN_LIMIT)) {
        const params = byRun.get(attempt.runId);
        if (params) for (const [name, value] of Object.entries(attempt.params)) params.set(`${stage}.${name}`, canonicalJson(value));
      }
    }
    const names = new Set([...byRun.values()].flatMap((params) => [...params.keys()]));
    const rows = [...names].flatMap((param) => {
      const values = runIds.map((id) => byRun.get(id)?.get(param) ?? null);
      const present = values.filter((v) => v !== null);
      return present.length >= 2 && new Set(present).size > 1 ? [{ param, values }] : [];
    });
    return { runs: runIds, rows };
  }

  dag(): Dag {
    const runs = this.runs();
    const lastOf = (stage: string): DagNode['last'] => {
      for (const run of runs) {
        const s = run.stages.find((x) => x.stage === stage && ACTED.has(x.outcome));
        if (s) return { runId: run.id, outcome: s.outcome, took: s.took };
      }
      return null;
    };
    let states = new Map<string, { state: PlanState; reasons: readonly string[] }>();
    let error: string | null = null;
    try {
      states = new Map(plan(this.#ws, []).map((a) => [a.stage, a]));
    } catch (e) {
      error = describeError(e);
    }
    const nodes = this.pipeline.names.map((stage) => ({
      stage,
      upstream: this.pipeline.upstreamOf(stage),
      state: states.get(stage)?.state ?? ('unknown' as const),
      reasons: states.get(stage)?.reasons ?? [],
      last: lastOf(stage),
    }));
    return { nodes, error };
  }

  /** Every run of a stage that writes a `metrics` output, with those metrics, newest first. */
  evaluations(): Evaluation[] {
    return this.pipeline.names.flatMap((stage) => {
      const output = Object.entries(this.pipeline.node(stage).def.outputs).find(([, spec]) => spec.kind === 'metrics')?.[0];
      if (!output) return [];
      const latestKey = this.#ws.db.latest(stage)?.key;
      return this.#history.attempts(stage, RUN_LIMIT).flatMap((attempt) => {
        const record = attempt.outcome === 'ran' && attempt.key ? this.#ws.db.entry(attempt.key)?.outputs[output] : undefined;
        const metrics = record && readNumbers(this.#ws.store.objectPath(record.hash));
        return metrics ? [{ runId: attempt.runId, stage, startedAt: attempt.startedAt, latest: attempt.key === latestKey, metrics }] : [];
      });
    });
  }
}

const killed = (run: RunRecord): boolean => run.status === 'running' && !isAlive(run.pid);

/** The numeric fields of a metrics JSON file; undefined once gc has removed it. */
function readNumbers(file: string): Record<string, number> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, number] => typeof entry[1] === 'number'));
}
