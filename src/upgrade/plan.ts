/**
 * The upgrade plan, pure: from what the rig looks like now, decide whether to refuse, whether
 * there is nothing to do, or which exact commands to run, in the announcement's order:
 *   service sonm-optimus stop → sonmcli worker ask-plan purge → bash -c <script> -s MASTER → verify
 * Nothing here runs anything; src/upgrade/apply.ts does, and only after the plan says "go".
 */
import type { MarketInfo, SonmVersions, WorkerInfo } from '../probe/types.js';
import { compareVersions, parseVersion } from '../lib/version.js';
import { sameAddress } from '../lib/eth.js';
import { sonmcliAsRigUser } from '../lib/rig-user.js';

export interface UpgradeFacts {
  master: string;
  configuredMaster: { master: string | null; path: string; exists: boolean };
  isRoot: boolean;
  rigUser: string;
  versions: SonmVersions | null;
  services: Record<'sonm-worker' | 'sonm-node' | 'sonm-optimus', string | null>;
  worker: WorkerInfo | null;
  market: { ok: true; value: MarketInfo } | { ok: false; error: string };
  targetVersion: string;
  force: boolean;
}

export type StepId = 'stop-optimus' | 'purge' | 'run-script' | 'verify';

export interface PlannedStep {
  id: StepId;
  title: string;
  command: string;
  args: string[];
}

export type Preflight =
  | { kind: 'refuse'; reason: string; items: string[] }
  | { kind: 'up-to-date'; message: string }
  | { kind: 'go'; notes: string[] };

/** The forward plans and deals that block an upgrade, each with when it ends if known. */
export function forwardCommitments(market: MarketInfo): string[] {
  const out: string[] = [];
  for (const p of market.askPlans) {
    if (p.durationSeconds > 0) out.push(`ask plan ${p.id} is forward (${Math.round(p.durationSeconds / 3600)} h)${p.dealId ? `, deal ${p.dealId}` : ''}`);
  }
  for (const d of market.deals) {
    if (!d.spot && d.status !== 2) out.push(`deal ${d.id} is forward (${Math.round(d.durationSeconds / 3600)} h), open until ${d.endTime ?? 'its end'}`);
  }
  return out;
}

export function preflight(f: UpgradeFacts): Preflight {
  if (f.configuredMaster.master && !sameAddress(f.configuredMaster.master, f.master)) {
    return {
      kind: 'refuse',
      reason: `${f.configuredMaster.path} names master ${f.configuredMaster.master}, not ${f.master}: SONM's script keeps the configured master and ignores the argument`,
      items: ['if the rig should move to the new master, change `master:` in that file first, or run with the configured master'],
    };
  }
  if (!f.market.ok) {
    return { kind: 'refuse', reason: `cannot list the ask plans to make sure only spot deals are open: ${f.market.error}`, items: ['start sonm-node and try again: sudo systemctl start sonm-node'] };
  }
  const forward = forwardCommitments(f.market.value);
  if (forward.length > 0) {
    return { kind: 'refuse', reason: 'a forward deal is open: the purge would fail halfway and only the consumer can close it early', items: [...forward, 'come back when it has ended (spot deals are closed for you)'] };
  }
  const lowest = parseVersion(f.versions?.lowest ?? null);
  const target = parseVersion(f.targetVersion)!;
  const active = (['sonm-worker', 'sonm-node', 'sonm-optimus'] as const).every((s) => f.services[s] === 'active');
  if (!f.force && lowest && compareVersions(lowest, target) >= 0 && active) {
    return { kind: 'up-to-date', message: `SONM ${f.versions!.lowest} is installed and sonm-worker, sonm-node and sonm-optimus are active: nothing to do (--force runs the upgrade anyway)` };
  }
  const notes: string[] = [];
  if (!lowest) notes.push('the installed SONM version could not be read');
  else notes.push(`installed: ${f.versions!.lowest}; target: ${f.targetVersion}`);
  const spot = f.market.value.deals.filter((d) => d.spot);
  if (spot.length) notes.push(`the purge will close ${spot.length} spot deal${spot.length === 1 ? '' : 's'}: ${spot.map((d) => d.id).join(', ')}`);
  return { kind: 'go', notes };
}

/** The exact commands, as argument lists. The script text goes in as one argument to bash -c. */
export function planSteps(o: { isRoot: boolean; rigUser: string; master: string; scriptText: string }): PlannedStep[] {
  const asRoot = (args: string[]): { command: string; args: string[] } => (o.isRoot ? { command: args[0]!, args: args.slice(1) } : { command: 'sudo', args: ['-n', ...args] });
  const sonmcli = (args: string[]): { command: string; args: string[] } => sonmcliAsRigUser(o, args);
  return [
    { id: 'stop-optimus', title: 'stop sonm-optimus', ...asRoot(['service', 'sonm-optimus', 'stop']) },
    { id: 'purge', title: 'purge ask plans (closes spot deals)', ...sonmcli(['worker', 'ask-plan', 'purge', '--json', '--timeout=2m']) },
    // Exactly the announcement's `bash -c "$(curl …)" -s MASTER`: $0 is "-s", $1 the master.
    { id: 'run-script', title: "run SONM's autodeploy script", ...asRoot(['bash', '-c', o.scriptText, '-s', o.master]) },
    { id: 'verify', title: 'verify the result', command: '(internal)', args: [] },
  ];
}

export interface VerifyFacts {
  versions: SonmVersions | null;
  services: Record<'sonm-worker' | 'sonm-node' | 'sonm-optimus', string | null>;
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

export function verify(f: VerifyFacts): Verification {
  const problems: string[] = [];
  const pending: string[] = [];
  const target = parseVersion(f.targetVersion)!;
  const packages = f.versions?.packages ?? {};
  for (const p of ['sonm-worker', 'sonm-node', 'sonm-cli', 'sonm-optimus']) {
    const v = parseVersion(packages[p]);
    if (!v) problems.push(`${p} is not installed`);
    else if (compareVersions(v, target) < 0) problems.push(`${p} is still ${packages[p]} (target ${f.targetVersion})`);
  }
  for (const [unit, state] of Object.entries(f.services)) if (state !== 'active') problems.push(`${unit} is ${state ?? 'unknown'}`);
  const s = f.worker?.status;
  if (!s) problems.push(`the worker does not answer: ${f.worker?.statusError ?? 'no status'}`);
  else {
    const running = parseVersion(s.version);
    if (running && compareVersions(running, target) < 0) problems.push(`the running worker is still ${s.version}`);
    if (!s.master || !sameAddress(s.master, f.master)) problems.push(`the worker's master is ${s.master ?? 'unset'}, not ${f.master}`);
    if (!s.isBenchmarkFinished) pending.push('the worker is still running its benchmarks');
    if (!s.isMasterConfirmed) pending.push(`the master has not confirmed this worker yet: run \`sonmcli master confirm ${s.ethAddr ?? '<worker address>'}\` with the master's key`);
  }
  return { ok: problems.length === 0, problems, pending };
}
