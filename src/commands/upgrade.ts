/**
 * `sonm-rewards upgrade --master 0x…`: the announcement's one-liner, made safe, as
 * gather → plan → confirm → apply → render. Gathering changes nothing (probes, the service's
 * platform document, the script's download). src/upgrade/plan.ts decides, purely; only a "go"
 * saves the script, asks, and applies (src/upgrade/apply.ts). Rules: README "upgrade" and
 * docs/decisions.md "Upgrade".
 *
 * About 370 lines on purpose: the command's phases share the facts gathered and run under one
 * lock, and are read in order; the decisions and the changes are already in src/upgrade/.
 */
import {
  accessSync,
  constants,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, join } from 'node:path';
import type { CommandContext } from './context.js';
import type { OptionValues, UPGRADE } from './table.js';
import { EXIT, FailureError, RefusalError, UsageError } from '../lib/errors.js';
import { makePaint, startSpinner, type Spinner } from '../lib/paint.js';
import { checkAddress } from '../lib/eth.js';
import { execTool } from '../lib/exec.js';
import { transportProblem } from '../lib/url.js';
import { acquireLock, LockBusyError } from '../lib/lock.js';
import { ensurePrivateDir } from '../lib/atomic.js';
import { parseInterval } from './settings.js';
import { readConfiguredMaster } from '../lib/sonm-config.js';
import { probeContextFor } from './probe-context.js';
import { probeMarket, probeServiceState, probeSonmVersions, probeWorker } from '../probe/sonm.js';
import { measure, type ProbeContext } from '../probe/context.js';
import { fetchWithCache } from '../program/source.js';
import {
  ANNOUNCED_INSTALLER_URL,
  SONM_SERVICES,
  type SonmService,
} from '../program/announcement.js';
import { downloadScript, DownloadError } from '../upgrade/download.js';
import {
  planUpgrade,
  type PlatformFacts,
  type ScriptFacts,
  type UpgradeFacts,
  type UpgradePlan,
} from '../upgrade/plan.js';
import { verify, type Verification } from '../upgrade/verify.js';
import { readJournal, writeJournal } from '../upgrade/journal.js';
import { applyPlan, type ApplyOutcome } from '../upgrade/apply.js';
import { outcomeLines, planHeader, refusalMessage, scriptLines } from '../upgrade/render.js';
import { parseVersion } from '../lib/version.js';

/** The options of `upgrade`, as src/commands/table.ts declares them. */
export type UpgradeOptions = OptionValues<typeof UPGRADE.options>;

/** The options, checked: nothing is touched until all of them make sense. */
interface UpgradeArgs {
  master: string;
  dryRun: boolean;
  yes: boolean;
  force: boolean;
  scriptUrl: string;
  userPin: string | null;
  waitMs: number;
  scriptTimeoutMs: number;
}

type Go = Extract<UpgradePlan, { kind: 'go' }>;

const DOWNLOAD_TIMEOUT_MS = 60_000;
/** The programs the steps may need; the planner refuses a step whose program is missing. */
const PROGRAMS = ['sudo', 'service', 'sonmcli', 'bash'];

function parseArgs(o: UpgradeOptions): UpgradeArgs {
  if (!o.master)
    throw new UsageError('--master 0x… is required: your master address, as in the announcement');
  const addr = checkAddress(o.master);
  if (!addr.ok) throw new UsageError(`--master: ${addr.reason}`);
  if (o.scriptSha256 && !/^[0-9a-fA-F]{64}$/.test(o.scriptSha256)) {
    throw new UsageError('--script-sha256 must be 64 hex digits');
  }
  const problem = o.scriptUrl ? transportProblem(o.scriptUrl) : null;
  if (problem) throw new UsageError(`--script-url: ${problem}`);
  const waitS = o.wait === undefined ? 300 : o.wait === '0' ? 0 : parseInterval(o.wait);
  if (waitS === null) throw new UsageError(`--wait "${o.wait}" is not a duration such as 5m`);
  const scriptTimeoutS = o.scriptTimeout === undefined ? 1800 : parseInterval(o.scriptTimeout);
  if (!scriptTimeoutS)
    throw new UsageError(`--script-timeout "${o.scriptTimeout}" is not a duration such as 30m`);
  return {
    master: addr.address,
    dryRun: Boolean(o.dryRun),
    yes: Boolean(o.yes),
    force: Boolean(o.force),
    scriptUrl: o.scriptUrl ?? ANNOUNCED_INSTALLER_URL,
    userPin: o.scriptSha256?.toLowerCase() ?? null,
    waitMs: waitS * 1000,
    scriptTimeoutMs: scriptTimeoutS * 1000,
  };
}

/** Root, or sudo without a password prompt; and the user who runs sonmcli. Throws UsageError. */
async function whoRuns(
  ctx: Pick<CommandContext, 'isRoot' | 'env'>,
  p: ProbeContext,
  master: string,
): Promise<string> {
  if (!ctx.isRoot) {
    const s = await execTool('sudo', ['-n', 'true'], { timeoutMs: 10_000 });
    const how = `sudo sonm-rewards upgrade --master ${master}`;
    if (s.exitCode !== 0) throw new UsageError(`the upgrade needs root: run \`${how}\``);
  }
  const rigUser = p.rigUser ?? (ctx.isRoot ? null : (ctx.env.USER ?? ctx.env.LOGNAME ?? null));
  if (rigUser) return rigUser;
  throw new UsageError(
    'cannot tell which user runs sonmcli on this rig: run the upgrade with sudo from that ' +
      'user\'s account, or set "rigUser" in /etc/sonm-rewards/config.json',
  );
}

/** Whether each program is an executable file in a PATH directory. */
function onPath(programs: string[], path: string): Record<string, boolean> {
  const found = (p: string): boolean =>
    path.split(delimiter).some((dir) => {
      try {
        accessSync(join(dir || '.', p), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  return Object.fromEntries(programs.map((p) => [p, found(p)]));
}

async function services(p: ProbeContext): Promise<Record<SonmService, string | null>> {
  const states = await Promise.all(SONM_SERVICES.map((s) => probeServiceState(p, s)));
  return Object.fromEntries(SONM_SERVICES.map((s, i) => [s, states[i] ?? null])) as Record<
    SonmService,
    string | null
  >;
}

/** The installed SONM versions, read the same way before and after the script. */
async function readVersions(p: ProbeContext): Promise<UpgradeFacts['versions']> {
  const v = await measure(() => probeSonmVersions(p));
  return v.ok ? v.value : null;
}

/** The service's GET /v1/platform (or its cached copy); null without a service or an answer. */
async function platform(
  ctx: Pick<CommandContext, 'settings' | 'now' | 'stderr'>,
): Promise<PlatformFacts | null> {
  const s = ctx.settings;
  if (!s.service) return null;
  const r = await fetchWithCache({
    service: s.service,
    path: '/v1/platform',
    cacheFile: join(s.stateDir, 'platform-cache.json'),
    timeoutMs: s.deliveryTimeoutMs,
    now: ctx.now(),
    accept: (b) => {
      const p = b as { targetVersion?: unknown };
      const ok = typeof p.targetVersion === 'string' && parseVersion(p.targetVersion);
      if (!ok) throw new Error('bad platform document');
    },
  });
  if (r.warning) ctx.stderr.write(`warning: ${r.warning}\n`);
  if (r.body === null) return null;
  const b = r.body as { targetVersion: string; installerUrl?: unknown; installerSha256?: unknown };
  const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
  // A malformed hash is kept: it matches no script, so where it applies it stops the upgrade.
  const installerSha256 = str(b.installerSha256)?.toLowerCase() ?? null;
  return {
    source: s.service,
    targetVersion: b.targetVersion,
    installerUrl: str(b.installerUrl),
    installerSha256,
  };
}

/** The script, or why not; its bytes travel beside the facts, which the planner sees. */
async function download(url: string): Promise<{ facts: ScriptFacts; body: Buffer | null }> {
  try {
    const s = await downloadScript(url, DOWNLOAD_TIMEOUT_MS);
    return { facts: { url, ok: true, sha256: s.sha256, bytes: s.bytes }, body: s.body };
  } catch (e) {
    if (e instanceof DownloadError)
      return { facts: { url, ok: false, error: e.message }, body: null };
    throw e;
  }
}

type Gathered = { facts: UpgradeFacts; scriptBytes: Buffer | null };

/** Everything the planner needs, read at once. Changes nothing. */
type GatherContext = Pick<
  CommandContext,
  'settings' | 'now' | 'isRoot' | 'env' | 'stderr' | 'color'
>;

async function gather(
  ctx: GatherContext,
  p: ProbeContext,
  a: UpgradeArgs,
  rigUser: string,
): Promise<Gathered> {
  const spinner = await startSpinner(ctx.stderr.isTTY && ctx.color, 'Reading the rig…');
  const [versions, svc, market, target, script] = await Promise.all([
    readVersions(p),
    services(p),
    measure(() => probeMarket(p)),
    platform(ctx),
    download(a.scriptUrl),
  ]);
  spinner.stop();
  const facts: UpgradeFacts = {
    master: a.master,
    force: a.force,
    isRoot: ctx.isRoot,
    rigUser,
    stateDir: ctx.settings.stateDir,
    now: ctx.now(),
    scriptTimeoutMs: a.scriptTimeoutMs,
    configuredMaster: readConfiguredMaster(ctx.settings.sonmConfigDir),
    versions,
    services: svc,
    market: market.ok ? { ok: true, value: market.value } : { ok: false, error: market.error },
    platform: target,
    userPin: a.userPin,
    script: script.facts,
    journal: readJournal(ctx.settings.stateDir),
    found: onPath(PROGRAMS, ctx.env.PATH ?? ''),
  };
  return { facts, scriptBytes: script.body };
}

/** Asks on the terminal unless --yes; false when the person said no. Throws without a terminal. */
async function confirmed(ctx: Pick<CommandContext, 'confirm'>, yes: boolean): Promise<boolean> {
  if (yes) return true;
  if (!ctx.confirm)
    throw new UsageError('no terminal to confirm on: pass --yes to run the upgrade unattended');
  return ctx.confirm('Stop sonm-optimus, purge the ask plans and run the script?');
}

type ApplyContext = Pick<
  CommandContext,
  'settings' | 'now' | 'sleep' | 'stdout' | 'stderr' | 'color'
>;

async function apply(
  ctx: ApplyContext,
  p: ProbeContext,
  plan: Go,
  a: UpgradeArgs,
): Promise<ApplyOutcome> {
  const { journal } = plan;
  writeJournal(ctx.settings.stateDir, journal);
  const first = `sonm-rewards upgrade, master ${a.master}, script sha256 ${plan.script.sha256}\n`;
  writeFileSync(journal.logPath, first, { flag: 'a' });
  const check = async (): Promise<Verification> => {
    const [versions, svc, worker] = await Promise.all([
      readVersions(p),
      services(p),
      measure(() => probeWorker(p)),
    ]);
    const w = worker.ok ? worker.value : null;
    return verify({
      versions,
      services: svc,
      worker: w,
      master: a.master,
      targetVersion: plan.target.version,
    });
  };
  let spin: Spinner | null = null;
  const clock = { now: () => ctx.now(), sleep: (ms: number) => ctx.sleep(ms) };
  return applyPlan(plan.steps, {
    exec: p.exec,
    clock,
    stateDir: ctx.settings.stateDir,
    journal,
    rollback: plan.rollback,
    scriptCwd: mkdtempSync(join(ctx.settings.stateDir, 'upgrade', 'run-')),
    waitMs: a.waitMs,
    check,
    onStep: async (_id, phase, line) => {
      if (phase === 'start') spin = await startSpinner(ctx.stderr.isTTY && ctx.color, line);
      else {
        (spin as Spinner | null)?.stop();
        ctx.stdout.write(`${line}\n`);
      }
    },
  });
}

/** Plan, render, confirm, apply, render: the part that runs under the lock. */
async function upgradeLocked(
  ctx: CommandContext,
  p: ProbeContext,
  a: UpgradeArgs,
  rigUser: string,
): Promise<number> {
  const { facts, scriptBytes } = await gather(ctx, p, a, rigUser);
  const plan = planUpgrade(facts);
  if (plan.kind === 'up-to-date') {
    ctx.stdout.write(`${plan.message}\n`);
    return EXIT.OK;
  }
  if (plan.kind === 'refuse') {
    if (plan.script) ctx.stdout.write(`${scriptLines(plan.script, 0, 'not run').join('\n')}\n`);
    throw new RefusalError(refusalMessage(plan));
  }
  writeFileSync(plan.script.path, scriptBytes!, { mode: 0o600 });
  ctx.stdout.write(`${planHeader(plan, a.master).join('\n')}\n`);
  if (a.dryRun) {
    ctx.stdout.write('Dry run: nothing was changed.\n');
    return EXIT.OK;
  }
  if (!(await confirmed(ctx, a.yes))) {
    ctx.stdout.write('Cancelled: nothing was changed.\n');
    return EXIT.REFUSED;
  }
  const outcome = await apply(ctx, p, plan, a);
  const { journal } = plan;
  journal.finishedAt = ctx.now().toISOString();
  const ranScript = outcome.steps.some((s) => s.id === 'run-script');
  journal.outcome = outcome.ok ? 'verified' : ranScript ? 'failed' : 'rolled-back';
  writeJournal(ctx.settings.stateDir, journal);
  if (ctx.verbose && outcome.scriptExit !== null) {
    ctx.stderr.write(
      `--- script output (also in ${journal.logPath}) ---\n${readFileSync(journal.logPath, 'utf8')}\n`,
    );
  }
  const paint = await makePaint(ctx.color);
  ctx.stdout.write(`${outcomeLines(outcome, journal.logPath, paint).join('\n')}\n`);
  if (!outcome.ok) throw new FailureError(outcome.failure ?? 'the upgrade failed');
  ctx.stdout.write(
    `${paint.green('Upgraded and verified')}: SONM ${plan.target.version}, master ${a.master}.\n`,
  );
  return EXIT.OK;
}

/**
 * Runs `upgrade` with the parsed options. Returns the exit code (0 done or nothing to do,
 * 1 cancelled). Throws UsageError (bad options, no root, no terminal without --yes),
 * RefusalError (the plan refused; nothing changed) or FailureError (a step or the
 * verification failed, or the state directory cannot be locked).
 */
export async function upgradeCommand(ctx: CommandContext, o: UpgradeOptions): Promise<number> {
  const a = parseArgs(o);
  const probeCtx = probeContextFor(ctx);
  const rigUser = await whoRuns(ctx, probeCtx, a.master);

  ensurePrivateDir(ctx.settings.stateDir); // 0700, whichever command runs first (docs/decisions.md)
  mkdirSync(join(ctx.settings.stateDir, 'upgrade'), { recursive: true });
  let lock;
  try {
    lock = acquireLock(ctx.settings.stateDir, 'upgrade');
  } catch (e) {
    if (e instanceof LockBusyError) throw new RefusalError(`${e.message}; wait for it to finish`);
    throw new FailureError(`cannot lock ${ctx.settings.stateDir}: ${(e as Error).message}`);
  }
  try {
    return await upgradeLocked(ctx, probeCtx, a, rigUser);
  } finally {
    lock.release();
  }
}
