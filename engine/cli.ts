// The command line behind `npx tsx pipeline.ts …`: run, status, explain, dag,
// runs, gc, plus commands a pipeline adds (tokenize, chat…).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Display, formatBytes, formatDuration, summaryTable, table } from './display.ts';
import { describeError, GlmflowError } from './errors.ts';
import { execute } from './execute.ts';
import { short } from './hash.ts';
import { describeChanges } from './key.ts';
import { isAlive, ProjectLock } from './lock.ts';
import { loadConfigFile, NO_PARAMS, parseSetFlags, type ConfigAdapter, type ParamSources } from './params.ts';
import type { Pipeline } from './pipeline.ts';
import { plan, viewEdited, type Assessment } from './plan.ts';
import { Workspace } from './workspace.ts';
import type { ExecutorName } from './project-config.ts';
import type { RunRecord } from './db.ts';
import { pullCommand, pushCommand, remoteGcCommand, remoteStatusCommand } from './remote/commands.ts';

export interface ExtraCommand {
  readonly summary: string;
  run(argv: string[]): Promise<number | void>;
}

/**
 * Code that reads a stage's committed outputs after it ran and reports on them (advice, mirrors to
 * trackers). It lives outside the stage so that changing it never changes the stage's key.
 */
export type Reporter = (finished: { readonly stage: string; readonly artifactsDir: string; readonly params: Readonly<Record<string, unknown>> }) => Promise<readonly string[]>;

export interface CliOptions {
  /** Reporters by stage name, run after that stage ran in `run`. */
  readonly reporters?: Readonly<Record<string, Reporter>>;
  readonly projectDir: string;
  /** The target the help's examples use (the pipeline's main job); default: the last stage. */
  readonly mainTarget?: string;
  /** Other config formats --config understands. */
  readonly configAdapters?: readonly ConfigAdapter[];
  readonly commands?: Readonly<Record<string, ExtraCommand>>;
  /** Where command output goes (tests capture it). */
  readonly stdout?: NodeJS.WriteStream;
}

const HELP = `glmflow: fine-tune ChatGLM3 on your customer-service chats, as a cached pipeline.

Usage: npx tsx pipeline.ts <command> [options]

Commands
  run [stage...]        run the stages needed for the targets (default: all) that are stale
      --set stage.param=value   override a param (repeatable)      e.g. --set split.subset=0.2
      --config file.yaml        params per stage, e.g. "split: {subset: 0.2}"
      --force stage             rerun a stage even if fresh, from scratch: no resuming (repeatable)
      --dry-run                 print the plan, write nothing
      --jobs N                  stages run at once (default: cores)
      --no-wait                 fail at once if another run holds the project
      --backend NAME            tfjs backend for model stages: tensorflow, webgpu, wasm, cpu
                                (default: tensorflow if it loads, webgpu on a hardware GPU, else wasm)
      --executor local|slurm    where every stage runs (default: glmflow.yaml's executor:, else local)
  status [stage...]     each stage fresh or stale, with the reason           [--json]
      --remote                  also whether the remote cache holds each stage's current outputs
  push [stage...]       upload the latest outputs to the remote cache (glmflow.yaml: remote)
  pull [stage...]       download what the remote cache has for the stages, running nothing
  explain <stage>       the parts of a stage's cache key and what changed    [--json]
  dag                   the pipeline graph                [--format text|mermaid|dot]
  runs                  run history: when, what ran, durations, outcome      [--json] [--limit N]
  gc                    delete cached outputs no longer referenced, checkpoints of keys no
                        longer used, failed jobs' folders and killed runs' leftovers; print
                        bytes freed
                        (local only: the remote cache is never touched)
      --remote --older-than DAYS   instead: delete remote entries written over DAYS days ago
                                   and the objects no remaining entry lists
%EXTRA%
Every stage's latest outputs are in artifacts/<stage>/ (a copy: edit data/ or params, not these files;
run stops and names any file edited there); logs of each run in .glmflow/logs/.
--set and --config are accepted by run, status and explain (params change keys).
--project DIR runs this pipeline in another project folder (its data/, artifacts/ and .glmflow/).
glmflow.yaml in the project folder sends stages to Slurm and shares the cache through S3
(README.md, "Scaling out").

Stages of this pipeline: %STAGES%

Examples
%EXAMPLES%`;

const OPTIONS = {
  set: { type: 'string', multiple: true },
  config: { type: 'string', multiple: true },
  force: { type: 'string', multiple: true },
  'dry-run': { type: 'boolean' },
  jobs: { type: 'string' },
  'no-wait': { type: 'boolean' },
  backend: { type: 'string' },
  executor: { type: 'string' },
  json: { type: 'boolean' },
  format: { type: 'string' },
  limit: { type: 'string' },
  project: { type: 'string' },
  remote: { type: 'boolean' },
  'older-than': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export async function runCli(pipeline: Pipeline, argv: readonly string[], options: CliOptions): Promise<number> {
  const out = options.stdout ?? process.stdout;
  // `… | head` closing the pipe early is the reader's choice, not an error worth a stack trace.
  out.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  const print = (text: string): void => void out.write(text + '\n');
  const [command, ...rest] = argv;
  const extra = command ? options.commands?.[command] : undefined;
  try {
    if (extra) return (await extra.run(rest)) ?? 0;
    // Not in --help: what a Slurm job runs (engine/executor/slurm.ts writes its command line).
    if (command === 'stage-worker') return await (await import('./executor/worker.ts')).runStageWorker(pipeline, rest[0]!);
    if (!command || command === 'help' || command === '--help' || command === '-h') {
      const extras = Object.entries(options.commands ?? {}).map(([name, c]) => `  ${name.padEnd(22)}${c.summary}`);
      print(helpText(pipeline, extras.join('\n'), options.mainTarget));
      return command ? 0 : 1;
    }
    const { values, positionals } = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true });
    if (values.help) {
      print(helpText(pipeline, '', options.mainTarget));
      return 0;
    }
    if (values.backend) process.env['GLMFLOW_BACKEND'] = values.backend;
    const projectDir = values.project ? path.resolve(values.project) : options.projectDir;
    let params: ParamSources = NO_PARAMS;
    const load = { adapters: options.configAdapters ?? [], stages: pipeline.names, note: (line: string) => process.stderr.write(`note: ${line}\n`) };
    for (const file of values.config ?? []) params = await loadConfigFile(file, params, load);
    params = parseSetFlags(values.set ?? [], params);
    for (const target of positionals) if (!['run', 'status', 'explain', 'push', 'pull'].includes(command)) throw new GlmflowError(`"${command}" takes no stage names (got "${target}")`);

    switch (command) {
      case 'run':
        return await runCommand(pipeline, projectDir, positionals, params, values, print, options.reporters ?? {}, argv);
      case 'status':
        if (values.remote) return await withRemote(pipeline, projectDir, params, (ws) => remoteStatusCommand(ws, positionals, Boolean(values.json), print));
        return withWorkspace(pipeline, projectDir, params, true, (ws) => statusCommand(ws, positionals, Boolean(values.json), print));
      case 'explain':
        if (positionals.length !== 1) throw new GlmflowError('explain takes one stage name', `stages: ${pipeline.names.join(', ')}`);
        return withWorkspace(pipeline, projectDir, params, true, (ws) => explainCommand(ws, positionals[0]!, Boolean(values.json), print));
      case 'dag':
        print(dagText(pipeline, values.format ?? 'text'));
        return 0;
      case 'runs':
        return withWorkspace(pipeline, projectDir, params, true, (ws) => runsCommand(ws, Number(values.limit ?? 20), Boolean(values.json), print));
      case 'gc':
        if (values.remote) return await withRemote(pipeline, projectDir, params, (ws) => remoteGcCommand(ws, olderThanDays(values['older-than']), print));
        if (values['older-than'] !== undefined) throw new GlmflowError('--older-than goes with gc --remote', 'plain gc works on the local cache only');
        return await gcCommand(pipeline, projectDir, print);
      case 'push':
        return await withRemote(pipeline, projectDir, params, (ws) => pushCommand(ws, positionals, print));
      case 'pull':
        return await withRemote(pipeline, projectDir, params, (ws) => pullCommand(ws, positionals, print), true);
      default:
        throw new GlmflowError(`unknown command "${command}"`, 'run `npx tsx pipeline.ts --help` for the list');
    }
  } catch (error) {
    process.stderr.write(`error: ${describeError(error)}\n`);
    return 2;
  }
}

function helpText(pipeline: Pipeline, extra: string, mainTarget: string | undefined): string {
  const aliases = [...pipeline.aliases].map(([alias, stage]) => `${alias} = ${stage}`);
  const main = mainTarget ?? pipeline.names.at(-1) ?? 'STAGE';
  const first = pipeline.names[0] ?? 'STAGE';
  const examples = [
    [`run ${main}`, `everything ${main} needs, and ${main}`],
    [`run ${main} --set split.subset=0.2`, 'a quick experiment on a fifth of the data'],
    ['status', 'what would run, and why'],
    [`explain ${first}`, `the parts of ${first}'s cache key and what changed`],
  ];
  const width = Math.max(...examples.map(([command]) => command!.length));
  return HELP.replace('%EXTRA%', extra)
    .replace('%STAGES%', pipeline.names.join(' → ') + (aliases.length ? ` (targets also: ${aliases.join(', ')})` : ''))
    .replace('%EXAMPLES%', examples.map(([command, why]) => `  npx tsx pipeline.ts ${command!.padEnd(width)}  # ${why}`).join('\n'));
}

function withWorkspace(pipeline: Pipeline, projectDir: string, params: ParamSources, dryRun: boolean, fn: (ws: Workspace) => number): number {
  const ws = new Workspace(pipeline, projectDir, params, dryRun);
  try {
    return fn(ws);
  } finally {
    ws.close();
  }
}

/** A workspace for the remote commands; `locked` for those that commit (pull). */
async function withRemote(pipeline: Pipeline, projectDir: string, params: ParamSources, fn: (ws: Workspace) => Promise<number>, locked = false): Promise<number> {
  const ws = new Workspace(pipeline, projectDir, params);
  const lock = locked ? await ProjectLock.acquire(ws.paths.lock, { wait: true, command: 'pull', onWait: (m) => process.stderr.write(m + '\n') }) : undefined;
  try {
    return await fn(ws);
  } finally {
    lock?.release();
    ws.close();
  }
}

function olderThanDays(text: string | undefined): number {
  const days = Number(text);
  if (text === undefined || !Number.isFinite(days) || days < 0) throw new GlmflowError('gc --remote needs --older-than DAYS (a number, 0 or more)', 'e.g. gc --remote --older-than 30: entries others pushed in the last 30 days stay');
  return days;
}

function executorName(text: string): ExecutorName {
  if (text !== 'local' && text !== 'slurm') throw new GlmflowError(`--executor must be local or slurm (got "${text}")`);
  return text;
}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

async function runCommand(pipeline: Pipeline, projectDir: string, targets: string[], params: ParamSources, values: Values, print: (t: string) => void, reporters: Readonly<Record<string, Reporter>>, argv: readonly string[]): Promise<number> {
  for (const t of [...targets, ...(values.force ?? [])]) pipeline.node(t);
  const force = new Set(values.force ?? []);
  const dryRun = Boolean(values['dry-run']);
  const started = performance.now();
  const display = new Display();
  const ws = new Workspace(pipeline, projectDir, params, dryRun);
  const abort = new AbortController();
  const onSignal = (): void => {
    display.info('interrupt received: stopping after the running stages notice (Ctrl-C again to force)');
    process.off('SIGINT', onSignal);
    abort.abort();
  };
  let lock: ProjectLock | undefined;
  try {
    if (dryRun) {
      const planned = plan(ws, targets, { force });
      print(planText(planned, 'would run'));
      return 0;
    }
    // As given, so the command printed to rerun keeps --set, --config and --project.
    const command = argv.map(shellWord).join(' ');
    lock = await ProjectLock.acquire(ws.paths.lock, { wait: !values['no-wait'], command, onWait: (m) => display.info(m) });
    const planned = plan(ws, targets, { force });
    const edited = planned.flatMap((a) => (a.view?.state === 'edited' ? a.view.files : []));
    if (edited.length) throw viewEdited(edited);
    const toRun = planned.filter((a) => a.state !== 'fresh');
    if (toRun.length) display.info(`glmflow: ${planned.length} stages, ${planned.length - toRun.length} fresh, ${toRun.length} to run or restore`);
    ws.db.markKilledRuns(isAlive);
    const runId = ws.db.startRun(command);
    process.on('SIGINT', onSignal);
    const jobs = values.jobs ? Number(values.jobs) : availableParallelism();
    if (!Number.isInteger(jobs) || jobs < 1) throw new GlmflowError(`--jobs must be a positive whole number (got "${values.jobs}")`);
    const executor = values.executor === undefined ? undefined : executorName(values.executor);
    const results = await execute(ws, planned, { runId, concurrency: jobs, signal: abort.signal, display, force, ...(executor ? { executor } : {}) });
    const failed = results.filter((r) => r.outcome === 'failed');
    ws.db.finishRun(runId, abort.signal.aborted ? 'interrupted' : failed.length ? 'failed' : 'ok');
    const elapsed = formatDuration(performance.now() - started);
    if (results.every((r) => r.outcome === 'fresh')) {
      print(`✓ up to date: ${results.map((r) => r.stage).join(', ')} (nothing to run, ${elapsed})`);
      return 0;
    }
    print('\n' + summaryTable(results));
    for (const r of results) {
      for (const line of r.summary) print(`${r.stage}: ${line}`);
      const reporter = reporters[r.stage];
      if (r.outcome !== 'ran' || !reporter) continue;
      const stageParams = planned.find((a) => a.stage === r.stage)!.params;
      try {
        for (const line of await reporter({ stage: r.stage, artifactsDir: path.join(ws.paths.artifacts, r.stage), params: stageParams })) print(`${r.stage}: ${line}`);
      } catch (error) {
        print(`${r.stage}: (report failed: ${error instanceof Error ? error.message : String(error)}; the stage's outputs are committed)`);
      }
    }
    if (failed.length) {
      const skipped = results.filter((r) => r.outcome === 'skipped').map((r) => r.stage);
      for (const f of failed) print(`\n✗ ${f.stage} failed: ${f.error}\n  log: ${f.logPath}`);
      if (skipped.length) print(`skipped because of the failure: ${skipped.join(', ')}`);
      print(`fix the cause, then rerun: npx tsx pipeline.ts ${command} (completed stages stay cached)`);
      return 1;
    }
    if (abort.signal.aborted) return 130;
    print(`\n✓ done in ${elapsed}`);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    lock?.release();
    ws.close();
  }
}

/** An argument as a POSIX shell reads it back. */
function shellWord(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

function planText(planned: readonly Assessment[], verb: string): string {
  return table(
    ['stage', 'state', 'why'],
    planned.map((a) => [a.stage, a.view?.state === 'edited' ? 'edited' : a.state === 'stale' ? verb : a.state, [...viewNotes(a), ...a.reasons].join('; ')]),
  );
}

/** What status says about artifacts/<stage>/ where it does not show the stage's latest outputs. */
function viewNotes(a: Assessment): string[] {
  if (a.view?.state === 'edited') return [`edited by hand: ${a.view.files.join(', ')} (no stage reads artifacts/: change data/ or params instead, then delete the edited files so the view is rebuilt)`];
  if (a.view?.state === 'outdated' && a.state === 'fresh') return [`artifacts/${a.stage}/ does not show the cached outputs: run rebuilds it`];
  return [];
}

function statusCommand(ws: Workspace, targets: string[], json: boolean, print: (t: string) => void): number {
  const planned = plan(ws, targets);
  if (json) print(JSON.stringify(planned.map((a) => ({ stage: a.stage, state: a.state, reasons: [...viewNotes(a), ...a.reasons], key: a.key ?? null, view: a.view ?? null }))));
  else print(planText(planned, 'stale'));
  return 0;
}

function explainCommand(ws: Workspace, stage: string, json: boolean, print: (t: string) => void): number {
  const planned = plan(ws, [stage]);
  const a = planned.at(-1)!;
  const latest = ws.db.latest(stage);
  const changes = a.details ? describeChanges(latest?.details, a.details) : a.reasons;
  if (json) {
    print(JSON.stringify({ stage, state: a.state, key: a.key ?? null, details: a.details ?? null, lastKey: latest?.key ?? null, lastDetails: latest?.details ?? null, changes: a.state === 'fresh' ? [] : changes }));
    return 0;
  }
  print(`${stage}: ${a.state}${a.key ? ` (key ${short(a.key)})` : ''}`);
  print(latest ? `  last committed: key ${short(latest.key)}, ${new Date(latest.createdAt).toISOString()}, took ${formatDuration(latest.durationMs)}` : '  never committed');
  if (a.details) {
    const d = a.details;
    print(`  engine format  ${d.engine}`);
    print(`  sources        ${sourceSummary(d.sources).join('\n                 ')}`);
    print(`  params         ${Object.keys(d.params).length ? JSON.stringify(d.params) : '(none)'}`);
    for (const [name, input] of Object.entries(d.inputs)) print(`  input          ${name} ← ${input.from} ${short(input.hash)}`);
    for (const [group, files] of Object.entries(d.files)) {
      const list = Object.entries(files);
      print(`  files.${group.padEnd(8)} ${list.length} file(s)${list.length <= 5 ? ': ' + list.map(([f, h]) => `${f} ${short(h)}`).join(', ') : ''}`);
    }
    if (Object.keys(d.packages).length) print(`  packages       ${Object.entries(d.packages).map(([p, v]) => `${p}@${v}`).join(', ')}`);
  }
  if (a.state !== 'fresh') {
    print('  changed since the last commit:');
    for (const change of changes) print(`    - ${change}`);
  }
  return 0;
}

/** Source files with their hashes; beyond a handful, folders other than the stage's own are counted, not listed. */
function sourceSummary(sources: Readonly<Record<string, string>>): string[] {
  const files = Object.entries(sources);
  if (files.length <= 8) return files.map(([f, h]) => `${f} ${short(h)}`);
  const byFolder = new Map<string, number>();
  const listed: string[] = [];
  for (const [file, hash] of files) {
    if (file.startsWith('stages/')) listed.push(`${file} ${short(hash)}`);
    else byFolder.set(file.split('/')[0]!, (byFolder.get(file.split('/')[0]!) ?? 0) + 1);
  }
  return [...listed, ...[...byFolder].map(([folder, n]) => `${folder}/: ${n} file${n === 1 ? '' : 's'} (--json lists them)`)];
}

export function dagText(pipeline: Pipeline, format: string): string {
  const edges = pipeline.names.flatMap((stage) => Object.entries(pipeline.node(stage).inputs).map(([input, ref]) => ({ from: ref.stage, to: stage, label: ref.output === input ? input : `${ref.output} → ${input}` })));
  switch (format) {
    case 'mermaid':
      return ['flowchart LR', ...pipeline.names.map((s) => `  ${s}[${s}]`), ...edges.map((e) => `  ${e.from} -->|${e.label}| ${e.to}`)].join('\n');
    case 'dot':
      return ['digraph glmflow {', '  rankdir=LR;', ...pipeline.names.map((s) => `  "${s}";`), ...edges.map((e) => `  "${e.from}" -> "${e.to}" [label="${e.label}"];`), '}'].join('\n');
    case 'text':
      return pipeline.names
        .map((stage) => {
          const node = pipeline.node(stage);
          const from = Object.entries(node.inputs).map(([input, ref]) => `${ref.stage}.${ref.output}${ref.output === input ? '' : ` as ${input}`}`);
          const outs = Object.values(node.def.outputs).map((o) => o.file);
          return `${stage.padEnd(10)} ${from.length ? '← ' + from.join(', ') : '← (files)'}\n${' '.repeat(11)}→ ${outs.join(', ')}`;
        })
        .join('\n');
    default:
      throw new GlmflowError(`unknown dag format "${format}"`, 'use --format text, mermaid or dot');
  }
}

function runsCommand(ws: Workspace, limit: number, json: boolean, print: (t: string) => void): number {
  const runs = ws.db.runs(limit);
  if (json) {
    print(JSON.stringify(runs));
    return 0;
  }
  if (!runs.length) {
    print('no runs yet: start one with `npx tsx pipeline.ts run`');
    return 0;
  }
  const rows = runs.map((r) => {
    const job = (s: RunRecord['stages'][number]): string => (s.job ? ` (Slurm job ${s.job})` : '');
    const ran = r.stages.filter((s) => s.outcome === 'ran').map((s) => `${s.stage} ${formatDuration(s.durationMs)}${job(s)}`);
    const failed = r.stages.filter((s) => s.outcome === 'failed').map((s) => `${s.stage}${job(s)}`);
    return [
      String(r.id),
      new Date(r.startedAt).toISOString().replace('T', ' ').slice(0, 19),
      r.finishedAt ? formatDuration(r.finishedAt - r.startedAt) : '-',
      r.status === 'running' && !isAlive(r.pid) ? 'killed' : r.status,
      [ran.length ? `ran ${ran.join(', ')}` : 'nothing ran', failed.length ? `failed ${failed.join(', ')}` : ''].filter(Boolean).join('; '),
      r.command,
    ];
  });
  print(table(['run', 'started (UTC)', 'took', 'status', 'stages', 'command'], rows));
  return 0;
}

async function gcCommand(pipeline: Pipeline, projectDir: string, print: (t: string) => void): Promise<number> {
  const ws = new Workspace(pipeline, projectDir);
  const lock = await ProjectLock.acquire(ws.paths.lock, { wait: true, command: 'gc', onWait: (m) => process.stderr.write(m + '\n') });
  try {
    const killed = ws.db.markKilledRuns(isAlive);
    ws.db.forgetStages(pipeline.names);
    const dropped = ws.db.dropAllButLatest();
    const { objects, bytes, jobs } = ws.store.sweep(ws.db.referencedObjects(), ws.db.liveWorkNames());
    const jobText = jobs ? `, ${jobs} failed job folder${jobs === 1 ? '' : 's'}` : '';
    print(`gc: dropped ${dropped} superseded cache entries, removed ${objects} objects${jobText}, freed ${formatBytes(bytes)}${killed ? `; ${killed} run${killed === 1 ? '' : 's'} whose process was gone marked killed` : ''}`);
    return 0;
  } finally {
    lock.release();
    ws.close();
  }
}
