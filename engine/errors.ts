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

export function describeError(error: unknown): string {
  if (error instanceof GlmflowError) return error.hint ? `${error.message}\n  → ${error.hint}` : error.message;
  if (error instanceof Error) return error.stack ?? error.message;
  return String(error);
}
