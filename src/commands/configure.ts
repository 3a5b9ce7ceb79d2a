/**
 * `sudo sonm-rewards configure --service URL [--rig-user USER]`: set a fleet's settings once, in
 * the configuration file (/etc/sonm-rewards/config.json, the package's conffile, so upgrades keep
 * it). Every later run, the timer's included, reads it (src/commands/settings.ts). The file is
 * validated before and after, keys other than the given ones are kept, and it is replaced
 * atomically: a bad argument changes nothing (README "Install on a rig").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandContext } from './context.js';
import type { GlobalFlags } from './settings.js';
import type { CONFIGURE, OptionValues } from './table.js';
import { EXIT, UsageError } from '../lib/errors.js';
import { writeFileAtomic } from '../lib/atomic.js';
import { parsePasswd } from '../lib/rig-user.js';
import { transportProblem } from '../lib/url.js';
import { readConfigFile } from './settings.js';

/**
 * The options of `configure` as src/commands/table.ts declares them (--rig-user, the OS user
 * whose ~/.sonm/cli.yaml sonmcli uses), with the global --service: https, or http to loopback.
 */
export type ConfigureOptions = OptionValues<typeof CONFIGURE.options> & GlobalFlags;

/** What `status` and `timer status` say while no service is configured. */
export const NO_SERVICE_NEXT_STEP =
  'no rewards service is configured: hours are recorded but not delivered; ' +
  'run `sudo sonm-rewards configure --service https://…`';

function knownUser(name: string, sysroot: string): boolean {
  try {
    return parsePasswd(readFileSync(join(sysroot, '/etc/passwd'), 'utf8')).some(
      (p) => p.name === name,
    );
  } catch {
    return false;
  }
}

/**
 * Merge the given settings into the configuration file. Returns EXIT.OK.
 * Throws UsageError (exit 2) without root, with nothing to set, for a service URL that is not
 * https (or http to loopback), for a rig user missing from /etc/passwd, or for a broken file.
 */
export function configureCommand(
  ctx: Pick<CommandContext, 'settings' | 'isRoot' | 'stdout' | 'json'>,
  opts: ConfigureOptions,
): number {
  const path = ctx.settings.configPath;
  if (!ctx.isRoot)
    throw new UsageError(
      `configuring the agent writes ${path} and needs root: run \`sudo sonm-rewards configure …\``,
    );
  if (opts.service === undefined && opts.rigUser === undefined)
    throw new UsageError('nothing to configure: give --service URL and/or --rig-user USER');
  const next: Record<string, unknown> = { ...readConfigFile(path) };
  if (opts.service !== undefined) {
    const problem = transportProblem(opts.service);
    if (problem) throw new UsageError(`--service: ${problem}`);
    next.service = opts.service.replace(/\/+$/, '');
  }
  if (opts.rigUser !== undefined) {
    if (!knownUser(opts.rigUser, ctx.settings.sysroot))
      throw new UsageError(
        `--rig-user: no user "${opts.rigUser}" in /etc/passwd; give the user that owns ~/.sonm/cli.yaml`,
      );
    next.rigUser = opts.rigUser;
  }
  writeFileAtomic(path, `${JSON.stringify(next, null, 2)}\n`, 0o644);
  if (ctx.json) ctx.stdout.write(`${JSON.stringify({ configPath: path, config: next })}\n`);
  else
    ctx.stdout.write(
      `Wrote ${path}: ${Object.entries(next)
        .map(([k, v]) => `${k} ${String(v)}`)
        .join(', ')}.\nThe timer's next tick uses it; check with: sonm-rewards status\n`,
    );
  return EXIT.OK;
}
