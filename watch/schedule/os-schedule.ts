// The same schedule for the operating system's scheduler, for those who would
// rather not keep a process running: a crontab line, or systemd service and
// timer units.
import { GlmflowError } from '../../engine/errors.ts';
import type { OverlapPolicy } from './scheduler.ts';

export interface OsSchedule {
  readonly cron: string;
  readonly overlap: OverlapPolicy;
  /** The folder holding pipeline.ts. */
  readonly pipelineDir: string;
  readonly projectDir: string;
  /** Arguments after `npx tsx pipeline.ts`. */
  readonly args: readonly string[];
}

export function crontab(s: OsSchedule): string {
  const fields = s.cron.trim().split(/\s+/);
  if (fields.length !== 5) throw new GlmflowError(`crontab takes five fields (minute hour day month weekday); "${s.cron}" has ${fields.length}`, 'give --cron without seconds, e.g. "0 2 * * *"');
  const log = quote(`${s.projectDir}/.glmflow/logs/schedule.log`);
  const run = `cd ${quote(s.pipelineDir)} && npx tsx pipeline.ts ${s.args.map(quote).join(' ')}`;
  // cron itself starts every tick; flock gives skip (-n: give up if held) or queue (wait). Cancel has no cron equivalent.
  const lock = quote(`${s.projectDir}/.glmflow/schedule.flock`);
  const guarded = s.overlap === 'cancel' ? run : `flock ${s.overlap === 'skip' ? '-n ' : ''}${lock} sh -c ${quote(run)}`;
  return [
    `# glmflow: ${s.args.join(' ')} on "${s.cron}"${s.overlap === 'cancel' ? ' (--overlap cancel has no crontab equivalent: runs may overlap)' : `, overlap ${s.overlap} via flock`}`,
    `${fields.join(' ')} ${guarded} >> ${log} 2>&1`,
  ].join('\n');
}

export function systemdUnits(s: OsSchedule): string {
  return `# glmflow.service
[Unit]
Description=glmflow: ${s.args.join(' ')}

[Service]
# A oneshot service is not started again while it runs: the timer skips overlapping runs.
Type=oneshot
WorkingDirectory=${s.pipelineDir}
ExecStart=/usr/bin/env npx tsx pipeline.ts ${s.args.join(' ')}

# glmflow.timer
[Unit]
Description=glmflow schedule "${s.cron}"

[Timer]
OnCalendar=${onCalendar(s.cron)}
# Runs missed while the machine was off start at boot.
Persistent=true

[Install]
WantedBy=timers.target
`;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** A cron pattern (5 fields, or 6 with seconds first) as a systemd OnCalendar expression. */
export function onCalendar(cron: string): string {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) throw new GlmflowError(`cron pattern "${cron}" needs 5 or 6 fields`, 'e.g. "0 2 * * *" (02:00 every day)');
  const [sec, min, hour, dom, mon, dow] = fields.length === 6 ? fields : ['0', ...fields];
  for (const f of fields) if (!/^[\d*,/-]+$/.test(f)) throw new GlmflowError(`cron field "${f}" has no systemd equivalent here`, 'use numbers, *, ranges a-b, lists a,b and steps */n');
  const part = (field: string, start: string): string => field.replace(/^\*\//, `${start}/`).replaceAll('-', '..');
  const days = dow === '*' ? '' : dow!.replace(/\d/g, (d) => WEEKDAYS[Number(d)]!).replaceAll('-', '..') + ' ';
  return `${days}*-${part(mon!, '1')}-${part(dom!, '1')} ${part(hour!, '0')}:${part(min!, '0')}:${part(sec!, '0')}`;
}

function quote(arg: string): string {
  return /^[\w./=:@-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}
