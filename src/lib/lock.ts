/**
 * One upgrade or report at a time: an exclusive lock file in the state directory holding the
 * owner's pid. A lock whose pid is no longer alive is stale and is taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export class LockBusyError extends Error {
  constructor(public readonly holder: { pid: number; command: string; since: string }) {
    super(`another sonm-rewards ${holder.command} (pid ${holder.pid}, since ${holder.since}) is running`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Lock { release(): void }

export function acquireLock(stateDir: string, command: string): Lock {
  const path = join(stateDir, 'lock');
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
      if (holder && typeof holder.pid === 'number' && holder.pid !== process.pid && alive(holder.pid)) {
        throw new LockBusyError(holder);
      }
      try { unlinkSync(path); } catch { /* raced with another taker */ }
    }
  }
  throw new LockBusyError({ pid: -1, command: 'unknown', since: 'unknown' });
}
