/**
 * One base class for every error sluice raises on purpose. `code` is stable and machine-readable
 * (tests and logs match on it, never on the message); `cause` keeps the underlying error.
 */
export class SluiceError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Exit codes of DESIGN.md (sysexits.h values where one fits). */
export const ExitCode = {
  ok: 0,
  usage: 64,
  unavailable: 69,
  internal: 70,
  config: 78,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error that decides how the process ends; only cli/ turns it into an exit code. */
export class ExitError extends SluiceError {
  readonly exitCode: ExitCode;

  constructor(exitCode: ExitCode, code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.exitCode = exitCode;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
