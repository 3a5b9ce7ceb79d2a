/**
 * What `sonmcli worker ask-plan purge` will do to each ask plan, judged before anything changes.
 * Deals, not plans: the announcement says "check that only spot deals are open", and a deal is
 * spot exactly when its own duration is 0 (core `proto/marketplace.go` `Deal.IsSpot`). A deal's
 * duration is the bid's, so a forward ask plan can hold a spot deal (sonm-io/core#1790) and a
 * spot plan a forward deal. The purge mirrors core v0.4.25 `Salesman.RemoveAskPlan`:
 *   - a plan with a deal: `closeDeal` fails only for a forward deal still accepted (status 1);
 *     a closed deal (status 2) is left as it is; a spot deal is closed on the blockchain;
 *   - a plan with an order and no deal: `cancelOrder` cancels it;
 *   - a plan with neither: removed.
 * The rules and their sources are in docs/decisions.md "Upgrade".
 */
import type { AskPlanInfo, DealInfo, MarketInfo } from '../probe/types.js';

/** SONM's `DealStatus` (core `proto/marketplace.pb.go`); 0 is omitted from JSON. */
export const DEAL_STATUS = { unknown: 0, accepted: 1, closed: 2 } as const;

/** What the purge does to one plan; the first two stop the upgrade. */
export type PlanFate =
  'forward-deal' | 'deal-unknown' | 'close-spot-deal' | 'deal-closed' | 'cancel-order' | 'remove';

export interface PlanVerdict {
  plan: AskPlanInfo;
  deal: DealInfo | null;
  fate: PlanFate;
}

/** Fates after which the purge fails for that plan. */
export const BLOCKING_FATES: readonly PlanFate[] = ['forward-deal', 'deal-unknown'];

function fateOf(plan: AskPlanInfo, deal: DealInfo | null): PlanFate {
  if (!plan.dealId) return plan.orderId ? 'cancel-order' : 'remove';
  if (!deal || deal.status === null || deal.status === DEAL_STATUS.unknown) return 'deal-unknown';
  if (deal.status === DEAL_STATUS.closed) return 'deal-closed';
  if (deal.status !== DEAL_STATUS.accepted) return 'deal-unknown';
  return deal.spot ? 'close-spot-deal' : 'forward-deal';
}

/**
 * Judges every ask plan by its own deal (see the header). Input: the probed plans and the
 * `deal status` of each plan's deal. Returns one verdict per plan, in the plans' order. Pure.
 */
export function judgePlans(market: MarketInfo): PlanVerdict[] {
  const deals = new Map(market.deals.map((d) => [d.id, d]));
  return market.askPlans.map((plan) => {
    const deal = plan.dealId ? (deals.get(plan.dealId) ?? null) : null;
    return { plan, deal, fate: fateOf(plan, deal) };
  });
}

const hours = (seconds: number): string => `${Math.round(seconds / 3600)} h`;

function planKind(p: AskPlanInfo): string {
  return p.durationSeconds > 0 ? `forward (${hours(p.durationSeconds)})` : 'spot';
}

/**
 * One line per plan that stops the upgrade: which plan, which deal, and until when.
 * `now` (ms since the epoch) tells a forward deal whose end has passed, which the worker closes
 * on its own next round (core `Salesman.shouldCloseDeal`). Pure.
 */
export function blockingItems(verdicts: readonly PlanVerdict[], now: number): string[] {
  const out: string[] = [];
  for (const { plan, deal, fate } of verdicts) {
    const dealId = plan.dealId ?? '?';
    if (fate === 'deal-unknown') {
      const status = deal?.status ?? 'missing';
      out.push(
        `ask plan ${plan.id}: deal ${dealId} has status ${status}, neither open nor closed: ` +
          `the purge may fail on it; see \`sonmcli deal status ${dealId}\``,
      );
    }
    if (fate !== 'forward-deal' || !deal) continue;
    const ended = deal.endTime !== null && Date.parse(deal.endTime) <= now;
    out.push(
      `ask plan ${plan.id} is ${planKind(plan)} and its deal ${deal.id} is forward ` +
        `(${hours(deal.durationSeconds)}), open until ${deal.endTime ?? 'its end'}` +
        (ended ? ': its end has passed, so the worker closes it on its next round' : ''),
    );
  }
  return out;
}

const plural = (n: number, one: string, many: string): string => (n === 1 ? one : many);

/** Lines that say what the purge will do when nothing blocks it, for the plan's header. Pure. */
export function purgeNotes(verdicts: readonly PlanVerdict[]): string[] {
  const by = (f: PlanFate): PlanVerdict[] => verdicts.filter((v) => v.fate === f);
  const notes: string[] = [];
  const spot = by('close-spot-deal');
  if (spot.length) {
    const ids = spot.map((v) => v.plan.dealId).join(', ');
    notes.push(
      `the purge will close ${spot.length} spot ${plural(spot.length, 'deal', 'deals')}: ${ids}`,
    );
  }
  for (const v of spot.filter((s) => s.plan.durationSeconds > 0)) {
    notes.push(
      `deal ${v.plan.dealId} is spot although its ask plan ${v.plan.id} is ` +
        `${planKind(v.plan)}: a deal is judged by its own duration`,
    );
  }
  const closed = by('deal-closed');
  if (closed.length) {
    notes.push(
      `the purge will remove ${closed.length} ${plural(closed.length, 'plan', 'plans')} ` +
        `whose deal has closed: ${closed.map((v) => v.plan.dealId).join(', ')}`,
    );
  }
  const orders = by('cancel-order');
  if (orders.length) {
    notes.push(
      `the purge will cancel ${orders.length} ${plural(orders.length, 'order', 'orders')} ` +
        `not yet in a deal: ${orders.map((v) => v.plan.orderId).join(', ')}`,
    );
  }
  return notes;
}
