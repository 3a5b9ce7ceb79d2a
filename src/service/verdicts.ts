/**
 * Verdicts: what a rig's POST /v1/eligibility body leaves in the store (the GPUs it proved, each
 * program's answer, the failing checks the dashboard shows), and the bounds on that history.
 * Split from src/service/store.ts, which calls saveVerdict inside its RewardsStore.
 */
import type Database from 'better-sqlite3';
import { HOUR_MS, parseInstant } from './hours.js';

/** What the body of POST /v1/eligibility gives the store (check --json, docs/check-result.schema.json). */
export interface VerdictBody {
  checkedAt: string;
  eligible: boolean;
  programs: { id: string; qualifies: boolean }[];
  gpus: { uuid: string | null; pciDeviceId: string | null; qualifying: boolean }[];
  /** The first program's checks (absent from older agents); only failing ones are kept. */
  checks?: { id: string; status: string; code?: string }[];
}

/** The most failing checks kept of one verdict, and the shape of an id or code kept. */
const MAX_FAILING = 16;
const CHECK_TOKEN = /^[a-z0-9-]{1,40}$/;

/**
 * The failing checks of a verdict as [[checkId, code], ...]: for the dashboard only, so a
 * supplier sees why a rig is not eligible (docs/threat-model.md, "Dashboard: what is public").
 * Ids and codes that are not short lowercase tokens are dropped; at most MAX_FAILING are kept.
 */
export function failingChecks(body: Pick<VerdictBody, 'checks'>): [string, string][] {
  const out: [string, string][] = [];
  for (const c of Array.isArray(body.checks) ? body.checks : []) {
    if (out.length >= MAX_FAILING) break;
    if (c?.status !== 'fail' || typeof c.id !== 'string' || !CHECK_TOKEN.test(c.id)) continue;
    const code = typeof c.code === 'string' && CHECK_TOKEN.test(c.code) ? c.code : 'fail';
    out.push([c.id, code]);
  }
  return out;
}
/**
 * Store a verdict (docs/threat-model.md, "Claims must agree with the rig's own verdict"): the GPUs
 * listed as qualifying, with their PCI ids, and each program's answer. A verdict checked no later
 * than the latest on file does not replace it. Verdicts within one minute of the previous one
 * replace it, so the history stays bounded; history older than every deadline is dropped.
 * `stmt` is the store's prepared-statement cache, `now` the time of receipt. Returns 'saved',
 * 'same' (checkedAt equals the latest's) or 'stale' (older); SQLite errors propagate.
 */
export function saveVerdict(
  stmt: (sql: string) => Database.Statement,
  db: Database.Database,
  rigId: string,
  body: VerdictBody,
  now: Date,
): 'saved' | 'same' | 'stale' {
  const checked = parseInstant(body.checkedAt) ?? NaN;
  const latest = stmt(
    'SELECT checked_at AS c, received_at AS r FROM verdicts WHERE rig_id = ? ORDER BY received_at DESC LIMIT 1',
  ).get(rigId) as { c: string; r: string } | undefined;
  if (latest && checked < Date.parse(latest.c)) return 'stale';
  if (latest && checked === Date.parse(latest.c)) return 'same';
  const gpus = body.gpus
    .filter((g) => g.qualifying && g.uuid && g.pciDeviceId)
    .map((g) => [g.uuid!, g.pciDeviceId!.toLowerCase()]);
  const programs = body.programs.map((p) => [p.id, p.qualifies]);
  const nowIso = now.toISOString();
  db.transaction(() => {
    stmt('DELETE FROM verdicts WHERE rig_id = ? AND received_at >= ?').run(
      rigId,
      new Date(now.getTime() - 60_000).toISOString(),
    );
    const failing = JSON.stringify(failingChecks(body));
    stmt(
      'INSERT INTO verdicts (rig_id, received_at, checked_at, eligible, programs, gpus, failing) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run(
      rigId,
      nowIso,
      new Date(checked).toISOString(),
      body.eligible ? 1 : 0,
      JSON.stringify(programs),
      JSON.stringify(gpus),
      failing,
    );
    const proofs = (
      stmt('SELECT COUNT(*) AS n FROM gpu_proofs WHERE rig_id = ?').get(rigId) as { n: number }
    ).n;
    if (proofs + gpus.length <= MAX_PROOFS_PER_RIG) {
      for (const [uuid] of gpus)
        stmt('INSERT OR IGNORE INTO gpu_proofs (uuid, rig_id, proved_at) VALUES (?, ?, ?)').run(
          uuid,
          rigId,
          nowIso,
        );
    }
    // Keep the verdicts a report can still be credited by: the last 9 days, and the one before them.
    const keepFrom = new Date(now.getTime() - 9 * 24 * HOUR_MS).toISOString();
    stmt(
      `DELETE FROM verdicts WHERE rig_id = ? AND received_at <
        (SELECT MAX(received_at) FROM verdicts WHERE rig_id = ? AND received_at < ?)`,
    ).run(rigId, rigId, keepFrom);
  })();
  return 'saved';
}

/**
 * The most GPU uuids one rig can have proved (listed in a verdict): a rig has at most 64 GPUs, and
 * a few swaps; a rig that lists more proves nothing new (its GPUs are still paid).
 */
export const MAX_PROOFS_PER_RIG = 256;
