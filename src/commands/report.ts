/**
 * `sonm-rewards report`: one tick of the 5-minute timer, in named phases:
 *   1. record the sample, durably (exit 3 if that fails);
 *   2. read the time: a jump since the last tick, the service's clock offset (docs/decisions.md,
 *      "Time is evidence"), the mark of a sample taken under a clock that proved wrong;
 *   3. build the reports of hours that both clocks have passed;
 *   4. maintain: expiry, compaction, the size cap, only on a time the tick trusts;
 *   5. deliver if due, within a bounded budget (exit 0 even when deferred: the hours are on disk);
 *   6. export metrics for node_exporter.
 * The clock phase lives in report-time.ts, to keep this file to the tick's outline.
 * About 400 lines on purpose: the phases share one Tick and its lock, and are read in order.
 */
import type { CommandContext } from './context.js';
import { log, verbose } from './context.js';
import { EXIT, FailureError } from '../lib/errors.js';
import { acquireLock, LockBusyError, type Lock } from '../lib/lock.js';
import { loadPrograms, programsCacheAge, type LoadedPrograms } from '../program/source.js';
import { evaluate } from '../program/evaluate.js';
import { buildCheckResult, type CheckResult } from '../program/result.js';
import { probeRig, probeTick, type TickProbe } from '../probe/index.js';
import type { RigProbe } from '../probe/types.js';
import type { Program } from '../program/definitions.js';
import type { HourlyReport } from '../protocol/types.js';
import type { AttemptBudget } from '../protocol/client.js';
import { buildSample, type Sample } from '../uptime/sample.js';
import { creditWindowMs, pendingReports, UptimeStore, type ResultRecord } from '../uptime/store.js';
import { buildHourlyReport, bucketByHour, hoursToBuild } from '../uptime/hours.js';
import { compact, enforceSizeCap, expireStale, keepForMs } from '../uptime/retention.js';
import { writeMetrics } from '../uptime/metrics.js';
import { samplesOnTime, type TimeView } from '../uptime/clock.js';
import { gpuSetKey, verdictDue } from '../uptime/verdict.js';
import { probeContextFor } from './probe-context.js';
import { readTime } from './report-time.js';
import { AGENT_VERSION } from '../lib/agent-version.js';

const DAY_MS = 86_400_000;

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

/** What one tick did: its sample, hours built and delivered, what is pending, why delivery waited. */
export interface TickOutcome {
  sample: Sample;
  built: number;
  delivered: number;
  pending: number;
  deferred: string | null;
  attempts: number;
}

/** What the phases of one tick share. */
export interface Tick {
  ctx: CommandContext;
  deps: TickDeps;
  store: UptimeStore;
  now: Date;
  loaded: LoadedPrograms;
  /** The whole rig, when deps.probe gave it; else null (probed only when a verdict is due). */
  full: RigProbe | null;
  probe: TickProbe;
  sample: Sample;
  budget: AttemptBudget;
  windowMs: number;
  reports: HourlyReport[];
  finals: Map<string, ResultRecord>;
}

function isDiskError(e: unknown): boolean {
  return ['ENOSPC', 'EROFS', 'EACCES', 'EPERM', 'EDQUOT', 'EIO'].includes(
    (e as NodeJS.ErrnoException).code ?? '',
  );
}

/**
 * One tick of the timer (the phases above). Returns its outcome; throws FailureError (exit 3)
 * when the state directory cannot be used or locked, or the sample cannot be stored.
 */
export async function runTick(ctx: CommandContext, deps: TickDeps = {}): Promise<TickOutcome> {
  const store = openStore(ctx);
  const lock = lockStore(ctx);
  try {
    const t = await recordSample(ctx, deps, store);
    const time = await readTime(t);
    const built = await buildHours(t, time);
    if (built >= 0) maintain(t, time);
    const outcome = await deliverIfDue(t, time);
    exportMetrics(t, outcome.pending);
    return { sample: t.sample, built: Math.max(0, built), ...outcome, attempts: t.budget.made };
  } finally {
    lock.release();
  }
}

function openStore(ctx: CommandContext): UptimeStore {
  const store = new UptimeStore(ctx.settings.stateDir);
  try {
    store.ensure();
  } catch (e) {
    throw new FailureError(
      `cannot use the state directory ${ctx.settings.stateDir}: ${(e as Error).message}`,
    );
  }
  return store;
}

function lockStore(ctx: CommandContext): Lock {
  try {
    return acquireLock(ctx.settings.stateDir, 'report');
  } catch (e) {
    if (e instanceof LockBusyError)
      throw new FailureError(`${e.message}; this tick's sample was not taken`);
    throw new FailureError(
      `cannot lock the state directory ${ctx.settings.stateDir}: ${(e as Error).message}`,
    );
  }
}

/** Phase 1: probe what a sample needs and append the sample durably. */
async function recordSample(
  ctx: CommandContext,
  deps: TickDeps,
  store: UptimeStore,
): Promise<Tick> {
  const s = ctx.settings;
  const now = ctx.now();
  const loaded = await loadPrograms({
    service: null,
    stateDir: s.stateDir,
    timeoutMs: s.deliveryTimeoutMs,
    now,
  });
  // A tick probes only what a sample needs; the whole rig is probed when a verdict is due.
  const full = deps.probe ? await deps.probe() : null;
  const probe = full ?? (await probeTick(probeContextFor(ctx), now));
  const sample = buildSample(probe, loaded.programs);
  try {
    store.appendSample(sample);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    throw new FailureError(
      `cannot store the sample in ${store.samplesDir}: ${code} ${(e as Error).message}`.replace(
        /\s+/g,
        ' ',
      ),
    );
  }
  verbose(
    ctx,
    `sample: ${sample.connected ? 'connected' : `not connected (${sample.reason})`}, ` +
      `${sample.qualifying} qualifying GPUs`,
  );
  const budget = {
    attemptsLeft: s.tickAttempts,
    deadline: now.getTime() + s.tickDeadlineMs,
    made: 0,
  };
  // The logs are read once here and kept current in memory as this tick appends to them.
  const reports = store.reports();
  return {
    ctx,
    deps,
    store,
    now,
    loaded,
    full,
    probe,
    sample,
    budget,
    windowMs: creditWindowMs(loaded.programs),
    reports,
    finals: store.finalResults(),
  };
}

/**
 * Phase 3: build the reports of complete hours, that both clocks have passed. Returns how many
 * were built, or -1 when a disk error stopped it (the sample is stored; maintenance is skipped).
 */
async function buildHours(t: Tick, time: TimeView): Promise<number> {
  if (time.buildUntil === null) {
    verbose(t.ctx, `no hours built: ${time.why}`);
    return 0;
  }
  try {
    const fresh = await newReports(t, time, time.buildUntil);
    t.store.appendReports(fresh);
    t.reports = [...t.reports, ...fresh];
    return fresh.length;
  } catch (e) {
    if (!isDiskError(e)) throw e;
    log(
      t.ctx,
      `warning: the sample is stored, but reports could not be built: ${(e as Error).message}`,
    );
    return -1;
  }
}

async function newReports(t: Tick, time: TimeView, until: number): Promise<HourlyReport[]> {
  const s = t.ctx.settings;
  let seq = t.reports.reduce((m, r) => Math.max(m, r.seq), 0);
  const builtHours = new Set(t.reports.map((r) => r.hour));
  // Hours are built in order as they complete, so only samples from the newest built hour's day
  // on can belong to an unbuilt hour: a tick reads a day or two, not a month. An hour "built" in
  // the future of the trusted time cannot narrow the window.
  const bestHour = new Date(time.best).toISOString();
  const newestBuilt = t.reports.reduce(
    (m, r) => (r.hour > m && r.hour <= bestHour ? r.hour : m),
    '',
  );
  const windowDay = new Date(until - t.windowMs).toISOString().slice(0, 10);
  const since = newestBuilt.slice(0, 10) > windowDay ? newestBuilt.slice(0, 10) : windowDay;
  const onTime = samplesOnTime(t.store.readSamples(since).samples, t.store.marks(), time);
  t.store.appendMarks(onTime.marks);
  const byHour = bucketByHour(onTime.samples);
  const hours = hoursToBuild(byHour, builtHours, until, t.windowMs);
  if (!hours.length) return [];
  // The key (and node:crypto) is loaded only when an hour has completed: once an hour.
  const { loadOrCreateIdentity } = await import('../protocol/identity.js');
  const rigId = loadOrCreateIdentity(s.stateDir).rigId;
  const meta = { rigId, intervalSeconds: s.intervalSeconds, agentVersion: AGENT_VERSION };
  return hours.map((h) => buildHourlyReport(h, byHour.get(h)!, { ...meta, seq: ++seq }));
}

/**
 * Phase 4: expiry past the programs' deadline, daily compaction and the size cap, on the
 * trusted time only (docs/decisions.md, "Time is evidence").
 */
function maintain(t: Tick, time: TimeView): void {
  if (!time.trusted) {
    verbose(t.ctx, `no expiry or compaction this tick: ${time.why}`);
    return;
  }
  try {
    const expired = expireStale(t.store, t.reports, t.finals, time.best, t.windowMs);
    if (expired)
      log(
        t.ctx,
        `${expired} hour(s) can no longer be credited (past the programs' report deadline): marked expired`,
      );
    const st = t.store.state();
    if (st.lastCompaction && Math.abs(time.best - Date.parse(st.lastCompaction)) <= DAY_MS) return;
    compact(t.store, time.best, keepForMs(t.windowMs));
    const capped = enforceSizeCap(
      t.store,
      t.ctx.settings.maxStateBytes,
      new Date(time.best).toISOString().slice(0, 10),
    );
    st.lastCompaction = new Date(time.best).toISOString();
    st.lost.droppedSamples += capped.droppedSamples;
    t.store.saveState(st);
    // Compaction rewrote the logs (once a day): read them again.
    t.reports = t.store.reports();
    t.finals = t.store.finalResults();
  } catch (e) {
    if (isDiskError(e))
      log(t.ctx, `warning: maintenance of the state directory failed: ${(e as Error).message}`);
    else throw e;
  }
}

/** Phase 5: enrol, send the verdict if due and the pending hours, when there is something to send. */
async function deliverIfDue(
  t: Tick,
  time: TimeView,
): Promise<{ delivered: number; pending: number; deferred: string | null }> {
  const s = t.ctx.settings;
  const until = time.buildUntil ?? -Infinity;
  const pending = pendingReports(t.reports, t.finals, time.best, t.windowMs, until).length;
  const st = t.store.state();
  const programsKey = programsFingerprint(t.loaded.programs);
  const gpusKey = gpuSetKey(t.sample.gpus);
  const due = verdictDue({
    service: s.service,
    enrolledWith: st.enrolled?.service ?? null,
    sent: st.eligibility,
    nowMs: time.best,
    qualifying: t.sample.qualifying,
    gpusKey,
    programsKey,
  });
  // The HTTP client and the delivery code load only when there is something to send.
  if (!s.service || (pending === 0 && !due)) return { delivered: 0, pending, deferred: null };
  if (due) verbose(t.ctx, `verdict due: ${due}`);
  const [{ deliver, masterToEnrol }, { RewardsClient }] = await Promise.all([
    import('../uptime/delivery.js'),
    import('../protocol/client.js'),
  ]);
  const { loadOrCreateIdentity } = await import('../protocol/identity.js');
  const identity = loadOrCreateIdentity(s.stateDir);
  const client = new RewardsClient({
    baseUrl: s.service,
    identity,
    timeoutMs: s.deliveryTimeoutMs,
    budget: t.budget,
    now: () => t.ctx.now().getTime(),
    sleep: t.ctx.sleep,
    random: t.deps.random,
    onAttempt: (w) => verbose(t.ctx, w),
    onWarning: (w) => log(t.ctx, `warning: ${w}`),
    offsetMs: time.service === null ? null : time.service - time.ours,
  });
  const check = due ? await verdict(t) : null;
  const workerMaster = t.probe.worker.ok ? t.probe.worker.value.status?.master : null;
  const master = masterToEnrol(null, s.sonmConfigDir, st, workerMaster);
  const d = await deliver({
    store: t.store,
    client,
    identity,
    service: s.service,
    agentVersion: AGENT_VERSION,
    master,
    check,
    seen: { qualifying: t.sample.qualifying, gpusKey, programsKey },
    log: (l) => log(t.ctx, l),
    now: () => new Date(client.serviceNow()), // records are dated on the service's clock when known
    sendUntil: until,
    windowMs: t.windowMs,
  });
  t.finals = t.store.finalResults(); // delivery appended results
  for (const r of d.rejected) log(t.ctx, `report for ${r.hour} rejected: ${r.reason}`);
  if (d.deferred)
    log(
      t.ctx,
      `delivery deferred (${d.pending} hour${d.pending === 1 ? '' : 's'} pending, kept on disk): ${d.deferred}`,
    );
  else await refreshPrograms(t);
  return { delivered: d.delivered, pending: d.pending, deferred: d.deferred };
}

/** The verdict of the whole rig, probing what the tick did not (the tick's GPUs and worker are reused). */
async function verdict(t: Tick): Promise<CheckResult> {
  const reuse = { nvidia: t.probe.nvidia, worker: t.probe.worker };
  const rig =
    t.full ?? (await probeRig(probeContextFor(t.ctx), { market: false, now: () => t.now, reuse }));
  return buildCheckResult(rig, evaluate(rig, t.loaded.programs, t.now), t.loaded.source);
}

/** The service answered: refresh its program definitions once a day (cached for later ticks). */
async function refreshPrograms(t: Tick): Promise<void> {
  const s = t.ctx.settings;
  if (t.loaded.source === 'cache' && programsCacheAge(s.stateDir, t.now) <= DAY_MS) return;
  const fresh = await loadPrograms({
    service: s.service,
    stateDir: s.stateDir,
    timeoutMs: s.deliveryTimeoutMs,
    now: t.now,
  });
  if (fresh.warning) verbose(t.ctx, `programs not refreshed: ${fresh.warning}`);
}

/** Phase 6: the Prometheus textfile, if a directory is configured. A failure is a warning. */
function exportMetrics(t: Tick, pending: number): void {
  const dir = t.ctx.settings.textfileDir;
  if (!dir) return;
  try {
    const latest = t.store.state();
    const answered = [...t.finals.values()];
    writeMetrics(dir, {
      connected: t.sample.connected,
      qualifyingGpus: t.sample.qualifying,
      hoursPending: pending,
      hoursDelivered: answered.filter((f) => f.status === 'accepted' || f.status === 'duplicate')
        .length,
      hoursRejected: answered.filter((f) => f.status === 'rejected').length,
      lastSampleSeconds: Math.floor(Date.parse(t.sample.t) / 1000),
      lastDeliverySeconds: latest.lastDeliveryAt
        ? Math.floor(Date.parse(latest.lastDeliveryAt) / 1000)
        : null,
      clockOffsetSeconds:
        latest.clockOffsetMs === null ? null : Math.round(latest.clockOffsetMs / 1000),
    });
  } catch (e) {
    log(t.ctx, `warning: cannot write metrics to ${dir}: ${(e as Error).message}`);
  }
}

/** The `report` command: one tick, then a line (or JSON) saying what it did. Returns exit 0. */
export async function reportCommand(ctx: CommandContext): Promise<number> {
  const o = await runTick(ctx);
  const { sample, built, delivered, pending, deferred, attempts } = o;
  if (ctx.json)
    ctx.stdout.write(
      `${JSON.stringify({ sample, built, delivered, pending, deferred, attempts })}\n`,
    );
  else if (ctx.verbose || ctx.stdout.isTTY) {
    const state = sample.connected ? 'connected' : `not connected: ${sample.reason}`;
    ctx.stdout.write(
      `sample stored (${state}); ${built} hour(s) built, ${delivered} delivered, ${pending} pending\n`,
    );
  }
  return EXIT.OK;
}
