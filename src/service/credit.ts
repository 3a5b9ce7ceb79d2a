/**
 * The crediting rules of docs/decisions.md ("Service") and docs/threat-model.md, as pure
 * functions: which reports are acceptable, whether an hour is connected, how many GPUs are paid
 * and for how much. The store feeds them the facts it holds (enrolment, review, membership, the
 * verdict in force, other rigs' claims) and records the outcome.
 *
 * About 320 lines on purpose: these are the rules a supplier's pay depends on, one table of
 * reasons and the functions that give them, read together to be checked.
 */
import type { HourlyReport, ReportGpu } from '../protocol/types.js';
import { reportIdFor } from '../protocol/report-id.js';
import type { Program } from '../program/definitions.js';
import { HOUR_MS, parseHour } from './hours.js';
import { qualifyingModel } from '../program/gpu.js';

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
  'hour-not-aligned':
    'hour must be the start of a real UTC hour in canonical form, such as 2019-04-15T12:00:00Z (hour 00-23)',
  'hour-not-ended': 'the hour has not ended yet',
  'past-deadline': 'the hour ended longer ago than the program accepts reports for',
  'invalid-interval': 'intervalSeconds must divide an hour evenly (10 to 3600 s)',
  'invalid-counts':
    'the sample counts do not add up (samples ≤ 3600/interval, connected ≤ samples, GPUs sane)',
  conflict: 'a different report with this reportId was already accepted',
};

/**
 * Checks that need no stored state: `r` as sent, signed by `signerRigId`, at `now`, for programs
 * that take reports up to `deadlineHours` after the hour. Returns the first reason to reject, or
 * null. The hour must be canonical (src/service/hours.ts): an alias of another hour's text
 * would be a second report id, and a second payment, for one physical hour.
 */
export function validateReport(
  r: HourlyReport,
  signerRigId: string,
  now: Date,
  deadlineHours: number,
): RejectReason | null {
  if (r.rigId !== signerRigId) return 'rig-mismatch';
  const t = parseHour(r.hour);
  if (t === null) return 'hour-not-aligned';
  if (r.reportId !== reportIdFor(r.rigId, r.hour)) return 'invalid-report-id';
  const end = t + HOUR_MS;
  if (end > now.getTime()) return 'hour-not-ended';
  if (now.getTime() - end > deadlineHours * HOUR_MS) return 'past-deadline';
  if (
    !Number.isInteger(r.intervalSeconds) ||
    r.intervalSeconds < 10 ||
    r.intervalSeconds > 3600 ||
    3600 % r.intervalSeconds !== 0
  )
    return 'invalid-interval';
  const maxSamples = 3600 / r.intervalSeconds;
  if (
    r.samples < 1 ||
    r.samples > maxSamples ||
    r.connectedSamples < 0 ||
    r.connectedSamples > r.samples
  )
    return 'invalid-counts';
  if (
    r.gpus.length > MAX_GPUS_PER_REPORT ||
    r.minQualifyingGpus < 0 ||
    r.minQualifyingGpus > r.gpus.length
  )
    return 'invalid-counts';
  for (let i = 1; i < r.gpus.length; i++)
    for (let j = 0; j < i; j++) if (r.gpus[i]!.uuid === r.gpus[j]!.uuid) return 'invalid-counts'; // a uuid twice
  return null;
}

/** Samples needed for a connected hour: ceil(share × 3600 / interval), 10 of 12 at 0.8 and 5 minutes. */
export function requiredSamples(share: number, intervalSeconds: number): number {
  return Math.ceil(share * (3600 / intervalSeconds) - 1e-9);
}

/** Why a program paid nothing for an hour (docs/threat-model.md gives the rule behind each). */
export type ProgramReason =
  | 'before-enrolment'
  | 'revoked'
  | 'outside-window'
  | 'not-connected'
  | 'no-verdict'
  | 'not-eligible'
  | 'no-qualifying-gpus'
  | 'admission-suspended'
  | 'held-for-review'
  | 'master-rig-cap';

/** Why one qualifying GPU of an hour was not paid. */
export type GpuReason = 'not-in-verdict' | 'disputed' | 'claimed-by-another-rig';

export interface ProgramCredit {
  programId: string;
  connected: boolean;
  gpus: number;
  usd: number;
  reason: ProgramReason | null;
  /** This credit makes the rig a member of the program. */
  joins: boolean;
}

/** A rig's eligibility verdict (the body of POST /v1/eligibility), as crediting uses it. */
export interface Verdict {
  /** When the service received it, epoch ms: it is in force for hours that end after this. */
  receivedAt: number;
  /** The rig's own time of the check, epoch ms: a verdict never replaces a newer one. */
  checkedAt: number;
  /** Per program id: whether the rig's check found it qualifies. */
  programs: ReadonlyMap<string, boolean>;
  /** uuid → PCI device id of each GPU the check listed as qualifying. */
  gpus: ReadonlyMap<string, string>;
}

export type RigReview = 'pending' | 'approved' | 'revoked';

/** Why another rig's claim keeps a GPU from this report (decided by the store, src/service/ingest.ts). */
export type Contest = 'disputed' | 'taken';

export interface CreditFacts {
  /** When the rig enrolled, epoch ms: no hour that ended before it is paid. */
  enrolledAt: number;
  /** The operator's decision on the rig (src/service/operator.ts). */
  review: RigReview;
  /** Programs the rig is a member of, with when it joined (epoch ms). */
  memberSince: ReadonlyMap<string, number>;
  /** The rig's latest verdict received before the hour ended; null when there is none. */
  verdict: Verdict | null;
  /** GPU uuids that another rig's claim keeps from this report, and why. */
  contest: ReadonlyMap<string, Contest>;
  /** Whether the rig's master already has as many members of the program as it may. */
  masterFull(programId: string): boolean;
}

export interface CreditOutcome {
  perProgram: ProgramCredit[];
  /** Uuids this report is paid for (claimed for the hour), with their model from the PCI id. */
  claimed: Map<string, string>;
  /** Qualifying GPUs that were not paid, and why. */
  unpaid: { uuid: string; reason: GpuReason }[];
  /** Some program holds this hour for review: it is paid if the rig is approved in time. */
  held: boolean;
  connected: boolean;
  gpus: number;
  usd: number;
}

/** Round to a hundredth of a cent: the ledger sums many small amounts. */
const money = (x: number): number => Math.round(x * 10_000) / 10_000;

/** What crediting needs of a program, computed once per batch instead of once per report. */
interface ProgramRules {
  p: Program;
  start: number;
  end: number;
  suspendedAt: number | null;
}
const rulesCache = new WeakMap<Program, ProgramRules>();
function rulesOf(p: Program): ProgramRules {
  let r = rulesCache.get(p);
  if (!r) {
    r = {
      p,
      start: Date.parse(p.start),
      end: Date.parse(p.endsAt ?? p.extendableUntil),
      suspendedAt: p.admissionSuspendedAt === null ? null : Date.parse(p.admissionSuspendedAt),
    };
    rulesCache.set(p, r);
  }
  return r;
}

/**
 * The model a GPU is paid as under `p`, from its PCI device id alone (never the client's model
 * text), or null when it does not qualify: the one "this GPU qualifies" rule of
 * src/program/gpu.ts (docs/decisions.md, "GPU identity"), with the model name it maps to.
 */
export function paidModel(p: Program, pciDeviceId: string | null): string | null {
  return qualifyingModel(p, { pciDeviceId });
}

/** Whether `g` is listed, with the same PCI id, by the verdict in force. */
function inVerdict(g: ReportGpu, v: Verdict | null): boolean {
  return v !== null && g.pciDeviceId !== null && v.gpus.get(g.uuid) === g.pciDeviceId.toLowerCase();
}

/** Whether the rig counts as a member of `p` for this hour (docs/threat-model.md, admission). */
function isMember(rules: ProgramRules, facts: CreditFacts): boolean {
  const since = facts.memberSince.get(rules.p.id);
  if (since === undefined) return false;
  // Under a suspension, only rigs that were already members before it keep earning.
  return (
    rules.p.admission !== 'suspended' || rules.suspendedAt === null || since < rules.suspendedAt
  );
}

/** Why a rig that is not a member cannot join `p` now, or null when it may. */
function admissionBar(p: Program, facts: CreditFacts): ProgramReason | null {
  if (p.admission === 'suspended') return 'admission-suspended';
  if (p.admission === 'review' && facts.review !== 'approved') return 'held-for-review';
  if (facts.masterFull(p.id)) return 'master-rig-cap';
  return null;
}

/**
 * Credit one valid hourly report (rewards-program.md; the extra rules are in
 * docs/threat-model.md): per program, whether the hour is paid, for how many GPUs, how much, or
 * why not. A GPU is paid only when its PCI id qualifies, the verdict in force lists it with that
 * PCI id, no other rig's claim keeps it (`facts.contest`), and once per hour across programs.
 * Pure: the store supplies the facts and records the outcome.
 */
export function creditReport(
  r: HourlyReport,
  programs: Program[],
  facts: CreditFacts,
): CreditOutcome {
  const hourMs = Date.parse(r.hour);
  const perProgram: ProgramCredit[] = [];
  const claimed = new Map<string, string>();
  const unpaid = new Map<string, GpuReason>();
  let anyConnected = false;
  let held = false;
  // minQualifyingGpus bounds the hour as a whole, however many programs share its GPUs.
  let unpaidCount = r.minQualifyingGpus;
  for (const p of programs) {
    const rules = rulesOf(p);
    const connected =
      r.connectedSamples >= requiredSamples(p.reward.minConnectedShare, r.intervalSeconds);
    anyConnected ||= connected;
    const base = { programId: p.id, connected, gpus: 0, usd: 0, joins: false };
    const refuse = (reason: ProgramReason): void => {
      perProgram.push({ ...base, reason });
    };
    // The hour the rig enrolled in counts (its agent sampled it); no hour before it does.
    if (hourMs + HOUR_MS <= facts.enrolledAt) {
      refuse('before-enrolment');
      continue;
    }
    if (facts.review === 'revoked') {
      refuse('revoked');
      continue;
    }
    if (hourMs < rules.start || hourMs + HOUR_MS > rules.end) {
      refuse('outside-window');
      continue;
    }
    const qualifying = r.gpus.filter((g) => paidModel(p, g.pciDeviceId) !== null);
    const free: ReportGpu[] = [];
    for (const g of qualifying) {
      const why: GpuReason | null = !inVerdict(g, facts.verdict)
        ? 'not-in-verdict'
        : facts.contest.get(g.uuid) === 'disputed'
          ? 'disputed'
          : facts.contest.has(g.uuid)
            ? 'claimed-by-another-rig'
            : null;
      if (why) unpaid.set(g.uuid, why);
      else if (!claimed.has(g.uuid)) free.push(g); // a GPU is paid once across overlapping programs
    }
    if (!connected) {
      refuse('not-connected');
      continue;
    }
    if (facts.verdict === null) {
      refuse('no-verdict');
      continue;
    }
    if (facts.verdict.programs.get(p.id) === false) {
      refuse('not-eligible');
      continue;
    }
    const gpus = Math.min(unpaidCount, free.length, p.requirements.maxGpus);
    if (gpus < p.requirements.minGpus || gpus === 0) {
      refuse('no-qualifying-gpus');
      continue;
    }
    const member = isMember(rules, facts);
    const bar = member ? null : admissionBar(p, facts);
    if (bar === 'held-for-review') held = true;
    if (bar) {
      perProgram.push({ ...base, gpus: bar === 'held-for-review' ? gpus : 0, reason: bar });
      continue;
    }
    for (const g of free.slice(0, gpus)) claimed.set(g.uuid, paidModel(p, g.pciDeviceId)!);
    unpaidCount -= gpus;
    perProgram.push({
      ...base,
      gpus,
      usd: money((p.reward.usdPerGpuDay / 24) * gpus),
      reason: null,
      joins: !member,
    });
  }
  const paid = perProgram.filter((c) => c.usd > 0);
  return {
    perProgram,
    claimed,
    unpaid: [...unpaid]
      .filter(([uuid]) => !claimed.has(uuid))
      .map(([uuid, reason]) => ({ uuid, reason })),
    held: held && paid.length === 0,
    connected: anyConnected,
    gpus: paid.reduce((m, c) => Math.max(m, c.gpus), 0),
    usd: money(paid.reduce((s, c) => s + c.usd, 0)),
  };
}
