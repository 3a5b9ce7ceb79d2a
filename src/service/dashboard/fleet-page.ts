/**
 * The fleet page, `/`: for each GPU model, GPUs credited in the last complete hour (fleetView,
 * the function behind GET /v1/fleet) and per hour over the last 7 days, against the configured
 * demand and the program's 2× target. Under-supplied models are marked and listed first.
 */
import type { RewardsStore } from '../store.js';
import { fleetView, type FleetView } from '../views.js';
import { hourOf } from '../../protocol/report-id.js';
import { lineChart } from './svg.js';
import { esc, page, utc } from './html.js';

/**
 * The 7-day history is the page's one costly read (every GPU claim of 7 days: about 100 ms at
 * 10,000 rigs here, where the page must take under 50), so it is kept for a minute per store;
 * the last complete hour, fleetView's, is read live on every view.
 */
export const HISTORY_TTL_MS = 60_000;
const history = new WeakMap<
  object,
  { fromDay: string; at: number; rows: ReturnType<RewardsStore['fleetDays']> }
>();

function fleetHistory(
  store: RewardsStore,
  fromDay: string,
  nowMs: number,
): ReturnType<RewardsStore['fleetDays']> {
  const hit = history.get(store);
  if (hit && hit.fromDay === fromDay && nowMs - hit.at < HISTORY_TTL_MS && nowMs >= hit.at)
    return hit.rows;
  const rows = store.fleetDays(fromDay);
  history.set(store, { fromDay, at: nowMs, rows });
  return rows;
}

export interface FleetModelSeries {
  model: string;
  hourly: number[];
  average7d: number;
}
export interface FleetPageModel {
  view: FleetView;
  from: string;
  series: Map<string, FleetModelSeries>;
}

/** The last complete hour (fleetView, live) and the 168 hours up to it, per model (at most a minute old). */
export function fleetModel(
  store: RewardsStore,
  demand: Record<string, number>,
  now: Date,
): FleetPageModel {
  const view = fleetView(store, demand, now);
  const last = Date.parse(view.hour);
  const first = last - 167 * 3_600_000;
  const from = hourOf(first);
  const series = new Map<string, FleetModelSeries>();
  for (const m of view.models)
    series.set(m.model, { model: m.model, hourly: new Array(168).fill(0), average7d: 0 });
  for (const row of fleetHistory(store, from.slice(0, 10), now.getTime())) {
    const s = series.get(row.model) ?? {
      model: row.model,
      hourly: new Array(168).fill(0),
      average7d: 0,
    };
    series.set(row.model, s);
    const dayStart = Date.parse(`${row.day}T00:00:00Z`);
    row.gpus.forEach((n, h) => {
      const i = (dayStart + h * 3_600_000 - first) / 3_600_000;
      if (i >= 0 && i < 168) s.hourly[i] = n;
    });
  }
  for (const s of series.values())
    s.average7d = Math.round((s.hourly.reduce((a, b) => a + b, 0) / 168) * 10) / 10;
  return { view, from, series };
}

/** The page for a model from fleetModel. */
export function renderFleet(m: FleetPageModel): string {
  const models = [...m.view.models].sort(
    (a, b) => Number(b.belowTarget) - Number(a.belowTarget) || a.model.localeCompare(b.model),
  );
  const rows = models
    .map((x) => {
      const s = m.series.get(x.model)!;
      return (
        `<tr class="${x.belowTarget ? 'alert' : ''}" data-model="${esc(x.model)}">` +
        `<td>${esc(x.model)}</td><td class="num" data-field="gpus">${x.gpus}</td>` +
        `<td class="num" data-field="devices">${x.devices}</td><td class="num">${s.average7d}</td>` +
        `<td class="num" data-field="demand">${x.demand}</td>` +
        `<td class="num" data-field="ratio">${x.ratio === null ? '–' : `${x.ratio}×`}</td>` +
        `<td>${supplyBadge(x, m.view.target)}</td></tr>`
      );
    })
    .join('');
  const charts = models
    .map((x) => {
      const s = m.series.get(x.model)!;
      const levels =
        x.demand > 0
          ? [
              { name: `demand ${x.demand}`, value: x.demand, cls: 'demand' },
              {
                name: `${m.view.target}× target ${x.demand * m.view.target}`,
                value: x.demand * m.view.target,
                cls: 'target',
              },
            ]
          : [];
      return (
        `<h2>${esc(x.model)}${x.belowTarget ? ' <span class="badge bad">under-supplied</span>' : ''}</h2>` +
        lineChart(
          [{ name: `${x.model}: GPUs credited per hour`, values: s.hourly, cls: 'supply' }],
          levels,
          {
            title: `${x.model}: GPUs credited per hour, last 7 days`,
            first: utc(m.from),
            last: utc(m.view.hour),
          },
        )
      );
    })
    .join('');
  return page(
    'Fleet',
    `<h1>Fleet: supply against demand</h1>` +
      `<p>GPUs credited in the last complete hour, <strong>${esc(utc(m.view.hour))}</strong>, ` +
      `per model, against the configured demand; the program aims for ${m.view.target}× the demand.</p>` +
      `<table><thead><tr>${FLEET_HEADINGS}</tr></thead><tbody>` +
      `${rows || NO_FLEET_ROWS}</tbody></table>${charts}` +
      '<p class="muted">The same figures as JSON: <a href="/v1/fleet">/v1/fleet</a>. ' +
      'Masters: <code>/masters/0x…</code>.</p>',
  );
}

const FLEET_HEADINGS =
  '<th>GPU model</th><th class="num">GPUs credited</th><th class="num">rigs</th>' +
  '<th class="num">7-day average</th><th class="num">demand</th>' +
  '<th class="num">supply / demand</th><th></th>';

const NO_FLEET_ROWS =
  '<tr><td colspan="7" class="muted">no demand configured and nothing credited yet</td></tr>';

/** The last cell of a model's row: no demand set, under-supplied (below `target`×), or at target. */
function supplyBadge(x: { ratio: number | null; belowTarget: boolean }, target: number): string {
  if (x.ratio === null) return '<span class="muted">no demand set</span>';
  return x.belowTarget
    ? `<span class="badge bad">under-supplied: below ${target}×</span>`
    : '<span class="badge good">at or above target</span>';
}
