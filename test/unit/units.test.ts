/**
 * The systemd units (src/uptime/units.ts): one renderer for the package and `timer install`, and
 * the hardening trade-off checked against the real sudo: under NoNewPrivileges and the unit's
 * capability bounding set, root's `sudo -n -u USER` still switches user (util-linux setpriv does
 * what systemd would).
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { execTool } from '../../src/lib/exec.js';
import {
  CAPABILITIES,
  HARDENING,
  packagedUnitOptions,
  renderServiceUnit,
  renderTimerUnit,
  type UnitOptions,
} from '../../src/uptime/units.js';

const installed: UnitOptions = {
  exec: ['/opt/node 20/bin/node', '/srv/sonm-rewards/bin/sonm-rewards.cjs'],
  intervalSeconds: 600,
  environment: { SONM_REWARDS_SERVICE: 'https://rewards.example.org' },
  readWritePaths: ['/var/lib/node_exporter'],
  writer: 'timer install',
};

describe('the units', () => {
  it.each([
    [
      'the package',
      packagedUnitOptions(),
      'ExecStart=/usr/bin/sonm-rewards report',
      '# Installed by the sonm-rewards package.',
    ],
    [
      'timer install',
      installed,
      'ExecStart="/opt/node 20/bin/node" /srv/sonm-rewards/bin/sonm-rewards.cjs report',
      '# Written by `sonm-rewards timer install`',
    ],
  ])('%s: the same hardening, its own command and header', (_who, o, exec, header) => {
    const unit = renderServiceUnit(o);
    expect(unit.startsWith(header)).toBe(true);
    expect(unit.split('\n')).toContain(exec);
    for (const [d] of HARDENING) expect(unit.split('\n')).toContain(d);
    expect(unit).toContain('ReadWritePaths=-/var/lib/sonm-rewards\n');
    expect(unit).toMatch(/^StateDirectoryMode=0700$/m);
    // A device allow-list, PrivateDevices or ProtectClock (which implies one) would hide /dev/nvidia*.
    expect(unit).not.toMatch(
      /^(PrivateDevices|DevicePolicy|DeviceAllow|ProtectClock|MemoryDenyWriteExecute)=/m,
    );
    // 229 keeps the first ProtectSystem= it can parse (full); later versions the last one (strict).
    expect(unit.indexOf('ProtectSystem=full')).toBeLessThan(unit.indexOf('ProtectSystem=strict'));
  });

  it("the package's units carry no environment (the config file has the settings); timer install's do", () => {
    expect(renderServiceUnit(packagedUnitOptions())).not.toContain('Environment=');
    expect(renderServiceUnit(installed)).toContain(
      'Environment=SONM_REWARDS_SERVICE=https://rewards.example.org\n',
    );
    expect(renderServiceUnit(installed)).toContain('ReadWritePaths=-/var/lib/node_exporter\n');
    expect(renderTimerUnit(installed)).toContain('OnCalendar=*:0/10\n');
    expect(renderTimerUnit(packagedUnitOptions())).toContain('OnCalendar=*:0/5\n');
  });

  const root = process.getuid?.() === 0;
  const tools = ['/usr/bin/sudo', '/usr/bin/setpriv'].every((p) => existsSync(p));
  const bounding = (caps: string[]): string =>
    ['-all', ...caps.map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`)].join(',');
  it.skipIf(!root || !tools)(
    "root's sudo -u nobody works under NoNewPrivileges and the bounding set" +
      (!root || !tools ? ' (skipped: needs root, sudo and setpriv)' : ''),
    async () => {
      const run = (caps: string[]) =>
        execTool(
          'setpriv',
          [
            '--no-new-privs',
            '--bounding-set',
            bounding(caps),
            '--inh-caps=-all',
            'sudo',
            '-n',
            '-u',
            'nobody',
            '--',
            'id',
            '-u',
          ],
          { timeoutMs: 10_000 },
        );
      const kept = await run(CAPABILITIES);
      expect(kept.exitCode, kept.stderr).toBe(0);
      expect(kept.stdout.trim()).toBe('65534');
      // Without CAP_SETUID the same call fails: the capability set is what makes it work.
      const without = await run(CAPABILITIES.filter((c) => c !== 'CAP_SETUID'));
      expect(without.exitCode).not.toBe(0);
    },
  );
});
