/**
 * The upgrade's planner, pure. From what the command gathered (the rig, the service's platform
 * document, the downloaded script, an interrupted run's journal) it decides to refuse, that
 * there is nothing to do, or exactly which commands run, in the announcement's order:
 *   service sonm-optimus stop → sonmcli worker ask-plan purge → bash -c <the saved file> -s MASTER
 *   → verify
 * It owns resume, the hash pins, what is shown of URLs (redaction) and the preflight: whatever
 * would fail after the first change is refused before it. Nothing here runs anything;
 * src/upgrade/apply.ts does. The rules are in docs/decisions.md "Upgrade" and README "upgrade".
 */
import { join } from 'node:path';
import type { MarketInfo, SonmVersions } from '../probe/types.js';
import { compareVersions, parseVersion } from '../lib/version.js';
import { sameAddress } from '../lib/eth.js';
import {
  ANNOUNCED_INSTALLER_URL,
  ANNOUNCED_SONM_VERSION,
  SONM_SERVICES,
  type SonmService,
} from '../program/announcement.js';
import { BLOCKING_FATES, blockingItems, judgePlans, purgeNotes } from './market.js';
import { unfinished, type UpgradeJournal } from './journal.js';
import {
  asRoot,
  launchProblems,
  planSteps,
  type PlannedCommand,
  type PlannedStep,
} from './steps.js';

export type { PlannedStep, StepId } from './steps.js';

/** The downloaded script, or why there is none. `url` is the one fetched, unredacted. */
export type ScriptFacts =
  | { url: string; ok: true; sha256: string; bytes: number }
  | { url: string; ok: false; error: string };

/** The service's GET /v1/platform, when it answered. It may vouch for a hash, never pick a URL. */
export interface PlatformFacts {
  source: string;
  targetVersion: string;
  installerUrl: string | null;
  installerSha256: string | null;
}

export interface UpgradeFacts {
  /** The checked, checksummed master address. */
  master: string;
  force: boolean;
  isRoot: boolean;
  rigUser: string;
  stateDir: string;
  now: Date;
  scriptTimeoutMs: number;
  configuredMaster: { master: string | null; path: string; exists: boolean };
  versions: SonmVersions | null;
  services: Record<SonmService, string | null>;
  market: { ok: true; value: MarketInfo } | { ok: false; error: string };
  platform: PlatformFacts | null;
  /** --script-sha256, lower case. */
  userPin: string | null;
  script: ScriptFacts;
  journal: UpgradeJournal | null;
  /** Whether each of `sudo`, `service`, `sonmcli`, `bash` is on PATH. */
  found: Record<string, boolean>;
}

export type RefusalCode =
  | 'interrupted-other-master'
  | 'configured-master'
  | 'market-unreadable'
  | 'forward-deal'
  | 'deal-unknown'
  | 'download'
  | 'pin-mismatch'
  | 'missing-command'
  | 'argument-too-long';

export interface ScriptSummary {
  /** Redacted: no user information, no query. */
  url: string;
  sha256: string;
  bytes: number;
  /** Where the command saves it, and where the run reads it from. */
  path: string;
  /** Who pinned the hash it matched: "--script-sha256", the service's URL. */
  pinnedBy: string[];
}

export type UpgradePlan =
  | {
      kind: 'refuse';
      code: RefusalCode;
      reason: string;
      items: string[];
      script: ScriptSummary | null;
    }
  | { kind: 'up-to-date'; message: string }
  | {
      kind: 'go';
      target: { version: string; source: string };
      notes: string[];
      script: ScriptSummary;
      steps: PlannedStep[];
      /** Starts sonm-optimus again when a step before the script fails. */
      rollback: PlannedCommand;
      /** The journal to write: the interrupted run's, carried on, or a new one. */
      journal: UpgradeJournal;
    };

type Refusal = Extract<UpgradePlan, { kind: 'refuse' }>;

function refuse(
  code: RefusalCode,
  reason: string,
  items: string[] = [],
  script: ScriptSummary | null = null,
): Refusal {
  return { kind: 'refuse', code, reason, items, script };
}

/**
 * A URL as it may be shown, logged and journaled: user information and the query (a private
 * raw.githubusercontent.com URL carries `?token=…`) are replaced. Unparsable input is returned
 * as it is (the command has already refused it as a usage error).
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  if (u.username || u.password) {
    u.username = '***';
    u.password = '';
  }
  if (u.search) u.search = '?***';
  return u.toString();
}

/** The configured master, the market, the installed versions: whether to go at all. */
function judgeRig(f: UpgradeFacts, target: string): UpgradePlan | { notes: string[] } {
  const cm = f.configuredMaster;
  if (cm.master && !sameAddress(cm.master, f.master)) {
    return refuse(
      'configured-master',
      `${cm.path} names master ${cm.master}, not ${f.master}: ` +
        "SONM's script keeps the configured master and ignores the argument",
      [
        'if the rig should move to the new master, change `master:` in that file first, ' +
          'or run with the configured master',
      ],
    );
  }
  if (!f.market.ok) {
    const why = `cannot list the ask plans to make sure only spot deals are open: ${f.market.error}`;
    return refuse('market-unreadable', why, [
      'start sonm-node and try again: sudo systemctl start sonm-node',
    ]);
  }
  const verdicts = judgePlans(f.market.value);
  const blocking = verdicts.filter((v) => BLOCKING_FATES.includes(v.fate));
  if (blocking.length) {
    const forward = blocking.some((v) => v.fate === 'forward-deal');
    const reason = forward
      ? 'a forward deal is open: the purge would fail halfway and only the consumer can close it early'
      : 'a deal behind an ask plan is neither open nor closed: the purge could fail halfway';
    const tail = forward
      ? 'come back when it has ended (spot deals are closed for you)'
      : 'try again in a few minutes';
    const items = [...blockingItems(blocking, f.now.getTime()), tail];
    return refuse(forward ? 'forward-deal' : 'deal-unknown', reason, items);
  }
  const lowest = parseVersion(f.versions?.lowest ?? null);
  const wanted = parseVersion(target);
  const active = SONM_SERVICES.every((s) => f.services[s] === 'active');
  if (!f.force && lowest && wanted && compareVersions(lowest, wanted) >= 0 && active) {
    return {
      kind: 'up-to-date',
      message:
        `SONM ${f.versions!.lowest} is installed and ${SONM_SERVICES.join(', ')} ` +
        'are active: nothing to do (--force runs the upgrade anyway)',
    };
  }
  const installed = lowest
    ? `installed: ${f.versions!.lowest}; target: ${target}`
    : 'the installed SONM version could not be read';
  return { notes: [installed, ...purgeNotes(verdicts)] };
}

/**
 * The pins that apply to this script: the user's always; the service's only for the URL it
 * vouches for (its installerUrl, else the announcement's). A service that names another URL is
 * noted, never followed.
 */
function pinsFor(
  f: UpgradeFacts,
  url: string,
): { pins: { by: string; sha256: string }[]; notes: string[] } {
  const pins = f.userPin ? [{ by: '--script-sha256', sha256: f.userPin }] : [];
  const notes: string[] = [];
  const p = f.platform;
  if (p?.installerUrl && p.installerUrl !== url) {
    notes.push(
      `${p.source} names ${redactUrl(p.installerUrl)} as the installer: only the announcement or ` +
        `--script-url choose the script${p.installerSha256 ? ', so its hash is not applied' : ''}`,
    );
  } else if (p?.installerSha256 && (p.installerUrl ?? ANNOUNCED_INSTALLER_URL) === url) {
    pins.push({ by: p.source, sha256: p.installerSha256.toLowerCase() });
  }
  return { pins, notes };
}

/** An interrupted run: refused when it was for another master, else carried on. */
function resumeOf(f: UpgradeFacts): UpgradePlan | { resume: UpgradeJournal | null } {
  const j = f.journal;
  if (!unfinished(j)) return { resume: null };
  if (sameAddress(j.master, f.master)) return { resume: j };
  return refuse(
    'interrupted-other-master',
    `an interrupted upgrade to master ${j.master} (started ${j.startedAt}) ` +
      `is not finished: run it again with that --master, or remove ${join(f.stateDir, 'upgrade', 'journal.json')}`,
  );
}

function newJournal(f: UpgradeFacts, target: string, script: ScriptSummary): UpgradeJournal {
  const stamp = f.now.toISOString().replace(/[:.]/g, '-');
  return {
    id: stamp,
    startedAt: f.now.toISOString(),
    master: f.master,
    targetVersion: target,
    scriptUrl: script.url,
    scriptSha256: script.sha256,
    logPath: join(f.stateDir, 'upgrade', `upgrade-${stamp}.log`),
    steps: {},
  };
}

/**
 * Decides the upgrade from the gathered facts, checking in this order: an interrupted run for
 * another master; unless an interrupted run has already purged, the configured master, the ask
 * plans and their deals (src/upgrade/market.ts) and "already at the target"; the download; the
 * pins; the programs and argument sizes of every step. Returns a refusal (with a code), "up to
 * date", or the steps to run. Pure: never throws, reads nothing.
 */
export function planUpgrade(f: UpgradeFacts): UpgradePlan {
  const resumed = resumeOf(f);
  if ('kind' in resumed) return resumed;
  const { resume } = resumed;
  const target = f.platform
    ? { version: f.platform.targetVersion, source: f.platform.source }
    : { version: ANNOUNCED_SONM_VERSION, source: 'the announcement' };
  const notes: string[] = [];
  if (resume?.steps.purge?.ok) notes.push(`resuming the upgrade started ${resume.startedAt}`);
  else {
    const rig = judgeRig(f, target.version);
    if ('kind' in rig) return rig;
    notes.push(...rig.notes);
  }
  const s = f.script;
  if (!s.ok) return refuse('download', s.error.split(s.url).join(redactUrl(s.url)));
  const { pins, notes: pinNotes } = pinsFor(f, s.url);
  const path = join(f.stateDir, 'upgrade', `sonm-auto-deploy-supplier-${s.sha256.slice(0, 12)}.sh`);
  const pinnedBy = pins.map((p) => p.by);
  const script: ScriptSummary = {
    url: redactUrl(s.url),
    sha256: s.sha256,
    bytes: s.bytes,
    path,
    pinnedBy,
  };
  const wrong = pins.find((p) => p.sha256 !== s.sha256);
  if (wrong) {
    const why = `the script's SHA-256 is ${s.sha256}, but ${wrong.by} pins ${wrong.sha256}: it was not run`;
    return refuse('pin-mismatch', why, [], script);
  }
  notes.push(...pinNotes);
  if (resume && resume.scriptSha256 !== s.sha256) {
    const [was, now] = [resume.scriptSha256.slice(0, 12), s.sha256.slice(0, 12)];
    notes.push(`the script changed since the interrupted run (${was}… → ${now}…)`);
  }
  const steps = planSteps({ ...f, scriptPath: path });
  const problem = launchProblems(steps, f.found);
  if (problem) {
    const why = 'a step could not even start, so the upgrade would stop halfway';
    return refuse(problem.code, why, problem.items, script);
  }
  const journal = resume
    ? { ...resume, scriptSha256: s.sha256 }
    : newJournal(f, target.version, script);
  const rollback = {
    timeoutMs: 60_000,
    ...asRoot({ ...f, scriptPath: path }, ['service', 'sonm-optimus', 'start']),
  };
  return { kind: 'go', target, notes, script, steps, rollback, journal };
}
