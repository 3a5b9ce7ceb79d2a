/**
 * Retention (docs/decisions.md, "Retention follows the deadline"): a pending hour that the programs
 * can no longer credit (past `reportDeadlineHours`) is marked expired with that reason; samples and
 * delivered data are kept as local proof for 35 days, or longer when a program's deadline is longer;
 * the state directory stays under a size cap, the oldest delivered data first. The caller runs
 * these only on a time it trusts (src/uptime/clock.ts) and passes that time.
 */
import { unlinkSync } from 'node:fs';
import { fsyncDir } from '../lib/atomic.js';
import { rewriteRecords } from './journal.js';
import type { HourlyReport } from '../protocol/types.js';
import { type ResultRecord, type UptimeStore } from './store.js';
import { DAY_MS } from '../lib/time.js';

export const COMPACT_AFTER_MS = 35 * DAY_MS;

/** How long samples and final records are kept: 35 days, or a day past a longer credit window. */
export function keepForMs(windowMs: number): number {
  return Math.max(COMPACT_AFTER_MS, windowMs + DAY_MS);
}

/** The reason recorded for an hour that can no longer be credited. */
export const PAST_DEADLINE = 'past-deadline';

/**
 * Mark reports still pending past the credit window (`windowMs`, creditWindowMs) at `nowMs` as
 * expired, reason `past-deadline` (locally: the programs can no longer credit them). `reports` and
 * `finals` are what the caller already read; `finals` is updated with the expiries. Returns how
 * many were marked; throws the fs error of the append.
 */
export function expireStale(
  store: UptimeStore,
  reports: HourlyReport[],
  finals: Map<string, ResultRecord>,
  nowMs: number,
  windowMs: number,
): number {
  const stale = reports.filter(
    (r) => !finals.has(r.reportId) && nowMs - Date.parse(r.hour) > windowMs,
  );
  const at = new Date(nowMs).toISOString();
  const records = stale.map((r) => ({
    reportId: r.reportId,
    hour: r.hour,
    status: 'expired' as const,
    reason: PAST_DEADLINE,
    at,
  }));
  store.appendResults(records);
  for (const rec of records) finals.set(rec.reportId, rec);
  return stale.length;
}

function removeDay(store: UptimeStore, day: string): void {
  unlinkSync(store.dayFile(day));
  fsyncDir(store.samplesDir);
}

/**
 * Drop day segments and index entries older than `keepMs` (keepForMs) at `nowMs` once every hour
 * in them is final, by atomic rewrites (temporary file, fsync, rename, fsync of the directory).
 * Returns the number of day segments removed.
 */
export function compact(store: UptimeStore, nowMs: number, keepMs = COMPACT_AFTER_MS): number {
  const cutoff = new Date(nowMs - keepMs).toISOString();
  const finals = store.finalResults();
  const reports = store.reports();
  const unresolvedHours = new Set(
    reports.filter((r) => !finals.has(r.reportId)).map((r) => r.hour),
  );
  let days = 0;
  for (const day of store.days()) {
    if (`${day}T23:59:59Z` >= cutoff) break;
    if ([...unresolvedHours].some((h) => h.startsWith(day))) continue;
    removeDay(store, day);
    days++;
  }
  const keepReports = reports.filter((r) => r.hour >= cutoff || !finals.has(r.reportId));
  if (keepReports.length < reports.length) {
    const kept = new Set(keepReports.map((r) => r.reportId));
    // Keep the highest seq even when its report goes, so seq keeps increasing across compactions.
    const maxSeq = reports.reduce((m, r) => Math.max(m, r.seq), 0);
    const last = reports.find((r) => r.seq === maxSeq);
    if (last && !kept.has(last.reportId)) keepReports.unshift(last);
    rewriteRecords(store.reportsPath, keepReports);
    const keepIds = new Set(keepReports.map((r) => r.reportId));
    rewriteRecords(
      store.resultsPath,
      store.results().filter((x: ResultRecord) => keepIds.has(x.reportId) || x.hour >= cutoff),
    );
  }
  return days;
}

/**
 * Keep the state directory under `maxBytes`: delete the oldest day segments before `today`
 * ("YYYY-MM-DD" of the trusted time), delivered ones first. Returns what was dropped.
 */
export function enforceSizeCap(
  store: UptimeStore,
  maxBytes: number,
  today: string,
): { droppedDays: number; droppedSamples: number } {
  let droppedDays = 0;
  let droppedSamples = 0;
  if (store.sizeBytes() <= maxBytes) return { droppedDays, droppedSamples };
  const finals = store.finalResults();
  const reports = store.reports();
  const unresolved = new Set(
    reports.filter((r) => !finals.has(r.reportId)).map((r) => r.hour.slice(0, 10)),
  );
  const days = store.days().filter((d) => d < today); // never today's segment, nor a later one
  const order = [
    ...days.filter((d) => !unresolved.has(d)),
    ...days.filter((d) => unresolved.has(d)),
  ];
  for (const day of order) {
    if (store.sizeBytes() <= maxBytes) break;
    droppedSamples += store.readSamples(day).samples.filter((s) => s.t.startsWith(day)).length;
    removeDay(store, day);
    droppedDays++;
  }
  return { droppedDays, droppedSamples };
}
