/** Sending a check result to the service at once (`check --report`, `enroll`). */
import type { CommandContext } from './context.js';
import { verbose } from './context.js';
import type { CheckResult } from '../program/result.js';
import { loadOrCreateIdentity } from '../protocol/identity.js';
import { RewardsClient } from '../protocol/client.js';
import { AGENT_VERSION } from '../lib/agent-version.js';
import {
  ensureEnrolled,
  masterToEnrol,
  sendEligibilityIfDue,
  type DeliveryInput,
} from '../uptime/delivery.js';
import { UptimeStore } from '../uptime/store.js';
import { ReceiptError } from '../uptime/receipts.js';
import { acquireLockWaiting, LockBusyError } from '../lib/lock.js';

/** How long `enroll` and `check --report` wait for a running tick or upgrade to finish. */
const LOCK_WAIT_MS = 30_000;

/** What `enroll` may be told: the master, to enrol again, the service key to accept. */
export interface EnrolOptions {
  master?: string;
  forceEnrol?: boolean;
  acceptServiceKey?: string;
}

export interface EnrolResult {
  ok: boolean;
  enrolled: boolean;
  rigId: string | null;
  master: string | null;
  error: string | null;
  conflict: boolean;
}

/**
 * Enrol this rig (when not yet enrolled, or `forceEnrol`) and send `check` as its verdict, under
 * the state directory's lock (the one `report` and `upgrade` take: docs/decisions.md, "Races").
 * Returns what happened; failures are in `error`, never thrown, except the fs errors of the state
 * directory itself.
 */
export async function enrolAndSend(
  ctx: CommandContext,
  check: CheckResult | null,
  opts: EnrolOptions = {},
): Promise<EnrolResult> {
  const s = ctx.settings;
  if (!s.service)
    return {
      ok: false,
      enrolled: false,
      rigId: null,
      master: null,
      error: 'no service configured (--service URL or SONM_REWARDS_SERVICE)',
      conflict: false,
    };
  const store = new UptimeStore(s.stateDir);
  store.ensure();
  let lock;
  try {
    lock = await acquireLockWaiting(s.stateDir, 'enroll', LOCK_WAIT_MS, ctx.sleep);
  } catch (e) {
    if (!(e instanceof LockBusyError)) throw e;
    return {
      ok: false,
      enrolled: false,
      rigId: null,
      master: null,
      error: `${e.message}; try again when it has finished`,
      conflict: false,
    };
  }
  try {
    return await enrolLocked(ctx, store, check, opts);
  } finally {
    lock.release();
  }
}

async function enrolLocked(
  ctx: CommandContext,
  store: UptimeStore,
  check: CheckResult | null,
  opts: EnrolOptions,
): Promise<EnrolResult> {
  const s = ctx.settings as typeof ctx.settings & { service: string };
  const identity = loadOrCreateIdentity(s.stateDir);
  const state = store.state();
  const master = masterToEnrol(opts.master, s.sonmConfigDir, state, check?.sonm.worker?.master);
  const before = state.enrolled;
  if (opts.forceEnrol) state.enrolled = null;
  const budget = { attemptsLeft: 3, deadline: ctx.now().getTime() + 60_000, made: 0 };
  const client = new RewardsClient({
    baseUrl: s.service,
    identity,
    timeoutMs: s.deliveryTimeoutMs,
    budget,
    now: () => ctx.now().getTime(),
    sleep: ctx.sleep,
  });
  const inp: DeliveryInput = {
    store,
    client,
    identity,
    service: s.service,
    agentVersion: AGENT_VERSION,
    master,
    check,
    now: ctx.now,
    log: (l) => verbose(ctx, l),
    acceptServiceKey: opts.acceptServiceKey ?? null,
  };
  try {
    const enrolled = await ensureEnrolled(inp, state);
    if (check) await sendEligibilityIfDue(inp, state, true);
    store.saveState(state);
    return {
      ok: true,
      enrolled,
      rigId: identity.rigId,
      master: state.enrolled?.master ?? master,
      error: null,
      conflict: false,
    };
  } catch (e) {
    if (!state.enrolled) state.enrolled = before; // a refused re-enrolment leaves the old one as it was
    store.saveState(state);
    const msg = (e as Error).message;
    return {
      ok: false,
      enrolled: false,
      rigId: identity.rigId,
      master,
      error: msg,
      conflict: msg.startsWith('enrolment refused') || e instanceof ReceiptError,
    };
  }
}

/**
 * `check --report`: enrol the rig when needed and send `check` (a CheckResult) to the configured
 * service at once, under the state directory's lock (enrolAndSend; docs/protocol.md,
 * "Eligibility"; README, "Uptime", `enroll`). Returns `{ok: true, error: null}`, or
 * `{ok: false, error}` with one line saying why (no service, lock busy for 30 s, refused,
 * unreachable). Throws only what enrolAndSend throws: the fs errors of the state directory itself.
 */
export async function sendEligibility(
  ctx: CommandContext,
  check: CheckResult,
): Promise<{ ok: boolean; error: string | null }> {
  const r = await enrolAndSend(ctx, check);
  return { ok: r.ok, error: r.error };
}
