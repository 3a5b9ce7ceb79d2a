/**
 * The context every command receives: its I/O, clock and settings. Commands never touch
 * process.* directly, so unit tests can pass plain objects (the create-astro pattern).
 */
import type { Settings } from './settings.js';

/** Where a command writes: stdout or stderr, and whether it is a terminal. */
export interface Output {
  write(text: string): void;
  isTTY: boolean;
}

/**
 * Everything a command may use of the process. A module takes only the slice it needs
 * (`Pick<CommandContext, 'now' | 'sleep'>`), so tests pass plain objects.
 */
export interface CommandContext {
  settings: Settings;
  json: boolean;
  verbose: boolean;
  color: boolean;
  stdout: Output;
  stderr: Output;
  env: NodeJS.ProcessEnv;
  now(): Date;
  sleep(ms: number): Promise<void>;
  isRoot: boolean;
  /** Answer a yes/no question on the terminal; undefined when there is no terminal. */
  confirm?: (question: string) => Promise<boolean>;
}

/**
 * Write one line (a newline is added) to the command's stderr: progress and warnings, never
 * results, so stdout stays clean for --json.
 */
export function log(ctx: CommandContext, line: string): void {
  ctx.stderr.write(`${line}\n`);
}

/** Like log, only under --verbose. */
export function verbose(ctx: CommandContext, line: string): void {
  if (ctx.verbose) ctx.stderr.write(`${line}\n`);
}
