/**
 * All of the service's storage, behind one interface: SQLite (better-sqlite3) in WAL mode, one
 * transaction per batch, versioned migrations. A PostgreSQL store would implement RewardsStore.
 */
import Database from 'better-sqlite3';
import type { EnrollRequest, HourlyReport, ReportResult } from '../protocol/types.js';
import { reportFingerprint } from '../protocol/ids.js';
import { hourOf, reportIdFor } from '../protocol/report-id.js';
import type { Program } from '../program/definitions.js';
import { creditReport, REJECT_TEXT, validateReport } from './credit.js';
import { ClaimIndex, type ClaimLayer } from './claims.js';
import type { FingerprintedReport } from './thread-codec.js';
import { dashboardReads, type DashboardReads } from './dashboard/queries.js';

/** The longest any program accepts reports for, in hours. */
const deadlineHours = (programs: Program[]): number => Math.max(...programs.map((p) => p.reward.reportDeadlineHours), 1);

export interface RigRecord { rigId: string; publicKey: string; master: string; worker: string | null; enrolledAt: string }

export interface LedgerHour { hour: string; reportId: string; seq: number; samples: number; connectedSamples: number; connected: boolean; gpus: number; usd: number; programs: { programId: string; gpus: number; usd: number; reason: string | null }[] }

export interface FleetRow { model: string; devices: number; gpus: number }

export interface RewardsStore extends DashboardReads {
  enroll(req: EnrollRequest, rigId: string, now: Date): { status: 'created' | 'same' | 'conflict'; rig: RigRecord };
  rig(rigId: string): RigRecord | null;
  saveEligibility(rigId: string, body: { checkedAt?: string; eligible?: boolean; programs?: { id: string; qualifies: boolean }[] }, now: Date): void;
  ingest(reports: HourlyReport[], signerRigId: string, programs: Program[], now: Date): ReportResult[];
  /**
   * Group commit: several requests' batches in one transaction and one fsync, each in its own
   * savepoint, so one failing batch rolls back alone. Returns each batch's results or its error.
   */
  ingestMany(items: { reports: HourlyReport[]; signer: string; now: Date }[], programs: Program[]): (ReportResult[] | Error)[];
  ledger(rigId: string, from: string, to: string): LedgerHour[];
  /** A stored report as the rig sent it (its canonical text hashes to its content_hash), or null. */
  report(reportId: string): HourlyReport | null;
  fleet(hour: string): FleetRow[];
  counts(): { rigs: number; reports: number; flags: number };
  close(): void;
}

export const MIGRATIONS: string[] = [
  // 1: the first schema. A report id is "rpt-<rigId>-<YYYYMMDDHH>", so the primary key of reports
  // also lists one rig's hours in order (the ledger reads it as a range). Per-program credits are
  // kept with their report as JSON. (gpu_days is replaced by migration 2.)
  `CREATE TABLE rigs (
     rig_id TEXT PRIMARY KEY, public_key TEXT NOT NULL, master TEXT NOT NULL, worker TEXT,
     agent_version TEXT, hardware TEXT, enrolled_at TEXT NOT NULL);
   CREATE TABLE eligibility (
     rig_id TEXT PRIMARY KEY REFERENCES rigs(rig_id), received_at TEXT NOT NULL, checked_at TEXT,
     eligible INTEGER, programs TEXT NOT NULL, body TEXT NOT NULL);
   CREATE TABLE reports (
     report_id TEXT PRIMARY KEY, rig_id TEXT NOT NULL, hour TEXT NOT NULL,
     seq INTEGER NOT NULL, content_hash TEXT NOT NULL, body TEXT NOT NULL, received_at TEXT NOT NULL,
     samples INTEGER NOT NULL, connected_samples INTEGER NOT NULL, connected INTEGER NOT NULL,
     gpus INTEGER NOT NULL, usd REAL NOT NULL, credits TEXT NOT NULL);
   -- GPU claims: which rig was paid for a uuid in which hours, one row per uuid, UTC day and rig
   -- with a 24-bit mask of hours. Exact like a row per GPU-hour, but a batch of consecutive hours
   -- writes a few rows per GPU instead of one per hour. fleet_hours is the supply per hour.
   -- (Both are replaced by gpu_claims in migration 2.)
   CREATE TABLE gpu_days (
     uuid TEXT NOT NULL, day TEXT NOT NULL, rig_id TEXT NOT NULL, hours INTEGER NOT NULL,
     PRIMARY KEY (uuid, day, rig_id)) WITHOUT ROWID;
   CREATE TABLE fleet_hours (
     hour TEXT NOT NULL, model TEXT NOT NULL, rig_id TEXT NOT NULL, gpus INTEGER NOT NULL,
     PRIMARY KEY (hour, model, rig_id)) WITHOUT ROWID;
   CREATE TABLE claim_flags (
     hour TEXT NOT NULL, uuid TEXT NOT NULL, rig_id TEXT NOT NULL, paid_rig_id TEXT NOT NULL,
     report_id TEXT NOT NULL, flagged_at TEXT NOT NULL);
   CREATE TABLE memberships (
     rig_id TEXT NOT NULL, program_id TEXT NOT NULL, joined_at TEXT NOT NULL, PRIMARY KEY (rig_id, program_id));`,
  // 2: GPU claims keyed by day, rig and uuid instead of uuid first, with each GPU's model. Keyed
  // by uuid (random values), every small commit dirtied a page per GPU; now a rig's GPUs share a
  // page and the rigs reporting one hour share that day's pages. The claims are read into memory
  // by the connection that ingests (src/service/claims.ts), so nothing looks them up by uuid.
  // The supply per hour is counted from them, so fleet_hours, one more row per report, goes.
  // The backfill takes each GPU's model from the rig's stored reports of that day.
  `CREATE TABLE gpu_claims (
     day TEXT NOT NULL, rig_id TEXT NOT NULL, uuid TEXT NOT NULL, model TEXT NOT NULL, hours INTEGER NOT NULL,
     PRIMARY KEY (day, rig_id, uuid)) WITHOUT ROWID;
   INSERT INTO gpu_claims (day, rig_id, uuid, model, hours)
     SELECT d.day, d.rig_id, d.uuid, coalesce((
       SELECT g.value ->> 'model' FROM reports r, json_each(r.body, '$.gpus') g
       WHERE r.report_id BETWEEN 'rpt-' || d.rig_id || '-' || replace(d.day, '-', '') || '00'
                             AND 'rpt-' || d.rig_id || '-' || replace(d.day, '-', '') || '23'
         AND g.value ->> 'uuid' = d.uuid LIMIT 1), 'unknown'), d.hours
     FROM gpu_days d;
   DROP TABLE gpu_days;
   DROP TABLE fleet_hours;`,
  // 3: a report's GPU list is stored once per distinct list (gpu_sets), not in every row: a rig
  // reports the same GPUs hour after hour, and the list was three quarters of the row's bytes,
  // so of what each commit wrote. The report's other fields get columns, and body goes: the
  // canonical text, and so content_hash, is rebuilt exactly from the row (RewardsStore.report).
  `CREATE TABLE gpu_sets (id INTEGER PRIMARY KEY, gpus TEXT NOT NULL UNIQUE);
   ALTER TABLE reports ADD COLUMN interval_seconds INTEGER;
   ALTER TABLE reports ADD COLUMN min_qualifying_gpus INTEGER;
   ALTER TABLE reports ADD COLUMN worker_address TEXT;
   ALTER TABLE reports ADD COLUMN sonm_version TEXT;
   ALTER TABLE reports ADD COLUMN agent_version TEXT;
   ALTER TABLE reports ADD COLUMN gpu_set INTEGER REFERENCES gpu_sets(id);
   INSERT OR IGNORE INTO gpu_sets (gpus) SELECT json_extract(body, '$.gpus') FROM reports;
   UPDATE reports SET interval_seconds = body ->> '$.intervalSeconds', min_qualifying_gpus = body ->> '$.minQualifyingGpus',
     worker_address = body ->> '$.workerAddress', sonm_version = body ->> '$.sonmVersion', agent_version = body ->> '$.agentVersion',
     gpu_set = (SELECT id FROM gpu_sets WHERE gpus = json_extract(reports.body, '$.gpus'));
   ALTER TABLE reports DROP COLUMN body;`,
];

export type Synchronous = 'full' | 'normal';

/**
 * synchronous=FULL (the default): a commit is on disk before it is answered, and survives power
 * loss. NORMAL (in WAL mode) survives a crash of the service but may lose the last commits on
 * power loss; group commit makes FULL cheap enough that NORMAL is rarely worth it.
 */
export function openSqliteStore(path: string, synchronous: Synchronous = 'full'): RewardsStore {
  const db = new Database(path);
  // 8 KiB pages: ~15% faster ingestion than 4 KiB here (takes effect when the file is created).
  db.pragma('page_size = 8192');
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('cache_size = -65536'); // 64 MiB: a 500-report batch must not spill the page cache mid-transaction
  db.pragma('busy_timeout = 5000');
  migrate(db);

  const q = {
    rig: db.prepare('SELECT rig_id AS rigId, public_key AS publicKey, master, worker, enrolled_at AS enrolledAt FROM rigs WHERE rig_id = ?'),
    insertRig: db.prepare('INSERT INTO rigs (rig_id, public_key, master, worker, agent_version, hardware, enrolled_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    updateRig: db.prepare('UPDATE rigs SET worker = ?, agent_version = ?, hardware = ? WHERE rig_id = ?'),
    upsertElig: db.prepare(`INSERT INTO eligibility (rig_id, received_at, checked_at, eligible, programs, body) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT(rig_id) DO UPDATE SET received_at = excluded.received_at, checked_at = excluded.checked_at, eligible = excluded.eligible, programs = excluded.programs, body = excluded.body`),
    elig: db.prepare('SELECT programs FROM eligibility WHERE rig_id = ?'),
    memberships: db.prepare('SELECT program_id AS programId FROM memberships WHERE rig_id = ?'),
    join: db.prepare('INSERT OR IGNORE INTO memberships (rig_id, program_id, joined_at) VALUES (?, ?, ?)'),
    gpuSetByText: db.prepare('SELECT id FROM gpu_sets WHERE gpus = ?'),
    insertGpuSet: db.prepare('INSERT INTO gpu_sets (gpus) VALUES (?)'),
    report: db.prepare(`SELECT r.report_id AS reportId, r.rig_id AS rigId, r.hour, r.interval_seconds AS intervalSeconds, r.samples,
      r.connected_samples AS connectedSamples, r.min_qualifying_gpus AS minQualifyingGpus, s.gpus, r.worker_address AS workerAddress,
      r.sonm_version AS sonmVersion, r.agent_version AS agentVersion, r.seq FROM reports r JOIN gpu_sets s ON s.id = r.gpu_set WHERE r.report_id = ?`),
    claimsSince: db.prepare('SELECT day, rig_id AS rigId, uuid, hours FROM gpu_claims WHERE day >= ?'),
    ledger: db.prepare('SELECT report_id AS reportId, hour, seq, samples, connected_samples AS connectedSamples, connected, gpus, usd, credits FROM reports WHERE report_id >= ? AND report_id < ? ORDER BY report_id'),
    // The GPUs credited in one hour, per model: the day's claims with that hour's bit set.
    fleet: db.prepare('SELECT model, COUNT(DISTINCT rig_id) AS devices, COUNT(*) AS gpus FROM gpu_claims WHERE day = ? AND (hours >> ?) & 1 = 1 GROUP BY model ORDER BY model'),
    counts: db.prepare('SELECT (SELECT COUNT(*) FROM rigs) AS rigs, (SELECT COUNT(*) FROM reports) AS reports, (SELECT COUNT(*) FROM claim_flags) AS flags'),
  };

  // Statements with many rows of parameters (or long IN lists) are prepared once per shape: per
  // SQL head and number of rows, so a statement is never reused for another shape, and finding
  // one costs no hashing of its whole text.
  const shapes = new Map<string, Map<number, Database.Statement>>();
  function shaped(head: string, n: number, build: () => string): Database.Statement {
    let byCount = shapes.get(head);
    if (!byCount) shapes.set(head, (byCount = new Map()));
    let st = byCount.get(n);
    if (!st) byCount.set(n, (st = db.prepare(build())));
    return st;
  }
  const placeholders = (n: number): string => Array(n).fill('?').join(',');
  const CHUNK = 100;
  /** Insert rows given as one flat list of values, `columns.length` per row, CHUNK rows a statement. */
  function insertRows(table: string, columns: string[], values: unknown[], verb = 'INSERT'): void {
    const width = columns.length;
    const head = `${verb} INTO ${table} (${columns.join(',')}) VALUES`;
    for (let i = 0; i < values.length; i += CHUNK * width) {
      const part = i === 0 && values.length <= CHUNK * width ? values : values.slice(i, i + CHUNK * width);
      const rows = part.length / width;
      shaped(head, rows, () => `${head} ${Array(rows).fill(`(${placeholders(width)})`).join(',')}`).run(part);
    }
  }
  /** `${sqlHead} (?, …)${sqlTail}` over `values` in chunks of 500; `fixed` binds the tail's own placeholders. */
  function selectIn<T>(sqlHead: string, sqlTail: string, values: unknown[], fixed: unknown[] = []): T[] {
    const out: T[] = [];
    for (let i = 0; i < values.length; i += 500) {
      const part = values.slice(i, i + 500);
      const rows = shaped(`${sqlHead}|${sqlTail}`, part.length, () => `${sqlHead} (${placeholders(part.length)})${sqlTail}`).all(fixed.length ? [...part, ...fixed] : part) as T[];
      for (const row of rows) out.push(row);
    }
    return out;
  }

  // GPU lists, stored once each in gpu_sets. Ids found or made by a batch are remembered only once
  // its transaction has committed (a rolled-back insert must not leave an id behind): a batch
  // adds to its own map, which joins its group's when it succeeds, which joins gpuSets on commit.
  const gpuSets = new Map<string, number>();
  function gpuSetId(gpus: string, pending: Map<string, number>, group: Map<string, number>): number {
    let id = gpuSets.get(gpus) ?? group.get(gpus) ?? pending.get(gpus);
    if (id !== undefined) return id;
    const row = q.gpuSetByText.get(gpus) as { id: number } | undefined;
    id = row ? row.id : Number(q.insertGpuSet.run(gpus).lastInsertRowid);
    pending.set(gpus, id);
    return id;
  }

  // GPU claims, in memory on the connection that ingests: read from gpu_claims on its first
  // ingestion (the days a report can still be accepted for), then kept up to date by it.
  const claims = new ClaimIndex();
  let claimsLoaded = false;
  function prepareClaims(programs: Program[], now: Date): void {
    const cutoff = hourOf(now.getTime() - (deadlineHours(programs) + 1) * 3_600_000).slice(0, 10);
    if (!claimsLoaded) {
      for (const row of q.claimsSince.iterate(cutoff) as Iterable<{ day: string; rigId: string; uuid: string; hours: number }>) claims.load(row.uuid, row.day, row.rigId, row.hours);
      claimsLoaded = true;
    }
    claims.prune(cutoff);
  }

  const ingestOne = db.transaction((reports: HourlyReport[], signer: string, programs: Program[], now: Date, layer: ClaimLayer, sets: Map<string, number>, groupSets: Map<string, number>): ReportResult[] => {
    const nowIso = now.toISOString();
    const deadline = deadlineHours(programs);
    const memberOf = new Set((q.memberships.all(signer) as { programId: string }[]).map((m) => m.programId));
    const eligRow = q.elig.get(signer) as { programs: string } | undefined;
    const eligibility = eligRow ? new Map((JSON.parse(eligRow.programs) as { id: string; qualifies: boolean }[]).map((p) => [p.id, p.qualifies])) : null;

    // One query for the reports already stored; the GPU claims are in memory.
    const known = new Map<string, { hash: string; connected: number; gpus: number; usd: number }>();
    for (const row of selectIn<{ id: string; hash: string; connected: number; gpus: number; usd: number }>('SELECT report_id AS id, content_hash AS hash, connected, gpus, usd FROM reports WHERE report_id IN', '', reports.map((r) => r.reportId))) known.set(row.id, row);

    // Rows to insert, as flat lists of values (see insertRows).
    const reportRows: unknown[] = [];
    const flagRows: unknown[] = [];
    const results: ReportResult[] = [];
    const modelOf = new Map<string, string>(); // of each uuid this batch claims, for its gpu_claims row
    for (const r of reports) {
      const none = { connected: false, gpus: 0, usd: 0 };
      const { hash, gpus: gpuList } = (r as Partial<FingerprintedReport>).fingerprint ?? reportFingerprint(r);
      const existing = known.get(r.reportId);
      if (existing) {
        results.push(existing.hash === hash
          ? { reportId: r.reportId, status: 'duplicate', credited: { connected: existing.connected === 1, gpus: existing.gpus, usd: existing.usd } }
          : { reportId: r.reportId, status: 'rejected', reason: 'conflict', credited: none });
        continue;
      }
      const invalid = validateReport(r, signer, now, deadline);
      if (invalid) {
        results.push({ reportId: r.reportId, status: 'rejected', reason: invalid, credited: none });
        continue;
      }
      const claimedElsewhere = new Map<string, string>();
      for (const g of r.gpus) {
        const owner = layer.owner(g.uuid, r.hour);
        if (owner !== null && owner !== r.rigId) claimedElsewhere.set(g.uuid, owner);
      }
      const out = creditReport(r, programs, { memberOf, eligibility, claimedElsewhere });
      reportRows.push(r.reportId, r.rigId, r.hour, r.seq, hash, nowIso, r.samples, r.connectedSamples, out.connected ? 1 : 0, out.gpus, out.usd,
        JSON.stringify(out.perProgram.map((c) => ({ programId: c.programId, gpus: c.gpus, usd: c.usd, reason: c.reason }))),
        r.intervalSeconds, r.minQualifyingGpus, r.workerAddress, r.sonmVersion, r.agentVersion, gpuSetId(gpuList, sets, groupSets));
      known.set(r.reportId, { hash, connected: out.connected ? 1 : 0, gpus: out.gpus, usd: out.usd }); // a second copy in this batch is a duplicate
      for (const c of out.perProgram) {
        if (c.joins && !memberOf.has(c.programId)) { q.join.run(r.rigId, c.programId, nowIso); memberOf.add(c.programId); }
      }
      for (const uuid of out.claimedUuids) {
        layer.claim(uuid, r.hour, r.rigId);
        if (!modelOf.has(uuid)) modelOf.set(uuid, r.gpus.find((g) => g.uuid === uuid)?.model ?? 'unknown');
      }
      for (const uuid of out.flaggedUuids) flagRows.push(r.hour, uuid, r.rigId, claimedElsewhere.get(uuid)!, r.reportId, nowIso);
      const reason = out.usd > 0 ? undefined : out.perProgram.find((c) => c.reason)?.reason ?? undefined;
      results.push({ reportId: r.reportId, status: 'accepted', ...(reason ? { reason } : {}), credited: { connected: out.connected, gpus: out.gpus, usd: out.usd } });
    }
    insertRows('reports', ['report_id', 'rig_id', 'hour', 'seq', 'content_hash', 'received_at', 'samples', 'connected_samples', 'connected', 'gpus', 'usd', 'credits',
      'interval_seconds', 'min_qualifying_gpus', 'worker_address', 'sonm_version', 'agent_version', 'gpu_set'], reportRows);
    const claimRows: unknown[] = [];
    // One row per (day, rig, uuid) this batch claimed, with all of that day's hours.
    for (const [uuid, day, rig] of layer.changed()) claimRows.push(day, rig, uuid, modelOf.get(uuid)!, layer.hoursOf(uuid, day, rig));
    insertRows('gpu_claims', ['day', 'rig_id', 'uuid', 'model', 'hours'], claimRows, 'INSERT OR REPLACE');
    insertRows('claim_flags', ['hour', 'uuid', 'rig_id', 'paid_rig_id', 'report_id', 'flagged_at'], flagRows);
    return results;
  });

  type Item = { reports: HourlyReport[]; signer: string; now: Date };
  // Each batch in a savepoint, with its claims in a layer of their own: a batch that fails rolls
  // back alone, rows and claims. The group's claims join the index once the commit has succeeded.
  const ingestGroup = db.transaction((items: Item[], programs: Program[], group: ClaimLayer, groupSets: Map<string, number>): (ReportResult[] | Error)[] =>
    items.map((it) => {
      const layer = group.child();
      const sets = new Map<string, number>();
      try {
        const results = ingestOne(it.reports, it.signer, programs, it.now, layer, sets, groupSets);
        layer.commit();
        for (const [gpus, id] of sets) groupSets.set(gpus, id);
        return results;
      } catch (e) {
        return e as Error;
      }
    }));
  function ingestMany(items: Item[], programs: Program[]): (ReportResult[] | Error)[] {
    if (items.length === 0) return [];
    prepareClaims(programs, items[0]!.now);
    const group = claims.child();
    const groupSets = new Map<string, number>();
    const out = ingestGroup(items, programs, group, groupSets);
    group.commit();
    if (gpuSets.size > 100_000) gpuSets.clear(); // a bounded cache: ids are found again in gpu_sets
    for (const [gpus, id] of groupSets) gpuSets.set(gpus, id);
    return out;
  }

  return {
    enroll(req, rigId, now) {
      const existing = q.rig.get(rigId) as RigRecord | undefined;
      if (existing) {
        if (existing.master.toLowerCase() !== req.masterAddress.toLowerCase()) return { status: 'conflict', rig: existing };
        q.updateRig.run(req.workerAddress, req.agentVersion, JSON.stringify(req.hardware), rigId);
        return { status: 'same', rig: existing };
      }
      q.insertRig.run(rigId, req.publicKey, req.masterAddress, req.workerAddress, req.agentVersion, JSON.stringify(req.hardware), now.toISOString());
      return { status: 'created', rig: q.rig.get(rigId) as RigRecord };
    },
    rig: (rigId) => (q.rig.get(rigId) as RigRecord | undefined) ?? null,
    saveEligibility(rigId, body, now) {
      const programs = Array.isArray(body.programs) ? body.programs.map((p) => ({ id: p.id, qualifies: p.qualifies })) : [];
      q.upsertElig.run(rigId, now.toISOString(), body.checkedAt ?? null, body.eligible ? 1 : 0, JSON.stringify(programs), JSON.stringify(body));
    },
    ingest(reports, signer, programs, now) {
      const [out] = ingestMany([{ reports, signer, now }], programs);
      if (out instanceof Error) throw out;
      return out!;
    },
    ingestMany,
    ledger(rigId, from, to) {
      const rows = q.ledger.all(reportIdFor(rigId, from), reportIdFor(rigId, to)) as (Omit<LedgerHour, 'connected' | 'programs'> & { connected: number; credits: string })[];
      return rows.map(({ credits, ...h }) => ({ ...h, connected: h.connected === 1, programs: JSON.parse(credits) as LedgerHour['programs'] }));
    },
    report(reportId) {
      const row = q.report.get(reportId) as (Omit<HourlyReport, 'gpus'> & { gpus: string }) | undefined;
      return row ? { ...row, gpus: JSON.parse(row.gpus) as HourlyReport['gpus'] } : null;
    },
    fleet: (hour) => q.fleet.all(hour.slice(0, 10), Number(hour.slice(11, 13))) as FleetRow[],
    counts: () => q.counts.get() as { rigs: number; reports: number; flags: number },
    ...dashboardReads(db),
    close: () => db.close(),
  };
}

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
  MIGRATIONS.forEach((sql, i) => {
    const version = i + 1;
    if (applied.has(version)) return;
    db.transaction(() => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, new Date().toISOString());
    })();
  });
}

export { REJECT_TEXT };
