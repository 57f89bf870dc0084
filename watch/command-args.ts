// Command-line parsing shared by the watch commands (advise, sweep, schedule,
// export): each takes --project and --help, and a typo in an option is a user
// error with a pointer to the command's help, not a stack trace.
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { GlmflowError } from '../engine/errors.ts';

const COMMON = { project: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const satisfies ParseArgsConfig['options'];

/** Parsed options and positionals, and the project folder (--project or the pipeline's own); undefined after printing --help. */
export function commandArgs<O extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  argv: readonly string[],
  options: O,
  help: string,
  defaultProject: string,
  print: (text: string) => void,
) {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof COMMON & O; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...COMMON, ...options }, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (error) {
    throw new GlmflowError(`${command}: ${(error as Error).message}`, `see npx tsx pipeline.ts ${command} --help`);
  }
  const common = parsed.values as { help?: boolean; project?: string };
  if (common.help) {
    print(help);
    return undefined;
  }
  const project = common.project;
  return { values: parsed.values, positionals: parsed.positionals, projectDir: project ? path.resolve(project) : defaultProject };
}
