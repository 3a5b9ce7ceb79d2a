/**
 * All of the service's storage, behind one interface: SQLite (better-sqlite3) in WAL mode, one
 * transaction per batch, versioned migrations. A PostgreSQL store would implement RewardsStore.
 */
import Database from 'better-sqlite3';
import type { EnrollRequest, HourlyReport, ReportResult } from '../protocol/types.js';
import { contentHash } from '../protocol/ids.js';
import type { Program } from '../program/definitions.js';
import { creditReport, REJECT_TEXT, validateReport } from './credit.js';

export interface RigRecord { rigId: string; publicKey: string; master: string; worker: string | null; enrolledAt: string }

export interface LedgerHour { hour: string; reportId: string; seq: number; samples: number; connectedSamples: number; connected: boolean; gpus: number; usd: number; programs: { programId: string; gpus: number; usd: number; reason: string | null }[] }

export interface FleetRow { model: string; devices: number; gpus: number }

export interface RewardsStore {
  enroll(req: EnrollRequest, rigId: string, now: Date): { status: 'created' | 'same' | 'conflict'; rig: RigRecord };
  rig(rigId: string): RigRecord | null;
  saveEligibility(rigId: string, body: { checkedAt?: string; eligible?: boolean; programs?: { id: string; qualifies: boolean }[] }, now: Date): void;
  ingest(reports: HourlyReport[], signerRigId: string, programs: Program[], now: Date): ReportResult[];
  ledger(rigId: string, from: string, to: string): LedgerHour[];
  fleet(hour: string): FleetRow[];
  counts(): { rigs: number; reports: number; flags: number };
  close(): void;
}

const MIGRATIONS: string[] = [
  // 1: the first schema
  `CREATE TABLE rigs (
     rig_id TEXT PRIMARY KEY, public_key TEXT NOT NULL, master TEXT NOT NULL, worker TEXT,
     agent_version TEXT, hardware TEXT, enrolled_at TEXT NOT NULL);
   CREATE TABLE eligibility (
     rig_id TEXT PRIMARY KEY REFERENCES rigs(rig_id), received_at TEXT NOT NULL, checked_at TEXT,
     eligible INTEGER, programs TEXT NOT NULL, body TEXT NOT NULL);
   CREATE TABLE reports (
     report_id TEXT PRIMARY KEY, rig_id TEXT NOT NULL REFERENCES rigs(rig_id), hour TEXT NOT NULL,
     seq INTEGER NOT NULL, content_hash TEXT NOT NULL, body TEXT NOT NULL, received_at TEXT NOT NULL,
     samples INTEGER NOT NULL, connected_samples INTEGER NOT NULL, connected INTEGER NOT NULL,
     gpus INTEGER NOT NULL, usd REAL NOT NULL, UNIQUE (rig_id, hour));
   CREATE TABLE credits (
     report_id TEXT NOT NULL REFERENCES reports(report_id), program_id TEXT NOT NULL, rig_id TEXT NOT NULL,
     hour TEXT NOT NULL, gpus INTEGER NOT NULL, usd REAL NOT NULL, reason TEXT,
     PRIMARY KEY (report_id, program_id));
   CREATE TABLE gpu_claims (
     hour TEXT NOT NULL, uuid TEXT NOT NULL, rig_id TEXT NOT NULL, report_id TEXT NOT NULL, model TEXT,
     PRIMARY KEY (hour, uuid));
   CREATE TABLE claim_flags (
     hour TEXT NOT NULL, uuid TEXT NOT NULL, rig_id TEXT NOT NULL, paid_rig_id TEXT NOT NULL,
     report_id TEXT NOT NULL, flagged_at TEXT NOT NULL);
   CREATE TABLE memberships (
     rig_id TEXT NOT NULL, program_id TEXT NOT NULL, joined_at TEXT NOT NULL, PRIMARY KEY (rig_id, program_id));
   CREATE INDEX reports_hour ON reports(hour);
   CREATE INDEX credits_rig_hour ON credits(rig_id, hour);`,
];

export function openSqliteStore(path: string): RewardsStore {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // FULL: a commit survives power loss, not just a crash of the process.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
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
    report: db.prepare('SELECT content_hash AS hash, connected, gpus, usd FROM reports WHERE report_id = ?'),
    insertReport: db.prepare(`INSERT INTO reports (report_id, rig_id, hour, seq, content_hash, body, received_at, samples, connected_samples, connected, gpus, usd)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    insertCredit: db.prepare('INSERT INTO credits (report_id, program_id, rig_id, hour, gpus, usd, reason) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    claim: db.prepare('SELECT rig_id AS rigId FROM gpu_claims WHERE hour = ? AND uuid = ?'),
    insertClaim: db.prepare('INSERT INTO gpu_claims (hour, uuid, rig_id, report_id, model) VALUES (?, ?, ?, ?, ?)'),
    insertFlag: db.prepare('INSERT INTO claim_flags (hour, uuid, rig_id, paid_rig_id, report_id, flagged_at) VALUES (?, ?, ?, ?, ?, ?)'),
    ledger: db.prepare('SELECT report_id AS reportId, hour, seq, samples, connected_samples AS connectedSamples, connected, gpus, usd FROM reports WHERE rig_id = ? AND hour >= ? AND hour < ? ORDER BY hour'),
    ledgerCredits: db.prepare('SELECT report_id AS reportId, program_id AS programId, gpus, usd, reason FROM credits WHERE rig_id = ? AND hour >= ? AND hour < ?'),
    fleet: db.prepare(`SELECT COALESCE(model, 'unknown') AS model, COUNT(DISTINCT rig_id) AS devices, COUNT(*) AS gpus FROM gpu_claims WHERE hour = ? GROUP BY model ORDER BY model`),
    counts: db.prepare('SELECT (SELECT COUNT(*) FROM rigs) AS rigs, (SELECT COUNT(*) FROM reports) AS reports, (SELECT COUNT(*) FROM claim_flags) AS flags'),
  };

  const ingestTx = db.transaction((reports: HourlyReport[], signer: string, programs: Program[], now: Date): ReportResult[] => {
    const nowIso = now.toISOString();
    const deadline = Math.max(...programs.map((p) => p.reward.reportDeadlineHours), 1);
    const memberOf = new Set((q.memberships.all(signer) as { programId: string }[]).map((m) => m.programId));
    const eligRow = q.elig.get(signer) as { programs: string } | undefined;
    const eligibility = eligRow ? new Map((JSON.parse(eligRow.programs) as { id: string; qualifies: boolean }[]).map((p) => [p.id, p.qualifies])) : null;
    const results: ReportResult[] = [];
    for (const r of reports) {
      const none = { connected: false, gpus: 0, usd: 0 };
      const hash = contentHash(r);
      const existing = q.report.get(r.reportId) as { hash: string; connected: number; gpus: number; usd: number } | undefined;
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
        const c = q.claim.get(r.hour, g.uuid) as { rigId: string } | undefined;
        if (c && c.rigId !== r.rigId) claimedElsewhere.set(g.uuid, c.rigId);
      }
      const out = creditReport(r, programs, { memberOf, eligibility, claimedElsewhere: new Set(claimedElsewhere.keys()) });
      q.insertReport.run(r.reportId, r.rigId, r.hour, r.seq, hash, JSON.stringify(r), nowIso, r.samples, r.connectedSamples, out.connected ? 1 : 0, out.gpus, out.usd);
      for (const c of out.perProgram) {
        q.insertCredit.run(r.reportId, c.programId, r.rigId, r.hour, c.gpus, c.usd, c.reason);
        if (c.joins) { q.join.run(r.rigId, c.programId, nowIso); memberOf.add(c.programId); }
      }
      for (const uuid of out.claimedUuids) q.insertClaim.run(r.hour, uuid, r.rigId, r.reportId, r.gpus.find((g) => g.uuid === uuid)?.model ?? null);
      for (const uuid of out.flaggedUuids) q.insertFlag.run(r.hour, uuid, r.rigId, claimedElsewhere.get(uuid)!, r.reportId, nowIso);
      const reason = out.usd > 0 ? undefined : out.perProgram.find((c) => c.reason)?.reason ?? undefined;
      results.push({ reportId: r.reportId, status: 'accepted', ...(reason ? { reason } : {}), credited: { connected: out.connected, gpus: out.gpus, usd: out.usd } });
    }
    return results;
  });

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
    ingest: (reports, signer, programs, now) => ingestTx(reports, signer, programs, now),
    ledger(rigId, from, to) {
      const credits = q.ledgerCredits.all(rigId, from, to) as { reportId: string; programId: string; gpus: number; usd: number; reason: string | null }[];
      const byReport = new Map<string, LedgerHour['programs']>();
      for (const c of credits) {
        const list = byReport.get(c.reportId) ?? [];
        list.push({ programId: c.programId, gpus: c.gpus, usd: c.usd, reason: c.reason });
        byReport.set(c.reportId, list);
      }
      return (q.ledger.all(rigId, from, to) as (Omit<LedgerHour, 'connected' | 'programs'> & { connected: number })[]).map((h) => ({ ...h, connected: h.connected === 1, programs: byReport.get(h.reportId) ?? [] }));
    },
    fleet: (hour) => q.fleet.all(hour) as FleetRow[],
    counts: () => q.counts.get() as { rigs: number; reports: number; flags: number },
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
