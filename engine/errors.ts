/** An error meant for the user: what happened, and (in `hint`) what to do next. Printed without a stack. */
export class GlmflowError extends Error {
  override readonly name = 'GlmflowError';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/**
 * The user's error behind a system one, where the cause is the user's to fix: a full disk is said
 * as such (SQLite's "database or disk is full" included), not as a stack trace from where it struck.
 */
export function asUserError(error: unknown): GlmflowError | undefined {
  if (error instanceof GlmflowError) return error;
  const e = error as (NodeJS.ErrnoException & { code?: string }) | undefined;
  if (e?.code === 'ENOSPC' || e?.code === 'EDQUOT' || e?.code === 'SQLITE_FULL') {
    const where = e.path ? ` while writing ${e.path}` : e.code === 'SQLITE_FULL' ? ' while writing the cache database' : '';
    return new GlmflowError(`no space left on device (${e.code})${where}`, 'free disk space (`npx tsx pipeline.ts gc` drops superseded outputs), then rerun: completed stages stay cached and nothing half-written is kept');
  }
  return undefined;
}

export function describeError(error: unknown): string {
  const known = asUserError(error);
  if (known) return known.hint ? `${known.message}\n  → ${known.hint}` : known.message;
  if (error instanceof Error) return error.stack ?? error.message;
  return String(error);
}
