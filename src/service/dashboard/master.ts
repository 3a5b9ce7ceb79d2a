/**
 * The master page, `/masters/0x…`: every rig of a master with what it earned and why not, built
 * from the same store calls as the JSON API (rigProfiles, ledger for the last 24 hours, and the
 * ledger summed per day for the month), then rendered as HTML with one SVG chart.
 */
import type { RewardsStore } from '../store.js';
import { hourOf } from '../../protocol/report-id.js';
import { barChart } from './svg.js';
import { esc, page, usd, utc } from './html.js';
import { failingText, notEligibleText, outcomeText } from './reasons.js';
import { outcomeOf, type RigProfile } from './queries.js';

export interface RigRow {
  profile: RigProfile;
  /** Connected hours of the last 24 complete hours, over 24. */
  connectedShare24h: number;
  /** Hours of the period per outcome (credited, held, disputed, or a reason). */
  outcomes: Record<string, number>;
  usdMonth: number;
  /** Set when the rig earns nothing now: since when and why; null when it earned in the last complete hour. */
  stopped: { since: string | null; why: string } | null;
}

export interface MasterModel {
  master: string;
  now: string;
  month: string;
  rigs: RigRow[];
  days: { day: string; usd: number }[];
  usdMonth: number;
  usd30d: number;
}

const DAY = 86_400_000;

/**
 * Everything the page shows for `master` at `now`, or null when no rig is enrolled for it.
 * The 30 days end with today (UTC); the month is the calendar month of `now`.
 */
export function masterModel(store: RewardsStore, master: string, now: Date): MasterModel | null {
  const profiles = store.rigProfiles({ master });
  if (profiles.length === 0) return null;
  const current = hourOf(now);
  const dayStart = Date.parse(`${current.slice(0, 10)}T00:00:00Z`);
  const month = current.slice(0, 7);
  const from = new Date(Math.min(dayStart - 29 * DAY, Date.parse(`${month}-01T00:00:00Z`)))
    .toISOString()
    .replace('.000Z', 'Z');
  const summary = store.ledgerDays(
    profiles.map((p) => p.rigId),
    from,
    current,
  );
  const since24 = hourOf(now.getTime() - 24 * 3_600_000);
  const chartDays = Array.from({ length: 30 }, (_, i) =>
    new Date(dayStart - (29 - i) * DAY).toISOString().slice(0, 10),
  );
  const perDay = new Map(chartDays.map((d) => [d, 0]));
  const rigs = profiles.map((profile): RigRow => {
    const last24 = store.ledger(profile.rigId, since24, current);
    const outcomes: Record<string, number> = {};
    let usdMonth = 0;
    for (const d of summary.filter((s) => s.rigId === profile.rigId)) {
      if (perDay.has(d.day)) perDay.set(d.day, perDay.get(d.day)! + d.usd);
      if (!d.day.startsWith(month)) continue;
      outcomes[d.outcome] = (outcomes[d.outcome] ?? 0) + d.hours;
      usdMonth += d.usd;
    }
    const lastHour = hourOf(now.getTime() - 3_600_000);
    const latest = last24[last24.length - 1];
    let stopped: RigRow['stopped'] = null;
    if (!latest || latest.hour < lastHour)
      stopped = {
        since: profile.lastReportHour,
        why: profile.lastReportHour ? 'no report since then' : 'no report yet',
      };
    else if (latest.usd === 0) {
      let i = last24.length - 1;
      while (i > 0 && last24[i - 1]!.usd === 0) i--;
      const reason = outcomeOf(latest);
      stopped = { since: last24[i]!.hour, why: outcomeText(reason) };
    }
    if (profile.verdict && !profile.verdict.eligible && stopped)
      stopped.why += `; its last check: ${notEligibleText(profile.verdict)}`;
    return {
      profile,
      connectedShare24h: last24.filter((h) => h.connected).length / 24,
      outcomes,
      usdMonth: round(usdMonth),
      stopped,
    };
  });
  // Rigs that stopped earning first: a supplier sees them at a glance.
  rigs.sort(
    (a, b) =>
      Number(b.stopped !== null) - Number(a.stopped !== null) ||
      (a.profile.rigId < b.profile.rigId ? -1 : 1),
  );
  const days = chartDays.map((day) => ({ day, usd: round(perDay.get(day)!) }));
  return {
    master: profiles[0]!.master,
    now: now.toISOString(),
    month,
    rigs,
    days,
    usdMonth: round(rigs.reduce((s, r) => s + r.usdMonth, 0)),
    usd30d: round(days.reduce((s, d) => s + d.usd, 0)),
  };
}

const round = (v: number): number => Math.round(v * 10_000) / 10_000;

function outcomeCell(o: Record<string, number>, keys: string[]): string {
  const n = keys.reduce((s, k) => s + (o[k] ?? 0), 0);
  return `<td class="num">${n}</td>`;
}

/** The page for a model from masterModel. */
export function renderMaster(m: MasterModel): string {
  const stopped = m.rigs.filter((r) => r.stopped).length;
  const rows = m.rigs
    .map((r) => {
      const p = r.profile;
      const notCredited = Object.entries(r.outcomes).filter(
        ([k]) => !['credited', 'held', 'disputed'].includes(k),
      );
      const gpus =
        p.gpus.map((g) => `${g.count} × ${esc(g.model)}`).join('<br>') ||
        '<span class="muted">not reported</span>';
      const verdict =
        (p.verdict
          ? p.verdict.eligible
            ? '<span class="badge good">eligible</span>'
            : `<span class="badge bad">not eligible</span>${failingHtml(p.verdict)}`
          : '<span class="muted">no check sent</span>') +
        `<br><span class="muted">operator review: ${esc(p.review)}</span>`;
      const state = r.stopped
        ? `<span class="bad">earning nothing since ${esc(utc(r.stopped.since))}: ${esc(r.stopped.why)}</span>`
        : '<span class="good">earning</span>';
      return (
        `<tr class="${r.stopped ? 'alert' : ''}" data-rig="${esc(p.rigId)}">` +
        `<td><a href="/rigs/${esc(p.rigId)}"><code>${esc(p.rigId)}</code></a><br>${state}</td>` +
        `<td>${gpus}</td><td>${esc(utc(p.lastReportHour))}</td>` +
        `<td class="num" data-field="share24h">${Math.round(r.connectedShare24h * 100)}%</td>` +
        `<td>${verdict}</td>` +
        outcomeCell(r.outcomes, ['credited']) +
        outcomeCell(r.outcomes, ['held']) +
        outcomeCell(r.outcomes, ['disputed']) +
        `<td class="num">${notCredited.reduce((s, [, n]) => s + n, 0)}` +
        `${notCredited.map(([k, n]) => notCreditedLine(k, n)).join('')}</td>` +
        `<td class="num" data-field="usd-month">${usd(r.usdMonth)}</td></tr>`
      );
    })
    .join('');
  return page(
    `Master ${m.master}`,
    `<h1>Master <code>${esc(m.master)}</code></h1>` +
      `<p>${m.rigs.length} rig(s); ${earningText(stopped)}. ` +
      `Credited in ${esc(m.month)}: <strong data-field="usd-month-total">${usd(m.usdMonth)}</strong>; ` +
      `last 30 days: ${usd(m.usd30d)}. As of ${esc(utc(m.now))}.</p>` +
      `<h2>Credited USD per day, last 30 days</h2>${barChart(
        m.days.map((d) => ({ label: d.day, value: d.usd })),
        { title: 'Credited USD per day', unit: '$' },
      )}` +
      `<h2>Rigs</h2><table><thead><tr>${RIG_HEADINGS}<th class="num">USD ${esc(m.month)}</th></tr></thead>` +
      `<tbody>${rows}</tbody></table>` +
      '<p class="muted">Hours are counted for the calendar month (UTC). ' +
      'A rig that earned nothing in the last complete hour is listed first.</p>',
  );
}

const RIG_HEADINGS =
  '<th>rig</th><th>GPUs</th><th>last report</th><th class="num">connected, 24 h</th>' +
  '<th>last check</th><th class="num">credited h</th><th class="num">held h</th>' +
  '<th class="num">disputed h</th><th class="num">not credited h</th>';

/** One reason in the "not credited" cell: `n` hours not credited for `reason`. */
function notCreditedLine(reason: string, n: number): string {
  return `<br><span class="muted">${n} × ${esc(outcomeText(reason))}</span>`;
}

/** The summary's state: how many of the master's rigs earn nothing now (`stopped`), or all earning. */
function earningText(stopped: number): string {
  return stopped
    ? `<span class="bad">${stopped} earning nothing now</span>`
    : '<span class="good">all earning</span>';
}

/** The badge's detail: each failing check, else each program the rig does not qualify for. */
function failingHtml(v: { notQualifying: string[]; failing: [string, string][] }): string {
  if (v.failing.length) return `<br>failing: <code>${esc(failingText(v.failing))}</code>`;
  return v.notQualifying.map((id) => `<br>for <code>${esc(id)}</code>`).join('');
}
