/**
 * What every probe runner needs from the outside world, injected so that tests can point the
 * probe at fixture files (sysroot) and fake tools (PATH) without touching the real machine.
 */
import { readFileSync, existsSync, readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { execTool, type ExecOptions, type ExecResult } from '../lib/exec.js';
import type { Probed } from './types.js';

export interface ProbeDeadlines {
  nvidiaMs: number;
  sonmcliMs: number;
  toolMs: number;
}

export const DEFAULT_DEADLINES: ProbeDeadlines = { nvidiaMs: 15_000, sonmcliMs: 20_000, toolMs: 5_000 };

export interface ProbeContext {
  /** Prefix for /proc, /sys and /etc reads; '' on a real rig. */
  sysroot: string;
  exec: (command: string, args: readonly string[], options: ExecOptions) => Promise<ExecResult>;
  isRoot: boolean;
  /** The user whose ~/.sonm/cli.yaml sonmcli must use; null: run as ourselves. */
  rigUser: string | null;
  sonmConfigDir: string;
  deadlines: ProbeDeadlines;
}

export function defaultProbeContext(partial: Partial<ProbeContext> = {}): ProbeContext {
  return {
    sysroot: '',
    exec: execTool,
    isRoot: process.getuid?.() === 0,
    rigUser: null,
    sonmConfigDir: '/etc/sonm',
    deadlines: DEFAULT_DEADLINES,
    ...partial,
  };
}

export function sysPath(ctx: ProbeContext, path: string): string {
  return ctx.sysroot ? join(ctx.sysroot, path) : path;
}
export function readSys(ctx: ProbeContext, path: string): string | null {
  try {
    return readFileSync(sysPath(ctx, path), 'utf8');
  } catch {
    return null;
  }
}
export function existsSys(ctx: ProbeContext, path: string): boolean {
  return existsSync(sysPath(ctx, path));
}
export function listSys(ctx: ProbeContext, path: string): string[] {
  try {
    return readdirSync(sysPath(ctx, path));
  } catch {
    return [];
  }
}
export function realpathSys(ctx: ProbeContext, path: string): string | null {
  try {
    return realpathSync(sysPath(ctx, path));
  } catch {
    return null;
  }
}

/** Run a probe, timing it and turning any exception into a failed Probed. */
export async function measure<T>(fn: () => Promise<T> | T): Promise<Probed<T>> {
  const started = Date.now();
  try {
    const value = await fn();
    return { ok: true, value, ms: Date.now() - started };
  } catch (e) {
    const err = e as Error & { probeCode?: string };
    return { ok: false, error: err.message, code: err.probeCode, ms: Date.now() - started };
  }
}

export class ProbeError extends Error {
  constructor(message: string, public readonly probeCode: string) {
    super(message);
  }
}

/** Argument list for running sonmcli as the rig user (sudo -u when we are root). */
export function sonmcliCommand(ctx: ProbeContext, args: string[]): { command: string; args: string[] } {
  if (ctx.isRoot && ctx.rigUser && ctx.rigUser !== 'root') {
    return { command: 'sudo', args: ['-n', '-u', ctx.rigUser, '-H', '--', 'sonmcli', ...args] };
  }
  return { command: 'sonmcli', args };
}
