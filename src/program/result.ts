/**
 * The JSON document `check --json` prints and `POST /v1/eligibility` carries (schemaVersion 1,
 * documented in docs/check-result.schema.json). Built purely from the probe and the evaluation.
 */
import type { LostGpu, RigProbe } from '../probe/types.js';
import type { CheckEvaluation, CheckItem, EvaluatedGpu } from './evaluate.js';
import type { ProgramsSource } from './source.js';
import type { Admission } from './definitions.js';

export interface CheckResult {
  schemaVersion: 1;
  checkedAt: string;
  eligible: boolean;
  program: {
    id: string;
    name: string;
    active: boolean;
    admission: Admission;
    window: { start: string; guaranteedUntil: string; end: string; phase: string };
  };
  checks: CheckItem[];
  gpus: EvaluatedGpu[];
  lostGpus: LostGpu[];
  reward: {
    qualifyingGpus: number;
    creditedGpus: number;
    usdPerGpuDay: number;
    usdPerDay: number;
    usdPerMonth: number;
  };
  sonm: {
    versions: {
      packages: Record<string, string>;
      notInstalled?: Record<string, string>;
      source: string;
      lowest: string | null;
    } | null;
    worker: {
      service: string | null;
      connected: boolean;
      reason: string | null;
      address: string | null;
      master: string | null;
      masterConfirmed: boolean;
      benchmarkFinished: boolean;
      rendezvous: string | null;
      version: string | null;
    } | null;
    askPlans:
      { id: string; dealId: string | null; durationSeconds: number; spot: boolean }[] | null;
    deals:
      | {
          id: string;
          durationSeconds: number;
          spot: boolean;
          status: number | null;
          endTime: string | null;
        }[]
      | null;
  };
  programs: {
    id: string;
    name: string;
    qualifies: boolean;
    active: boolean;
    eligible: boolean;
    usdPerDay: number;
  }[];
  programsSource: ProgramsSource;
  probeMs: Record<string, number>;
}

/**
 * The CheckResult (schemaVersion 1, docs/check-result.schema.json) of `probe` and its evaluation
 * `ev`: the primary program's verdict, checks and GPUs, the lost GPUs, the reward estimate (USD a
 * day; a month is 30 days), the worker and market facts, every program's verdict, where the
 * definitions came from (`source`) and each probe's time in ms. Pure; throws nothing.
 */
export function buildCheckResult(
  probe: RigProbe,
  ev: CheckEvaluation,
  source: ProgramsSource,
): CheckResult {
  const p = ev.primary;
  const versions = probe.sonmVersions.ok ? probe.sonmVersions.value : null;
  const w = probe.worker.ok ? probe.worker.value : null;
  const market = probe.market?.ok ? probe.market.value : null;
  const probeMs: Record<string, number> = {};
  for (const k of [
    'arch',
    'cpu',
    'memory',
    'disk',
    'network',
    'nvidia',
    'sonmVersions',
    'worker',
    'market',
  ] as const) {
    const v = probe[k];
    if (v) probeMs[k] = v.ms;
  }
  return {
    schemaVersion: 1,
    checkedAt: probe.probedAt,
    eligible: ev.eligible,
    program: {
      id: p.program.id,
      name: p.program.name,
      active: p.window.active,
      admission: p.program.admission,
      window: {
        start: p.window.start,
        guaranteedUntil: p.window.guaranteedUntil,
        end: p.window.end,
        phase: p.window.phase,
      },
    },
    checks: p.checks,
    gpus: p.gpus,
    lostGpus: probe.nvidia.ok ? probe.nvidia.value.lost : [],
    reward: {
      qualifyingGpus: p.qualifyingGpus,
      creditedGpus: p.creditedGpus,
      usdPerGpuDay: p.program.reward.usdPerGpuDay,
      usdPerDay: p.usdPerDay,
      usdPerMonth: p.usdPerDay * 30,
    },
    sonm: {
      versions,
      worker: w && {
        service: w.service,
        connected: w.connected,
        reason: w.notConnectedReason,
        address: w.status?.ethAddr ?? null,
        master: w.status?.master ?? null,
        masterConfirmed: w.status?.isMasterConfirmed ?? false,
        benchmarkFinished: w.status?.isBenchmarkFinished ?? false,
        rendezvous: w.status?.rendezvousStatus ?? null,
        version: w.status?.version ?? null,
      },
      askPlans: market
        ? market.askPlans.map((a) => ({
            id: a.id,
            dealId: a.dealId,
            durationSeconds: a.durationSeconds,
            spot: a.durationSeconds === 0,
          }))
        : null,
      deals: market
        ? market.deals.map((d) => ({
            id: d.id,
            durationSeconds: d.durationSeconds,
            spot: d.spot,
            status: d.status,
            endTime: d.endTime,
          }))
        : null,
    },
    programs: ev.verdicts.map((v) => ({
      id: v.program.id,
      name: v.program.name,
      qualifies: v.qualifies,
      active: v.window.active,
      eligible: v.eligible,
      usdPerDay: v.usdPerDay,
    })),
    programsSource: source,
    probeMs,
  };
}
