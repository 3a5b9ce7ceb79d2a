/** `sonm-rewards status`: the hours recorded, delivered and credited, from local state only. */
import type { CommandContext } from './context.js';
import type { OptionValues, STATUS } from './table.js';
import { EXIT, UsageError } from '../lib/errors.js';
import { makePaint } from '../lib/paint.js';
import { UptimeStore } from '../uptime/store.js';
import { summarize, type StatusSummary } from '../uptime/summary.js';
import type { Paint } from '../lib/paint.js';
import { describeDelta } from '../uptime/clock.js';
import { HOUR_MS, plural } from '../lib/time.js';
import { NO_SERVICE_NEXT_STEP } from './configure.js';

const BARS = ' ▁▂▃▄▅▆▇█';

export function renderStatus(s: StatusSummary, paint: Paint): string {
  const out: string[] = [];
  out.push(paint.bold('Last 24 hours (UTC), connected share per hour'));
  const bars = s.last24h.map((h) => (h.samples === 0 ? '·' : BARS[Math.round(h.share * 8)]!)).join('');
  out.push(`  ${bars}`);
  out.push(`  ${s.last24h[0]!.hour.slice(11, 13)}h${' '.repeat(Math.max(1, s.last24h.length - 6))}${s.last24h[s.last24h.length - 1]!.hour.slice(11, 13)}h`);
  out.push('', paint.bold('Credited per day'));
  for (const d of s.days) out.push(`  ${d.day}  ${String(d.creditedHours).padStart(2)} h  $${d.usd.toFixed(2)}`);
  const c = s.counts;
  out.push('', paint.bold('Hours'));
  out.push(`  recorded ${c.recorded}   delivered ${c.delivered}   credited ${c.credited}   rejected ${c.rejected}   pending ${c.pending}   expired ${c.expired}`);
  for (const [reason, n] of Object.entries(s.rejectedReasons)) out.push(`  rejected: ${n} × ${reason}`);
  if (c.pastDeadline) out.push(paint.yellow(`  ${c.pastDeadline} hour(s) can no longer be credited: undelivered past the programs' report deadline`));
  if (s.lost.droppedSamples || s.lost.droppedReports) out.push(`  dropped to stay under the size cap: ${s.lost.droppedSamples} samples, ${s.lost.droppedReports} reports`);
  if (s.skippedRecords) out.push(`  ${plural(s.skippedRecords, 'torn or corrupt record')} skipped`);
  out.push('');
  out.push(`Last sample: ${s.lastSample ? `${s.lastSample.t.replace('T', ' ').slice(0, 16)} UTC, ${s.lastSample.connected ? 'connected' : `not connected (${s.lastSample.reason})`}, ${s.lastSample.qualifying} qualifying GPUs` : 'none'}`);
  out.push(`Last delivery: ${s.lastDeliveryAt ? `${s.lastDeliveryAt.replace('T', ' ').slice(0, 16)} UTC` : 'never'}${s.enrolled ? ` to ${s.enrolled.service} as rig ${s.enrolled.rigId}` : ''}`);
  if (s.lastError) out.push(paint.yellow(`Last delivery problem: ${s.lastError}`));
  for (const j of s.clockJumps) out.push(paint.yellow(`! the clock jumped ${describeDelta(j.deltaMs)} at ${j.at.slice(0, 16).replace('T', ' ')} UTC (last tick before: ${j.from.slice(0, 16).replace('T', ' ')})`));
  if (s.markedSamples) out.push(paint.yellow(`! ${s.markedSamples} sample(s) were taken under a clock that proved wrong: kept, marked (clock.log)`));
  if (s.clockOffsetSeconds !== null && Math.abs(s.clockOffsetSeconds) >= 2) out.push(paint.yellow(`Clock offset: the service's clock is ${s.clockOffsetSeconds} s ${s.clockOffsetSeconds >= 0 ? 'ahead of' : 'behind'} this rig's`));
  for (const w of s.warnings) out.push(paint.yellow(`! ${w}`));
  return `${out.join('\n')}\n`;
}

export async function statusCommand(ctx: CommandContext, opts: OptionValues<typeof STATUS.options>): Promise<number> {
  const days = opts.days === undefined ? 7 : Number(opts.days);
  if (!Number.isInteger(days) || days < 1 || days > 30) throw new UsageError(`--days must be a whole number from 1 to 30, got "${opts.days}"`);
  const store = new UptimeStore(ctx.settings.stateDir);
  const now = ctx.now();
  // Samples are read for the last day or so (the chart, warnings, hours not built yet); the 30-day
  // counts come from the reports and results logs.
  const since = new Date(now.getTime() - 26 * HOUR_MS).toISOString().slice(0, 10);
  const { samples, skipped } = store.readSamples(since);
  const summary = summarize({ samples, reports: store.reports(), results: store.results(), state: store.state(), now, days, intervalSeconds: ctx.settings.intervalSeconds, skipped, marked: store.marks().size });
  if (ctx.json) ctx.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else ctx.stdout.write(renderStatus(summary, await makePaint(ctx.color)));
  if (!ctx.json && !ctx.settings.service) ctx.stdout.write(`Next: ${NO_SERVICE_NEXT_STEP}\n`);
  return EXIT.OK;
}
