/**
 * The context every command receives: its I/O, clock and settings. Commands never touch
 * process.* directly, so unit tests can pass plain objects (the create-astro pattern).
 */
import type { Settings } from './settings.js';

export interface Output {
  write(text: string): void;
  isTTY: boolean;
}

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

export function log(ctx: CommandContext, line: string): void {
  ctx.stderr.write(`${line}\n`);
}

export function verbose(ctx: CommandContext, line: string): void {
  if (ctx.verbose) ctx.stderr.write(`${line}\n`);
}
