/**
 * `timer install|uninstall` on a rig where the .deb is installed. The package owns the one set of
 * units (in /lib/systemd/system, rendered by src/uptime/units.ts at release time), so the command
 * writes no second copy: install enables and starts the packaged timer, uninstall stops and
 * disables it. Settings come from /etc/sonm-rewards/config.json (`sonm-rewards configure`),
 * not from Environment= lines (README "Install on a rig").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandContext } from './context.js';
import { log } from './context.js';
import { EXIT, FailureError, UsageError } from '../lib/errors.js';
import { describeExec, execTool } from '../lib/exec.js';
import { PACKAGED_UNIT_DIR, TIMER_UNIT } from '../uptime/units.js';

/** The first line of every unit the package installs (units.ts header()). */
const PACKAGE_MARK = '# Installed by the sonm-rewards package.';

/**
 * The directory holding the package's units, or null when the .deb is not installed.
 * Reads the real /lib/systemd/system (systemd's, not SONM_REWARDS_SYSROOT's). A file of the same
 * name that the package did not write does not count.
 */
export function packagedUnitsAt(): string | null {
  try {
    return readFileSync(join(PACKAGED_UNIT_DIR, TIMER_UNIT), 'utf8').startsWith(PACKAGE_MARK)
      ? PACKAGED_UNIT_DIR
      : null;
  } catch {
    return null;
  }
}

async function systemctl(args: string[]): Promise<void> {
  const r = await execTool('systemctl', args, { timeoutMs: 30_000 });
  if (r.exitCode !== 0)
    throw new FailureError(
      `${describeExec(r)}: ${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}`,
    );
}

/**
 * Enable (install) or disable (uninstall) the packaged timer. Returns an exit code; throws
 * UsageError for an interval other than the package's 5 minutes or without root, FailureError
 * when systemctl fails.
 */
export async function packagedTimerCommand(
  ctx: CommandContext,
  action: string,
  opts: { dryRun?: boolean },
  intervalSeconds: number,
  unitDir: string,
): Promise<number> {
  if (action === 'install' && intervalSeconds !== 300) {
    throw new UsageError(
      "the package's timer runs every 5 minutes; for another interval override OnCalendar= " +
        `with \`sudo systemctl edit ${TIMER_UNIT}\``,
    );
  }
  const args =
    action === 'install' ? ['enable', '--now', TIMER_UNIT] : ['disable', '--now', TIMER_UNIT];
  if (opts.dryRun) {
    ctx.stdout.write(
      `the package's units are in ${unitDir}; would run: systemctl ${args.join(' ')}\n`,
    );
    return EXIT.OK;
  }
  if (!ctx.isRoot)
    throw new UsageError(
      `changing the system timer needs root: run \`sudo sonm-rewards timer ${action}\``,
    );
  await systemctl(args);
  if (action === 'install') {
    ctx.stdout.write(
      `The package's units are in ${unitDir}; ${TIMER_UNIT} is enabled and started, ` +
        'sampling every 5 minutes.\nCheck it with: sonm-rewards timer status\n',
    );
    if (!ctx.settings.service)
      log(
        ctx,
        'note: no rewards service is configured, so hours are recorded but not delivered: ' +
          'run `sudo sonm-rewards configure --service https://…`',
      );
  } else {
    ctx.stdout.write(
      `Stopped and disabled ${TIMER_UNIT}; its units stay with the package ` +
        '(remove it with `sudo apt remove sonm-rewards`). ' +
        `The recorded hours stay in ${ctx.settings.stateDir}.\n`,
    );
  }
  return EXIT.OK;
}
