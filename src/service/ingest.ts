/**
 * Ingestion: what happens to a batch of valid-looking reports on the connection that writes
 * credits (the ingest worker's). Duplicates and conflicts, validation, the contest for GPUs that
 * another rig also claims, crediting (src/service/credit.ts), and the rows that record it.
 * `recredit` re-runs crediting for a stored report whose facts changed (a contested GPU, an
 * approval, a resolved dispute): the same rules, applied again, never a second payment.
 * The rules are in docs/threat-model.md.
 *
 * About 490 lines on purpose: the contest for a GPU, crediting and the rows that record them run
 * in one transaction over one IngestContext, and their order is the threat model's; read apart,
 * the reason one step trusts what the step before wrote would be in another file. The rules
 * themselves are pure, in credit.ts.
 */
import type Database from 'better-sqlite3';
import type { HourlyReport, ReportResult } from '../protocol/types.js';
import { reportFingerprint } from '../protocol/ids.js';
import type { Program } from '../program/definitions.js';
import {
  creditReport,
  paidModel,
  validateReport,
  type Contest,
  type CreditOutcome,
  type RigReview,
  type Verdict,
} from './credit.js';
import type { ClaimLayer } from './claims.js';
import type { FingerprintedReport } from './thread-codec.js';
import { HOUR_MS } from './hours.js';

/** What ingestion needs of the store: its connection, statements and row writers (store.ts). */
export interface IngestDb {
  db: Database.Database;
  stmt(sql: string): Database.Statement;
  /** Insert rows given as one flat list of values, `columns.length` per row. */
  insertRows(
    table: string,
    columns: string[],
    values: unknown[],
    verb?: string,
    tail?: string,
  ): void;
  /** `${head} (?, …)` over `values`, in chunks. */
  selectIn<T>(head: string, values: unknown[]): T[];
  /** The id of a GPU list in gpu_sets, made if new (remembered once its transaction commits). */
  gpuSetId(gpus: string, pending: Map<string, number>): number;
  /** A stored report as sent, or null. */
  report(reportId: string): HourlyReport | null;
}

/** The facts about one rig that crediting needs, read once per batch. */
export interface RigFacts {
  enrolledAt: number;
  review: RigReview;
  master: string;
  memberSince: Map<string, number>;
  /** Verdicts in order of receipt (and so of checkedAt). */
  verdicts: Verdict[];
}

/** Everything one batch (or one operator action) works with. */
export interface IngestContext {
  d: IngestDb;
  programs: Program[];
  now: Date;
  /** Claims of this transaction (a savepoint's layer). */
  layer: ClaimLayer;
  /** GPU lists this batch added to gpu_sets. */
  sets: Map<string, number>;
  /** Model of each uuid claimed here, for its gpu_claims row. */
  modelOf: Map<string, string>;
  /** Facts per rig, read on first use. */
  rigs: Map<string, RigFacts | null>;
}

/** The longest any program accepts reports for, in hours. */
export const deadlineHours = (programs: Program[]): number =>
  Math.max(...programs.map((p) => p.reward.reportDeadlineHours), 1);

const REPORT_COLUMNS = [
  'report_id',
  'rig_id',
  'hour',
  'seq',
  'content_hash',
  'received_at',
  'samples',
  'connected_samples',
  'interval_seconds',
  'min_qualifying_gpus',
  'worker_address',
  'sonm_version',
  'agent_version',
  'gpu_set',
  'connected',
  'gpus',
  'usd',
  'credits',
  'unpaid',
  'held',
];

/** The facts of `rigId`, or null when it is not enrolled. */
export function rigFacts(ctx: IngestContext, rigId: string): RigFacts | null {
  if (ctx.rigs.has(rigId)) return ctx.rigs.get(rigId)!;
  const { d } = ctx;
  const rig = d
    .stmt('SELECT enrolled_at AS at, review, master FROM rigs WHERE rig_id = ?')
    .get(rigId) as { at: string; review: RigReview; master: string } | undefined;
  let facts: RigFacts | null = null;
  if (rig) {
    const members = d
      .stmt('SELECT program_id AS id, joined_at AS at FROM memberships WHERE rig_id = ?')
      .all(rigId) as { id: string; at: string }[];
    const rows = d
      .stmt(
        'SELECT received_at AS r, checked_at AS c, programs AS p, gpus AS g ' +
          'FROM verdicts WHERE rig_id = ? ORDER BY received_at',
      )
      .all(rigId) as { r: string; c: string; p: string; g: string }[];
    facts = {
      enrolledAt: Date.parse(rig.at),
      review: rig.review,
      master: rig.master,
      memberSince: new Map(members.map((m) => [m.id, Date.parse(m.at)])),
      verdicts: rows.map((v) => ({
        receivedAt: Date.parse(v.r),
        checkedAt: Date.parse(v.c),
        programs: new Map(JSON.parse(v.p) as [string, boolean][]),
        gpus: new Map(JSON.parse(v.g) as [string, string][]),
      })),
    };
  }
  ctx.rigs.set(rigId, facts);
  return facts;
}

/** The verdict in force for an hour that ends at `hourEnd` (epoch ms): the latest received before it. */
export function verdictAt(verdicts: readonly Verdict[], hourEnd: number): Verdict | null {
  for (let i = verdicts.length - 1; i >= 0; i--)
    if (verdicts[i]!.receivedAt < hourEnd) return verdicts[i]!;
  return null;
}

/** When `rigId` first listed `uuid` in a verdict (ISO text), or null. */
function provedAt(ctx: IngestContext, uuid: string, rigId: string): string | null {
  const row = ctx.d
    .stmt('SELECT proved_at AS t FROM gpu_proofs WHERE uuid = ? AND rig_id = ?')
    .get(uuid, rigId) as { t: string } | undefined;
  return row?.t ?? null;
}

/** The rig keeps a contested uuid: it proved the GPU first in a verdict and was paid for it before `hour`. */
function isIncumbent(
  ctx: IngestContext,
  rig: string,
  other: string,
  uuid: string,
  hour: string,
): boolean {
  const mine = provedAt(ctx, uuid, rig);
  const theirs = provedAt(ctx, uuid, other);
  return (
    mine !== null && (theirs === null || mine < theirs) && ctx.layer.paidBefore(uuid, hour, rig)
  );
}

/** The winner of a resolved dispute over `uuid` in `hour`, null while open, undefined if none. */
function disputeWinner(ctx: IngestContext, uuid: string, hour: string): string | null | undefined {
  const row = ctx.d
    .stmt('SELECT winner FROM disputes WHERE hour = ? AND uuid = ? LIMIT 1')
    .get(hour, uuid) as { winner: string | null } | undefined;
  return row === undefined ? undefined : row.winner;
}

function addParty(
  ctx: IngestContext,
  hour: string,
  uuid: string,
  rig: string,
  reportId: string,
): void {
  ctx.d
    .stmt(
      'INSERT OR IGNORE INTO disputes (hour, uuid, rig_id, report_id, opened_at) VALUES (?, ?, ?, ?, ?)',
    )
    .run(hour, uuid, rig, reportId, ctx.now.toISOString());
}

/** A GPU of `r` that some program would pay and the verdict in force lists: one that can be contested. */
function contestable(ctx: IngestContext, r: HourlyReport, verdict: Verdict | null): string[] {
  if (verdict === null) return [];
  const out: string[] = [];
  for (const g of r.gpus) {
    if (g.pciDeviceId === null || verdict.gpus.get(g.uuid) !== g.pciDeviceId.toLowerCase())
      continue;
    if (ctx.programs.some((p) => paidModel(p, g.pciDeviceId) !== null)) out.push(g.uuid);
  }
  return out;
}

/**
 * Which of `r`'s GPUs another rig's claim keeps from it, as stored now (no new dispute): a
 * disputed uuid, or one another rig holds. Used when a stored report is credited again.
 */
function standingContest(
  ctx: IngestContext,
  r: HourlyReport,
  verdict: Verdict | null,
): Map<string, Contest> {
  const out = new Map<string, Contest>();
  for (const uuid of contestable(ctx, r, verdict)) {
    if (ctx.layer.isDisputed(uuid, r.hour)) {
      const winner = disputeWinner(ctx, uuid, r.hour);
      if (winner === null || winner === undefined) out.set(uuid, 'disputed');
      else if (winner !== r.rigId) out.set(uuid, 'taken');
      continue;
    }
    const owner = ctx.layer.owner(uuid, r.hour);
    if (owner !== null && owner !== r.rigId) out.set(uuid, 'taken');
  }
  return out;
}

/**
 * The contest for a new report's GPUs (docs/threat-model.md, "Arrival order"). For a uuid another
 * rig holds in this hour: the holder keeps it if it proved it first and was paid for it before;
 * this rig takes it if that is true of this rig; otherwise the uuid is disputed for both and the
 * holder's payment for it is taken back. Returns the contest map and the rigs whose stored
 * reports must be credited again once this one is.
 */
function decideContest(
  ctx: IngestContext,
  r: HourlyReport,
  verdict: Verdict | null,
): { contest: Map<string, Contest>; recheck: string[] } {
  const contest = new Map<string, Contest>();
  const recheck: string[] = [];
  for (const uuid of contestable(ctx, r, verdict)) {
    if (ctx.layer.isDisputed(uuid, r.hour)) {
      const winner = disputeWinner(ctx, uuid, r.hour);
      if (winner === null || winner === undefined) {
        contest.set(uuid, 'disputed');
        addParty(ctx, r.hour, uuid, r.rigId, r.reportId);
      } else if (winner !== r.rigId) contest.set(uuid, 'taken');
      continue;
    }
    const owner = ctx.layer.owner(uuid, r.hour);
    if (owner === null || owner === r.rigId) continue;
    const ownerReport = `rpt-${owner}-${r.reportId.slice(-10)}`;
    if (isIncumbent(ctx, owner, r.rigId, uuid, r.hour)) {
      contest.set(uuid, 'taken');
      ctx.d
        .stmt(
          'INSERT INTO claim_flags (hour, uuid, rig_id, paid_rig_id, report_id, flagged_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(r.hour, uuid, r.rigId, owner, r.reportId, ctx.now.toISOString());
      continue;
    }
    ctx.layer.unclaim(uuid, r.hour, owner);
    recheck.push(ownerReport);
    if (isIncumbent(ctx, r.rigId, owner, uuid, r.hour)) {
      ctx.d
        .stmt(
          'INSERT INTO claim_flags (hour, uuid, rig_id, paid_rig_id, report_id, flagged_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(r.hour, uuid, owner, r.rigId, ownerReport, ctx.now.toISOString());
      continue;
    }
    contest.set(uuid, 'disputed');
    ctx.layer.markDisputed(uuid, r.hour);
    addParty(ctx, r.hour, uuid, owner, ownerReport);
    addParty(ctx, r.hour, uuid, r.rigId, r.reportId);
  }
  return { contest, recheck };
}

/** Credit `r` for `rig` with the given contest; null when the rig is not enrolled. */
function credit(
  ctx: IngestContext,
  r: HourlyReport,
  facts: RigFacts,
  contest: Map<string, Contest>,
): CreditOutcome {
  const verdict = verdictAt(facts.verdicts, Date.parse(r.hour) + HOUR_MS);
  return creditReport(r, ctx.programs, {
    enrolledAt: facts.enrolledAt,
    review: facts.review,
    memberSince: facts.memberSince,
    verdict,
    contest,
    masterFull: (programId) => masterFull(ctx, facts.master, programId),
  });
}

/** Whether the master already has `maxRigsPerMaster` members of the program. */
function masterFull(ctx: IngestContext, master: string, programId: string): boolean {
  const cap = ctx.programs.find((p) => p.id === programId)?.maxRigsPerMaster ?? null;
  if (cap === null) return false;
  const n = ctx.d
    .stmt(
      `SELECT COUNT(*) AS n FROM memberships m JOIN rigs r ON r.rig_id = m.rig_id
    WHERE r.master = ? AND m.program_id = ? AND r.review <> 'revoked'`,
    )
    .get(master, programId) as { n: number };
  return n.n >= cap;
}

/** Record what crediting decided: memberships joined, claims (with their models). */
function recordOutcome(
  ctx: IngestContext,
  r: HourlyReport,
  facts: RigFacts,
  out: CreditOutcome,
): void {
  for (const c of out.perProgram) {
    if (!c.joins || facts.memberSince.has(c.programId)) continue;
    ctx.d
      .stmt('INSERT OR IGNORE INTO memberships (rig_id, program_id, joined_at) VALUES (?, ?, ?)')
      .run(r.rigId, c.programId, ctx.now.toISOString());
    facts.memberSince.set(c.programId, ctx.now.getTime());
  }
  for (const [uuid, model] of out.claimed) {
    ctx.layer.claim(uuid, r.hour, r.rigId);
    ctx.modelOf.set(uuid, model);
  }
}

/** A crediting outcome as the reports table stores it: connected, gpus, usd, credits, unpaid, held. */
const outcomeColumns = (
  out: CreditOutcome,
): [number, number, number, string, string | null, number] => [
  out.connected ? 1 : 0,
  out.gpus,
  out.usd,
  creditsJson(out),
  out.unpaid.length ? JSON.stringify(out.unpaid) : null,
  out.held ? 1 : 0,
];

const creditsJson = (out: CreditOutcome): string =>
  JSON.stringify(
    out.perProgram.map((c) => ({
      programId: c.programId,
      gpus: c.gpus,
      usd: c.usd,
      reason: c.reason,
    })),
  );

/**
 * Credit a stored report again with the facts as they stand now, and store the result: its
 * claims follow (taken back or added), so the hour is never paid twice. Returns the new outcome,
 * or null when the report or its rig is unknown.
 */
export function recredit(ctx: IngestContext, reportId: string): CreditOutcome | null {
  const r = ctx.d.report(reportId);
  const facts = r ? rigFacts(ctx, r.rigId) : null;
  if (!r || !facts) return null;
  const verdict = verdictAt(facts.verdicts, Date.parse(r.hour) + HOUR_MS);
  const out = credit(ctx, r, facts, standingContest(ctx, r, verdict));
  for (const g of r.gpus) {
    if (ctx.layer.owner(g.uuid, r.hour) === r.rigId && !out.claimed.has(g.uuid))
      ctx.layer.unclaim(g.uuid, r.hour, r.rigId);
  }
  recordOutcome(ctx, r, facts, out);
  ctx.d
    .stmt(
      'UPDATE reports SET connected = ?, gpus = ?, usd = ?, credits = ?, unpaid = ?, held = ? WHERE report_id = ?',
    )
    .run(...outcomeColumns(out), reportId);
  return out;
}

/** One batch, signed by `signer`: its parameters in one object (see IngestContext). */
export interface IngestParams extends IngestContext {
  reports: HourlyReport[];
  signer: string;
}

/**
 * Ingest one signed batch inside the caller's transaction (a savepoint): a result per report, in
 * order. Rows for new reports, claims, flags, disputes and memberships are written; the caller
 * writes the claim rows (writeClaims) and commits the layer.
 */
export function ingestBatch(p: IngestParams): ReportResult[] {
  const nowIso = p.now.toISOString();
  const deadline = deadlineHours(p.programs);
  const facts = rigFacts(p, p.signer);
  const known = new Map<string, { hash: string; connected: number; gpus: number; usd: number }>();
  const ids = p.reports.map((r) => r.reportId);
  for (const row of p.d.selectIn<{
    id: string;
    hash: string;
    connected: number;
    gpus: number;
    usd: number;
  }>(
    'SELECT report_id AS id, content_hash AS hash, connected, gpus, usd FROM reports WHERE report_id IN',
    ids,
  ))
    known.set(row.id, row);
  const rows: unknown[] = [];
  const results: ReportResult[] = [];
  const none = { connected: false, gpus: 0, usd: 0 };
  for (const r of p.reports) {
    const { hash, gpus: gpuList } =
      (r as Partial<FingerprintedReport>).fingerprint ?? reportFingerprint(r);
    const existing = known.get(r.reportId);
    if (existing) {
      results.push(
        existing.hash === hash
          ? {
              reportId: r.reportId,
              status: 'duplicate',
              credited: {
                connected: existing.connected === 1,
                gpus: existing.gpus,
                usd: existing.usd,
              },
            }
          : { reportId: r.reportId, status: 'rejected', reason: 'conflict', credited: none },
      );
      continue;
    }
    const invalid = facts ? validateReport(r, p.signer, p.now, deadline) : 'rig-mismatch';
    if (invalid) {
      results.push({ reportId: r.reportId, status: 'rejected', reason: invalid, credited: none });
      continue;
    }
    const verdict = verdictAt(facts!.verdicts, Date.parse(r.hour) + HOUR_MS);
    const { contest, recheck } = decideContest(p, r, verdict);
    const out = credit(p, r, facts!, contest);
    recordOutcome(p, r, facts!, out);
    rows.push(
      r.reportId,
      r.rigId,
      r.hour,
      r.seq,
      hash,
      nowIso,
      r.samples,
      r.connectedSamples,
      r.intervalSeconds,
      r.minQualifyingGpus,
      r.workerAddress,
      r.sonmVersion,
      r.agentVersion,
      p.d.gpuSetId(gpuList, p.sets),
      ...outcomeColumns(out),
    );
    // A second copy of this report is now a duplicate.
    known.set(r.reportId, { hash, connected: out.connected ? 1 : 0, gpus: out.gpus, usd: out.usd });
    for (const id of recheck) recredit(p, id);
    const reason =
      out.usd > 0
        ? undefined
        : (out.perProgram.find((c) => c.reason)?.reason ?? out.unpaid[0]?.reason);
    results.push({
      reportId: r.reportId,
      status: 'accepted',
      ...(reason ? { reason } : {}),
      credited: { connected: out.connected, gpus: out.gpus, usd: out.usd },
    });
  }
  p.d.insertRows('reports', REPORT_COLUMNS, rows);
  return results;
}

/** Write the gpu_claims rows that `layer` changed: one per (day, rig, uuid), deleted when empty. */
export function writeClaims(
  d: IngestDb,
  layer: ClaimLayer,
  modelOf: ReadonlyMap<string, string>,
): void {
  const upserts: unknown[] = [];
  for (const [uuid, day, rig] of layer.changed()) {
    const hours = layer.hoursOf(uuid, day, rig);
    if (hours === 0)
      d.stmt('DELETE FROM gpu_claims WHERE day = ? AND rig_id = ? AND uuid = ?').run(
        day,
        rig,
        uuid,
      );
    else upserts.push(day, rig, uuid, modelOf.get(uuid) ?? 'unknown', hours);
  }
  d.insertRows(
    'gpu_claims',
    ['day', 'rig_id', 'uuid', 'model', 'hours'],
    upserts,
    'INSERT',
    ' ON CONFLICT (day, rig_id, uuid) DO UPDATE SET hours = excluded.hours',
  );
}
