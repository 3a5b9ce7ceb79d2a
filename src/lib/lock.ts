/**
 * One report, enroll or upgrade at a time: the lock file `lock` in the state directory names its
 * holder (pid, the process's start time since boot, the command). It is created complete, with
 * link(2) of a written temporary file, so nobody ever reads a half-written lock and takes it for
 * stale. A lock is stale when its pid is gone or now belongs to another process (the start time
 * differs: pids are reused after a crash). Taking over a stale lock is done under a second lock,
 * `lock.break`, so two processes that both saw it stale cannot both end up holding it.
 * Ages are not used where /proc answers: a clock that jumps must not make a live lock look stale.
 * The rewards service holds one beside its database for as long as it runs.
 * Rules: docs/decisions.md, "Races".
 */
import { readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createFileExclusive } from './atomic.js';

import { HOUR_MS } from './time.js';

/** Without /proc: a lock older than any run can be (an upgrade's 30 min script deadline) is stale. */
export const MAX_LOCK_AGE_MS = 3 * HOUR_MS;

/** What a lock file holds: the owner's pid, its command, and since when (ISO 8601). */
export interface LockHolder {
  pid: number;
  command: string;
  since: string;
}

/** The holder as written by this agent: also the process's start time (clock ticks since boot). */
interface Holder extends LockHolder {
  start?: string | null;
}

/** Another process holds the lock; `holder` says which. */
export class LockBusyError extends Error {
  constructor(public readonly holder: LockHolder) {
    super(
      `another sonm-rewards ${holder.command} (pid ${holder.pid}, since ${holder.since}) is running`,
    );
  }
}

/** The start time (clock ticks since boot, field 22 of /proc/PID/stat), or null without /proc. */
function startTime(pid: number | 'self'): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function alive(h: Holder, maxAgeMs: number): boolean {
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startTime(h.pid);
  if (h.start && now !== null) return now === h.start;
  // No start time to compare: fall back to the program's name and an age limit.
  try {
    if (!/sonm-rewards|node/.test(readFileSync(`/proc/${h.pid}/cmdline`, 'utf8'))) return false;
  } catch {
    /* no /proc: trust kill(0) */
  }
  return !(Date.now() - Date.parse(h.since) > maxAgeMs);
}

function readHolder(path: string): { text: string; holder: Holder | null } | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const h = JSON.parse(text) as Holder;
    return { text, holder: typeof h.pid === 'number' ? h : null };
  } catch {
    return { text, holder: null }; // written by an older agent mid-crash: stale
  }
}

function removeIfSame(path: string, text: string): void {
  const now = readHolder(path);
  if (now && now.text === text) {
    try {
      unlinkSync(path);
    } catch {
      /* raced with its owner's release */
    }
  }
}

/** A held lock. release() removes it only while it is still this process's own. */
export interface Lock {
  release(): void;
}

/**
 * Take the lock `file` (default `lock`) in `stateDir` for `command`. Returns the lock; throws
 * LockBusyError when a live process holds it, or the fs error (EACCES, EROFS …).
 */
export function acquireLock(
  stateDir: string,
  command: string,
  opts: { file?: string; maxAgeMs?: number } = {},
): Lock {
  const path = join(stateDir, opts.file ?? 'lock');
  const maxAgeMs = opts.maxAgeMs ?? MAX_LOCK_AGE_MS;
  const mine = JSON.stringify({
    pid: process.pid,
    command,
    since: new Date().toISOString(),
    start: startTime('self'),
  });
  const lock: Lock = { release: () => removeIfSame(path, mine) };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createFileExclusive(path, mine, 0o644, false)) return lock;
    const seen = readHolder(path);
    if (!seen) continue; // released between our try and our look
    if (seen.holder && seen.holder.pid !== process.pid && alive(seen.holder, maxAgeMs))
      throw new LockBusyError(seen.holder);
    breakStale(path, seen.text, mine);
  }
  const last = readHolder(path)?.holder;
  throw new LockBusyError(last ?? { pid: -1, command: 'unknown', since: 'unknown' });
}

/**
 * Remove the stale lock whose content is `staleText`, under `lock.break`: only one process breaks
 * at a time, and it removes the lock only if it still holds exactly what was judged stale.
 */
function breakStale(path: string, staleText: string, mine: string): void {
  const breakPath = `${path}.break`;
  if (!createFileExclusive(breakPath, mine, 0o644, false)) {
    // Someone else is breaking it. A breaker that died mid-way leaves lock.break behind: clear it.
    const b = readHolder(breakPath);
    if (b && !(b.holder && alive(b.holder, 60_000))) removeIfSame(breakPath, b.text);
    return;
  }
  try {
    removeIfSame(path, staleText);
  } finally {
    removeIfSame(breakPath, mine);
  }
}

/**
 * acquireLock, waiting up to `waitMs` (polling every 250 ms with the injected `sleep`) while a
 * live process holds the lock: an `enroll` typed during a tick waits for the tick to end.
 * Returns the lock; throws LockBusyError once the wait is over, or the fs error.
 */
export async function acquireLockWaiting(
  stateDir: string,
  command: string,
  waitMs: number,
  sleep: (ms: number) => Promise<void>,
): Promise<Lock> {
  for (let waited = 0; ; waited += 250) {
    try {
      return acquireLock(stateDir, command);
    } catch (e) {
      if (!(e instanceof LockBusyError) || waited >= waitMs) throw e;
    }
    await sleep(250);
  }
}
