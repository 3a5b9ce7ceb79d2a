/**
 * Judging the rig after SONM's script, whatever its exit code (docs/decisions.md, "Upgrade",
 * "Neither tool's exit code is trusted": it is unreliable both ways; see also
 * sonm-platform.md). Pure: src/upgrade/apply.ts probes, this decides.
 */
import type { SonmVersions, WorkerInfo } from '../probe/types.js';
import { compareVersions, parseVersion } from '../lib/version.js';
import { sameAddress } from '../lib/eth.js';
import { SONM_PACKAGES, type SonmService } from '../program/announcement.js';

export interface VerifyFacts {
  versions: SonmVersions | null;
  services: Record<SonmService, string | null>;
  worker: WorkerInfo | null;
  master: string;
  targetVersion: string;
}

export interface Verification {
  ok: boolean;
  /** What is wrong (fails the upgrade). */
  problems: string[];
  /** What may still settle (master confirmation, benchmarks). */
  pending: string[];
}

/**
 * The upgrade verifies when every announced package is installed at or above `targetVersion`,
 * every SONM service is active, and the running worker is at the target with `master`.
 * Unconfirmed master and unfinished benchmarks are pending, not problems. Pure; never throws
 * (an unparsable `targetVersion` counts every package as a problem).
 */
export function verify(f: VerifyFacts): Verification {
  const problems: string[] = [];
  const pending: string[] = [];
  const target = parseVersion(f.targetVersion);
  const packages = f.versions?.packages ?? {};
  for (const p of SONM_PACKAGES) {
    const v = parseVersion(packages[p]);
    if (!v) problems.push(`${p} is not installed`);
    else if (!target || compareVersions(v, target) < 0) {
      problems.push(`${p} is still ${packages[p]} (target ${f.targetVersion})`);
    }
  }
  for (const [unit, state] of Object.entries(f.services)) {
    if (state !== 'active') problems.push(`${unit} is ${state ?? 'unknown'}`);
  }
  const s = f.worker?.status;
  if (!s) {
    problems.push(`the worker does not answer: ${f.worker?.statusError ?? 'no status'}`);
    return { ok: false, problems, pending };
  }
  const running = parseVersion(s.version);
  if (running && target && compareVersions(running, target) < 0) {
    problems.push(`the running worker is still ${s.version}`);
  }
  if (!s.master || !sameAddress(s.master, f.master)) {
    problems.push(`the worker's master is ${s.master ?? 'unset'}, not ${f.master}`);
  }
  if (!s.isBenchmarkFinished) pending.push('the worker is still running its benchmarks');
  if (!s.isMasterConfirmed) {
    pending.push(
      'the master has not confirmed this worker yet: run ' +
        `\`sonmcli master confirm ${s.ethAddr ?? '<worker address>'}\` with the master's key`,
    );
  }
  return { ok: problems.length === 0, problems, pending };
}
