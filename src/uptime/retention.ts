/**
 * Retention: pending hours expire after 30 days (counted as lost); delivered data is compacted
 * after 35 days; the state directory stays under a size cap, the oldest delivered data first.
 */
import { unlinkSync } from 'node:fs';
import { fsyncDir } from '../lib/atomic.js';
import { rewriteRecords } from './journal.js';
import type { HourlyReport } from '../protocol/types.js';
import { RETENTION_MS, type ResultRecord, type UptimeStore } from './store.js';
import { DAY_MS } from '../lib/time.js';

export const COMPACT_AFTER_MS = 35 * DAY_MS;

/**
 * Mark reports still pending after 30 days as expired (locally: they are lost). `reports` and
 * `finals` are what the caller already read; `finals` is updated with the expiries.
 */
export function expireStale(store: UptimeStore, reports: HourlyReport[], finals: Map<string, ResultRecord>, nowMs: number): number {
  const stale = reports.filter((r) => !finals.has(r.reportId) && nowMs - Date.parse(r.hour) > RETENTION_MS);
  const records = stale.map((r) => ({ reportId: r.reportId, hour: r.hour, status: 'expired' as const, reason: 'undelivered for 30 days', at: new Date(nowMs).toISOString() }));
  store.appendResults(records);
  for (const rec of records) finals.set(rec.reportId, rec);
  return stale.length;
}

function removeDay(store: UptimeStore, day: string): void {
  unlinkSync(store.dayFile(day));
  fsyncDir(store.samplesDir);
}

/**
 * Drop day segments and index entries older than 35 days once every hour in them is final, by
 * atomic rewrites (temporary file, fsync, rename, fsync of the directory).
 */
export function compact(store: UptimeStore, nowMs: number): number {
  const cutoff = new Date(nowMs - COMPACT_AFTER_MS).toISOString();
  const finals = store.finalResults();
  const reports = store.reports();
  const unresolvedHours = new Set(reports.filter((r) => !finals.has(r.reportId)).map((r) => r.hour));
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
    rewriteRecords(store.resultsPath, store.results().filter((x: ResultRecord) => keepIds.has(x.reportId) || x.hour >= cutoff));
  }
  return days;
}

/** Keep the state directory under `maxBytes`: delete the oldest day segments, delivered ones first. */
export function enforceSizeCap(store: UptimeStore, maxBytes: number): { droppedDays: number; droppedSamples: number } {
  let droppedDays = 0;
  let droppedSamples = 0;
  if (store.sizeBytes() <= maxBytes) return { droppedDays, droppedSamples };
  const finals = store.finalResults();
  const reports = store.reports();
  const unresolved = new Set(reports.filter((r) => !finals.has(r.reportId)).map((r) => r.hour.slice(0, 10)));
  const days = store.days().slice(0, -1); // never today's segment
  const order = [...days.filter((d) => !unresolved.has(d)), ...days.filter((d) => unresolved.has(d))];
  for (const day of order) {
    if (store.sizeBytes() <= maxBytes) break;
    droppedSamples += store.readSamples(day).samples.filter((s) => s.t.startsWith(day)).length;
    removeDay(store, day);
    droppedDays++;
  }
  return { droppedDays, droppedSamples };
}
