/**
 * Typed errors, mapped to exit codes in exactly one place (src/cli/main.ts).
 *   0 success / eligible    1 not eligible, or refused for a reason the user can fix on the rig
 *   2 usage error           3 the tool itself failed
 */
export const EXIT = { OK: 0, NOT_ELIGIBLE: 1, REFUSED: 1, USAGE: 2, FAILURE: 3 } as const;

export class CliError extends Error {
  constructor(message: string, public readonly exitCode: number) {
    super(message);
  }
}
/** Bad flags, arguments, or input files: exit 2. */
export class UsageError extends CliError {
  constructor(message: string) { super(message, EXIT.USAGE); }
}
/** A refusal that protects the rig (forward deal, master mismatch, bad download): exit 1. */
export class RefusalError extends CliError {
  constructor(message: string) { super(message, EXIT.REFUSED); }
}
/** The tool could not do its job (state not writable, verification failed): exit 3. */
export class FailureError extends CliError {
  constructor(message: string) { super(message, EXIT.FAILURE); }
}
