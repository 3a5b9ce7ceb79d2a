/**
 * What every probe runner needs from the outside world, injected so that tests can point the
 * probe at fixture files (sysroot) and fake tools (PATH) without touching the real machine.
 */
import { readFileSync, existsSync, readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { execTool, type ExecOptions, type ExecResult } from '../lib/exec.js';
import type { ProbeCode, Probed } from './types.js';

export interface ProbeDeadlines {
  /**
   * nvidia-smi under `check`: long enough for a healthy 8-GPU rig without persistence mode
   * (about 30 s: README, "`sonm-rewards check`"; see also Azure/aks-gpu#105), with room to spare.
   */
  nvidiaMs: number;
  /** nvidia-smi under the 5-minute tick: bounded, whatever nvidiaMs is (the lower of the two). */
  nvidiaTickMs: number;
  sonmcliMs: number;
  toolMs: number;
}

export const DEFAULT_DEADLINES: ProbeDeadlines = {
  nvidiaMs: 90_000,
  nvidiaTickMs: 30_000,
  sonmcliMs: 20_000,
  toolMs: 5_000,
};

export interface ProbeContext {
  /** Prefix for /proc, /sys and /etc reads; '' on a real rig. */
  sysroot: string;
  exec: (command: string, args: readonly string[], options: ExecOptions) => Promise<ExecResult>;
  isRoot: boolean;
  /** The user whose ~/.sonm/cli.yaml sonmcli must use; null: run as ourselves. */
  rigUser: string | null;
  sonmConfigDir: string;
  deadlines: ProbeDeadlines;
  /** Told when a probe has waited a while on a slow tool (`check` says so on stderr). */
  onWait?: (notice: string) => void;
}

/**
 * A ProbeContext for this machine: sysroot '', tools through execTool, root when the uid is 0, no
 * rig user, /etc/sonm, DEFAULT_DEADLINES (README, "`sonm-rewards check`": nvidia-smi gets 90 s),
 * each overridden by the fields of `partial`. Throws nothing.
 */
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

/**
 * `path` (absolute, as on the rig: '/proc/meminfo') under `ctx.sysroot`, unchanged when the
 * sysroot is '' (README, "Configuration": SONM_REWARDS_SYSROOT). Pure; throws nothing.
 */
export function sysPath(ctx: Pick<ProbeContext, 'sysroot'>, path: string): string {
  return ctx.sysroot ? join(ctx.sysroot, path) : path;
}
/**
 * The UTF-8 text of the file at `path` under the sysroot, or null when it cannot be read.
 * Throws nothing.
 */
export function readSys(ctx: Pick<ProbeContext, 'sysroot'>, path: string): string | null {
  try {
    return readFileSync(sysPath(ctx, path), 'utf8');
  } catch {
    return null;
  }
}
/** Whether `path` exists under the sysroot (links followed). Throws nothing. */
export function existsSys(ctx: Pick<ProbeContext, 'sysroot'>, path: string): boolean {
  return existsSync(sysPath(ctx, path));
}
/**
 * The entry names of the directory `path` under the sysroot; [] when it cannot be read.
 * Throws nothing.
 */
export function listSys(ctx: Pick<ProbeContext, 'sysroot'>, path: string): string[] {
  try {
    return readdirSync(sysPath(ctx, path));
  } catch {
    return [];
  }
}
/**
 * The real path of `path` under the sysroot, links resolved (absolute, the sysroot included), or
 * null when it does not exist or a link is broken. Throws nothing.
 */
export function realpathSys(ctx: Pick<ProbeContext, 'sysroot'>, path: string): string | null {
  try {
    return realpathSync(sysPath(ctx, path));
  } catch {
    return null;
  }
}

/**
 * Run a probe, timing it (ms, wall clock) and turning any exception into a failed Probed with its
 * message and ProbeError code. Never rejects.
 */
export async function measure<T>(fn: () => Promise<T> | T): Promise<Probed<T>> {
  const started = Date.now();
  try {
    const value = await fn();
    return { ok: true, value, ms: Date.now() - started };
  } catch (e) {
    const err = e as Error & { probeCode?: ProbeCode };
    return { ok: false, error: err.message, code: err.probeCode, ms: Date.now() - started };
  }
}

/** A probe's failure with its reason code (see ProbeCode); measure() turns it into a Probed. */
export class ProbeError extends Error {
  constructor(
    message: string,
    public readonly probeCode: ProbeCode,
  ) {
    super(message);
  }
}
