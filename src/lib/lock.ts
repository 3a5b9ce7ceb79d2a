/**
 * One upgrade or report at a time: an exclusive lock file in the state directory holding the
 * owner's pid. A lock is stale, and taken over, when its pid is gone, when that pid now belongs
 * to another program (pids are reused after a crash), or when it is older than any run can be.
 * The rewards service holds one beside its database for as long as it runs (no age limit).
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { HOUR_MS } from './time.js';

/** Longer than the longest legitimate holder: an upgrade's script deadline (30 min) plus its wait. */
export const MAX_LOCK_AGE_MS = 3 * HOUR_MS;
import { join } from 'node:path';

export class LockBusyError extends Error {
  constructor(public readonly holder: { pid: number; command: string; since: string }) {
    super(`another sonm-rewards ${holder.command} (pid ${holder.pid}, since ${holder.since}) is running`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // On Linux, make sure the pid is still a sonm-rewards (node) process and not a reused pid.
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /sonm-rewards|node/.test(cmdline);
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

export interface Lock { release(): void }

export function acquireLock(stateDir: string, command: string, opts: { file?: string; maxAgeMs?: number } = {}): Lock {
  const path = join(stateDir, opts.file ?? 'lock');
  const maxAgeMs = opts.maxAgeMs ?? MAX_LOCK_AGE_MS;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, JSON.stringify({ pid: process.pid, command, since: new Date().toISOString() }));
      closeSync(fd);
      return {
        release() {
          try { unlinkSync(path); } catch { /* already gone */ }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder: { pid: number; command: string; since: string } | undefined;
      try {
        holder = JSON.parse(readFileSync(path, 'utf8'));
      } catch {
        holder = undefined; // torn or empty lock file: treat as stale
      }
      const age = holder ? Date.now() - Date.parse(holder.since) : Infinity;
      if (holder && typeof holder.pid === 'number' && holder.pid !== process.pid && alive(holder.pid) && !(age > maxAgeMs)) {
        throw new LockBusyError(holder);
      }
      try { unlinkSync(path); } catch { /* raced with another taker */ }
    }
  }
  throw new LockBusyError({ pid: -1, command: 'unknown', since: 'unknown' });
}
