/**
 * The rig user: whose ~/.sonm/cli.yaml sonmcli must read. SUDO_USER when run through sudo, then
 * the configured rigUser, else the owner of the one /home/<user>/.sonm/cli.yaml on the machine.
 * And the one way to run sonmcli as that user, shared by the probe and the upgrade.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/**
 * The entries of /etc/passwd text (passwd(5): `name:password:uid:gid:gecos:home:shell`, one per
 * line); lines with fewer than 7 fields are skipped; uid and gid are numbers (NaN when not).
 * Pure; throws nothing.
 */
export function parsePasswd(text: string): PasswdEntry[] {
  return text
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 7)
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! }));
}

/**
 * The rig user (this file's header; README, "Configuration", `rigUser`): `env.SUDO_USER` unless it
 * is root, else `configured`, else the one non-root owner (by uid, in etc/passwd) of a
 * `home/<user>/.sonm/cli.yaml` under `sysroot` ('' means /). Returns null when there is none,
 * several, or etc/passwd cannot be read. Throws nothing.
 */
export function resolveRigUser(opts: {
  env: NodeJS.ProcessEnv;
  configured: string | null;
  sysroot: string;
}): string | null {
  const sudoUser = opts.env.SUDO_USER;
  if (sudoUser && sudoUser !== 'root') return sudoUser;
  if (opts.configured) return opts.configured;
  let passwd: PasswdEntry[] = [];
  try {
    passwd = parsePasswd(readFileSync(join(opts.sysroot || '/', 'etc/passwd'), 'utf8'));
  } catch {
    return null;
  }
  const owners = new Set<string>();
  let homes: string[] = [];
  try {
    homes = readdirSync(join(opts.sysroot || '/', 'home'));
  } catch {
    homes = [];
  }
  for (const h of homes) {
    try {
      const st = statSync(join(opts.sysroot || '/', 'home', h, '.sonm', 'cli.yaml'));
      const owner = passwd.find((p) => p.uid === st.uid);
      if (owner && owner.name !== 'root') owners.add(owner.name);
    } catch {
      // no cli.yaml in this home
    }
  }
  return owners.size === 1 ? [...owners][0]! : null;
}

/**
 * The command line that runs sonmcli as the rig user: `sudo -n -u USER -H -- sonmcli ARGS` when we
 * are root and the rig user is someone else (sonmcli reads that user's ~/.sonm/cli.yaml), else
 * plain `sonmcli ARGS`. `rigUser` null means "run as ourselves". Pure; throws nothing.
 * Rule: README, "run as the rig user" (the CLI's key lives in the user's ~/.sonm; see also
 * sonm-platform.md).
 */
export function sonmcliAsRigUser(
  who: { isRoot: boolean; rigUser: string | null },
  args: readonly string[],
): { command: string; args: string[] } {
  if (who.isRoot && who.rigUser && who.rigUser !== 'root') {
    return { command: 'sudo', args: ['-n', '-u', who.rigUser, '-H', '--', 'sonmcli', ...args] };
  }
  return { command: 'sonmcli', args: [...args] };
}
