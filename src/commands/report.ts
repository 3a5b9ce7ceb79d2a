/**
 * `sonm-rewards report`: one tick of the 5-minute timer. Take a sample and store it durably
 * (exit 3 if that fails), build reports for complete hours, then try to deliver within a
 * bounded budget (exit 0 even when delivery is deferred: the hours are safe on disk).
 */
import type { CommandContext } from './context.js';
import { log, verbose } from './context.js';
import { EXIT, FailureError } from '../lib/errors.js';
import { acquireLock, LockBusyError } from '../lib/lock.js';
import { loadPrograms, programsCacheAge } from '../program/source.js';
import { evaluate } from '../program/evaluate.js';
import { buildCheckResult, type CheckResult } from '../program/result.js';
import { probeRig, probeTick } from '../probe/index.js';
import type { RigProbe } from '../probe/types.js';
import type { Program } from '../program/definitions.js';
import { buildSample, type Sample } from '../uptime/sample.js';
import { pendingReports, RETENTION_MS, UptimeStore } from '../uptime/store.js';
import { buildHourlyReport, bucketByHour, hoursToBuild } from '../uptime/hours.js';
import { compact, enforceSizeCap, expireStale } from '../uptime/retention.js';
import { writeMetrics } from '../uptime/metrics.js';
import { probeContextFor } from './probe-context.js';
import { AGENT_VERSION } from '../lib/agent-version.js';

/** Identifies a set of program definitions, so a changed set re-sends the verdict. */
function programsFingerprint(programs: Program[]): string {
  // FNV-1a over the definitions' JSON: enough to notice a change, without loading node:crypto.
  const text = JSON.stringify(programs);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return `${text.length.toString(36)}-${h.toString(36)}`;
}

export interface TickDeps {
  /** Replace the rig probe (in-process simulations); defaults to the real probe. */
  probe?: () => Promise<RigProbe>;
  random?: () => number;
}

export interface TickOutcome { sample: Sample; built: number; delivered: number; pending: number; deferred: string | null; attempts: number }

function isDiskError(e: unknown): boolean {
  return ['ENOSPC', 'EROFS', 'EACCES', 'EPERM', 'EDQUOT', 'EIO'].includes((e as NodeJS.ErrnoException).code ?? '');
}

export async function runTick(ctx: CommandContext, deps: TickDeps = {}): Promise<TickOutcome> {
  const s = ctx.settings;
  const store = new UptimeStore(s.stateDir);
  try {
    store.ensure();
  } catch (e) {
    throw new FailureError(`cannot use the state directory ${s.stateDir}: ${(e as Error).message}`);
  }
  let lock;
  try {
    lock = acquireLock(s.stateDir, 'report');
  } catch (e) {
    if (e instanceof LockBusyError) throw new FailureError(`${e.message}; this tick's sample was not taken`);
    throw new FailureError(`cannot lock the state directory ${s.stateDir}: ${(e as Error).message}`);
  }
  try {
    const now = ctx.now();
    const loaded = await loadPrograms({ service: null, stateDir: s.stateDir, timeoutMs: s.deliveryTimeoutMs, now });
    // A tick probes only what a sample needs; the whole rig is probed when a verdict is due.
    const probeCtx = deps.probe ? null : probeContextFor(ctx);
    const full = deps.probe ? await deps.probe() : null;
    const tickProbe = full ?? (await probeTick(probeCtx!, now));
    const sample = buildSample(tickProbe, loaded.programs);
    try {
      store.appendSample(sample);
    } catch (e) {
      throw new FailureError(`cannot store the sample in ${store.samplesDir}: ${(e as NodeJS.ErrnoException).code ?? ''} ${(e as Error).message}`.replace(/\s+/g, ' '));
    }
    verbose(ctx, `sample: ${sample.connected ? 'connected' : `not connected (${sample.reason})`}, ${sample.qualifying} qualifying GPUs`);

    // Build reports for complete hours. The reports log is the source of truth for what is built.
    // The logs are read once here and kept current in memory as this tick appends to them.
    let built = 0;
    let reports = store.reports();
    let finals = store.finalResults();
    try {
      let seq = reports.reduce((m, r) => Math.max(m, r.seq), 0);
      const builtHours = new Set(reports.map((r) => r.hour));
      // Hours are built in order as they complete, so only samples from the newest built hour's day
      // on can belong to an unbuilt hour: a tick reads a day or two, not 30 days.
      const newestBuilt = reports.reduce((m, r) => (r.hour > m ? r.hour : m), '');
      const retentionDay = new Date(now.getTime() - RETENTION_MS).toISOString().slice(0, 10);
      const since = newestBuilt.slice(0, 10) > retentionDay ? newestBuilt.slice(0, 10) : retentionDay;
      const byHour = bucketByHour(store.readSamples(since).samples);
      const hours = hoursToBuild(byHour, builtHours, now.getTime(), RETENTION_MS);
      // The key (and node:crypto) is loaded only when an hour has completed: once an hour, not every tick.
      const rigId = hours.length ? (await import('../protocol/identity.js')).loadOrCreateIdentity(s.stateDir).rigId : '';
      const fresh = hours.map((h) => buildHourlyReport(h, byHour.get(h)!, { rigId, intervalSeconds: s.intervalSeconds, agentVersion: AGENT_VERSION, seq: ++seq }));
      store.appendReports(fresh);
      reports = [...reports, ...fresh];
      built = fresh.length;
      expireStale(store, reports, finals, now.getTime());
      const st = store.state();
      if (!st.lastCompaction || now.getTime() - Date.parse(st.lastCompaction) > 86_400_000) {
        compact(store, now.getTime());
        const capped = enforceSizeCap(store, s.maxStateBytes);
        st.lastCompaction = now.toISOString();
        st.lost.droppedSamples += capped.droppedSamples;
        store.saveState(st);
        // Compaction rewrote the logs (once a day): read them again.
        reports = store.reports();
        finals = store.finalResults();
      }
    } catch (e) {
      if (isDiskError(e)) log(ctx, `warning: the sample is stored, but reports could not be built: ${(e as Error).message}`);
      else throw e;
    }

    let outcome = { delivered: 0, pending: 0, deferred: null as string | null };
    const budget = { attemptsLeft: s.tickAttempts, deadline: now.getTime() + s.tickDeadlineMs, made: 0 };
    outcome.pending = pendingReports(reports, finals, now.getTime()).length;
    const st = store.state();
    const programsKey = programsFingerprint(loaded.programs);
    const verdictDue = Boolean(s.service) && (!st.enrolled || st.enrolled.service !== s.service || !st.eligibility
      || now.getTime() - Date.parse(st.eligibility.sentAt) >= 86_400_000
      || st.eligibility.qualifyingSeen !== sample.qualifying || st.eligibility.programsKey !== programsKey);
    // The HTTP client and the delivery code load only when there is something to send.
    if (s.service && (outcome.pending > 0 || verdictDue)) {
      const [{ deliver, masterToEnrol }, { RewardsClient }] = await Promise.all([import('../uptime/delivery.js'), import('../protocol/client.js')]);
      const { loadOrCreateIdentity } = await import('../protocol/identity.js');
      const identity = loadOrCreateIdentity(s.stateDir);
      const client = new RewardsClient({ baseUrl: s.service, identity, timeoutMs: s.deliveryTimeoutMs, budget, now: () => ctx.now().getTime(), sleep: ctx.sleep, random: deps.random, onAttempt: (w) => verbose(ctx, w) });
      let check: CheckResult | null = null;
      if (verdictDue) {
        const rig = full ?? (await probeRig(probeCtx!, { market: false, now: () => now, reuse: { nvidia: tickProbe.nvidia, worker: tickProbe.worker } }));
        check = buildCheckResult(rig, evaluate(rig, loaded.programs, now), loaded.source);
      }
      const master = masterToEnrol(null, s.sonmConfigDir, st, tickProbe.worker.ok ? tickProbe.worker.value.status?.master : null);
      const d = await deliver({ store, client, identity, service: s.service, agentVersion: AGENT_VERSION, master, check, seen: { qualifying: sample.qualifying, programsKey }, now: ctx.now, log: (l) => log(ctx, l) });
      outcome = { delivered: d.delivered, pending: d.pending, deferred: d.deferred };
      finals = store.finalResults(); // delivery appended results
      for (const r of d.rejected) log(ctx, `report for ${r.hour} rejected: ${r.reason}`);
      if (d.deferred) log(ctx, `delivery deferred (${d.pending} hour${d.pending === 1 ? '' : 's'} pending, kept on disk): ${d.deferred}`);
      // The service answered: refresh its program definitions once a day (cached for later ticks).
      if (!d.deferred && (loaded.source !== 'cache' || programsCacheAge(s.stateDir, now) > 86_400_000)) {
        const fresh = await loadPrograms({ service: s.service, stateDir: s.stateDir, timeoutMs: s.deliveryTimeoutMs, now });
        if (fresh.warning) verbose(ctx, `programs not refreshed: ${fresh.warning}`);
      }
    }

    if (s.textfileDir) {
      try {
        const latest = store.state();
        const answered = [...finals.values()];
        writeMetrics(s.textfileDir, {
          connected: sample.connected,
          qualifyingGpus: sample.qualifying,
          hoursPending: outcome.pending,
          hoursDelivered: answered.filter((f) => f.status === 'accepted' || f.status === 'duplicate').length,
          hoursRejected: answered.filter((f) => f.status === 'rejected').length,
          lastSampleSeconds: Math.floor(Date.parse(sample.t) / 1000),
          lastDeliverySeconds: latest.lastDeliveryAt ? Math.floor(Date.parse(latest.lastDeliveryAt) / 1000) : null,
          clockOffsetSeconds: latest.clockOffsetMs === null ? null : Math.round(latest.clockOffsetMs / 1000),
        });
      } catch (e) {
        log(ctx, `warning: cannot write metrics to ${s.textfileDir}: ${(e as Error).message}`);
      }
    }
    return { sample, built, ...outcome, attempts: budget.made };
  } finally {
    lock.release();
  }
}

export async function reportCommand(ctx: CommandContext): Promise<number> {
  const o = await runTick(ctx);
  if (ctx.json) ctx.stdout.write(`${JSON.stringify({ sample: o.sample, built: o.built, delivered: o.delivered, pending: o.pending, deferred: o.deferred, attempts: o.attempts })}\n`);
  else if (ctx.verbose || ctx.stdout.isTTY) ctx.stdout.write(`sample stored (${o.sample.connected ? 'connected' : `not connected: ${o.sample.reason}`}); ${o.built} hour(s) built, ${o.delivered} delivered, ${o.pending} pending\n`);
  return EXIT.OK;
}
