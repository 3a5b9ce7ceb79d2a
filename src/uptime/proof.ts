/**
 * Proof bundles: `sonm-rewards status --proof` exports every signed receipt of a period with
 * the report it answers, and `sonm-rewards verify-proof` checks such a file offline. Format:
 * docs/protocol.md ("Proof bundles"). Pure functions: the commands do the reading and writing.
 */
import type { HourlyReport, ReportResult } from '../protocol/types.js';
import { reportFingerprint } from '../protocol/ids.js';
import { checkReceipt, type Receipt, type ServiceKey } from '../protocol/receipt.js';
import type { AgentState, ResultRecord } from './store.js';

export const PROOF_FORMAT = 'sonm-rewards-proof/1';

export interface ProofEntry {
  /** The report as the rig sent it; null once compaction has dropped it (its hash is in the receipt). */
  report: HourlyReport | null;
  result: Pick<ReportResult, 'reportId' | 'status' | 'reason' | 'credited'>;
  receipt: Receipt;
}

export interface ProofBundle {
  format: typeof PROOF_FORMAT;
  exportedAt: string;
  rigId: string | null;
  master: string | null;
  service: string | null;
  /** The pinned key first, then keys it replaced (a confirmed rotation). */
  serviceKeys: ServiceKey[];
  from: string;
  to: string;
  entries: ProofEntry[];
  totals: { hours: number; creditedHours: number; usd: number };
  /** Answers in the period that carry no receipt (delivered before receipts existed). */
  unsigned: number;
}

/**
 * The bundle for hours in [from, to) (ISO 8601 strings): every final answer with a receipt,
 * oldest first. `records` are the results log's records, `reports` the reports log's.
 */
export function buildProof(input: {
  records: ResultRecord[];
  reports: HourlyReport[];
  state: AgentState;
  from: string;
  to: string;
  now: Date;
}): ProofBundle {
  const byId = new Map(input.reports.map((r) => [r.reportId, r]));
  const seen = new Set<string>();
  const entries: ProofEntry[] = [];
  let unsigned = 0;
  for (const rec of input.records) {
    if (
      rec.hour < input.from ||
      rec.hour >= input.to ||
      rec.status === 'expired' ||
      seen.has(rec.reportId)
    )
      continue;
    seen.add(rec.reportId);
    if (!rec.receipt || !rec.credited) {
      unsigned++;
      continue;
    }
    const result = {
      reportId: rec.reportId,
      status: rec.status as ReportResult['status'],
      ...(rec.reason ? { reason: rec.reason } : {}),
      credited: rec.credited,
    };
    entries.push({ report: byId.get(rec.reportId) ?? null, result, receipt: rec.receipt });
  }
  entries.sort((a, b) => (a.result.reportId < b.result.reportId ? -1 : 1));
  const pin = input.state.serviceKey;
  const keys: ServiceKey[] = pin
    ? [{ keyId: pin.keyId, publicKey: pin.publicKey, alg: 'ed25519' }, ...(pin.previous ?? [])]
    : [];
  const credited = entries.filter(
    (e) => e.result.credited.usd > 0 && e.result.status !== 'rejected',
  );
  return {
    format: PROOF_FORMAT,
    exportedAt: input.now.toISOString(),
    rigId: input.state.enrolled?.rigId ?? null,
    master: input.state.enrolled?.master ?? null,
    service: input.state.enrolled?.service ?? pin?.service ?? null,
    serviceKeys: keys,
    from: input.from,
    to: input.to,
    entries,
    totals: {
      hours: entries.length,
      creditedHours: credited.length,
      usd: Math.round(credited.reduce((s, e) => s + e.result.credited.usd, 0) * 10_000) / 10_000,
    },
    unsigned,
  };
}

export interface ProofVerdict {
  ok: boolean;
  /** One line per entry that does not hold, naming its report. */
  failures: { reportId: string; index: number; why: string }[];
  verified: number;
  creditedHours: number;
  usd: number;
  keyIds: string[];
}

/**
 * Check every entry of a parsed bundle: its receipt against the bundle's keys, and the report
 * (when present) against the receipt's content hash. Throws nothing: a malformed bundle is a
 * failure with the reason.
 */
export function verifyProof(bundle: unknown): ProofVerdict {
  const b = bundle as Partial<ProofBundle> | null;
  const verdict: ProofVerdict = {
    ok: false,
    failures: [],
    verified: 0,
    creditedHours: 0,
    usd: 0,
    keyIds: [],
  };
  if (
    !b ||
    b.format !== PROOF_FORMAT ||
    !Array.isArray(b.entries) ||
    !Array.isArray(b.serviceKeys)
  ) {
    verdict.failures.push({
      reportId: '-',
      index: -1,
      why: `not a ${PROOF_FORMAT} bundle (export one with \`sonm-rewards status --proof\`)`,
    });
    return verdict;
  }
  const keys = new Map(b.serviceKeys.map((k) => [k?.keyId, k]));
  verdict.keyIds = [...keys.keys()].map(String);
  b.entries.forEach((e, index) => {
    const reportId = String(e?.result?.reportId ?? e?.report?.reportId ?? '?');
    const fail = (why: string) => verdict.failures.push({ reportId, index, why });
    try {
      const key = keys.get(e.receipt?.keyId);
      if (!key)
        return fail(
          `signed by key ${String(e.receipt?.keyId)}, which is not among the bundle's service keys`,
        );
      if (e.report && e.report.reportId !== e.result.reportId)
        return fail(`the report is ${e.report.reportId}, the result is for ${e.result.reportId}`);
      const problem = checkReceipt(
        e.result,
        e.receipt,
        key,
        e.report ? reportFingerprint(e.report).hash : null,
      );
      if (problem) return fail(problem.detail);
      verdict.verified++;
      if (e.result.credited.usd > 0 && e.result.status !== 'rejected') {
        verdict.creditedHours++;
        verdict.usd += e.result.credited.usd;
      }
    } catch (err) {
      fail(`malformed entry (${(err as Error).message})`);
    }
  });
  verdict.usd = Math.round(verdict.usd * 10_000) / 10_000;
  verdict.ok = verdict.failures.length === 0;
  return verdict;
}
