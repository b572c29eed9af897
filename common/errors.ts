/**
 * An error caused by the user's input (a flag, a file, a folder): the CLI prints its message alone, without a
 * stack trace, and exits with `exitCode` (2 for usage errors, 1 for bad input files).
 */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 1) {
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
