/**
 * Phase 2 of the report tick: what time it is, as far as the tick can know
 * (docs/decisions.md, "Time is evidence"). It compares this rig's clock with its reading at the
 * last tick (a jump is logged and kept for `status`), uses the service's clock offset while it is
 * current, and asks the service for its Date (one unsigned GET /healthz) after a jump, rather than
 * wait an hour to trust the clock again, and before an hour that our clock has passed waits on an
 * older measurement of the service's clock. This tick's sample is marked when the service's clock says
 * ours is off by more than the bound. The rules themselves are pure, in src/uptime/clock.ts.
 */
import { log } from './context.js';
import type { Tick } from './report.js';
import {
  currentOffset,
  describeDelta,
  detectJump,
  heldByOffset,
  markForSample,
  rememberJump,
  viewTime,
  type TimeView,
} from '../uptime/clock.js';
import type { AgentState } from '../uptime/store.js';

/**
 * Read the time for tick `t`: returns the tick's TimeView and records, in state.json, this tick's
 * clock reading, a jump if one was seen, and a freshly measured offset; appends this sample's mark.
 * Throws only fs errors of the state directory.
 */
export async function readTime(t: Tick): Promise<TimeView> {
  const st = t.store.state();
  const nowMs = t.now.getTime();
  const jump = detectJump(nowMs, st.lastTickAt, t.ctx.settings.intervalSeconds * 1000);
  let offset = currentOffset(nowMs, st, jump);
  let view = viewTime(nowMs, st, jump, offset);
  // Ask the service for its time after a jump, or before an hour waits on an older measurement.
  if (((!view.trusted && offset === null) || heldByOffset(view)) && mayAsk(t, st, nowMs)) {
    offset = (await askServiceClock(t, st)) ?? offset;
    view = viewTime(nowMs, st, jump, offset);
  }
  if (jump) {
    const off =
      view.service === null
        ? 'not confirmed by a service yet'
        : `the service's clock is ${describeDelta(view.service - nowMs)} from ours`;
    log(
      t.ctx,
      `warning: this rig's clock jumped ${describeDelta(jump.deltaMs)} since the last tick at ${jump.from} (${off})`,
    );
  }
  st.clockJumps = rememberJump(st.clockJumps, jump);
  st.lastTickAt = t.now.toISOString();
  t.store.saveState(st);
  const mark = markForSample(t.sample.t, view);
  if (mark) {
    t.store.appendMarks([mark]);
    log(
      t.ctx,
      `warning: this sample was ${mark.reason}; it is kept, marked, and counted at the service's time`,
    );
  }
  return view;
}

/** A service is configured and has not asked us to wait. */
function mayAsk(t: Tick, st: AgentState, nowMs: number): boolean {
  return Boolean(t.ctx.settings.service) && !(st.retryAt && Date.parse(st.retryAt) > nowMs);
}

/**
 * One unsigned GET /healthz for the service's Date header, from one attempt of the tick's budget.
 * Returns the offset (service minus ours, ms) and stores it in `st`; null when no answer came.
 */
async function askServiceClock(t: Tick, st: AgentState): Promise<number | null> {
  const s = t.ctx.settings;
  const { RewardsClient, DeferredError } = await import('../protocol/client.js');
  const one = {
    attemptsLeft: Math.min(1, t.budget.attemptsLeft),
    deadline: t.budget.deadline,
    made: 0,
  };
  const client = new RewardsClient({
    baseUrl: s.service!,
    timeoutMs: s.deliveryTimeoutMs,
    budget: one,
    now: () => t.ctx.now().getTime(),
    sleep: t.ctx.sleep,
  });
  try {
    await client.send('GET', '/healthz', undefined, false);
  } catch (e) {
    if (!(e instanceof DeferredError)) throw e;
  }
  t.budget.attemptsLeft -= one.made;
  t.budget.made += one.made;
  if (client.offsetAt === null) return null;
  st.clockOffsetMs = client.offsetMs;
  st.clockOffsetAt = new Date(client.offsetAt).toISOString();
  return client.offsetMs;
}
