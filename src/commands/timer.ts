/** `sonm-rewards timer install|uninstall|status`: the systemd timer that runs `report`. */
import { existsSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandContext } from './context.js';
import type { OptionValues, TIMER } from './table.js';
import { log } from './context.js';
import { EXIT, FailureError, UsageError } from '../lib/errors.js';
import { parseInterval } from './settings.js';
import { writeFileAtomic, fsyncDir } from '../lib/atomic.js';
import { describeExec, execTool } from '../lib/exec.js';
import { resolveRigUser, parsePasswd } from '../lib/rig-user.js';
import { readFileSync } from 'node:fs';
import {
  renderServiceUnit,
  renderTimerUnit,
  SERVICE_UNIT,
  TIMER_UNIT,
  type UnitOptions,
} from '../uptime/units.js';
import { NO_SERVICE_NEXT_STEP } from './configure.js';
import { packagedUnitsAt, packagedTimerCommand } from './timer-packaged.js';
import { UptimeStore } from '../uptime/store.js';
import { DAY_MS } from '../lib/time.js';

/** The options of `timer`, as src/commands/table.ts declares them. */
export type TimerOptions = OptionValues<typeof TIMER.options>;

function unitOptions(ctx: CommandContext, intervalSeconds: number): UnitOptions {
  const s = ctx.settings;
  const environment: Record<string, string> = {};
  if (s.service) environment.SONM_REWARDS_SERVICE = s.service;
  if (s.textfileDir) environment.SONM_REWARDS_TEXTFILE_DIR = s.textfileDir;
  if (s.sonmConfigDir !== '/etc/sonm') environment.SONM_REWARDS_SONM_CONFIG_DIR = s.sonmConfigDir;
  if (intervalSeconds !== 300) environment.SONM_REWARDS_INTERVAL = String(intervalSeconds);
  const readWritePaths: string[] = [];
  if (s.textfileDir) readWritePaths.push(s.textfileDir);
  const rigUser = resolveRigUser({ env: ctx.env, configured: s.rigUser, sysroot: s.sysroot });
  if (rigUser) {
    environment.SONM_REWARDS_RIG_USER = rigUser;
    try {
      const home = parsePasswd(readFileSync('/etc/passwd', 'utf8')).find(
        (p) => p.name === rigUser,
      )?.home;
      if (home) readWritePaths.push(join(home, '.sonm')); // sonmcli caches files there
    } catch {
      // no passwd: nothing to add
    }
  }
  if (s.stateDir !== '/var/lib/sonm-rewards' && !ctx.env.STATE_DIRECTORY) {
    environment.SONM_REWARDS_STATE_DIR = s.stateDir;
    readWritePaths.push(s.stateDir);
  }
  const binPath = resolve(fileURLToPath(new URL('../../bin/sonm-rewards.cjs', import.meta.url)));
  return {
    exec: [process.execPath, binPath],
    intervalSeconds,
    environment,
    readWritePaths,
    writer: 'timer install',
  };
}

async function systemctl(args: string[]): Promise<void> {
  const r = await execTool('systemctl', args, { timeoutMs: 30_000 });
  if (r.exitCode !== 0)
    throw new FailureError(
      `${describeExec(r)}: ${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}`,
    );
}

/**
 * `timer install|uninstall|status` (operands: [action]; commander has already checked it
 * against the table's choices). Returns 0, or 1 from `status` when the timer is not installed
 * and active. Throws UsageError (exit 2) for a bad --interval or a system timer without root,
 * FailureError (exit 3) when the units cannot be written or systemctl fails.
 */
export async function timerCommand(
  ctx: CommandContext,
  opts: TimerOptions,
  [action]: readonly string[],
): Promise<number> {
  if (!action || !['install', 'uninstall', 'status'].includes(action)) {
    throw new UsageError(`unknown timer action "${action}": use install, uninstall or status`);
  }
  const intervalSeconds = opts.interval
    ? parseInterval(opts.interval)
    : ctx.settings.intervalSeconds;
  if (!intervalSeconds || 3600 % intervalSeconds !== 0 || intervalSeconds < 60)
    throw new UsageError(
      `--interval "${opts.interval}" must be whole minutes that divide an hour (1m to 60m), such as 5m`,
    );
  // Installed from the .deb: its units are the only ones; install/uninstall enable or disable them.
  const packaged = opts.unitDir ? null : packagedUnitsAt();
  if (packaged && action !== 'status')
    return packagedTimerCommand(ctx, action, opts, intervalSeconds, packaged);
  const unitDir = opts.unitDir ?? packaged ?? '/etc/systemd/system';
  const servicePath = join(unitDir, SERVICE_UNIT);
  const timerPath = join(unitDir, TIMER_UNIT);

  if (action === 'install') {
    const o = unitOptions(ctx, intervalSeconds);
    const service = renderServiceUnit(o);
    const timer = renderTimerUnit(o);
    const commands = [
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'enable', '--now', TIMER_UNIT],
    ];
    if (opts.dryRun) {
      ctx.stdout.write(
        `# ${servicePath}\n${service}\n# ${timerPath}\n${timer}\n# then:\n` +
          `${commands.map((c) => `#   ${c.join(' ')}`).join('\n')}\n`,
      );
      return EXIT.OK;
    }
    if (!ctx.isRoot && !opts.unitDir)
      throw new UsageError(
        'installing a system timer needs root: run `sudo sonm-rewards timer install`',
      );
    try {
      writeFileAtomic(servicePath, service);
      writeFileAtomic(timerPath, timer);
    } catch (e) {
      throw new FailureError(`cannot write the units to ${unitDir}: ${(e as Error).message}`);
    }
    for (const c of commands) await systemctl(c.slice(1));
    ctx.stdout.write(
      `Installed ${SERVICE_UNIT} and ${TIMER_UNIT} in ${unitDir}; ` +
        `sampling every ${intervalSeconds / 60} minutes.\nCheck it with: sonm-rewards timer status\n`,
    );
    if (!ctx.settings.service)
      log(
        ctx,
        'note: no rewards service is configured, so hours are recorded but not delivered ' +
          '(set "service" in /etc/sonm-rewards/config.json)',
      );
    return EXIT.OK;
  }

  if (action === 'uninstall') {
    const commands = [
      ['systemctl', 'disable', '--now', TIMER_UNIT],
      ['systemctl', 'daemon-reload'],
    ];
    if (opts.dryRun) {
      ctx.stdout.write(
        `would run: ${commands[0]!.join(' ')}\nwould remove: ${timerPath}, ${servicePath}\n` +
          `would run: ${commands[1]!.join(' ')}\n`,
      );
      return EXIT.OK;
    }
    if (!ctx.isRoot && !opts.unitDir)
      throw new UsageError(
        'removing a system timer needs root: run `sudo sonm-rewards timer uninstall`',
      );
    if (existsSync(timerPath)) await systemctl(commands[0]!.slice(1));
    for (const p of [timerPath, servicePath]) if (existsSync(p)) unlinkSync(p);
    fsyncDir(unitDir);
    await systemctl(commands[1]!.slice(1));
    ctx.stdout.write(`Removed the timer. The recorded hours stay in ${ctx.settings.stateDir}.\n`);
    return EXIT.OK;
  }

  // status
  const r = await execTool(
    'systemctl',
    [
      'show',
      TIMER_UNIT,
      '--property=ActiveState,UnitFileState,NextElapseUSecRealtime,LastTriggerUSec',
    ],
    { timeoutMs: 10_000 },
  );
  const props = Object.fromEntries(
    r.stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const store = new UptimeStore(ctx.settings.stateDir);
  const last =
    store
      .readSamples(new Date(ctx.now().getTime() - DAY_MS).toISOString().slice(0, 10))
      .samples.at(-1) ?? null;
  const out = {
    installed: existsSync(timerPath),
    active: props.ActiveState ?? null,
    enabled: props.UnitFileState ?? null,
    nextRun: props.NextElapseUSecRealtime || null,
    lastRun: props.LastTriggerUSec || null,
    lastSample: last?.t ?? null,
  };
  if (ctx.json) ctx.stdout.write(`${JSON.stringify(out)}\n`);
  else
    ctx.stdout.write(
      `timer: ${out.installed ? 'installed' : 'not installed'} in ${unitDir}, ` +
        `${out.active ?? 'state unknown'}${out.enabled ? `, ${out.enabled}` : ''}\n` +
        `next run: ${out.nextRun ?? 'unknown'}\nlast run: ${out.lastRun ?? 'unknown'}\n` +
        `last sample: ${out.lastSample ?? 'none in the last 24 hours'}\n` +
        (ctx.settings.service ? '' : `next: ${NO_SERVICE_NEXT_STEP}\n`),
    );
  return out.installed && out.active === 'active' ? EXIT.OK : EXIT.NOT_ELIGIBLE;
}
