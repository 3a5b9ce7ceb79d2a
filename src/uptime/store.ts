/**
 * The agent's durable record in the state directory:
 *   samples/YYYY-MM-DD.log  one checksummed record per 5-minute sample (UTC day segments)
 *   reports.log             every hourly report built, immutable once written (resends reuse it)
 *   results.log             the service's answer for each report, and local expiries
 *   clock.log               samples taken under a clock that proved wrong: their time and why (kept, marked)
 *   state.json              small bookkeeping (enrolment, last delivery, clock evidence), rewritten atomically
 * Logs are the source of truth: what was built and delivered is derived from them, never from
 * state.json, so a crash between two writes cannot make the agent forget or double anything.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { HourlyReport, ReportStatus, Credited } from '../protocol/types.js';
import { ensurePrivateDir, writeFileAtomic } from '../lib/atomic.js';
import { appendRecords, readRecords } from './journal.js';
import type { Sample } from './sample.js';
import type { ClockJump, SampleMark } from './clock.js';
import type { Receipt } from '../protocol/receipt.js';
import type { KeyChangeEvent, PinnedKey } from './receipts.js';
import { HOUR_MS } from '../lib/time.js';

export type ResultStatus = ReportStatus | 'expired';

export interface ResultRecord {
  reportId: string;
  hour: string;
  status: ResultStatus;
  reason?: string;
  credited?: Credited;
  at: string;
  /** The service's signed receipt for this answer (src/protocol/receipt.ts), verified on arrival. */
  receipt?: Receipt;
}

export interface AgentState {
  enrolled: { service: string; rigId: string; master: string; at: string } | null;
  lastDeliveryAt: string | null;
  lastAttemptAt: string | null;
  lastError: string | null;
  /** Service clock minus ours, in ms, from the last answer's Date header. */
  clockOffsetMs: number | null;
  /** Our clock when clockOffsetMs was measured (ISO 8601). */
  clockOffsetAt: string | null;
  /** Our clock at the last tick (ISO 8601): the newest record a new reading is compared with. */
  lastTickAt: string | null;
  /** The clock's last jumps, newest last (src/uptime/clock.ts). */
  clockJumps: ClockJump[];
  /** The last verdict sent: its key, when, and the GPUs and programs the tick saw then. */
  eligibility: {
    key: string;
    sentAt: string;
    qualifyingSeen?: number;
    gpusSeen?: string | null;
    programsKey?: string | null;
  } | null;
  /** No delivery before this time (the service's Retry-After). */
  retryAt: string | null;
  /** Reports per batch; halved when the service refuses a batch as a whole. */
  batchSize: number;
  lost: { droppedSamples: number; droppedReports: number };
  lastCompaction: string | null;
  /** The service's key, pinned at enrolment (src/uptime/receipts.ts). */
  serviceKey: PinnedKey | null;
  /** The service offered another key than the pinned one; cleared when the supplier confirms it. */
  serviceKeyEvent: KeyChangeEvent | null;
}

export const EMPTY_STATE: AgentState = {
  enrolled: null,
  lastDeliveryAt: null,
  lastAttemptAt: null,
  lastError: null,
  clockOffsetMs: null,
  clockOffsetAt: null,
  lastTickAt: null,
  clockJumps: [],
  eligibility: null,
  retryAt: null,
  batchSize: 500,
  lost: { droppedSamples: 0, droppedReports: 0 },
  lastCompaction: null,
  serviceKey: null,
  serviceKeyEvent: null,
};

export const FINAL: ReadonlySet<ResultStatus> = new Set([
  'accepted',
  'duplicate',
  'rejected',
  'expired',
]);

/** The deadline used when no program definition is at hand: rewards-program.md's 168 hours. */
export const DEFAULT_DEADLINE_HOURS = 168;

/**
 * How long after its start an hour can still be credited, in ms: its hour plus the longest
 * `reportDeadlineHours` of the programs (docs/decisions.md, "Retention follows the deadline").
 */
export function creditWindowMs(
  programs: readonly { reward: { reportDeadlineHours: number } }[],
): number {
  const hours = programs.length
    ? Math.max(...programs.map((p) => p.reward.reportDeadlineHours))
    : DEFAULT_DEADLINE_HOURS;
  return (hours + 1) * HOUR_MS;
}

/** The credit window when the caller has no programs at hand (status, enroll). */
export const DEFAULT_WINDOW_MS = (DEFAULT_DEADLINE_HOURS + 1) * HOUR_MS;

/**
 * Built reports with no final answer yet that can still be credited at `nowMs` (ms since the
 * epoch) within `windowMs` (creditWindowMs), and whose hour ended by `until` (the tick's
 * TimeView.buildUntil; default: no bound).
 */
export function pendingReports(
  reports: HourlyReport[],
  finals: Map<string, ResultRecord>,
  nowMs: number,
  windowMs = DEFAULT_WINDOW_MS,
  until = Infinity,
): HourlyReport[] {
  return reports.filter((r) => {
    if (finals.has(r.reportId)) return false;
    const start = Date.parse(r.hour);
    return nowMs - start <= windowMs && start + HOUR_MS <= until;
  });
}

export class UptimeStore {
  readonly samplesDir: string;
  readonly reportsPath: string;
  readonly resultsPath: string;
  readonly statePath: string;

  constructor(readonly dir: string) {
    this.samplesDir = join(dir, 'samples');
    this.reportsPath = join(dir, 'reports.log');
    this.resultsPath = join(dir, 'results.log');
    this.statePath = join(dir, 'state.json');
    this.marksPath = join(dir, 'clock.log');
  }

  readonly marksPath: string;

  /** Samples marked as taken under a wrong clock, by the sample's time (ISO). */
  marks(): Map<string, SampleMark> {
    return new Map(readRecords<SampleMark>(this.marksPath).records.map((m) => [m.t, m]));
  }

  appendMarks(ms: SampleMark[]): void {
    appendRecords(this.marksPath, ms);
  }

  /** Make the state directory (0700, docs/decisions.md "Files written as root") and samples/. */
  ensure(): void {
    ensurePrivateDir(this.dir);
    mkdirSync(this.samplesDir, { recursive: true, mode: 0o700 });
  }

  dayFile(day: string): string {
    return join(this.samplesDir, `${day}.log`);
  }

  appendSample(s: Sample): void {
    this.ensure();
    appendRecords(this.dayFile(s.t.slice(0, 10)), [s]);
  }

  /** Day segments present, oldest first ("2019-05-01"). */
  days(): string[] {
    if (!existsSync(this.samplesDir)) return [];
    return readdirSync(this.samplesDir)
      .filter((f) => /^\d{4}-\d\d-\d\d\.log$/.test(f))
      .map((f) => f.slice(0, 10))
      .sort();
  }

  /** Samples of the days from `fromDay` (inclusive), plus how many torn or corrupt records were skipped. */
  readSamples(fromDay = '0000-00-00'): { samples: Sample[]; skipped: number } {
    const samples: Sample[] = [];
    let skipped = 0;
    for (const d of this.days().filter((x) => x >= fromDay)) {
      const r = readRecords<Sample>(this.dayFile(d));
      samples.push(...r.records);
      skipped += r.skipped;
    }
    return { samples, skipped };
  }

  reports(): HourlyReport[] {
    return readRecords<HourlyReport>(this.reportsPath).records;
  }

  appendReports(rs: HourlyReport[]): void {
    appendRecords(this.reportsPath, rs);
  }

  results(): ResultRecord[] {
    return readRecords<ResultRecord>(this.resultsPath).records;
  }

  appendResults(rs: ResultRecord[]): void {
    appendRecords(this.resultsPath, rs);
  }

  /** The final result per report id (the first final one wins; a later one cannot undo it). */
  finalResults(results = this.results()): Map<string, ResultRecord> {
    const out = new Map<string, ResultRecord>();
    for (const r of results)
      if (FINAL.has(r.status) && !out.has(r.reportId)) out.set(r.reportId, r);
    return out;
  }

  state(): AgentState {
    try {
      return {
        ...EMPTY_STATE,
        ...(JSON.parse(readFileSync(this.statePath, 'utf8')) as Partial<AgentState>),
      };
    } catch {
      return { ...EMPTY_STATE };
    }
  }

  saveState(s: AgentState): void {
    writeFileAtomic(this.statePath, `${JSON.stringify(s, null, 2)}\n`);
  }

  sizeBytes(): number {
    let total = 0;
    for (const p of [this.reportsPath, this.resultsPath, this.statePath, this.marksPath])
      if (existsSync(p)) total += statSync(p).size;
    for (const d of this.days()) total += statSync(this.dayFile(d)).size;
    return total;
  }
}
