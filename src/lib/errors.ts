/**
 * Typed errors, thrown from any layer and mapped to exit codes in exactly one place
 * (explain() in src/cli/runtime.ts; README "Exit codes").
 *   0 success / eligible    1 not eligible, or refused for a reason the user can fix on the rig
 *   2 usage error           3 the tool itself failed
 */
export const EXIT = { OK: 0, NOT_ELIGIBLE: 1, REFUSED: 1, USAGE: 2, FAILURE: 3 } as const;

/** An error whose message is the one line to show, with the exit code it ends the run with. */
export class CliError extends Error {
  constructor(
    message: string,
    public readonly exitCode: number,
  ) {
    super(message);
  }
}
/** Bad flags, arguments, or input files: exit 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.USAGE);
  }
}
/** A refusal that protects the rig (forward deal, master mismatch, bad download): exit 1. */
export class RefusalError extends CliError {
  constructor(message: string) {
    super(message, EXIT.REFUSED);
  }
}
/** The tool could not do its job (state not writable, verification failed): exit 3. */
export class FailureError extends CliError {
  constructor(message: string) {
    super(message, EXIT.FAILURE);
  }
}
