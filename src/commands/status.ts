/** `sonm-rewards status`: the hours recorded, delivered and credited, from local state only. */
import type { CommandContext } from './context.js';
import type { OptionValues, STATUS } from './table.js';
import { EXIT, UsageError } from '../lib/errors.js';
import { makePaint } from '../lib/paint.js';
import { UptimeStore } from '../uptime/store.js';
import { summarize, type StatusSummary } from '../uptime/summary.js';
import type { Paint } from '../lib/paint.js';
import { describeDelta } from '../uptime/clock.js';
import { buildProof } from '../uptime/proof.js';
import { keyChangeText } from '../uptime/receipts.js';
import { HOUR_MS, plural } from '../lib/time.js';
import { NO_SERVICE_NEXT_STEP } from './configure.js';

/**
 * The dashboard pages of this rig and its master on `service` (src/service/dashboard/; README,
 * "Uptime", `status`), the master lower-cased; null without a service or an enrolment. Pure;
 * throws nothing.
 */
export function dashboardLinks(
  service: string | null,
  enrolled: StatusSummary['enrolled'],
): { rig: string; master: string } | null {
  if (!service || !enrolled) return null;
  const base = service.replace(/\/+$/, '');
  return {
    rig: `${base}/rigs/${enrolled.rigId}`,
    master: `${base}/masters/${enrolled.master.toLowerCase()}`,
  };
}

const BARS = ' ▁▂▃▄▅▆▇█';

/**
 * The human view of `status` (README, "Uptime", `status`): the last 24 hours as one bar per hour
 * (connected share of its samples, `·` for none), credit per day in USD, hour counts and rejected
 * reasons, the last sample and delivery, clock problems, `s.warnings`, then from `extra` the
 * receipts line and the dashboard links. Colour only through `paint`; ends in '\n'. Pure.
 * Throws TypeError when `s.last24h` is empty (summarize always gives it 24 rows).
 */
export function renderStatus(
  s: StatusSummary,
  paint: Paint,
  extra: {
    links?: { rig: string; master: string } | null;
    receipts?: { signed: number; keyId: string | null; event: string | null };
  } = {},
): string {
  const out: string[] = [];
  out.push(paint.bold('Last 24 hours (UTC), connected share per hour'));
  const bars = s.last24h
    .map((h) => (h.samples === 0 ? '·' : BARS[Math.round(h.share * 8)]!))
    .join('');
  out.push(`  ${bars}`);
  const firstHour = s.last24h[0]!.hour.slice(11, 13);
  const lastHour = s.last24h[s.last24h.length - 1]!.hour.slice(11, 13);
  out.push(`  ${firstHour}h${' '.repeat(Math.max(1, s.last24h.length - 6))}${lastHour}h`);
  out.push('', paint.bold('Credited per day'));
  for (const d of s.days)
    out.push(`  ${d.day}  ${String(d.creditedHours).padStart(2)} h  $${d.usd.toFixed(2)}`);
  const c = s.counts;
  out.push('', paint.bold('Hours'));
  out.push(
    `  recorded ${c.recorded}   delivered ${c.delivered}   credited ${c.credited}   ` +
      `rejected ${c.rejected}   pending ${c.pending}   expired ${c.expired}`,
  );
  for (const [reason, n] of Object.entries(s.rejectedReasons))
    out.push(`  rejected: ${n} × ${reason}`);
  if (c.pastDeadline)
    out.push(
      paint.yellow(
        `  ${c.pastDeadline} hour(s) can no longer be credited: undelivered past the programs' report deadline`,
      ),
    );
  if (s.lost.droppedSamples || s.lost.droppedReports)
    out.push(
      `  dropped to stay under the size cap: ${s.lost.droppedSamples} samples, ${s.lost.droppedReports} reports`,
    );
  if (s.skippedRecords) out.push(`  ${plural(s.skippedRecords, 'torn or corrupt record')} skipped`);
  out.push('');
  const ls = s.lastSample;
  const sample = ls
    ? `${utcMinute(ls.t)} UTC, ${ls.connected ? 'connected' : `not connected (${ls.reason})`}, ` +
      `${ls.qualifying} qualifying GPUs`
    : 'none';
  out.push(`Last sample: ${sample}`);
  const delivered = s.lastDeliveryAt ? `${utcMinute(s.lastDeliveryAt)} UTC` : 'never';
  const to = s.enrolled ? ` to ${s.enrolled.service} as rig ${s.enrolled.rigId}` : '';
  out.push(`Last delivery: ${delivered}${to}`);
  if (s.lastError) out.push(paint.yellow(`Last delivery problem: ${s.lastError}`));
  for (const j of s.clockJumps)
    out.push(
      paint.yellow(
        `! the clock jumped ${describeDelta(j.deltaMs)} at ${utcMinute(j.at)} UTC ` +
          `(last tick before: ${utcMinute(j.from)})`,
      ),
    );
  if (s.markedSamples)
    out.push(
      paint.yellow(
        `! ${s.markedSamples} sample(s) were taken under a clock that proved wrong: kept, marked (clock.log)`,
      ),
    );
  if (s.clockOffsetSeconds !== null && Math.abs(s.clockOffsetSeconds) >= 2)
    out.push(
      paint.yellow(
        `Clock offset: the service's clock is ${s.clockOffsetSeconds} s ` +
          `${s.clockOffsetSeconds >= 0 ? 'ahead of' : 'behind'} this rig's`,
      ),
    );
  for (const w of s.warnings) out.push(paint.yellow(`! ${w}`));
  const rc = extra.receipts;
  if (rc)
    out.push(
      `Receipts: ${rc.signed} signed answers kept` +
        `${rc.keyId ? `, service key ${rc.keyId} pinned` : ', no service key pinned yet'}` +
        ' (export: status --proof)',
    );
  if (rc?.event) out.push(paint.red(`! ${rc.event}`));
  if (extra.links)
    out.push(
      `Dashboard: ${extra.links.rig}`,
      `           ${extra.links.master} (all rigs of the master)`,
    );
  return `${out.join('\n')}\n`;
}

/** A --from/--to value: an ISO 8601 date or time; returns it as an ISO string, or throws UsageError. */
/** An ISO 8601 UTC time (`2026-11-29T16:21:59.000Z`) cut to the minute for display: `2026-11-29 16:21`. */
function utcMinute(iso: string): string {
  return iso.replace('T', ' ').slice(0, 16);
}

function isoOption(name: string, v: string | undefined, fallback: string): string {
  if (v === undefined) return fallback;
  const t = Date.parse(/^\d{4}-\d\d-\d\d$/.test(v) ? `${v}T00:00:00Z` : v);
  if (Number.isNaN(t))
    throw new UsageError(
      `--${name} must be a date or time such as 2019-05-01 or 2019-05-01T12:00:00Z, got "${v}"`,
    );
  return new Date(t).toISOString().replace('.000Z', 'Z');
}

/** `status --proof`: every signed receipt of [from, to) with its report, as one JSON document. */
function exportProof(
  ctx: CommandContext,
  store: UptimeStore,
  opts: { from?: string; to?: string },
): number {
  const now = ctx.now();
  const from = isoOption('from', opts.from, '1970-01-01T00:00:00Z');
  const to = isoOption(
    'to',
    opts.to,
    new Date(now.getTime() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  );
  const bundle = buildProof({
    records: store.results(),
    reports: store.reports(),
    state: store.state(),
    from,
    to,
    now,
  });
  ctx.stdout.write(`${JSON.stringify(bundle, null, 2)}\n`);
  if (bundle.unsigned > 0)
    ctx.stderr.write(
      `${bundle.unsigned} answer(s) in the period carry no receipt ` +
        '(delivered before the service signed them) and are not in the bundle\n',
    );
  return EXIT.OK;
}

/**
 * `sonm-rewards status [--days N] [--proof [--from D] [--to D]]`, from local state only: prints the
 * summary (renderStatus; `--json`: the StatusSummary with receipts and dashboard links), or with
 * `--proof` the proof bundle of [from, to) as JSON (docs/protocol.md, "Receipts"). `--days`: days
 * of credit, 1 to 30, default 7. README, "Uptime" (`status`, "Receipts and proof").
 * Returns EXIT.OK (0). Throws UsageError (exit 2) for `--from`/`--to` without `--proof`, a date
 * that does not parse, or `--days` outside 1–30; fs errors reading the state directory pass
 * through.
 */
export async function statusCommand(
  ctx: CommandContext,
  opts: OptionValues<typeof STATUS.options>,
): Promise<number> {
  if (!opts.proof && (opts.from !== undefined || opts.to !== undefined))
    throw new UsageError('--from and --to go with --proof');
  if (opts.proof) return exportProof(ctx, new UptimeStore(ctx.settings.stateDir), opts);
  const days = opts.days === undefined ? 7 : Number(opts.days);
  if (!Number.isInteger(days) || days < 1 || days > 30)
    throw new UsageError(`--days must be a whole number from 1 to 30, got "${opts.days}"`);
  const store = new UptimeStore(ctx.settings.stateDir);
  const now = ctx.now();
  // Samples are read for the last day or so (the chart, warnings, hours not built yet); the 30-day
  // counts come from the reports and results logs.
  const since = new Date(now.getTime() - 26 * HOUR_MS).toISOString().slice(0, 10);
  const { samples, skipped } = store.readSamples(since);
  const summary = summarize({
    samples,
    reports: store.reports(),
    results: store.results(),
    state: store.state(),
    now,
    days,
    intervalSeconds: ctx.settings.intervalSeconds,
    skipped,
    marked: store.marks().size,
  });
  const st = store.state();
  const receipts = {
    signed: store.results().filter((r) => r.receipt).length,
    keyId: st.serviceKey?.keyId ?? null,
    event: st.serviceKeyEvent ? keyChangeText(st.serviceKeyEvent) : null,
  };
  const links = dashboardLinks(ctx.settings.service, summary.enrolled);
  if (ctx.json)
    ctx.stdout.write(`${JSON.stringify({ ...summary, receipts, dashboard: links }, null, 2)}\n`);
  else ctx.stdout.write(renderStatus(summary, await makePaint(ctx.color), { links, receipts }));
  if (!ctx.json && !ctx.settings.service) ctx.stdout.write(`Next: ${NO_SERVICE_NEXT_STEP}\n`);
  return EXIT.OK;
}
