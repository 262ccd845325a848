/**
 * Errors are values at module boundaries. `UserError` is a problem with what the user gave us
 * (a file, a flag, a model): the CLI prints its one-line message and exits with code 2.
 * Anything else is an internal error (exit code 1).
 */
export class UserError extends Error {
  override name = 'UserError';
  constructor(message: string) {
    super(message);
  }
}

/** A problem with one file: the message always starts with the file's path. */
export class FileError extends UserError {
  override name = 'FileError';
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`);
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
