// A throwaway project for engine tests: small text stages wired into a real
// pipeline.ts that imports this repo's engine, run as real child processes.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const ENGINE = path.join(REPO, 'engine');

// Every stage appends its name to ran.log: the tests' window on what executed.
const STAGE = (name: string, body: string, extra = ''): string => `
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { defineStage, output } from '${ENGINE}/stage.ts';
${extra}
export const ${name} = defineStage({
${body}
});
export const mark = (dir: string, stage: string): void => appendFileSync(path.join(dir, 'ran.log'), stage + '\\n');
`;

const FILES: Record<string, string> = {
  'stages/source.ts': STAGE('source', `
  name: 'source', module: import.meta.url, description: 'concatenates raw text files',
  params: z.object({ glob: z.string().default('data/*.txt'), upper: z.boolean().default(false), logEvery: z.number().default(10) }),
  untracked: ['logEvery'],
  inputs: {},
  files: (p) => ({ raw: p.glob }),
  outputs: { text: output('text', 'all.txt', 'all raw text') },
  async run(ctx) {
    mark(ctx.projectDir, 'source');
    const text = ctx.files.raw.map((f) => readFileSync(f, 'utf8')).join('');
    writeFileSync(ctx.outputs.text, ctx.params.upper ? text.toUpperCase() : text);
    ctx.summary(\`\${ctx.files.raw.length} files\`);
  },`),
  'stages/count.ts': STAGE('count', `
  name: 'count', module: import.meta.url, description: 'counts lines',
  params: z.object({ ignoreBlank: z.boolean().default(true), min: z.number().int().min(0).default(0) }),
  inputs: { text: 'text' },
  outputs: { count: output('count', 'count.json', 'line count') },
  async run(ctx) {
    mark(ctx.projectDir, 'count');
    const lines = readFileSync(ctx.inputs.text, 'utf8').split('\\n').filter((l) => !ctx.params.ignoreBlank || l.trim());
    writeFileSync(ctx.outputs.count, JSON.stringify({ lines: Math.max(lines.length, ctx.params.min) }));
  },`),
  'stages/words.ts': STAGE('words', `
  name: 'words', module: import.meta.url, description: 'lists words; can be told to fail',
  params: z.object({ fail: z.boolean().default(false) }),
  inputs: { text: 'text' },
  outputs: { words: output('words', 'words.txt', 'sorted words') },
  resources: ['device'],
  async run(ctx) {
    mark(ctx.projectDir, 'words');
    appendFileSync(path.join(ctx.projectDir, 'device.log'), 'words+');
    await new Promise((resolve) => setTimeout(resolve, 150));
    appendFileSync(path.join(ctx.projectDir, 'device.log'), 'words-');
    writeFileSync(ctx.outputs.words, 'partial');
    if (ctx.params.fail) throw new Error('words was told to fail');
    writeFileSync(ctx.outputs.words, [...new Set(readFileSync(ctx.inputs.text, 'utf8').split(/\\s+/).filter(Boolean))].sort().join('\\n'));
  },`),
  'stages/slow.ts': STAGE('slow', `
  name: 'slow', module: import.meta.url, description: 'writes slowly, to be killed',
  params: z.object({ chunks: z.number().default(1), gate: z.string().default('') }),
  inputs: { text: 'text' },
  outputs: { big: output('blob', 'big.txt', 'slowly written') },
  resources: ['device'],
  async run(ctx) {
    mark(ctx.projectDir, 'slow');
    appendFileSync(path.join(ctx.projectDir, 'device.log'), 'slow+');
    for (let i = 0; i < ctx.params.chunks; i++) {
      appendFileSync(ctx.outputs.big, 'x'.repeat(1000));
      if (i === 0) writeFileSync(path.join(ctx.projectDir, 'slow.started'), '');
      // Held open until the test says so: a lock holder that outlives any start-up delay.
      while (ctx.params.gate && !existsSync(path.join(ctx.projectDir, ctx.params.gate))) await sleep(20);
      await sleep(50);
      ctx.progress(i + 1, ctx.params.chunks);
    }
    appendFileSync(path.join(ctx.projectDir, 'device.log'), 'slow-');
  },`, "import { setTimeout as sleep } from 'node:timers/promises';"),
  'stages/report.ts': STAGE('report', `
  name: 'report', module: import.meta.url, description: 'joins count and words',
  params: z.object({}),
  inputs: { count: 'count', words: 'words' },
  outputs: { report: output('report', 'report.txt', 'the report') },
  async run(ctx) {
    mark(ctx.projectDir, 'report');
    writeFileSync(ctx.outputs.report, readFileSync(ctx.inputs.count, 'utf8') + readFileSync(ctx.inputs.words, 'utf8'));
  },`),
  'pipeline.ts': `
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { Pipeline } from '${ENGINE}/pipeline.ts';
import { runCli } from '${ENGINE}/cli.ts';
import { source } from './stages/source.ts';
import { count } from './stages/count.ts';
import { words } from './stages/words.ts';
import { slow } from './stages/slow.ts';
import { report } from './stages/report.ts';
const p = new Pipeline();
const s = p.add(source);
const c = p.add(count, { text: s.out.text });
const w = p.add(words, { text: s.out.text });
p.add(slow, { text: s.out.text });
p.add(report, { count: c.out.count, words: w.out.words });
process.exitCode = await runCli(p, process.argv.slice(2), {
  projectDir: path.dirname(fileURLToPath(import.meta.url)),
  reporters: { count: async ({ artifactsDir, params }) => [\`reported \${readFileSync(path.join(artifactsDir, 'count.json'), 'utf8')} with min \${params.min}\`] },
});
`,
  'package.json': '{"type":"module","private":true}\n',
  'data/a.txt': 'hello world\n\nfoo bar\n',
  'data/b.txt': 'second file\n',
};

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export class FixtureProject {
  /** `dir`: where to build the project (default: a new temporary folder). */
  constructor(readonly dir = mkdtempSync(path.join(tmpdir(), 'glmflow-engine-'))) {
    for (const [rel, text] of Object.entries(FILES)) this.write(rel, text);
    symlinkSync(path.join(REPO, 'node_modules'), path.join(this.dir, 'node_modules'));
  }

  write(rel: string, text: string): void {
    mkdirSync(path.dirname(path.join(this.dir, rel)), { recursive: true });
    writeFileSync(path.join(this.dir, rel), text);
  }

  read(rel: string): string {
    return readFileSync(path.join(this.dir, rel), 'utf8');
  }

  exists(rel: string): boolean {
    return existsSync(path.join(this.dir, rel));
  }

  cli(...args: string[]): CliResult {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'pipeline.ts', ...args], { cwd: this.dir, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  spawn(...args: string[]) {
    return spawn(process.execPath, ['--import', 'tsx', 'pipeline.ts', ...args], { cwd: this.dir, env: { ...process.env, CI: 'true' } });
  }

  /** Stages that ran since the last call (and clears the log). */
  ran(): string[] {
    if (!this.exists('ran.log')) return [];
    const stages = this.read('ran.log').split('\n').filter(Boolean).sort();
    writeFileSync(path.join(this.dir, 'ran.log'), '');
    return stages;
  }
}
