/**
 * SONM's output, parsed: dpkg-query's package lines, sonmcli's JSON (version, worker status,
 * ask plans, deals, purge), and the worker's connection derived from them. Pure functions; the
 * probes that run the commands are in ./sonm.ts. sonm-platform.md holds the facts behind every
 * parser here: JSON lines end in \r\n, zero/false fields are omitted, errors are
 * {"error":"","message":"…"} on stdout with exit 1.
 */
import type { AskPlanInfo, DealInfo, WorkerReasonCode, WorkerStatus } from './types.js';
import { compareVersions, formatVersion, parseVersion } from '../lib/version.js';

export const SONM_PACKAGES = ['sonm-worker', 'sonm-node', 'sonm-cli', 'sonm-optimus'] as const;

/**
 * What probeSonmVersions asks dpkg-query for: one line per package, tab-separated, with the
 * package's dpkg status ("install ok installed", "deinstall ok config-files", …). The status is
 * what tells an installed package from one removed with its configuration left (`rc`).
 */
export const DPKG_QUERY_ARGS = [
  '-W',
  '-f=${Package}\\t${Status}\\t${Version}\\n',
  ...SONM_PACKAGES,
];

/**
 * dpkg states in which a package's files are in place and configured (dpkg(1), "Package
 * states"): triggers-* packages are configured and only await trigger processing.
 */
const INSTALLED_STATES = new Set(['installed', 'triggers-pending', 'triggers-awaited']);

export interface DpkgVersions {
  /** Installed packages only: name -> version. */
  installed: Record<string, string>;
  /** Known but not installed: name -> dpkg state ("config-files", "half-installed", …). */
  notInstalled: Record<string, string>;
}

/**
 * Parse DPKG_QUERY_ARGS output ("sonm-cli\tinstall ok installed\t0.4.25"). Only installed packages
 * get a version; an `rc` package is "config-files", never "0.4.24 installed". The error flag
 * `reinstreq` (second word) marks a package as "reinst-required". Pure; never throws.
 */
export function parseDpkgVersions(text: string): DpkgVersions {
  const out: DpkgVersions = { installed: {}, notInstalled: {} };
  for (const line of text.split(/\r?\n/)) {
    const [name, status, version] = line.split('\t');
    const [, flag, state] = status?.trim().split(/\s+/) ?? [];
    if (!name || !state) continue;
    if (flag === 'reinstreq') out.notInstalled[name] = 'reinst-required';
    else if (INSTALLED_STATES.has(state) && version?.trim()) out.installed[name] = version.trim();
    else out.notInstalled[name] = state;
  }
  return out;
}

/** The lowest parseable version among the core components, normalised; null if none parse. */
export function lowestVersion(packages: Record<string, string>): string | null {
  const parsed = SONM_PACKAGES.filter((p) => p in packages).map((p) => parseVersion(packages[p]));
  if (parsed.length === 0 || parsed.some((v) => v === null)) return null;
  const lowest = (parsed as NonNullable<(typeof parsed)[number]>[]).sort(compareVersions)[0]!;
  return formatVersion(lowest);
}

/** Parse sonmcli's JSON output: tolerate \r\n and surrounding noise; surface its error message. */
export function parseSonmcliJson<T = unknown>(
  stdout: string,
): { ok: true; value: T } | { ok: false; message: string } {
  const text = stdout.replace(/\r/g, '').trim();
  if (!text) return { ok: false, message: 'sonmcli printed nothing' };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    const start = text.search(/[[{]/);
    try {
      v = JSON.parse(text.slice(start));
    } catch {
      return {
        ok: false,
        message: `sonmcli printed something that is not JSON: ${text.slice(0, 120)}`,
      };
    }
  }
  if (
    v &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    'message' in v &&
    'error' in v &&
    Object.keys(v).length <= 3
  ) {
    return { ok: false, message: String((v as { message: unknown }).message) };
  }
  return { ok: true, value: v as T };
}

/** Durations come as {"nanoseconds": N}; an empty object or a missing key means 0. */
export function durationSeconds(d: unknown): number {
  if (typeof d === 'number') return d;
  const ns = (d as { nanoseconds?: unknown } | undefined)?.nanoseconds;
  const n = typeof ns === 'string' ? Number(ns) : typeof ns === 'number' ? ns : 0;
  return Number.isFinite(n) ? n / 1e9 : 0;
}

/**
 * `sonmcli worker status --out json`, already JSON-parsed (`v`: any value), as a WorkerStatus:
 * strings kept only when non-empty, `uptime` in seconds when a number, the two confirmations
 * true only when sonmcli says `true`. Pure; throws nothing (a missing field reads as null/false).
 * The rule that reads them is README "check" (the sonm-worker row).
 */
export function parseWorkerStatus(v: unknown): WorkerStatus {
  const o = (v ?? {}) as Record<string, unknown>;
  const s = (k: string): string | null =>
    typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : null;
  const geo = o.geo as { country?: { IsoCode?: string } } | undefined;
  return {
    uptime: typeof o.uptime === 'number' ? o.uptime : null,
    version: s('version'),
    ethAddr: s('ethAddr'),
    master: s('master'),
    admin: s('admin'),
    isMasterConfirmed: o.isMasterConfirmed === true,
    isBenchmarkFinished: o.isBenchmarkFinished === true,
    rendezvousStatus: s('rendezvousStatus'),
    taskCount: typeof o.taskCount === 'number' ? o.taskCount : 0,
    country: geo?.country?.IsoCode ?? null,
  };
}

/**
 * sonmcli's error says it could not reach the local sonm-node (every `worker …` command goes
 * through it, on :15030; sonm-platform.md). SONM writes "failed to connect to the Node".
 * This parses a tool's message into a code; nothing downstream reads the English.
 */
export function isNodeUnreachable(message: string): boolean {
  return /\bnode\b/i.test(message) || /:15030\b/.test(message);
}

export interface Connection {
  connected: boolean;
  reason: string | null;
  code: WorkerReasonCode | null;
}

/**
 * The program's "connected" rule (rewards-program.md), with the first part that fails as a
 * reason for a person and a code for the remedy. Pure.
 */
export function deriveConnection(
  service: string | null,
  status: WorkerStatus | null,
  statusError: string | null,
): Connection {
  const no = (code: WorkerReasonCode, reason: string): Connection => ({
    connected: false,
    reason,
    code,
  });
  if (service !== null && service !== 'active')
    return no('service-inactive', `sonm-worker service is ${service}`);
  if (!status) {
    const why = statusError ?? 'no answer';
    return no(
      isNodeUnreachable(why) ? 'node-unreachable' : 'status-failed',
      `worker status failed: ${why}`,
    );
  }
  if (!status.isBenchmarkFinished) return no('benchmarks-running', 'benchmarks not finished');
  if (!status.isMasterConfirmed) return no('master-unconfirmed', 'master not confirmed');
  const rv = status.rendezvousStatus;
  if (!rv || /not connected/i.test(rv)) return no('no-rendezvous', 'no rendezvous connection');
  return { connected: true, reason: null, code: null };
}

/**
 * `sonmcli worker ask-plan list --out json` (`{askPlans: {id: plan}}`), already JSON-parsed, as
 * one AskPlanInfo per plan: its deal and order ids (null for none or "0"), its duration in
 * seconds (0 for spot) and its price as JSON text. Pure; throws nothing. How upgrade judges
 * them is docs/decisions.md, "Upgrade".
 */
export function parseAskPlans(v: unknown): AskPlanInfo[] {
  const plans =
    ((v ?? {}) as { askPlans?: Record<string, Record<string, unknown>> }).askPlans ?? {};
  return Object.entries(plans).map(([key, p]) => {
    const deal = p.dealID == null ? null : String(p.dealID);
    const order = p.orderID == null ? null : String(p.orderID);
    return {
      id: typeof p.ID === 'string' ? p.ID : key,
      dealId: deal && deal !== '0' ? deal : null,
      orderId: order && order !== '0' ? order : null,
      durationSeconds: durationSeconds(p.duration),
      price: p.price == null ? null : JSON.stringify(p.price),
    };
  });
}

/**
 * `sonmcli deal status ID --out json` (`{deal: {...}}`), already JSON-parsed, for deal `id`:
 * its own duration in seconds (0 for a spot deal), its status number (1 open, 2 closed; null
 * when absent) and its end time. Pure; throws nothing. A deal is judged by its own duration
 * (docs/decisions.md, "Upgrade": deals, not plans).
 */
export function parseDealStatus(id: string, v: unknown): DealInfo {
  const deal = ((v ?? {}) as { deal?: Record<string, unknown> }).deal ?? {};
  const dur = deal.duration;
  const durationSecondsValue =
    typeof dur === 'number'
      ? dur
      : typeof dur === 'string'
        ? Number(dur) || 0
        : durationSeconds(dur);
  return {
    id,
    durationSeconds: durationSecondsValue,
    status: typeof deal.status === 'number' ? deal.status : null,
    endTime: typeof deal.endTime === 'string' ? deal.endTime : null,
    spot: durationSecondsValue === 0,
  };
}

/** Purge answers [{"id": "...", "err": ""}] and exits 0 even when some plans failed. */
export function parsePurgeResult(
  stdout: string,
): { ok: string[]; failed: { id: string; err: string }[] } | { error: string } {
  const r = parseSonmcliJson<unknown>(stdout);
  if (!r.ok) return { error: r.message };
  if (!Array.isArray(r.value)) return { error: 'unexpected purge output' };
  const ok: string[] = [];
  const failed: { id: string; err: string }[] = [];
  for (const item of r.value as { id?: unknown; err?: unknown }[]) {
    const id = String(item.id ?? '?');
    const err = typeof item.err === 'string' ? item.err : '';
    if (err) failed.push({ id, err });
    else ok.push(id);
  }
  return { ok, failed };
}
