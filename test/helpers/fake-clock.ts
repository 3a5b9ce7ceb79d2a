/**
 * One fake clock shared by several real processes: libfaketime (Debian `faketime`) preloaded,
 * reading its time from a file that the test moves forward. Monotonic time stays real, so timers
 * inside the processes keep working.
 */
import { existsSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function libfaketimePath(): string {
  for (const dir of readdirSync('/usr/lib')) {
    const p = join('/usr/lib', dir, 'faketime', 'libfaketime.so.1');
    if (existsSync(p)) return p;
  }
  throw new Error('libfaketime not found: apt-get install faketime');
}

/**
 * A fixed fake time for one process, preloading libfaketime directly. The `faketime` wrapper is
 * not used: it creates its semaphore with O_EXCL under a name made of its own pid, and fails
 * ("sem_open: File exists") whenever a name leaked by an earlier run meets a reused pid.
 */
export function fixedTimeEnv(at: string): Record<string, string> {
  return { LD_PRELOAD: libfaketimePath(), FAKETIME: `@${at}`, FAKETIME_DONT_FAKE_MONOTONIC: '1' };
}

export class FakeClockFile {
  constructor(readonly path: string) {}
  /** Move the clock. Atomic (write, then rename): a process reading mid-write must never see an empty file. */
  set(t: number | string): void {
    const iso = new Date(t).toISOString();
    writeFileSync(`${this.path}.tmp`, `@${iso.slice(0, 10)} ${iso.slice(11, 19)}\n`);
    renameSync(`${this.path}.tmp`, this.path);
  }
  env(): Record<string, string> {
    return {
      LD_PRELOAD: libfaketimePath(),
      FAKETIME_TIMESTAMP_FILE: this.path,
      FAKETIME_NO_CACHE: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    };
  }
}
