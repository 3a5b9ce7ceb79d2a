/**
 * What `status` shows, computed purely from the local record: the last 24 hours hour by hour,
 * credit per day, counts of hours by state, and warnings a supplier should act on.
 */
import type { HourlyReport } from '../protocol/types.js';
import { hourOf } from '../protocol/report-id.js';
import type { Sample } from './sample.js';
import type { AgentState, ResultRecord } from './store.js';
import { bucketByHour } from './hours.js';
import { DAY_MS, HOUR_MS } from '../lib/time.js';

export interface HourRow {
  hour: string;
  samples: number;
  connected: number;
  share: number;
  state:
    | 'current'
    | 'not built'
    | 'pending'
    | 'accepted'
    | 'duplicate'
    | 'rejected'
    | 'expired'
    | 'no samples';
  usd: number;
}
export interface DayRow {
  day: string;
  creditedHours: number;
  usd: number;
}

export interface StatusSummary {
  now: string;
  intervalSeconds: number;
  last24h: HourRow[];
  days: DayRow[];
  /** pastDeadline: expired hours the programs can no longer credit (docs/decisions.md). */
  counts: {
    recorded: number;
    delivered: number;
    credited: number;
    rejected: number;
    pending: number;
    expired: number;
    pastDeadline: number;
  };
  rejectedReasons: Record<string, number>;
  lastSample: Sample | null;
  lastDeliveryAt: string | null;
  lastError: string | null;
  clockOffsetSeconds: number | null;
  /** The clock's recent jumps (src/uptime/clock.ts), newest last. */
  clockJumps: AgentState['clockJumps'];
  /** Samples kept but marked as taken under a wrong clock. */
  markedSamples: number;
  enrolled: AgentState['enrolled'];
  lost: AgentState['lost'];
  skippedRecords: number;
  warnings: string[];
}

const hhmm = (iso: string): string => iso.slice(11, 16);

/**
 * The warnings `status` shows (README, "Uptime", `status`) from `samples` (any order) at `nowMs`
 * (ms since the epoch): each drop in the qualifying GPU count between consecutive samples of the
 * last 24 h where the later one is connected; the worker not connected since the first of the
 * latest run of disconnected samples; no sample for over 20 minutes; no samples at all. Times are
 * HH:MM UTC. Pure; throws nothing.
 */
export function warningsFrom(samples: Sample[], nowMs: number): string[] {
  const out: string[] = [];
  // Sample times are ISO strings (toISOString), which sort and compare as text: no Date.parse
  // or localeCompare over a month of samples.
  const since = new Date(nowMs - DAY_MS).toISOString();
  const recent = samples
    .filter((s) => s.t >= since)
    .sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
  for (let i = 1; i < recent.length; i++) {
    const a = recent[i - 1]!;
    const b = recent[i]!;
    if (b.qualifying < a.qualifying && b.connected)
      out.push(`GPU count dropped from ${a.qualifying} to ${b.qualifying} at ${hhmm(b.t)}`);
  }
  const last = recent[recent.length - 1];
  if (last && !last.connected) {
    let i = recent.length - 1;
    while (i > 0 && !recent[i - 1]!.connected) i--;
    out.push(
      `worker not connected since ${hhmm(recent[i]!.t)}: ${last.reason ?? 'unknown reason'}`,
    );
  }
  if (last && nowMs - Date.parse(last.t) > 20 * 60_000)
    out.push(
      `no sample since ${last.t.slice(0, 16).replace('T', ' ')} UTC: is the timer running? (sonm-rewards timer status)`,
    );
  if (!last) out.push('no samples yet: install the timer (sudo sonm-rewards timer install)');
  return out;
}

/**
 * The status of the local record at `now`: `samples` of the last day or so, the reports and
 * results logs, state.json, `days` of credit, the tick interval in seconds, the count of skipped
 * torn records and of marked samples. Pure; throws nothing.
 */
export function summarize(input: {
  samples: Sample[];
  reports: HourlyReport[];
  results: ResultRecord[];
  state: AgentState;
  now: Date;
  days: number;
  intervalSeconds: number;
  skipped: number;
  marked?: number;
}): StatusSummary {
  const nowMs = input.now.getTime();
  const finals = new Map<string, ResultRecord>();
  for (const r of input.results) if (!finals.has(r.reportId)) finals.set(r.reportId, r);
  const reportByHour = new Map(input.reports.map((r) => [r.hour, r]));
  const byHour = bucketByHour(input.samples);
  const perHour = 3600 / input.intervalSeconds;
  const current = hourOf(nowMs);
  const last24h: HourRow[] = [];
  for (let i = 23; i >= 0; i--) {
    const hour = hourOf(nowMs - i * HOUR_MS);
    const ss = byHour.get(hour) ?? [];
    const rep = reportByHour.get(hour);
    const fin = rep ? finals.get(rep.reportId) : undefined;
    const connected = ss.filter((s) => s.connected).length;
    const state: HourRow['state'] =
      hour === current
        ? 'current'
        : fin
          ? fin.status
          : rep
            ? 'pending'
            : ss.length
              ? 'not built'
              : 'no samples';
    last24h.push({
      hour,
      samples: ss.length,
      connected,
      share: Math.min(1, connected / perHour),
      state,
      usd: fin?.credited?.usd ?? 0,
    });
  }
  const days: DayRow[] = [];
  for (let i = input.days - 1; i >= 0; i--) {
    const day = new Date(nowMs - i * DAY_MS).toISOString().slice(0, 10);
    const rows = [...finals.values()].filter(
      (f) => f.hour.startsWith(day) && (f.credited?.usd ?? 0) > 0,
    );
    days.push({
      day,
      creditedHours: rows.length,
      usd: Math.round(rows.reduce((s, f) => s + (f.credited?.usd ?? 0), 0) * 100) / 100,
    });
  }
  const fin = [...finals.values()];
  const rejectedReasons: Record<string, number> = {};
  for (const f of fin.filter((x) => x.status === 'rejected'))
    rejectedReasons[f.reason ?? 'unknown'] = (rejectedReasons[f.reason ?? 'unknown'] ?? 0) + 1;
  const complete = [...byHour.keys()].filter((h) => h < current);
  // Every complete hour with samples becomes a report at the next tick, so the reports log holds
  // the 30-day record and only recent samples need reading.
  const recorded = new Set([
    ...input.reports.filter((r) => nowMs - Date.parse(r.hour) <= 35 * DAY_MS).map((r) => r.hour),
    ...complete,
  ]);
  return {
    now: input.now.toISOString(),
    intervalSeconds: input.intervalSeconds,
    last24h,
    days,
    counts: {
      recorded: recorded.size,
      delivered: fin.filter((f) => f.status === 'accepted' || f.status === 'duplicate').length,
      credited: fin.filter((f) => (f.credited?.usd ?? 0) > 0).length,
      rejected: fin.filter((f) => f.status === 'rejected').length,
      pending:
        input.reports.filter((r) => !finals.has(r.reportId)).length +
        complete.filter((h) => !reportByHour.has(h)).length,
      expired: fin.filter((f) => f.status === 'expired').length,
      pastDeadline: fin.filter((f) => f.status === 'expired' && f.reason === 'past-deadline')
        .length,
    },
    rejectedReasons,
    lastSample: input.samples.length ? input.samples.reduce((a, b) => (a.t > b.t ? a : b)) : null,
    lastDeliveryAt: input.state.lastDeliveryAt,
    lastError: input.state.lastError,
    clockOffsetSeconds:
      input.state.clockOffsetMs === null ? null : Math.round(input.state.clockOffsetMs / 1000),
    clockJumps: (input.state.clockJumps ?? []).filter(
      (j) => nowMs - Date.parse(j.at) <= 7 * 86_400_000 || Date.parse(j.at) > nowMs,
    ),
    markedSamples: input.marked ?? 0,
    enrolled: input.state.enrolled,
    lost: input.state.lost,
    skippedRecords: input.skipped,
    warnings: warningsFrom(input.samples, nowMs),
  };
}
