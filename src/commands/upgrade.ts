/**
 * `sonm-rewards upgrade --master 0x…`: the announcement's one-liner, made safe. Preflight changes
 * nothing: address, privileges, current state, spot-only, master match, a verified download.
 * Then the same steps in the same order, each recorded, and a verification of the result.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandContext } from './context.js';
import type { OptionValues, UPGRADE } from './table.js';
import { log } from './context.js';
import { EXIT, FailureError, RefusalError, UsageError } from '../lib/errors.js';
import { makePaint, startSpinner, type Spinner } from '../lib/paint.js';
import { checkAddress } from '../lib/eth.js';
import { execTool } from '../lib/exec.js';
import { transportProblem } from '../lib/url.js';
import { acquireLock, LockBusyError } from '../lib/lock.js';
import { parseInterval } from './settings.js';
import { readConfiguredMaster } from '../lib/sonm-config.js';
import { table } from '../lib/format.js';
import { probeContextFor } from './probe-context.js';
import { probeMarket, probeServiceState, probeSonmVersions, probeWorker } from '../probe/sonm.js';
import { measure, type ProbeContext } from '../probe/context.js';
import { fetchWithCache } from '../program/source.js';
import { ANNOUNCED_SCRIPT_URL, downloadScript, DownloadError } from '../upgrade/download.js';
import { planSteps, preflight, verify, type UpgradeFacts } from '../upgrade/plan.js';
import { readJournal, unfinished, writeJournal, type UpgradeJournal } from '../upgrade/journal.js';
import { applyPlan } from '../upgrade/apply.js';
import { parseVersion } from '../lib/version.js';

/** The options of `upgrade`, as src/commands/table.ts declares them. */
export type UpgradeOptions = OptionValues<typeof UPGRADE.options>;

const SERVICES = ['sonm-worker', 'sonm-node', 'sonm-optimus'] as const;

async function services(p: ProbeContext): Promise<UpgradeFacts['services']> {
  const [w, n, o] = await Promise.all(SERVICES.map((s) => probeServiceState(p, s)));
  return { 'sonm-worker': w ?? null, 'sonm-node': n ?? null, 'sonm-optimus': o ?? null };
}

/** Target version and hash pin: the service's /v1/platform when reachable, else the announcement's. */
async function platformTarget(ctx: CommandContext): Promise<{ targetVersion: string; installerUrl: string; installerSha256: string | null; source: string }> {
  const builtIn = { targetVersion: '0.4.25', installerUrl: ANNOUNCED_SCRIPT_URL, installerSha256: null, source: 'the announcement' };
  if (!ctx.settings.service) return builtIn;
  const r = await fetchWithCache({
    service: ctx.settings.service, path: '/v1/platform', cacheFile: join(ctx.settings.stateDir, 'platform-cache.json'), timeoutMs: ctx.settings.deliveryTimeoutMs, now: ctx.now(),
    accept: (b) => {
      const p = b as { targetVersion?: unknown; installerUrl?: unknown; installerSha256?: unknown };
      if (typeof p.targetVersion !== 'string' || !parseVersion(p.targetVersion) || typeof p.installerUrl !== 'string') throw new Error('bad platform document');
    },
  });
  if (r.warning) log(ctx, `warning: ${r.warning}`);
  if (r.body === null) return builtIn;
  const p = r.body as { targetVersion: string; installerUrl: string; installerSha256: string | null };
  return { targetVersion: p.targetVersion, installerUrl: p.installerUrl, installerSha256: p.installerSha256 ?? null, source: ctx.settings.service };
}

export async function upgradeCommand(ctx: CommandContext, o: UpgradeOptions): Promise<number> {
  // 1. Arguments: nothing is touched until all of them make sense.
  if (!o.master) throw new UsageError('--master 0x… is required: your master address, as in the announcement');
  const addr = checkAddress(o.master);
  if (!addr.ok) throw new UsageError(`--master: ${addr.reason}`);
  const master = addr.address;
  if (o.scriptSha256 && !/^[0-9a-fA-F]{64}$/.test(o.scriptSha256)) throw new UsageError('--script-sha256 must be 64 hex digits');
  if (o.scriptUrl) {
    const problem = transportProblem(o.scriptUrl);
    if (problem) throw new UsageError(`--script-url: ${problem}`);
  }
  const waitS = o.wait === undefined ? 300 : o.wait === '0' ? 0 : parseInterval(o.wait);
  if (waitS === null) throw new UsageError(`--wait "${o.wait}" is not a duration such as 5m`);
  const scriptTimeoutS = o.scriptTimeout === undefined ? 1800 : parseInterval(o.scriptTimeout);
  if (!scriptTimeoutS) throw new UsageError(`--script-timeout "${o.scriptTimeout}" is not a duration such as 30m`);

  // 2. Privileges: root, or sudo without a password prompt.
  if (!ctx.isRoot) {
    const s = await execTool('sudo', ['-n', 'true'], { timeoutMs: 10_000 });
    if (s.exitCode !== 0) throw new UsageError(`the upgrade needs root: run \`sudo sonm-rewards upgrade --master ${master}\``);
  }
  const probeCtx = probeContextFor(ctx);
  const rigUser = probeCtx.rigUser ?? (ctx.isRoot ? null : ctx.env.USER ?? ctx.env.LOGNAME ?? null);
  if (!rigUser) throw new UsageError('cannot tell which user runs sonmcli on this rig: run the upgrade with sudo from that user\'s account, or set "rigUser" in /etc/sonm-rewards/config.json');

  mkdirSync(join(ctx.settings.stateDir, 'upgrade'), { recursive: true });
  let lock;
  try {
    lock = acquireLock(ctx.settings.stateDir, 'upgrade');
  } catch (e) {
    if (e instanceof LockBusyError) throw new RefusalError(`${e.message}; wait for it to finish`);
    throw new FailureError(`cannot lock ${ctx.settings.stateDir}: ${(e as Error).message}`);
  }
  const paint = await makePaint(ctx.color);
  try {
    // 3. The rig as it is now.
    const spinner = await startSpinner(ctx.stderr.isTTY && ctx.color, 'Reading the rig…');
    const [versions, svc, worker, market, target] = await Promise.all([
      measure(() => probeSonmVersions(probeCtx)),
      services(probeCtx),
      measure(() => probeWorker(probeCtx)),
      measure(() => probeMarket(probeCtx)),
      platformTarget(ctx),
    ]);
    spinner.stop();
    const facts: UpgradeFacts = {
      master,
      configuredMaster: readConfiguredMaster(ctx.settings.sonmConfigDir),
      isRoot: ctx.isRoot,
      rigUser,
      versions: versions.ok ? versions.value : null,
      services: svc,
      worker: worker.ok ? worker.value : null,
      market: market.ok ? { ok: true, value: market.value } : { ok: false, error: market.error },
      targetVersion: target.targetVersion,
      force: Boolean(o.force),
    };
    const previous = readJournal(ctx.settings.stateDir);
    const resuming = unfinished(previous) && previous.master === master ? previous : null;
    if (unfinished(previous) && previous.master !== master) {
      throw new RefusalError(`an interrupted upgrade to master ${previous.master} (started ${previous.startedAt}) is not finished: run it again with that --master, or remove ${join(ctx.settings.stateDir, 'upgrade', 'journal.json')}`);
    }
    // An interrupted upgrade has already stopped and purged: its checks were made then.
    const pre = resuming?.steps.purge?.ok ? { kind: 'go' as const, notes: [`resuming the upgrade started ${resuming.startedAt}`] } : preflight(facts);
    if (pre.kind === 'refuse') throw new RefusalError(`${pre.reason}:\n${pre.items.map((i) => `  - ${i}`).join('\n')}\nNothing was changed.`);
    if (pre.kind === 'up-to-date') {
      ctx.stdout.write(`${pre.message}\n`);
      return EXIT.OK;
    }

    // 4. The script: downloaded, checked, hashed, pinned. Never `curl | bash`.
    const url = o.scriptUrl ?? target.installerUrl;
    const pin = (o.scriptSha256 ?? target.installerSha256)?.toLowerCase() ?? null;
    let script;
    try {
      script = await downloadScript(url, 60_000);
    } catch (e) {
      if (e instanceof DownloadError) throw new RefusalError(`${e.message}. Nothing was changed.`);
      throw e;
    }
    if (pin && script.sha256 !== pin) throw new RefusalError(`the script's SHA-256 is ${script.sha256}, but ${o.scriptSha256 ? '--script-sha256' : target.source} pins ${pin}: it was not run. Nothing was changed.`);
    if (resuming && resuming.scriptSha256 !== script.sha256) log(ctx, `note: the script changed since the interrupted run (${resuming.scriptSha256.slice(0, 12)}… → ${script.sha256.slice(0, 12)}…)`);
    const stamp = ctx.now().toISOString().replace(/[:.]/g, '-');
    const scriptPath = join(ctx.settings.stateDir, 'upgrade', `sonm-auto-deploy-supplier-${script.sha256.slice(0, 12)}.sh`);
    writeFileSync(scriptPath, script.text, { mode: 0o600 });

    const steps = planSteps({ isRoot: ctx.isRoot, rigUser, master, scriptText: script.text });
    const header = [
      `Upgrade to SONM ${target.targetVersion} (target from ${target.source}), master ${master}`,
      ...pre.notes.map((n) => `  ${n}`),
      `  script: ${url}`,
      `          ${script.bytes} bytes, sha256 ${script.sha256}${pin ? ' (pinned, matches)' : ''}, saved as ${scriptPath}`,
      '  steps:',
      ...steps.map((s, i) => `    ${i + 1}. ${s.title}: ${s.id === 'verify' ? 'installed versions, services active, worker answering with this master' : JSON.stringify([s.command, ...s.args.map((a) => (a === script.text ? `<script sha256 ${script.sha256.slice(0, 12)}…>` : a))])}`),
    ];
    ctx.stdout.write(`${header.join('\n')}\n`);
    if (o.dryRun) {
      ctx.stdout.write('Dry run: nothing was changed.\n');
      return EXIT.OK;
    }
    if (!o.yes) {
      if (!ctx.confirm) throw new UsageError('no terminal to confirm on: pass --yes to run the upgrade unattended');
      if (!(await ctx.confirm('Stop sonm-optimus, purge the ask plans and run the script?'))) {
        ctx.stdout.write('Cancelled: nothing was changed.\n');
        return EXIT.REFUSED;
      }
    }

    // 5. Apply, journaled.
    const journal: UpgradeJournal = resuming ?? {
      id: stamp, startedAt: ctx.now().toISOString(), master, targetVersion: target.targetVersion, scriptUrl: url, scriptSha256: script.sha256,
      logPath: join(ctx.settings.stateDir, 'upgrade', `upgrade-${stamp}.log`), steps: {},
    };
    journal.scriptSha256 = script.sha256;
    writeJournal(ctx.settings.stateDir, journal);
    writeFileSync(journal.logPath, `sonm-rewards upgrade, master ${master}, script sha256 ${script.sha256}\n`, { flag: 'a' });
    const scriptCwd = mkdtempSync(join(ctx.settings.stateDir, 'upgrade', 'run-'));
    let spin: Spinner | null = null;
    const outcome = await applyPlan(steps, {
      exec: probeCtx.exec,
      stateDir: ctx.settings.stateDir,
      journal,
      now: ctx.now,
      sleep: ctx.sleep,
      scriptCwd,
      rigUser,
      isRoot: ctx.isRoot,
      scriptTimeoutMs: scriptTimeoutS * 1000,
      waitMs: waitS * 1000,
      check: async () => {
        const [v, s, w] = await Promise.all([measure(() => probeSonmVersions(probeCtx)), services(probeCtx), measure(() => probeWorker(probeCtx))]);
        return verify({ versions: v.ok ? v.value : null, services: s, worker: w.ok ? w.value : null, master, targetVersion: target.targetVersion });
      },
      onStep: async (_id, phase, line) => {
        if (phase === 'start') spin = await startSpinner(ctx.stderr.isTTY && ctx.color, line);
        else {
          (spin as Spinner | null)?.stop();
          ctx.stdout.write(`${line}\n`);
        }
      },
    });
    journal.finishedAt = ctx.now().toISOString();
    journal.outcome = outcome.ok ? 'verified' : outcome.steps.some((s) => s.id === 'run-script') ? 'failed' : 'rolled-back';
    writeJournal(ctx.settings.stateDir, journal);
    if (ctx.verbose && outcome.scriptExit !== null) ctx.stderr.write(`--- script output (also in ${journal.logPath}) ---\n${(await import('node:fs')).readFileSync(journal.logPath, 'utf8')}\n`);

    ctx.stdout.write(`\n${table([['step', 'result', 'duration'], ...outcome.steps.map((s) => [s.title, s.result, `${(s.ms / 1000).toFixed(1)} s`])])}\n`);
    for (const w of outcome.warnings) ctx.stdout.write(`${paint.yellow('!')} ${w}\n`);
    for (const p of outcome.verification?.pending ?? []) ctx.stdout.write(`${paint.yellow('…')} still pending: ${p}\n`);
    ctx.stdout.write(`Log: ${journal.logPath}\n`);
    if (!outcome.ok) throw new FailureError(outcome.failure ?? 'the upgrade failed');
    ctx.stdout.write(`${paint.green('Upgraded and verified')}: SONM ${target.targetVersion}, master ${master}.\n`);
    return EXIT.OK;
  } finally {
    lock.release();
  }
}
