/**
 * The built binaries as a rig runs them: `sonm-rewards report` under a libfaketime clock shared
 * with the real service binary, crashes at random moments, a full disk, a read-only state
 * directory, status, the systemd units, enrolment and `check --report`.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
  existsSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { agentArgv, makeRig, ROOT, runCli, type Rig } from '../helpers/rig.js';
import { activeProgram, writePrograms } from '../helpers/programs.js';
import { startService, TestRig } from '../helpers/service.js';
import { FakeClockFile } from '../helpers/fake-clock.js';
import { execTool } from '../../src/lib/exec.js';
import { loadIdentity } from '../../src/protocol/identity.js';
import { UptimeStore } from '../../src/uptime/store.js';
import { readRecords } from '../../src/uptime/journal.js';
import { bucketByHour } from '../../src/uptime/hours.js';
import { hourOf } from '../../src/protocol/report-id.js';

const BASE = Date.parse('2026-06-01T10:00:20Z');
const FIVE_MIN = 300_000;

function agentEnv(rig: Rig, clock: FakeClockFile, service: string | null): Record<string, string> {
  return { ...rig.env, ...clock.env(), ...(service ? { SONM_REWARDS_SERVICE: service } : {}) };
}

/** A TestRig that signs as the agent did, so the test can read the agent's ledger. */
function asAgent(stateDir: string, url: string): TestRig {
  const id = loadIdentity(stateDir)!;
  const r = new TestRig(url);
  Object.assign(r, { privateKey: id.privateKey, publicKey: id.publicKey, rigId: id.rigId });
  return r;
}

describe('report, as the timer runs it', () => {
  it(
    'twelve ticks across one hour (libfaketime): one report of 12 samples, delivered once, ' +
      'credited $0.50',
    async () => {
      const rig = makeRig();
      const clock = new FakeClockFile(join(rig.dir, 'clock'));
      clock.set(BASE);
      const svc = await startService(rig.dir, {
        programs: [activeProgram()],
        env: clock.env(),
        dateFromClock: true,
      });
      try {
        for (let i = 0; i <= 12; i++) {
          clock.set(BASE + i * FIVE_MIN);
          const r = await runCli(rig, ['report'], { env: agentEnv(rig, clock, svc.url) });
          expect(r.code, r.stderr).toBe(0);
        }
        const store = new UptimeStore(rig.stateDir);
        expect(store.reports()).toEqual([
          expect.objectContaining({
            hour: '2026-06-01T10:00:00Z',
            samples: 12,
            connectedSamples: 12,
            minQualifyingGpus: 6,
          }),
        ]);
        clock.set(BASE + 13 * FIVE_MIN);
        expect((await runCli(rig, ['report'], { env: agentEnv(rig, clock, svc.url) })).code).toBe(
          0,
        );
        const ledger = await asAgent(rig.stateDir, svc.url).send(
          'GET',
          `/v1/rigs/${loadIdentity(rig.stateDir)!.rigId}/ledger?from=2026-06-01T00:00:00Z&to=2026-06-02T00:00:00Z`,
          undefined,
          { created: Math.floor((BASE + 13 * FIVE_MIN) / 1000) },
        );
        expect(ledger.json.totals).toEqual({
          hours: 1,
          creditedHours: 1,
          heldHours: 0,
          disputedGpuHours: 0,
          usd: 0.5,
        });
        expect(ledger.json.hours[0]).toMatchObject({ samples: 12, connectedSamples: 12, gpus: 6 });
        expect(store.results()).toHaveLength(1);
        const status = await runCli(rig, ['status', '--json'], { env: agentEnv(rig, clock, null) });
        expect(JSON.parse(status.stdout).counts).toEqual({
          recorded: 1,
          delivered: 1,
          credited: 1,
          rejected: 0,
          pending: 0,
          expired: 0,
          pastDeadline: 0,
        });
      } finally {
        await svc.stop();
      }
    },
  );

  it(
    'killed with SIGKILL at 100 random moments: no hour lost but the sample in flight, none ' +
      'credited twice, the journal readable',
    async () => {
      const rig = makeRig();
      const clock = new FakeClockFile(join(rig.dir, 'clock'));
      clock.set(BASE);
      const svc = await startService(rig.dir, {
        programs: [activeProgram()],
        env: clock.env(),
        dateFromClock: true,
      });
      let completed = 0;
      // The kill moments sweep the length of an uninterrupted tick on this machine, measured by
      // the first one (i = 0, not killed): a fixed range would interrupt too few runs on a fast
      // machine and too many on a busy one.
      let cleanMs = 0;
      try {
        for (let i = 0; i < 100; i++) {
          clock.set(BASE + i * FIVE_MIN);
          const started = performance.now();
          const [cmd, ...pre] = agentArgv();
          const child = spawn(cmd!, [...pre, 'report'], {
            env: agentEnv(rig, clock, svc.url),
            stdio: 'ignore',
          });
          const killAfter = ((i % 25) / 25) * 1.25 * cleanMs;
          const timer = i === 0 ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfter);
          const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
          clearTimeout(timer);
          if (i === 0) cleanMs = performance.now() - started;
          if (code === 0) completed++;
          else expect(code).toBeNull(); // killed, never a failure of its own
        }
        expect(100 - completed).toBeGreaterThan(10); // the kills really interrupted runs
        // Two clean ticks afterwards deliver whatever the crashes left pending.
        for (let i = 100; i < 102; i++) {
          clock.set(BASE + i * FIVE_MIN);
          const r = await runCli(rig, ['report'], { env: agentEnv(rig, clock, svc.url) });
          expect(r.code, r.stderr).toBe(0);
        }
        const store = new UptimeStore(rig.stateDir);
        let samples = 0;
        for (const day of store.days()) samples += readRecords(store.dayFile(day)).records.length;
        expect(samples).toBeGreaterThanOrEqual(completed + 2);
        const hours = [...bucketByHour(store.readSamples().samples).keys()]
          .filter((h) => h < hourOf(BASE + 101 * FIVE_MIN))
          .sort();
        expect(
          store
            .reports()
            .map((r) => r.hour)
            .sort(),
        ).toEqual(hours);
        const finals = store.finalResults();
        for (const r of store.reports())
          expect(['accepted', 'duplicate']).toContain(finals.get(r.reportId)?.status);
        const seqs = store.reports().map((r) => r.seq);
        expect(new Set(seqs).size).toBe(seqs.length);
        const ledger = await asAgent(rig.stateDir, svc.url).send(
          'GET',
          `/v1/rigs/${loadIdentity(rig.stateDir)!.rigId}/ledger?from=2026-06-01T00:00:00Z&to=2026-06-02T00:00:00Z`,
          undefined,
          { created: Math.floor((BASE + 101 * FIVE_MIN) / 1000) },
        );
        expect(ledger.json.hours.map((h: any) => h.hour)).toEqual(hours);
        const status = await runCli(rig, ['status', '--json'], { env: agentEnv(rig, clock, null) });
        expect(status.code).toBe(0);
        expect(JSON.parse(status.stdout).counts.pending).toBe(0);
      } finally {
        await svc.stop();
      }
    },
    180_000,
  );

  it('a full disk: exit 3, one clear line, earlier samples intact', async () => {
    const rig = makeRig();
    const clock = new FakeClockFile(join(rig.dir, 'clock'));
    clock.set(BASE);
    expect((await runCli(rig, ['report'], { env: agentEnv(rig, clock, null) })).code).toBe(0);
    const before = readFileSync(join(rig.stateDir, 'samples', '2026-06-01.log'), 'utf8');
    // Tomorrow's segment is /dev/full: every write to it fails with ENOSPC.
    symlinkSync('/dev/full', join(rig.stateDir, 'samples', '2026-06-02.log'));
    clock.set(BASE + 86_400_000);
    const r = await runCli(rig, ['report'], { env: agentEnv(rig, clock, null) });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^sonm-rewards: cannot store the sample in .*samples: ENOSPC/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(readFileSync(join(rig.stateDir, 'samples', '2026-06-01.log'), 'utf8')).toBe(before);
    expect(existsSync(join(rig.stateDir, 'lock'))).toBe(false);
  });

  it('a read-only state directory: exit 3 with a clear line', async () => {
    const rig = makeRig({}, { anyUser: true });
    mkdirSync(rig.stateDir, { recursive: true, mode: 0o755 });
    chmodSync(rig.dir, 0o755);
    // Run as nobody: root ignores permissions, an ordinary user does not.
    const r = await runCli(rig, ['report'], { uid: 65534, gid: 65534 });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^sonm-rewards: cannot (use|lock|store).*(EACCES|permission denied)/i);
  });

  it('another report still running: exit 3, the lock is not stolen', async () => {
    const rig = makeRig();
    mkdirSync(rig.stateDir, { recursive: true });
    const since = new Date().toISOString();
    writeFileSync(
      join(rig.stateDir, 'lock'),
      JSON.stringify({ pid: process.pid, command: 'upgrade', since }),
    );
    const r = await runCli(rig, ['report']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      `another sonm-rewards upgrade (pid ${process.pid}, since ${since}) is running`,
    );
    // A lock older than any run can last is stale even if its pid is alive.
    writeFileSync(
      join(rig.stateDir, 'lock'),
      JSON.stringify({
        pid: process.pid,
        command: 'upgrade',
        since: new Date(Date.now() - 4 * 3_600_000).toISOString(),
      }),
    );
    expect((await runCli(rig, ['report'])).code).toBe(0);
    // A stale lock (dead pid) is taken over.
    writeFileSync(
      join(rig.stateDir, 'lock'),
      JSON.stringify({ pid: 999_999_999, command: 'report', since: 'then' }),
    );
    expect((await runCli(rig, ['report'])).code).toBe(0);
  });

  it('writes Prometheus metrics for node_exporter', async () => {
    const rig = makeRig();
    const dir = join(rig.dir, 'textfile');
    mkdirSync(dir);
    expect((await runCli(rig, ['--textfile-dir', dir, 'report'])).code).toBe(0);
    const prom = readFileSync(join(dir, 'sonm_rewards.prom'), 'utf8');
    expect(prom).toMatch(/^sonm_rewards_connected 1$/m);
    expect(prom).toMatch(/^sonm_rewards_qualifying_gpus 6$/m);
    expect(prom).toMatch(/^sonm_rewards_hours_pending 0$/m);
    expect(readdirSync(dir)).toEqual(['sonm_rewards.prom']);
  });
});

describe('status', () => {
  it('shows the 24-hour chart, credit, counts and warnings', async () => {
    const rig = makeRig();
    const clock = new FakeClockFile(join(rig.dir, 'clock'));
    for (let i = 0; i < 14; i++) {
      clock.set(BASE + i * FIVE_MIN);
      await runCli(rig, ['report'], { env: agentEnv(rig, clock, null) });
    }
    // One card falls off the bus, then the master's confirmation is lost.
    rig.tools.tool('nvidia-smi', {
      stdout: readFileSync(join(ROOT, 'test/fixtures/nvidia-smi/lost-one-of-six.txt'), 'utf8'),
      exit: 15,
    });
    clock.set(BASE + 14 * FIVE_MIN);
    await runCli(rig, ['report'], { env: agentEnv(rig, clock, null) });
    rig.tools.tool('sonmcli', [
      {
        match: '*worker status*',
        stdout: readFileSync(
          join(ROOT, 'test/fixtures/sonmcli/worker-status-unconfirmed.json'),
          'utf8',
        ),
      },
    ]);
    clock.set(BASE + 15 * FIVE_MIN);
    await runCli(rig, ['report'], { env: agentEnv(rig, clock, null) });
    const r = await runCli(rig, ['status', '--days', '2'], { env: agentEnv(rig, clock, null) });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Last 24 hours (UTC), connected share per hour');
    expect(r.stdout).toMatch(
      /recorded 1 +delivered 0 +credited 0 +rejected 0 +pending 1 +expired 0/,
    );
    expect(r.stdout).toContain('! GPU count dropped from 6 to 5 at 11:10');
    expect(r.stdout).toContain('! worker not connected since 11:15: master not confirmed');
    expect(r.stdout).toMatch(/2026-06-01 +0 h +\$0\.00/);
    const bad = await runCli(rig, ['status', '--days', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(
      'sonm-rewards: --days must be a whole number from 1 to 30, got "lots"',
    );
  });
});

describe('the systemd timer', () => {
  it('installs units that systemd-analyze verifies without a word, then enables the timer', async () => {
    const rig = makeRig();
    const unitDir = join(rig.dir, 'units');
    mkdirSync(unitDir);
    const textfile = join(rig.dir, 'textfile');
    const r = await runCli(rig, [
      '--service',
      'https://rewards.example.org',
      '--textfile-dir',
      textfile,
      'timer',
      'install',
      '--unit-dir',
      unitDir,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(rig.tools.callsOf('systemctl').map((c) => c.args.join(' '))).toEqual([
      'daemon-reload',
      'enable --now sonm-rewards-report.timer',
    ]);
    const service = readFileSync(join(unitDir, 'sonm-rewards-report.service'), 'utf8');
    const timer = readFileSync(join(unitDir, 'sonm-rewards-report.timer'), 'utf8');
    for (const line of [
      'Type=oneshot',
      'StateDirectory=sonm-rewards',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ProtectHome=read-only',
      'PrivateTmp=yes',
      'Environment=SONM_REWARDS_SERVICE=https://rewards.example.org',
      `ReadWritePaths=-${textfile}`,
    ])
      expect(service).toContain(line);
    expect(service).toMatch(/^TimeoutStartSec=\d+$/m);
    expect(service).not.toContain('PrivateDevices');
    for (const line of [
      'OnCalendar=*:0/5',
      'Persistent=true',
      'RandomizedDelaySec=60',
      'AccuracySec=1s',
    ])
      expect(timer).toContain(line);
    const verify = await execTool(
      'systemd-analyze',
      [
        'verify',
        '--man=no',
        join(unitDir, 'sonm-rewards-report.service'),
        join(unitDir, 'sonm-rewards-report.timer'),
      ],
      { timeoutMs: 30_000, env: { SYSTEMD_LOG_COLOR: '0' } },
    );
    expect(verify.exitCode).toBe(0);
    expect(`${verify.stdout}${verify.stderr}`.trim()).toBe('');
    const cal = await execTool('systemd-analyze', ['calendar', '*:0/5'], { timeoutMs: 10_000 });
    expect(cal.stdout).toMatch(/Normalized form: \*-\*-\* \*:00\/5:00/);
    const un = await runCli(rig, ['timer', 'uninstall', '--unit-dir', unitDir]);
    expect(un.code).toBe(0);
    expect(readdirSync(unitDir)).toEqual([]);
  });

  it.each([
    ['10m', '*:0/10'],
    ['1m', '*:0/1'],
    ['60m', 'hourly'],
  ])('--interval %s gives OnCalendar=%s, and --dry-run changes nothing', async (interval, cal) => {
    const rig = makeRig();
    const unitDir = join(rig.dir, 'units');
    const r = await runCli(rig, [
      'timer',
      'install',
      '--interval',
      interval,
      '--unit-dir',
      unitDir,
      '--dry-run',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`OnCalendar=${cal}`);
    expect(existsSync(unitDir)).toBe(false);
    expect(rig.tools.callsOf('systemctl')).toEqual([]);
  });

  it('an interval that does not divide an hour is a usage error', async () => {
    const r = await runCli(makeRig(), ['timer', 'install', '--interval', '7m', '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'sonm-rewards: --interval "7m" must be whole minutes that divide an hour (1m to 60m), such as 5m',
    );
  });
});

describe('enrolment and eligibility', () => {
  it('enroll registers the key; a second master is refused with exit 1; check --report sends the verdict', async () => {
    const rig = makeRig();
    const svc = await startService(rig.dir, { programs: [activeProgram()] });
    try {
      const env = { SONM_REWARDS_SERVICE: svc.url };
      const bad = await runCli(
        rig,
        ['enroll', '--master', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1Beaed'],
        { env },
      );
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/fails its EIP-55 checksum/);
      const ok = await runCli(
        rig,
        ['enroll', '--master', '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed'],
        { env },
      );
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(
        /is enrolled with .* for master 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed; eligibility sent \(eligible\)/,
      );
      const key = statSync(join(rig.stateDir, 'identity', 'rig.key'));
      expect(key.mode & 0o777).toBe(0o600);
      const other = await runCli(
        rig,
        ['enroll', '--master', '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359'],
        { env },
      );
      expect(other.code).toBe(1);
      expect(other.stderr).toMatch(/bound to master 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed/);
      const programs = writePrograms(rig.dir, [activeProgram()]);
      const check = await runCli(rig, ['check', '--report', '--programs', programs], { env });
      expect(check.code).toBe(0);
      expect(check.stderr).toContain(`eligibility sent to ${svc.url}`);
      const none = await runCli(rig, ['enroll']);
      expect(none.code).toBe(2);
      expect(none.stderr.trim()).toBe(
        'sonm-rewards: no rewards service configured: pass --service URL or set SONM_REWARDS_SERVICE',
      );
    } finally {
      await svc.stop();
    }
  });

  it('a plain-HTTP service that is not loopback is refused', async () => {
    const r = await runCli(makeRig(), ['--service', 'http://rewards.example.org', 'status']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'sonm-rewards: --service: plain HTTP is only allowed to loopback addresses; use https:// for rewards.example.org',
    );
  });

  it('configuration: file, then environment, then flags; a broken file is a usage error', async () => {
    const rig = makeRig();
    writeFileSync(
      rig.env.SONM_REWARDS_CONFIG!,
      JSON.stringify({ service: 'https://from-file.example', interval: '10m' }),
    );
    const fromFile = await runCli(rig, ['--verbose', 'status'], {
      env: { SONM_REWARDS_STATE_DIR: rig.stateDir },
    });
    expect(fromFile.stderr).toMatch(/"service":"https:\/\/from-file.example"/);
    expect(fromFile.stderr).toMatch(/"intervalSeconds":600/);
    const fromEnv = await runCli(rig, ['--verbose', 'status'], {
      env: { SONM_REWARDS_SERVICE: 'https://from-env.example' },
    });
    expect(fromEnv.stderr).toMatch(/"service":"https:\/\/from-env.example"/);
    const fromFlag = await runCli(
      rig,
      ['--verbose', '--service', 'https://from-flag.example', 'status'],
      { env: { SONM_REWARDS_SERVICE: 'https://from-env.example' } },
    );
    expect(fromFlag.stderr).toMatch(/"service":"https:\/\/from-flag.example"/);
    writeFileSync(rig.env.SONM_REWARDS_CONFIG!, '{"servce": 1}');
    const broken = await runCli(rig, ['status']);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/has unknown key\(s\) servce; known keys: service,/);
  });
});
