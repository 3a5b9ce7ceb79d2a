/**
 * The crediting rules of rewards-program.md, as pure functions: which reports are acceptable,
 * whether an hour is connected, how many GPUs are paid and for how much. The store feeds them
 * the facts it holds (membership, eligibility, earlier GPU claims) and records the outcome.
 */
import type { HourlyReport } from '../protocol/types.js';
import { reportIdFor } from '../protocol/report-id.js';
import type { Program } from '../program/definitions.js';
import { gpuQualifies } from '../program/gpu.js';

export const MAX_GPUS_PER_REPORT = 64;

export type RejectReason =
  | 'rig-mismatch'
  | 'invalid-report-id'
  | 'hour-not-aligned'
  | 'hour-not-ended'
  | 'past-deadline'
  | 'invalid-interval'
  | 'invalid-counts'
  | 'conflict';

export const REJECT_TEXT: Record<RejectReason, string> = {
  'rig-mismatch': 'the report belongs to another rig than the one that signed it',
  'invalid-report-id': 'reportId is not the one derived from rigId and hour',
  'hour-not-aligned': 'hour must be the start of a UTC hour, such as 2019-04-15T12:00:00Z',
  'hour-not-ended': 'the hour has not ended yet',
  'past-deadline': 'the hour ended longer ago than the program accepts reports for',
  'invalid-interval': 'intervalSeconds must divide an hour evenly (10 to 3600 s)',
  'invalid-counts': 'the sample counts do not add up (samples ≤ 3600/interval, connected ≤ samples, GPUs sane)',
  conflict: 'a different report with this reportId was already accepted',
};

/** Checks that need no stored state. Returns the first reason to reject, or null. */
export function validateReport(r: HourlyReport, signerRigId: string, now: Date, deadlineHours: number): RejectReason | null {
  if (r.rigId !== signerRigId) return 'rig-mismatch';
  const t = Date.parse(r.hour);
  if (!/^\d{4}-\d\d-\d\dT\d\d:00:00(\.000)?Z$/.test(r.hour) || Number.isNaN(t) || t % 3_600_000 !== 0) return 'hour-not-aligned';
  if (r.reportId !== reportIdFor(r.rigId, r.hour)) return 'invalid-report-id';
  const end = t + 3_600_000;
  if (end > now.getTime()) return 'hour-not-ended';
  if (now.getTime() - end > deadlineHours * 3_600_000) return 'past-deadline';
  if (!Number.isInteger(r.intervalSeconds) || r.intervalSeconds < 10 || r.intervalSeconds > 3600 || 3600 % r.intervalSeconds !== 0) return 'invalid-interval';
  const maxSamples = 3600 / r.intervalSeconds;
  if (r.samples < 1 || r.samples > maxSamples || r.connectedSamples < 0 || r.connectedSamples > r.samples) return 'invalid-counts';
  if (r.gpus.length > MAX_GPUS_PER_REPORT || r.minQualifyingGpus < 0 || r.minQualifyingGpus > r.gpus.length) return 'invalid-counts';
  for (let i = 1; i < r.gpus.length; i++) for (let j = 0; j < i; j++) if (r.gpus[i]!.uuid === r.gpus[j]!.uuid) return 'invalid-counts'; // a uuid twice
  return null;
}

/** Samples needed for a connected hour: ceil(share × 3600 / interval), 10 of 12 at 0.8 and 5 minutes. */
export function requiredSamples(share: number, intervalSeconds: number): number {
  return Math.ceil(share * (3600 / intervalSeconds) - 1e-9);
}

export type ProgramReason = 'outside-window' | 'not-connected' | 'no-qualifying-gpus' | 'admission-suspended' | 'not-eligible';

export interface ProgramCredit {
  programId: string;
  connected: boolean;
  gpus: number;
  usd: number;
  reason: ProgramReason | null;
  /** This credit makes the rig a member of the program. */
  joins: boolean;
}

export interface CreditFacts {
  /** Programs the rig is already a member of. */
  memberOf: ReadonlySet<string>;
  /** Latest eligibility verdict per program id; absent when the rig has not sent one. */
  eligibility: ReadonlyMap<string, boolean> | null;
  /** GPU uuids already credited to another rig for this hour (a Set, or a Map keyed by uuid). */
  claimedElsewhere: { has(uuid: string): boolean };
}

export interface CreditOutcome {
  perProgram: ProgramCredit[];
  /** Qualifying uuids this report claims that another rig was already paid for this hour. */
  flaggedUuids: string[];
  /** Uuids this report is paid for (claimed for the hour). */
  claimedUuids: string[];
  connected: boolean;
  gpus: number;
  usd: number;
}

/** Round to a hundredth of a cent: the ledger sums many small amounts. */
const money = (x: number): number => Math.round(x * 10_000) / 10_000;

/** What crediting needs of a program, computed once per batch instead of once per report. */
interface ProgramRules { p: Program; start: number; end: number; suspendedAt: number | null }
const rulesCache = new WeakMap<Program, ProgramRules>();
function rulesOf(p: Program): ProgramRules {
  let r = rulesCache.get(p);
  if (!r) {
    r = { p, start: Date.parse(p.start), end: Date.parse(p.endsAt ?? p.extendableUntil), suspendedAt: p.admissionSuspendedAt === null ? null : Date.parse(p.admissionSuspendedAt) };
    rulesCache.set(p, r);
  }
  return r;
}

export function creditReport(r: HourlyReport, programs: Program[], facts: CreditFacts): CreditOutcome {
  const hourMs = Date.parse(r.hour);
  const perProgram: ProgramCredit[] = [];
  const flagged = new Set<string>();
  const claimed = new Set<string>();
  let anyConnected = false;
  // minQualifyingGpus bounds the hour as a whole, however many programs share its GPUs.
  let unpaid = r.minQualifyingGpus;
  for (const p of programs) {
    const rules = rulesOf(p);
    const connected = r.connectedSamples >= requiredSamples(p.reward.minConnectedShare, r.intervalSeconds);
    anyConnected ||= connected;
    const base = { programId: p.id, connected, gpus: 0, usd: 0, joins: false };
    if (hourMs < rules.start || hourMs + 3_600_000 > rules.end) { perProgram.push({ ...base, reason: 'outside-window' }); continue; }
    const qualifying = r.gpus.filter((g) => gpuQualifies(p, g));
    // A GPU is paid once per hour: not if another rig claimed it, nor twice across overlapping programs.
    const free = qualifying.filter((g) => !facts.claimedElsewhere.has(g.uuid) && !claimed.has(g.uuid));
    for (const g of qualifying) if (facts.claimedElsewhere.has(g.uuid)) flagged.add(g.uuid);
    if (!connected) { perProgram.push({ ...base, reason: 'not-connected' }); continue; }
    const gpus = Math.min(unpaid, free.length, p.requirements.maxGpus);
    if (gpus < p.requirements.minGpus || gpus === 0) { perProgram.push({ ...base, reason: 'no-qualifying-gpus' }); continue; }
    if (facts.eligibility?.get(p.id) === false) { perProgram.push({ ...base, reason: 'not-eligible' }); continue; }
    const member = facts.memberOf.has(p.id);
    const beforeSuspension = rules.suspendedAt !== null && hourMs < rules.suspendedAt;
    if (!member && p.admission === 'suspended' && !beforeSuspension) { perProgram.push({ ...base, reason: 'admission-suspended' }); continue; }
    for (const g of free.slice(0, gpus)) claimed.add(g.uuid);
    unpaid -= gpus;
    perProgram.push({ ...base, gpus, usd: money((p.reward.usdPerGpuDay / 24) * gpus), reason: null, joins: !member });
  }
  const paid = perProgram.filter((c) => c.usd > 0);
  return {
    perProgram,
    flaggedUuids: [...flagged],
    claimedUuids: [...claimed],
    connected: anyConnected,
    gpus: paid.reduce((m, c) => Math.max(m, c.gpus), 0),
    usd: money(paid.reduce((s, c) => s + c.usd, 0)),
  };
}
