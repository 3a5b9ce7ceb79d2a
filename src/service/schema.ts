/**
 * The service's database, in one place: every table, what a row means and why it is keyed as it
 * is. `openSqliteStore` (src/service/store.ts) creates it in an empty file and refuses any other
 * schema version.
 *
 * There are no migrations. Versions 1 to 3 of this schema were development versions of this
 * repository; no database outside it (tests, `npm run demo`, the benchmark) was made with them,
 * so they were squashed into this one (docs/decisions.md, "Service").
 */

/** PRAGMA user_version of a database with this schema. */
export const SCHEMA_VERSION = 4;

export const SCHEMA = `
-- Enrolled rigs. rig_id is derived from public_key, so a key never changes. review is the
-- operator's decision: pending (enrolled), approved, or revoked (sonm-rewards-service rigs).
CREATE TABLE rigs (
  rig_id TEXT PRIMARY KEY, public_key TEXT NOT NULL, master TEXT NOT NULL, worker TEXT,
  agent_version TEXT, hardware TEXT, enrolled_at TEXT NOT NULL,
  review TEXT NOT NULL DEFAULT 'pending', reviewed_at TEXT);
CREATE INDEX rigs_by_master ON rigs (master);

-- Eligibility verdicts (the rig's own check --json), one row per verdict received: crediting
-- uses the latest one received before the hour ended. gpus: [[uuid, pciDeviceId], ...] of the
-- GPUs the check listed as qualifying; programs: [[programId, qualifies], ...]; failing:
-- [[checkId, code], ...] of the checks that failed (shown on the dashboard, never credited on).
CREATE TABLE verdicts (
  rig_id TEXT NOT NULL, received_at TEXT NOT NULL, checked_at TEXT NOT NULL,
  eligible INTEGER NOT NULL, programs TEXT NOT NULL, gpus TEXT NOT NULL,
  failing TEXT NOT NULL DEFAULT '[]',
  PRIMARY KEY (rig_id, received_at)) WITHOUT ROWID;

-- When each rig first listed a GPU uuid as qualifying in a verdict: who proved it first.
-- At most MAX_PROOFS_PER_RIG rows per rig (src/service/verdicts.ts), so verdicts cannot fill it.
CREATE TABLE gpu_proofs (
  uuid TEXT NOT NULL, rig_id TEXT NOT NULL, proved_at TEXT NOT NULL,
  PRIMARY KEY (uuid, rig_id)) WITHOUT ROWID;
CREATE INDEX gpu_proofs_by_rig ON gpu_proofs (rig_id);

-- Each distinct GPU list once: a rig reports the same GPUs hour after hour.
CREATE TABLE gpu_sets (id INTEGER PRIMARY KEY, gpus TEXT NOT NULL UNIQUE);

-- Hourly reports, one per rig and hour. report_id is "rpt-<rigId>-<YYYYMMDDHH>", so the key
-- also lists one rig's hours in order (the ledger reads it as a range). The report as sent is
-- rebuilt from the columns and its gpu_set (RewardsStore.report); its canonical text hashes to
-- content_hash. credits: per program [{programId, gpus, usd, reason}]; unpaid: qualifying GPUs
-- not paid and why [{uuid, reason}], or NULL; held: 1 while an hour waits for the rig's review.
CREATE TABLE reports (
  report_id TEXT PRIMARY KEY, rig_id TEXT NOT NULL, hour TEXT NOT NULL, seq INTEGER NOT NULL,
  content_hash TEXT NOT NULL, received_at TEXT NOT NULL,
  samples INTEGER NOT NULL, connected_samples INTEGER NOT NULL, interval_seconds INTEGER NOT NULL,
  min_qualifying_gpus INTEGER NOT NULL, worker_address TEXT, sonm_version TEXT,
  agent_version TEXT NOT NULL, gpu_set INTEGER NOT NULL REFERENCES gpu_sets (id),
  connected INTEGER NOT NULL, gpus INTEGER NOT NULL, usd REAL NOT NULL, credits TEXT NOT NULL,
  unpaid TEXT, held INTEGER NOT NULL DEFAULT 0);
CREATE INDEX reports_held ON reports (rig_id) WHERE held = 1;

-- GPU claims: the hours of one UTC day that a rig was paid for a uuid (a 24-bit mask), with the
-- model its PCI id names. Keyed by day first: a rig's GPUs share a page, and the rigs reporting
-- one hour share that day's pages. The ingest worker holds them in memory (src/service/claims.ts);
-- the fleet view counts from them.
CREATE TABLE gpu_claims (
  day TEXT NOT NULL, rig_id TEXT NOT NULL, uuid TEXT NOT NULL, model TEXT NOT NULL,
  hours INTEGER NOT NULL, PRIMARY KEY (day, rig_id, uuid)) WITHOUT ROWID;

-- A second rig claiming a uuid that the first rig keeps (it proved the GPU first and was paid).
CREATE TABLE claim_flags (
  hour TEXT NOT NULL, uuid TEXT NOT NULL, rig_id TEXT NOT NULL, paid_rig_id TEXT NOT NULL,
  report_id TEXT NOT NULL, flagged_at TEXT NOT NULL);

-- Contested GPUs: one row per rig claiming the uuid in the hour. Paid to nobody until an
-- operator resolves it (winner, resolved_at).
CREATE TABLE disputes (
  hour TEXT NOT NULL, uuid TEXT NOT NULL, rig_id TEXT NOT NULL, report_id TEXT NOT NULL,
  opened_at TEXT NOT NULL, winner TEXT, resolved_at TEXT,
  PRIMARY KEY (hour, uuid, rig_id)) WITHOUT ROWID;
CREATE INDEX disputes_open ON disputes (resolved_at, hour);

-- Program membership: a rig joins with its first paid hour.
CREATE TABLE memberships (
  rig_id TEXT NOT NULL, program_id TEXT NOT NULL, joined_at TEXT NOT NULL,
  PRIMARY KEY (rig_id, program_id));

-- Operator actions (approve, revoke, resolve), queued by the operator command and applied by the
-- one process that writes credits: the service's ingest worker while it runs, else the command.
CREATE TABLE operator_actions (
  id INTEGER PRIMARY KEY, action TEXT NOT NULL, args TEXT NOT NULL, requested_at TEXT NOT NULL,
  applied_at TEXT, outcome TEXT);
CREATE INDEX operator_actions_pending ON operator_actions (id) WHERE applied_at IS NULL;
`;
