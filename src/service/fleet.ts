/**
 * The fleet view: GPUs credited per model in the last complete hour against the configured
 * demand, flagged below the program's 2× target. One function for GET /v1/fleet and the
 * dashboard's fleet page (docs/decisions.md, "Fleet supply").
 */
import { hourOf } from '../protocol/report-id.js';
import type { RewardsStore } from './store.js';

/** The supply the program aims for: twice the demand. */
export const SUPPLY_TARGET = 2;

export interface FleetModel {
  model: string;
  devices: number;
  gpus: number;
  demand: number;
  ratio: number | null;
  belowTarget: boolean;
}
export interface FleetView {
  hour: string;
  target: number;
  models: FleetModel[];
}

/**
 * The view for the hour before the one `now` is in. `demand`: GPUs wanted per model name.
 * Models with demand or supply are listed, sorted by name; ratio is supply / demand (2 decimals),
 * null without demand. Throws only what the store throws.
 */
export function fleetView(
  store: Pick<RewardsStore, 'fleet'>,
  demand: Record<string, number>,
  now: Date,
): FleetView {
  const hour = hourOf(now.getTime() - 3_600_000);
  const rows = store.fleet(hour);
  const models = new Set([...Object.keys(demand), ...rows.map((r) => r.model)]);
  return {
    hour,
    target: SUPPLY_TARGET,
    models: [...models].sort().map((model) => {
      const row = rows.find((r) => r.model === model) ?? { devices: 0, gpus: 0 };
      const wanted = demand[model] ?? 0;
      const ratio = wanted > 0 ? Math.round((row.gpus / wanted) * 100) / 100 : null;
      return {
        model,
        devices: row.devices,
        gpus: row.gpus,
        demand: wanted,
        ratio,
        belowTarget: ratio !== null && ratio < SUPPLY_TARGET,
      };
    }),
  };
}
