/**
 * Operator actions: approve or revoke a rig, resolve a disputed GPU-hour. The operator command
 * (`sonm-rewards-service rigs|disputes`, src/service/operator-cli.ts) queues an action in the
 * database; it is applied by the one connection that writes credits and holds the GPU claims:
 * the running service's ingest worker (at its next group commit, or within a second), or the
 * command itself when no service holds the database. docs/threat-model.md gives the rules.
 */
import type { Program } from '../program/definitions.js';
import { HOUR_MS } from './hours.js';
import { deadlineHours, recredit, type IngestContext } from './ingest.js';

export type OperatorAction =
  | { action: 'approve'; rigId: string }
  | { action: 'revoke'; rigId: string }
  | { action: 'resolve'; hour: string; uuid: string; winner: string };

export interface ActionOutcome {
  id: number;
  /** One line for the operator: what was done, or why nothing was. */
  outcome: string;
  ok: boolean;
  /** A dispute this action resolved, for the claims index to forget. */
  resolved?: { hour: string; uuid: string };
}

/**
 * Apply every queued action in order, each in its own transaction (with `flush` writing the claim
 * rows it changed), and mark it applied with its outcome. Returns the outcomes.
 */
export function applyPendingActions(ctx: IngestContext, flush: () => void): ActionOutcome[] {
  const { d } = ctx;
  const pending = d
    .stmt('SELECT id, action, args FROM operator_actions WHERE applied_at IS NULL ORDER BY id')
    .all() as { id: number; action: string; args: string }[];
  return pending.map((row) =>
    d.db.transaction(() => {
      const out = applyOne(ctx, row.id, {
        action: row.action,
        ...JSON.parse(row.args),
      } as OperatorAction);
      flush();
      d.stmt('UPDATE operator_actions SET applied_at = ?, outcome = ? WHERE id = ?').run(
        ctx.now.toISOString(),
        `${out.ok ? 'ok' : 'refused'}: ${out.outcome}`,
        row.id,
      );
      return out;
    })(),
  );
}

function applyOne(ctx: IngestContext, id: number, a: OperatorAction): ActionOutcome {
  switch (a.action) {
    case 'approve':
      return approve(ctx, id, a.rigId);
    case 'revoke':
      return review(ctx, id, a.rigId, 'revoked');
    case 'resolve':
      return resolve(ctx, id, a.hour, a.uuid, a.winner);
    default:
      return { id, ok: false, outcome: `unknown action ${(a as { action: string }).action}` };
  }
}

function review(
  ctx: IngestContext,
  id: number,
  rigId: string,
  to: 'approved' | 'revoked',
): ActionOutcome {
  const r = ctx.d
    .stmt('UPDATE rigs SET review = ?, reviewed_at = ? WHERE rig_id = ?')
    .run(to, ctx.now.toISOString(), rigId);
  ctx.rigs.delete(rigId);
  return r.changes === 1
    ? { id, ok: true, outcome: `rig ${rigId} ${to}` }
    : { id, ok: false, outcome: `no rig ${rigId} is enrolled` };
}

/**
 * Approve a rig: its hours held for review whose report deadline has not passed are credited now
 * (the same rules as on arrival, contests included); older held hours stay unpaid.
 */
function approve(ctx: IngestContext, id: number, rigId: string): ActionOutcome {
  const done = review(ctx, id, rigId, 'approved');
  if (!done.ok) return done;
  const oldest = ctx.now.getTime() - deadlineHours(ctx.programs as Program[]) * HOUR_MS - HOUR_MS;
  const held = ctx.d
    .stmt(
      'SELECT report_id AS id, hour FROM reports WHERE rig_id = ? AND held = 1 ORDER BY report_id',
    )
    .all(rigId) as { id: string; hour: string }[];
  let paid = 0;
  let usd = 0;
  for (const h of held) {
    if (Date.parse(h.hour) < oldest) {
      ctx.d.stmt('UPDATE reports SET held = 0 WHERE report_id = ?').run(h.id);
      continue;
    }
    const out = recredit(ctx, h.id);
    if (out && out.usd > 0) {
      paid++;
      usd += out.usd;
    }
  }
  const expired = held.length - held.filter((h) => Date.parse(h.hour) >= oldest).length;
  return {
    id,
    ok: true,
    outcome:
      `rig ${rigId} approved; ${paid} held hours credited ($${usd.toFixed(4)})` +
      (expired ? `, ${expired} past the deadline` : ''),
  };
}

/** Resolve a disputed uuid-hour for `winner`, one of its parties: the winner is paid once, the others not. */
function resolve(
  ctx: IngestContext,
  id: number,
  hour: string,
  uuid: string,
  winner: string,
): ActionOutcome {
  const parties = ctx.d
    .stmt(
      'SELECT rig_id AS rig, report_id AS report, winner FROM disputes WHERE hour = ? AND uuid = ? ORDER BY rig_id',
    )
    .all(hour, uuid) as { rig: string; report: string; winner: string | null }[];
  if (parties.length === 0) return { id, ok: false, outcome: `no dispute over ${uuid} in ${hour}` };
  if (parties[0]!.winner !== null)
    return {
      id,
      ok: false,
      outcome: `${uuid} in ${hour} was already resolved for ${parties[0]!.winner}`,
    };
  if (!parties.some((p) => p.rig === winner))
    return {
      id,
      ok: false,
      outcome: `${winner} is not a party to the dispute over ${uuid} in ${hour}`,
    };
  ctx.d
    .stmt('UPDATE disputes SET winner = ?, resolved_at = ? WHERE hour = ? AND uuid = ?')
    .run(winner, ctx.now.toISOString(), hour, uuid);
  // The winner first: its claim is made before the others are credited again.
  const order = [
    ...parties.filter((p) => p.rig === winner),
    ...parties.filter((p) => p.rig !== winner),
  ];
  let usd = 0;
  for (const p of order) {
    const out = recredit(ctx, p.report);
    if (p.rig === winner && out) usd = out.usd;
  }
  return {
    id,
    ok: true,
    outcome: `${uuid} in ${hour} resolved for ${winner} (its hour now credits $${usd.toFixed(4)})`,
    resolved: { hour, uuid },
  };
}
