/**
 * What the dashboard reads beyond the JSON API's own calls (store.ledger, store.fleet): rig
 * profiles, a ledger summed per day, and the fleet's claims per hour over days. They read the
 * same rows those calls read (reports, gpu_claims), summed in SQL, because a master page of 50
 * rigs × 30 days through ledger() costs 150-280 ms here, and the page must take under 50.
 * ledgerDays() applies the same rule as the ledger's hours (summaryOf below) and a test checks
 * that the two agree on the same data (test/unit/dashboard.test.ts).
 */
import type Database from 'better-sqlite3';
import type { LedgerHour } from '../store.js';
import { reportIdFor } from '../../protocol/report-id.js';

/** A rig as the dashboard shows it: enrolment, the hardware it reported, its latest verdict. */
export interface RigProfile {
  rigId: string;
  master: string;
  worker: string | null;
  enrolledAt: string;
  /** GPU models the rig reported at enrolment, with how many of each qualify. */
  gpus: { model: string; count: number }[];
  qualifyingGpus: number | null;
  /** The operator's review of the rig: pending, approved or revoked. */
  review: string;
  /** The latest `check` verdict it sent, with the programs it does not qualify for; null when none was sent. */
  verdict: {
    receivedAt: string;
    checkedAt: string;
    eligible: boolean;
    notQualifying: string[];
    /** The checks that failed, as [checkId, reason code] (empty from agents that sent none). */
    failing: [string, string][];
  } | null;
  /** The hour of its latest stored report, or null. */
  lastReportHour: string | null;
}

/**
 * One rig's hours of one UTC day with one outcome: 'held' (waiting for the operator's review),
 * 'credited' (paid), 'disputed' (a GPU of it is contested), else the reason of the first program
 * that gave one (not-connected, not-eligible, …), else the first unpaid GPU's, else 'not-credited'.
 */
export interface LedgerDay {
  rigId: string;
  day: string;
  outcome: string;
  hours: number;
  connectedHours: number;
  usd: number;
}

export interface DashboardReads {
  /** The rigs of a master (address compared without case), or one rig; ordered by rig id. */
  rigProfiles(by: { master: string } | { rigId: string }): RigProfile[];
  /** Each rig's ledger in [from, to) (ISO hours, as ledger() takes them), summed per day and outcome. */
  ledgerDays(rigIds: string[], from: string, to: string): LedgerDay[];
  /** GPUs credited per model in each hour of each day from `fromDay` ("YYYY-MM-DD"): 24 counts a day. */
  fleetDays(fromDay: string): { day: string; model: string; gpus: number[] }[];
}

/** The outcome of one ledger hour, as LedgerDay defines it (the JS twin of the SQL below). */
export function outcomeOf(h: Pick<LedgerHour, 'usd' | 'programs' | 'held' | 'unpaidGpus'>): string {
  if (h.held) return 'held';
  if (h.usd > 0) return 'credited';
  if (h.unpaidGpus.some((g) => g.reason === 'disputed')) return 'disputed';
  return h.programs.find((p) => p.reason)?.reason ?? h.unpaidGpus[0]?.reason ?? 'not-credited';
}

/** ledger() hours summed as ledgerDays() sums them: for the rig page, and for the test that ties the two. */
export function summaryOf(rigId: string, hours: LedgerHour[]): LedgerDay[] {
  const out = new Map<string, LedgerDay>();
  for (const h of hours) {
    const day = h.hour.slice(0, 10);
    const outcome = outcomeOf(h);
    const key = `${day}|${outcome}`;
    const d = out.get(key) ?? { rigId, day, outcome, hours: 0, connectedHours: 0, usd: 0 };
    d.hours++;
    d.connectedHours += h.connected ? 1 : 0;
    d.usd = Math.round((d.usd + h.usd) * 10_000) / 10_000;
    out.set(key, d);
  }
  return [...out.values()].sort((a, b) => (a.day + a.outcome < b.day + b.outcome ? -1 : 1));
}

const HOUR_SUMS = Array.from({ length: 24 }, (_, i) => `SUM((hours >> ${i}) & 1)`).join(', ');

/** The queries, prepared once on the store's connection. */
export function dashboardReads(db: Database.Database): DashboardReads {
  const profile = `SELECT r.rig_id AS rigId, r.master, r.worker, r.enrolled_at AS enrolledAt, r.hardware, r.review,
      v.received_at AS receivedAt, v.checked_at AS checkedAt, v.eligible, v.programs, v.failing,
      (SELECT hour FROM reports WHERE report_id > 'rpt-' || r.rig_id || '-' AND report_id < 'rpt-' || r.rig_id || '.'
        ORDER BY report_id DESC LIMIT 1) AS lastReportHour
    FROM rigs r LEFT JOIN verdicts v ON v.rig_id = r.rig_id
      AND v.received_at = (SELECT MAX(received_at) FROM verdicts WHERE rig_id = r.rig_id)`;
  const q = {
    byMaster: db.prepare(`${profile} WHERE lower(r.master) = lower(?) ORDER BY r.rig_id`),
    byRig: db.prepare(`${profile} WHERE r.rig_id = ?`),
    days: db.prepare(`SELECT substr(hour, 1, 10) AS day,
        CASE WHEN held = 1 THEN 'held' WHEN usd > 0 THEN 'credited'
          WHEN EXISTS (SELECT 1 FROM json_each(unpaid) u WHERE u.value ->> 'reason' = 'disputed') THEN 'disputed'
          ELSE coalesce((SELECT j.value ->> 'reason' FROM json_each(credits) j
              WHERE j.value ->> 'reason' IS NOT NULL LIMIT 1),
            (SELECT u.value ->> 'reason' FROM json_each(unpaid) u LIMIT 1), 'not-credited') END AS outcome,
        COUNT(*) AS hours, SUM(connected) AS connectedHours, round(SUM(usd), 4) AS usd
      FROM reports WHERE report_id >= ? AND report_id < ? GROUP BY day, outcome ORDER BY day || outcome`),
    fleetDays: db
      .prepare(
        `SELECT day, model, ${HOUR_SUMS} FROM gpu_claims WHERE day >= ? GROUP BY day, model ORDER BY day, model`,
      )
      .raw(),
  };
  type Row = Omit<RigProfile, 'gpus' | 'qualifyingGpus' | 'verdict'> & {
    hardware: string | null;
    receivedAt: string | null;
    checkedAt: string | null;
    eligible: number | null;
    programs: string | null;
    failing: string | null;
  };
  const toProfile = (row: Row): RigProfile => {
    const hw = safeJson(row.hardware) as {
      qualifyingGpus?: number;
      gpus?: { model: string | null }[];
    } | null;
    const counts = new Map<string, number>();
    for (const g of hw?.gpus ?? [])
      counts.set(g.model ?? 'unknown', (counts.get(g.model ?? 'unknown') ?? 0) + 1);
    const programs = (safeJson(row.programs) as [string, boolean][] | null) ?? [];
    return {
      rigId: row.rigId,
      master: row.master,
      worker: row.worker,
      enrolledAt: row.enrolledAt,
      lastReportHour: row.lastReportHour,
      review: (row as { review?: string }).review ?? 'pending',
      gpus: [...counts].map(([model, count]) => ({ model, count })),
      qualifyingGpus: typeof hw?.qualifyingGpus === 'number' ? hw.qualifyingGpus : null,
      verdict:
        row.receivedAt === null
          ? null
          : {
              receivedAt: row.receivedAt,
              checkedAt: row.checkedAt ?? row.receivedAt,
              eligible: row.eligible === 1,
              notQualifying: programs.filter(([, q]) => !q).map(([id]) => id),
              failing: (safeJson(row.failing) as [string, string][] | null) ?? [],
            },
    };
  };
  return {
    rigProfiles: (by) =>
      ('master' in by
        ? (q.byMaster.all(by.master) as Row[])
        : (q.byRig.all(by.rigId) as Row[])
      ).map(toProfile),
    ledgerDays: (rigIds, from, to) =>
      rigIds.flatMap((rigId) =>
        (
          q.days.all(reportIdFor(rigId, from), reportIdFor(rigId, to)) as Omit<LedgerDay, 'rigId'>[]
        ).map((d) => ({ rigId, ...d })),
      ),
    fleetDays: (fromDay) =>
      (q.fleetDays.all(fromDay) as (string | number)[][]).map(([day, model, ...gpus]) => ({
        day: day as string,
        model: model as string,
        gpus: gpus as number[],
      })),
  };
}

function safeJson(text: string | null): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
