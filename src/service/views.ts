/**
 * What the service shows of its ledger and fleet, as plain functions of the store: the JSON API
 * (src/service/server.ts) and any other view of the same data (a dashboard) use these, so both
 * always say the same thing.
 */
import type { LedgerHour, RewardsStore } from './store.js';
import { canonicalHour, HOUR_MS, parseInstant } from './hours.js';

/** A ledger request the service cannot answer, as an RFC 9457 problem's slug and detail. */
export interface QueryProblem {
  status: 400;
  slug: 'invalid-query';
  detail: string;
}

export interface LedgerView {
  rigId: string;
  from: string;
  to: string;
  hours: LedgerHour[];
  totals: {
    hours: number;
    creditedHours: number;
    heldHours: number;
    disputedGpuHours: number;
    usd: number;
  };
}

/** The longest range one ledger request may cover. */
export const MAX_LEDGER_DAYS = 400;
const DAY_MS = 24 * HOUR_MS;

/** One query parameter as a single string; arrays (?from=a&from=b) and others are refused. */
function single(v: unknown, name: string): string | undefined | QueryProblem {
  if (v === undefined) return undefined;
  if (typeof v !== 'string')
    return { status: 400, slug: 'invalid-query', detail: `${name} must be given once` };
  return v;
}

const iso = (t: number): string => new Date(t).toISOString().replace('.000Z', 'Z');

/**
 * The ledger of `rigId` between `query.from` and `query.to` (UTC ISO 8601 instants, such as
 * 2019-04-15T12:00:00Z): `to` defaults to an hour from now, `from` to 31 days before `to`.
 * Returns the view, or a problem when a bound is not a real instant, from is not before to, or
 * the range is longer than MAX_LEDGER_DAYS.
 */
export function ledgerView(
  store: Pick<RewardsStore, 'ledger'>,
  rigId: string,
  query: Record<string, unknown>,
  now: Date,
): LedgerView | QueryProblem {
  const rawFrom = single(query.from, 'from');
  const rawTo = single(query.to, 'to');
  for (const v of [rawFrom, rawTo]) if (typeof v === 'object') return v;
  const parse = (
    v: string | undefined,
    name: string,
    fallback: () => number,
  ): number | QueryProblem => {
    if (v === undefined) return fallback();
    const t = parseInstant(v);
    return (
      t ?? {
        status: 400,
        slug: 'invalid-query',
        detail: `${name}=${v.slice(0, 40)} is not a UTC instant such as 2019-04-15T12:00:00Z`,
      }
    );
  };
  const to = parse(rawTo as string | undefined, 'to', () => now.getTime() + HOUR_MS);
  if (typeof to === 'object') return to;
  const from = parse(rawFrom as string | undefined, 'from', () => to - 31 * DAY_MS);
  if (typeof from === 'object') return from;
  if (from >= to) return { status: 400, slug: 'invalid-query', detail: 'from must be before to' };
  if (to - from > MAX_LEDGER_DAYS * DAY_MS)
    return {
      status: 400,
      slug: 'invalid-query',
      detail: `a ledger request covers at most ${MAX_LEDGER_DAYS} days`,
    };
  const hours = store.ledger(
    rigId,
    canonicalHour(Math.ceil(from / HOUR_MS) * HOUR_MS),
    canonicalHour(Math.ceil(to / HOUR_MS) * HOUR_MS),
  );
  const usd = Math.round(hours.reduce((s, h) => s + h.usd, 0) * 10_000) / 10_000;
  return {
    rigId,
    from: iso(from),
    to: iso(to),
    hours,
    totals: {
      hours: hours.length,
      creditedHours: hours.filter((h) => h.usd > 0).length,
      heldHours: hours.filter((h) => h.held).length,
      disputedGpuHours: hours.reduce(
        (n, h) => n + h.unpaidGpus.filter((g) => g.reason === 'disputed').length,
        0,
      ),
      usd,
    },
  };
}

export interface FleetView {
  hour: string;
  target: number;
  models: {
    model: string;
    devices: number;
    gpus: number;
    demand: number;
    ratio: number | null;
    belowTarget: boolean;
  }[];
}

/**
 * Supply against demand for the last complete hour before `now`: GPUs paid per model (the model
 * named by each GPU's PCI id in the program definitions, never the client's text), against
 * `demand` (GPUs wanted per model). A ratio below `target` (2) is flagged.
 */
export function fleetView(
  store: Pick<RewardsStore, 'fleet'>,
  demand: Record<string, number>,
  now: Date,
): FleetView {
  const hour = canonicalHour(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS - HOUR_MS);
  const rows = store.fleet(hour);
  const models = new Set([...Object.keys(demand), ...rows.map((r) => r.model)]);
  return {
    hour,
    target: 2,
    models: [...models].sort().map((model) => {
      const row = rows.find((r) => r.model === model) ?? { devices: 0, gpus: 0 };
      const want = demand[model] ?? 0;
      const ratio = want > 0 ? Math.round((row.gpus / want) * 100) / 100 : null;
      return {
        model,
        devices: row.devices,
        gpus: row.gpus,
        demand: want,
        ratio,
        belowTarget: ratio !== null && ratio < 2,
      };
    }),
  };
}
