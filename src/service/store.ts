/**
 * All of the service's storage, behind one interface: SQLite (better-sqlite3) in WAL mode, the
 * schema of src/service/schema.ts, one transaction per group of batches. Ingestion itself is
 * src/service/ingest.ts; operator actions are src/service/operator.ts. A PostgreSQL store would
 * implement RewardsStore.
 *
 * About 400 lines on purpose: openSqliteStore is one closure over one connection and its cache
 * of prepared statements, and every method of RewardsStore uses both; split further, each module
 * would take them as arguments. Groups that stand alone are already out (verdicts.ts, ingest.ts,
 * operator.ts, dashboard/queries.ts).
 */
import Database from 'better-sqlite3';
import type { EnrollRequest, HourlyReport, ReportResult } from '../protocol/types.js';
import type { Program } from '../program/definitions.js';
import { REJECT_TEXT, type GpuReason, type RigReview } from './credit.js';
import { ClaimIndex, type ClaimLayer } from './claims.js';
import {
  deadlineHours,
  ingestBatch,
  writeClaims,
  type IngestContext,
  type IngestDb,
} from './ingest.js';
import { applyPendingActions, type ActionOutcome } from './operator.js';
import { SCHEMA, SCHEMA_VERSION } from './schema.js';
import { canonicalHour, HOUR_MS } from './hours.js';
import { saveVerdict, type VerdictBody } from './verdicts.js';
import { reportIdFor } from '../protocol/report-id.js';
import { dashboardReads, type DashboardReads } from './dashboard/queries.js';

export interface RigRecord {
  rigId: string;
  publicKey: string;
  master: string;
  worker: string | null;
  enrolledAt: string;
  review: RigReview;
  reviewedAt: string | null;
}

export interface LedgerHour {
  hour: string;
  reportId: string;
  seq: number;
  samples: number;
  connectedSamples: number;
  connected: boolean;
  gpus: number;
  usd: number;
  held: boolean;
  programs: { programId: string; gpus: number; usd: number; reason: string | null }[];
  unpaidGpus: { uuid: string; reason: GpuReason }[];
}

export interface FleetRow {
  model: string;
  devices: number;
  gpus: number;
}

/** One party of a contested GPU-hour. */
export interface DisputeRow {
  hour: string;
  uuid: string;
  rigId: string;
  reportId: string;
  openedAt: string;
  winner: string | null;
  resolvedAt: string | null;
}

export interface RewardsStore extends DashboardReads {
  enroll(
    req: EnrollRequest,
    rigId: string,
    now: Date,
  ): { status: 'created' | 'same' | 'conflict'; rig: RigRecord };
  rig(rigId: string): RigRecord | null;
  /** Store a verdict; 'stale' when the rig already sent one checked later, 'same' when as late. */
  saveVerdict(rigId: string, body: VerdictBody, now: Date): 'saved' | 'same' | 'stale';
  ingest(
    reports: HourlyReport[],
    signerRigId: string,
    programs: Program[],
    now: Date,
  ): ReportResult[];
  /**
   * Group commit: several requests' batches in one transaction and one fsync, each in its own
   * savepoint, so one failing batch rolls back alone. Operator actions queued since the last
   * group are applied first. Returns each batch's results or its error.
   */
  ingestMany(
    items: { reports: HourlyReport[]; signer: string; now: Date }[],
    programs: Program[],
  ): (ReportResult[] | Error)[];
  /** Apply queued operator actions (src/service/operator.ts) on this connection. */
  applyActions(programs: Program[], now: Date): ActionOutcome[];
  /** Queue an operator action; returns its id. */
  queueAction(action: string, args: Record<string, unknown>, now: Date): number;
  /** The outcome of an applied action, or null while it waits. */
  actionOutcome(id: number): string | null;
  ledger(rigId: string, from: string, to: string): LedgerHour[];
  /** A stored report as the rig sent it (its canonical text hashes to its content_hash), or null. */
  report(reportId: string): HourlyReport | null;
  fleet(hour: string): FleetRow[];
  rigs(filter: { review?: RigReview }): (RigRecord & { heldHours: number })[];
  disputes(all: boolean): DisputeRow[];
  counts(): { rigs: number; reports: number; flags: number; disputes: number };
  close(): void;
}

export type Synchronous = 'full' | 'normal';

/** The database holds another schema than this version's; says what to do. */
export class SchemaError extends Error {}

/**
 * Open (or create) the service's database at `path` (':memory:' for tests). synchronous=FULL
 * (the default): a commit is on disk before it is answered, and survives power loss. NORMAL (in
 * WAL mode) survives a crash of the service but may lose the last commits on power loss.
 * Throws SchemaError for a database of another schema version.
 */
export function openSqliteStore(path: string, synchronous: Synchronous = 'full'): RewardsStore {
  const db = new Database(path);
  db.pragma('page_size = 8192'); // ~15% faster ingestion than 4 KiB here (when the file is created)
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('cache_size = -65536'); // 64 MiB: a 500-report batch must not spill the page cache mid-transaction
  db.pragma('busy_timeout = 5000');
  createOrCheckSchema(db, path);

  // Statements prepared once per SQL text; rows inserted as flat lists of values, CHUNK rows a statement.
  const prepared = new Map<string, Database.Statement>();
  const stmt = (sql: string): Database.Statement => {
    let st = prepared.get(sql);
    if (!st) prepared.set(sql, (st = db.prepare(sql)));
    return st;
  };
  const marks = (n: number): string => Array(n).fill('?').join(',');
  const CHUNK = 100;
  const d: IngestDb = {
    db,
    stmt,
    insertRows(table, columns, values, verb = 'INSERT', tail = '') {
      const width = columns.length;
      const head = `${verb} INTO ${table} (${columns.join(',')}) VALUES`;
      for (let i = 0; i < values.length; i += CHUNK * width) {
        const part =
          i === 0 && values.length <= CHUNK * width ? values : values.slice(i, i + CHUNK * width);
        const rows = part.length / width;
        stmt(
          `${head} ${Array(rows)
            .fill(`(${marks(width)})`)
            .join(',')}${tail}`,
        ).run(part);
      }
    },
    selectIn<T>(head: string, values: unknown[]): T[] {
      const out: T[] = [];
      for (let i = 0; i < values.length; i += 500) {
        const part = values.slice(i, i + 500);
        for (const row of stmt(`${head} (${marks(part.length)})`).all(part) as T[]) out.push(row);
      }
      return out;
    },
    gpuSetId(gpus, pending) {
      let id = gpuSets.get(gpus) ?? pending.get(gpus);
      if (id !== undefined) return id;
      const row = stmt('SELECT id FROM gpu_sets WHERE gpus = ?').get(gpus) as
        { id: number } | undefined;
      id = row
        ? row.id
        : Number(stmt('INSERT INTO gpu_sets (gpus) VALUES (?)').run(gpus).lastInsertRowid);
      pending.set(gpus, id);
      return id;
    },
    report(reportId) {
      const row =
        stmt(`SELECT r.report_id AS reportId, r.rig_id AS rigId, r.hour, r.interval_seconds AS intervalSeconds,
        r.samples, r.connected_samples AS connectedSamples, r.min_qualifying_gpus AS minQualifyingGpus, s.gpus,
        r.worker_address AS workerAddress, r.sonm_version AS sonmVersion, r.agent_version AS agentVersion, r.seq
        FROM reports r JOIN gpu_sets s ON s.id = r.gpu_set WHERE r.report_id = ?`).get(reportId) as
          (Omit<HourlyReport, 'gpus'> & { gpus: string }) | undefined;
      return row ? { ...row, gpus: JSON.parse(row.gpus) as HourlyReport['gpus'] } : null;
    },
  };

  // GPU lists already in gpu_sets (ids remembered only after their transaction committed).
  const gpuSets = new Map<string, number>();
  // GPU claims, in memory on the connection that ingests: read on its first ingestion (the days
  // a report can still be accepted for), then kept up to date by it.
  const claims = new ClaimIndex();
  let claimsLoaded = false;
  function prepareClaims(programs: Program[], now: Date): void {
    const cutoff = canonicalHour(
      Math.floor(now.getTime() / HOUR_MS) * HOUR_MS - (deadlineHours(programs) + 1) * HOUR_MS,
    ).slice(0, 10);
    if (!claimsLoaded) {
      type Row = { day: string; rigId: string; uuid: string; hours: number };
      for (const row of stmt(
        'SELECT day, rig_id AS rigId, uuid, hours FROM gpu_claims WHERE day >= ?',
      ).iterate(cutoff) as Iterable<Row>) {
        claims.load(row.uuid, row.day, row.rigId, row.hours);
      }
      for (const row of stmt(
        'SELECT DISTINCT hour, uuid FROM disputes WHERE resolved_at IS NULL',
      ).all() as { hour: string; uuid: string }[]) {
        claims.markDisputed(row.uuid, row.hour);
      }
      claimsLoaded = true;
    }
    claims.prune(cutoff);
  }

  /** A context for one transaction's work on `layer`. */
  const context = (programs: Program[], now: Date, layer: ClaimLayer): IngestContext => ({
    d,
    programs,
    now,
    layer,
    sets: new Map(),
    modelOf: new Map(),
    rigs: new Map(),
  });

  type Item = { reports: HourlyReport[]; signer: string; now: Date };
  // Each batch in a savepoint, with its claims in a layer of their own: a batch that fails rolls
  // back alone, rows and claims. The group's claims join the index once the commit has succeeded.
  const ingestGroup = db.transaction(
    (items: Item[], programs: Program[], group: ClaimLayer, groupSets: Map<string, number>) =>
      items.map((it) => {
        const ctx = context(programs, it.now, group.child());
        try {
          const results = db.transaction(() => {
            const out = ingestBatch({ ...ctx, reports: it.reports, signer: it.signer });
            writeClaims(d, ctx.layer, ctx.modelOf);
            return out;
          })();
          ctx.layer.commit();
          for (const [gpus, id] of ctx.sets) groupSets.set(gpus, id);
          return results;
        } catch (e) {
          return e as Error;
        }
      }),
  );

  function applyActions(programs: Program[], now: Date): ActionOutcome[] {
    prepareClaims(programs, now);
    const layer = claims.child();
    const ctx = context(programs, now, layer);
    const out = applyPendingActions(ctx, () => writeClaims(d, layer, ctx.modelOf));
    layer.commit();
    for (const o of out) if (o.resolved) claims.clearDisputed(o.resolved.uuid, o.resolved.hour);
    for (const [gpus, id] of ctx.sets) gpuSets.set(gpus, id);
    return out;
  }

  function ingestMany(items: Item[], programs: Program[]): (ReportResult[] | Error)[] {
    if (items.length === 0) return [];
    applyActions(programs, items[0]!.now);
    const group = claims.child();
    const groupSets = new Map<string, number>();
    const out = ingestGroup(items, programs, group, groupSets);
    group.commit();
    if (gpuSets.size > 100_000) gpuSets.clear(); // a bounded cache: ids are found again in gpu_sets
    for (const [gpus, id] of groupSets) gpuSets.set(gpus, id);
    return out;
  }

  const RIG_COLUMNS = `rig_id AS rigId, public_key AS publicKey, master, worker, enrolled_at AS enrolledAt,
    review, reviewed_at AS reviewedAt`;
  const rig = (rigId: string): RigRecord | null =>
    (stmt(`SELECT ${RIG_COLUMNS} FROM rigs WHERE rig_id = ?`).get(rigId) as
      RigRecord | undefined) ?? null;

  return {
    enroll(req, rigId, now) {
      const existing = rig(rigId);
      if (existing) {
        if (existing.master.toLowerCase() !== req.masterAddress.toLowerCase())
          return { status: 'conflict', rig: existing };
        stmt('UPDATE rigs SET worker = ?, agent_version = ?, hardware = ? WHERE rig_id = ?').run(
          req.workerAddress,
          req.agentVersion,
          JSON.stringify(req.hardware),
          rigId,
        );
        return { status: 'same', rig: existing };
      }
      stmt(
        'INSERT INTO rigs (rig_id, public_key, master, worker, agent_version, hardware, enrolled_at) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?)',
      ).run(
        rigId,
        req.publicKey,
        req.masterAddress,
        req.workerAddress,
        req.agentVersion,
        JSON.stringify(req.hardware),
        now.toISOString(),
      );
      return { status: 'created', rig: rig(rigId)! };
    },
    rig,
    saveVerdict: (rigId, body, now) => saveVerdict(stmt, db, rigId, body, now),
    ingest(reports, signer, programs, now) {
      const [out] = ingestMany([{ reports, signer, now }], programs);
      if (out instanceof Error) throw out;
      return out!;
    },
    ingestMany,
    applyActions,
    queueAction(action, args, now) {
      return Number(
        stmt('INSERT INTO operator_actions (action, args, requested_at) VALUES (?, ?, ?)').run(
          action,
          JSON.stringify(args),
          now.toISOString(),
        ).lastInsertRowid,
      );
    },
    actionOutcome(id) {
      const row = stmt('SELECT applied_at AS at, outcome FROM operator_actions WHERE id = ?').get(
        id,
      ) as { at: string | null; outcome: string } | undefined;
      return row?.at ? row.outcome : null;
    },
    ledger(rigId, from, to) {
      type Row = Omit<LedgerHour, 'connected' | 'programs' | 'held' | 'unpaidGpus'> & {
        connected: number;
        held: number;
        credits: string;
        unpaid: string | null;
      };
      const rows = stmt(`SELECT report_id AS reportId, hour, seq, samples,
          connected_samples AS connectedSamples, connected, gpus, usd, credits, unpaid, held
        FROM reports WHERE report_id >= ? AND report_id < ? ORDER BY report_id`).all(
        reportIdFor(rigId, from),
        reportIdFor(rigId, to),
      ) as Row[];
      return rows.map(({ credits, unpaid, ...h }) => ({
        ...h,
        connected: h.connected === 1,
        held: h.held === 1,
        programs: JSON.parse(credits) as LedgerHour['programs'],
        unpaidGpus: unpaid ? (JSON.parse(unpaid) as LedgerHour['unpaidGpus']) : [],
      }));
    },
    report: d.report,
    // The GPUs credited in one hour, per model: the day's claims with that hour's bit set.
    fleet: (hour) =>
      stmt(`SELECT model, COUNT(DISTINCT rig_id) AS devices, COUNT(*) AS gpus FROM gpu_claims
      WHERE day = ? AND (hours >> ?) & 1 = 1 GROUP BY model ORDER BY model`).all(
        hour.slice(0, 10),
        Number(hour.slice(11, 13)),
      ) as FleetRow[],
    rigs(filter) {
      const where = filter.review ? 'WHERE review = ?' : '';
      return stmt(`SELECT ${RIG_COLUMNS},
          (SELECT COUNT(*) FROM reports p WHERE p.rig_id = rigs.rig_id AND p.held = 1) AS heldHours
        FROM rigs ${where} ORDER BY enrolled_at, rig_id`).all(
        ...(filter.review ? [filter.review] : []),
      ) as (RigRecord & { heldHours: number })[];
    },
    disputes(all) {
      return stmt(`SELECT hour, uuid, rig_id AS rigId, report_id AS reportId, opened_at AS openedAt,
          winner, resolved_at AS resolvedAt
        FROM disputes ${all ? '' : 'WHERE resolved_at IS NULL'}
        ORDER BY hour, uuid, opened_at`).all() as DisputeRow[];
    },
    counts: () =>
      stmt(`SELECT (SELECT COUNT(*) FROM rigs) AS rigs, (SELECT COUNT(*) FROM reports) AS reports,
      (SELECT COUNT(*) FROM claim_flags) AS flags,
      (SELECT COUNT(*) FROM disputes WHERE resolved_at IS NULL) AS disputes`).get() as {
        rigs: number;
        reports: number;
        flags: number;
        disputes: number;
      },
    ...dashboardReads(db),
    close: () => db.close(),
  };
}

/** Create the schema in an empty database; refuse one made with another schema version. */
function createOrCheckSchema(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  const tables = (
    db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'").get() as {
      n: number;
    }
  ).n;
  if (version === 0 && tables === 0) {
    db.transaction(() => {
      db.exec(SCHEMA);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
    return;
  }
  throw new SchemaError(
    `${path} has schema version ${version}, not ${SCHEMA_VERSION}: ` +
      'it was made by a development version of this service; start with a new database file',
  );
}

export { REJECT_TEXT };
