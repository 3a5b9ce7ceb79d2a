/**
 * The rig page, `/rigs/<rigId>`: hour by hour for the last 7 days, what the rig claimed (its
 * samples, connected samples), what was credited, and why not. The hours are store.ledger()'s,
 * the call behind GET /v1/rigs/{rigId}/ledger.
 */
import type { LedgerHour, RewardsStore } from '../store.js';
import { hourOf } from '../../protocol/report-id.js';
import { barChart } from './svg.js';
import { esc, page, usd, utc } from './html.js';
import { outcomeOf, type RigProfile } from './queries.js';
import { notEligibleText, outcomeText } from './reasons.js';

export interface RigModel {
  profile: RigProfile;
  from: string;
  to: string;
  hours: LedgerHour[];
  usd: number;
  creditedHours: number;
}

/** The last 7 days of `rigId` at `now`, or null for a rig the service does not know. */
export function rigModel(store: RewardsStore, rigId: string, now: Date): RigModel | null {
  const [profile] = store.rigProfiles({ rigId });
  if (!profile) return null;
  const to = hourOf(now);
  const from = hourOf(now.getTime() - 7 * 86_400_000);
  const hours = store.ledger(rigId, from, to);
  const credited = hours.filter((h) => h.usd > 0);
  return {
    profile,
    from,
    to,
    hours,
    creditedHours: credited.length,
    usd: Math.round(credited.reduce((s, h) => s + h.usd, 0) * 10_000) / 10_000,
  };
}

/** The page for a model from rigModel. */
export function renderRig(m: RigModel): string {
  const p = m.profile;
  const byHour = new Map(m.hours.map((h) => [h.hour, h]));
  const slots = Array.from({ length: 7 * 24 }, (_, i) =>
    hourOf(Date.parse(m.from) + i * 3_600_000),
  );
  const rows = [...m.hours]
    .reverse()
    .map((h) => {
      const outcome = outcomeOf(h);
      return (
        `<tr class="${h.usd > 0 ? '' : 'alert'}" data-hour="${esc(h.hour)}"><td>${esc(utc(h.hour))}</td>` +
        `<td class="num">${h.connectedSamples} / ${h.samples}</td><td class="num">${h.gpus}</td>` +
        `<td class="num" data-field="usd">${usd(h.usd)}</td>` +
        `<td>${h.usd > 0 ? CREDITED : `<span class="bad">${esc(outcomeText(outcome))}</span>`}</td></tr>`
      );
    })
    .join('');
  const gpus = p.gpus.map((g) => `${g.count} × ${esc(g.model)}`).join(', ') || 'not reported';
  const verdict = p.verdict
    ? p.verdict.eligible
      ? 'eligible'
      : notEligibleText(p.verdict)
    : 'no check sent';
  return page(
    `Rig ${p.rigId}`,
    `<h1>Rig <code>${esc(p.rigId)}</code></h1>` +
      `<p>Master <a href="/masters/${esc(p.master.toLowerCase())}"><code>${esc(p.master)}</code></a>; ` +
      `worker <code>${esc(p.worker ?? 'unknown')}</code>; GPUs: ${gpus}; last check: ${esc(verdict)}` +
      `${p.verdict ? ` (${esc(utc(p.verdict.receivedAt))})` : ''}; enrolled ${esc(utc(p.enrolledAt))}.</p>` +
      `<p>Last 7 days: <strong data-field="credited-hours">${m.creditedHours}</strong> ` +
      `of ${m.hours.length} reported hours credited, ` +
      `<strong data-field="usd-total">${usd(m.usd)}</strong>.</p>` +
      `<h2>Credited USD per hour</h2>${barChart(
        slots.map((hour) => ({ label: utc(hour), value: byHour.get(hour)?.usd ?? 0 })),
        { title: 'Credited USD per hour, last 7 days', unit: '$' },
      )}` +
      `<h2>Hour by hour</h2><table><thead><tr>${HOUR_HEADINGS}</tr></thead>` +
      `<tbody>${rows || '<tr><td colspan="5" class="muted">no reports in the last 7 days</td></tr>'}</tbody></table>` +
      '<p class="muted">An hour with no row had no report: the rig was off, or its agent has not delivered it yet.</p>',
  );
}

const CREDITED = '<span class="good">credited</span>';

const HOUR_HEADINGS =
  '<th>hour</th><th class="num">connected samples (claimed)</th>' +
  '<th class="num">GPUs credited</th><th class="num">USD</th><th>why not</th>';
