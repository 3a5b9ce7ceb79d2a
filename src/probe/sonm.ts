/**
 * SONM: installed versions (dpkg-query, else sonmcli version), the worker (systemd state and
 * `sonmcli worker status`), and ask plans and deals. This file runs the commands; their output
 * is parsed by the pure functions of ./sonm-parse.ts (the facts behind them: sonm-platform.md).
 */
import type { MarketInfo, SonmVersions, WorkerInfo, WorkerStatus } from './types.js';
import { ProbeError, type ProbeContext } from './context.js';
import {
  DPKG_QUERY_ARGS,
  deriveConnection,
  lowestVersion,
  parseAskPlans,
  parseDealStatus,
  parseDpkgVersions,
  parseSonmcliJson,
  parseWorkerStatus,
} from './sonm-parse.js';
import { sonmcliAsRigUser } from '../lib/rig-user.js';
import { describeExec, type ExecResult } from '../lib/exec.js';

async function sonmcli(
  ctx: ProbeContext,
  args: string[],
  timeoutMs = ctx.deadlines.sonmcliMs,
): Promise<ExecResult> {
  const c = sonmcliAsRigUser(ctx, [...args, '--json']);
  return ctx.exec(c.command, c.args, { timeoutMs });
}

/** sonmcli is not installed: not found on PATH, or (run through sudo -u) sudo's "command not found". */
function sonmcliMissing(r: ExecResult): boolean {
  return (
    r.notFound ||
    (r.command === 'sudo' && (r.exitCode === 127 || /command not found|: not found/.test(r.stderr)))
  );
}

function sonmcliFailure(r: ExecResult): string | null {
  if (sonmcliMissing(r)) return 'sonmcli not found';
  if (r.timedOut) return 'sonmcli did not answer in time and was killed';
  if (r.spawnError) return describeExec(r);
  return null;
}

/**
 * The installed SONM versions: dpkg-query (installed packages only; the others with their
 * state), else `sonmcli version`. Used by `check`, the tick's verdict and `upgrade`'s
 * preflight and verification alike. Never throws.
 */
export async function probeSonmVersions(ctx: ProbeContext): Promise<SonmVersions> {
  const d = await ctx.exec('dpkg-query', DPKG_QUERY_ARGS, { timeoutMs: ctx.deadlines.toolMs });
  // dpkg-query exits 1 when any named package is unknown, but still prints the known ones.
  const dpkg =
    !d.notFound && !d.timedOut ? parseDpkgVersions(d.stdout) : { installed: {}, notInstalled: {} };
  if (Object.keys(dpkg.installed).length > 0) {
    return {
      packages: dpkg.installed,
      notInstalled: dpkg.notInstalled,
      source: 'dpkg-query',
      lowest: lowestVersion(dpkg.installed),
    };
  }
  const r = await sonmcli(ctx, ['version']);
  if (r.exitCode === 0) {
    const j = parseSonmcliJson<{ version?: string }>(r.stdout);
    if (j.ok && typeof j.value.version === 'string') {
      const pk = { 'sonm-cli': j.value.version };
      return {
        packages: pk,
        notInstalled: dpkg.notInstalled,
        source: 'sonmcli',
        lowest: lowestVersion(pk),
      };
    }
  }
  return { packages: {}, notInstalled: dpkg.notInstalled, source: 'none', lowest: null };
}

/**
 * systemd's ActiveState of `unit` ("active", "inactive", "failed", …) from `systemctl is-active`,
 * run under the tool deadline; null when systemctl is missing, hangs or cannot start. Throws
 * nothing.
 */
export async function probeServiceState(ctx: ProbeContext, unit: string): Promise<string | null> {
  const r = await ctx.exec('systemctl', ['is-active', unit], { timeoutMs: ctx.deadlines.toolMs });
  if (r.notFound || r.timedOut || r.spawnError) return null;
  return r.stdout.trim().split('\n')[0] || (r.exitCode === 0 ? 'active' : 'unknown');
}

/**
 * The worker: systemd's view and its own status. With `lazyService` (the 5-minute tick) systemctl
 * runs only when the status call fails: a worker that answers is running, and every spawn costs.
 */
export async function probeWorker(
  ctx: ProbeContext,
  opts: { lazyService?: boolean } = {},
): Promise<WorkerInfo> {
  const [eager, r] = await Promise.all([
    opts.lazyService ? Promise.resolve(undefined) : probeServiceState(ctx, 'sonm-worker'),
    sonmcli(ctx, ['worker', 'status']),
  ]);
  const answered = !r.notFound && !r.timedOut && !r.spawnError && r.exitCode === 0;
  const service =
    eager !== undefined ? eager : answered ? 'active' : await probeServiceState(ctx, 'sonm-worker');
  let status: WorkerStatus | null = null;
  let statusError = sonmcliFailure(r);
  if (!statusError) {
    const j = parseSonmcliJson(r.stdout);
    if (j.ok && r.exitCode === 0) status = parseWorkerStatus(j.value);
    else statusError = j.ok ? `sonmcli exited ${r.exitCode}` : j.message;
  }
  // No sonmcli and no running unit (systemd says "inactive" or "unknown" for a unit it lacks): not installed.
  if (sonmcliMissing(r) && service !== 'active') {
    return {
      service,
      status: null,
      statusError,
      connected: false,
      notConnectedReason: 'SONM is not installed',
      notConnectedCode: 'not-installed',
    };
  }
  const c = deriveConnection(service, status, statusError);
  return {
    service,
    status,
    statusError,
    connected: c.connected,
    notConnectedReason: c.reason,
    notConnectedCode: c.code,
  };
}

/**
 * The worker's ask plans (`sonmcli worker ask-plan list`, as the rig user) and, for each plan
 * with a deal, that deal's status (`sonmcli deal status`), each under the tool deadline.
 * Returns them as MarketInfo. Throws ProbeError (source 'sonmcli') when sonmcli is missing,
 * times out or answers with an error, naming which call failed.
 */
export async function probeMarket(ctx: ProbeContext): Promise<MarketInfo> {
  const r = await sonmcli(ctx, ['worker', 'ask-plan', 'list']);
  const failure = sonmcliFailure(r);
  if (failure) throw new ProbeError(failure, 'sonmcli');
  const j = parseSonmcliJson(r.stdout);
  if (!j.ok) throw new ProbeError(`ask-plan list failed: ${j.message}`, 'sonmcli');
  const askPlans = parseAskPlans(j.value);
  const deals = await Promise.all(
    askPlans
      .filter((p) => p.dealId)
      .map(async (p) => {
        const d = await sonmcli(ctx, ['deal', 'status', p.dealId!]);
        const dj = sonmcliFailure(d) ? null : parseSonmcliJson(d.stdout);
        if (!dj || !dj.ok)
          throw new ProbeError(
            `deal status ${p.dealId} failed: ${dj && !dj.ok ? dj.message : sonmcliFailure(d)}`,
            'sonmcli',
          );
        return parseDealStatus(p.dealId!, dj.value);
      }),
  );
  return { askPlans, deals };
}
