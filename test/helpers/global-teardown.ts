/**
 * vitest global setup: after the whole suite, remove the POSIX shared-memory names that
 * libfaketime leaked, and the directories made for runs as another user in the system's temp
 * directory (tempDir(…, { anyUser: true }) in test/helpers/rig.ts; the rest stay in .tmp/).
 *
 * A process with libfaketime preloaded creates /dev/shm/faketime_shm_<pid> and
 * sem.faketime_sem_<pid>, and removes them only when it exits normally: a process that is
 * killed (the 100×SIGKILL test) or that exec()s (every shell-script fake tool) leaks both. Left
 * there they fill /dev/shm run after run, and a leaked name that meets a reused pid makes the
 * `faketime` wrapper fail. Only names created during this run by processes now gone are removed.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SHM = '/dev/shm';
const NAME = /^(?:faketime_shm_|sem\.faketime_sem_)(\d+)$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function removeLeakedFaketimeNames(since: number): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(SHM);
  } catch {
    return 0;
  }
  for (const name of names) {
    const m = NAME.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    const path = `${SHM}/${name}`;
    try {
      if (statSync(path).mtimeMs < since) continue;
      unlinkSync(path);
      removed++;
    } catch {
      // Gone already, or not ours to remove: either way nothing to do.
    }
  }
  return removed;
}

export default function setup(): () => void {
  const started = Date.now() - 1000;
  // This run's directory for runs as another user; the test workers inherit the variable.
  const anyUser = mkdtempSync(join(tmpdir(), 'sonm-rewards-tests-'));
  chmodSync(anyUser, 0o755);
  process.env.SONM_REWARDS_TEST_TMP = anyUser;
  return () => {
    removeLeakedFaketimeNames(started);
    rmSync(anyUser, { recursive: true, force: true });
  };
}
