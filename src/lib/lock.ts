/**
 * One upgrade or report at a time: an exclusive lock file in the state directory holding the
 * owner's pid. A lock is stale, and taken over, when its pid is gone, when that pid now belongs
 * to another program (pids are reused after a crash), or when it is older than any run can be.
 * The rewards service holds one beside its database for as long as it runs (no age limit).
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFileOrUndefined } from './json-file.js';
import { HOUR_MS } from './time.js';

/** Longer than the longest legitimate holder: an upgrade's script deadline (30 min) plus its wait. */
export const MAX_LOCK_AGE_MS = 3 * HOUR_MS;

/** What a lock file holds: the owner's pid, its command, and since when (ISO 8601). */
export interface LockHolder {
  pid: number;
  command: string;
  since: string;
}

/** The lock is held by a live process; `message` is one line naming it. */
export class LockBusyError extends Error {
  constructor(public readonly holder: LockHolder) {
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

/** A held lock; release() removes the file (and never throws). */
export interface Lock { release(): void }

/**
 * Take the lock file `opts.file` (default `lock`) in `stateDir` for `command` ("report",
 * "upgrade", the service's name), taking over a stale one (see the header; older than
 * `opts.maxAgeMs`, default MAX_LOCK_AGE_MS). Returns the Lock.
 * Throws LockBusyError when a live holder has it, and the fs error (EACCES, ENOENT for a missing
 * state directory, EROFS) when the file cannot be created.
 */
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
      // A torn or empty lock file reads as undefined: stale.
      const holder = readJsonFileOrUndefined(path) as LockHolder | undefined;
      const age = holder ? Date.now() - Date.parse(holder.since) : Infinity;
      if (holder && typeof holder.pid === 'number' && holder.pid !== process.pid && alive(holder.pid) && !(age > maxAgeMs)) {
        throw new LockBusyError(holder);
      }
      try { unlinkSync(path); } catch { /* raced with another taker */ }
    }
  }
  throw new LockBusyError({ pid: -1, command: 'unknown', since: 'unknown' });
}
