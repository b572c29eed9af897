/**
 * An error caused by the user's input (a flag, a file, a folder): the CLI prints its message alone, without a
 * stack trace, and exits with `exitCode` (2 for usage errors, 1 for bad input files).
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** A bad flag or flag value: exit code 2, like commander's own usage errors. */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

/**
 * The cause that marks an error as a UserError once it has crossed a worker thread or a process: structured cloning
 * keeps an Error's message, stack and cause, not its class.
 */
const USER_ERROR_CAUSE = 'melanoma:user-error';

/** The error to send across a thread or process boundary: a UserError becomes an Error marked by its cause. */
export function forTransfer(err: unknown): unknown {
  if (!(err instanceof UserError)) return err;
  const marked = new Error(err.message, { cause: USER_ERROR_CAUSE });
  marked.stack = err.stack;
  return marked;
}

/**
 * Whether an error comes from the user's input (bad data, a bad flag), here or on the other side of a thread or
 * process boundary (see forTransfer): trying the same thing again would fail the same way.
 */
export function isUserError(err: unknown): boolean {
  return err instanceof UserError || (err instanceof Error && err.cause === USER_ERROR_CAUSE);
}
