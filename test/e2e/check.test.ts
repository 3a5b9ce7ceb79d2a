/**
 * `sonm-rewards check` end to end: the built binary, fake tools first on PATH, a fixture sysroot.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { fixture, HEALTHY_SONMCLI, makeRig, ROOT, runCli } from '../helpers/rig.js';
import { activeProgram, writePrograms } from '../helpers/programs.js';
import { fixedTimeEnv } from '../helpers/fake-clock.js';

const schema = JSON.parse(readFileSync(join(ROOT, 'docs', 'check-result.schema.json'), 'utf8'));
const ajv = new Ajv2020.default({ strict: false });
const validate = ajv.compile(schema);

async function checkJson(
  rig: ReturnType<typeof makeRig>,
  extra: string[] = [],
  env: Record<string, string> = {},
) {
  const programs = writePrograms(rig.dir, [activeProgram()]);
  const r = await runCli(rig, ['check', '--json', '--programs', programs, ...extra], { env });
  let json: any = null;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
  return { ...r, json, check: (id: string) => json.checks.find((c: any) => c.id === id) };
}

describe('check on a healthy rig', () => {
  it('is eligible, earns $12/day with six 2080 Ti, and prints only schema-valid JSON', async () => {
    const rig = makeRig({
      cores: 4,
      maxMHz: 3500,
      memTotalKb: 16_300_000,
      diskBytes: 120e9,
      linkMbps: 1000,
    });
    const r = await checkJson(rig);
    expect(r.code).toBe(0);
    expect(validate(r.json), JSON.stringify(validate.errors)).toBe(true);
    expect(r.json.checks.map((c: any) => c.id)).toEqual([
      'arch',
      'cpu-cores',
      'cpu-speed',
      'ram',
      'disk',
      'network',
      'gpus',
      'sonm-version',
      'sonm-worker',
    ]);
    expect(r.json.checks.every((c: any) => c.status === 'pass')).toBe(true);
    expect(r.json.reward).toMatchObject({ qualifyingGpus: 6, usdPerDay: 12 });
    expect(r.json.gpus[0]).toMatchObject({
      index: 0,
      model: 'RTX 2080 Ti',
      pciDeviceId: '1e07',
      busId: '00000000:01:00.0',
      memoryMiB: 11019,
      qualifying: true,
    });
    expect(r.json.sonm.deals).toEqual([
      { id: '84117', durationSeconds: 0, spot: true, status: 1, endTime: null },
    ]);
    expect(r.json.programsSource).toBe('file');
  });

  it('runs sonmcli as the rig user, with --json, a closed stdin and a minimal environment', async () => {
    const rig = makeRig({
      sonmcli: [
        {
          match: '*worker status*',
          stdout: fixture('sonmcli/worker-status-connected.json'),
          sh:
            'if read -r x; then echo open >> "$FAKE_DIR/stdin"; ' +
            'else echo closed >> "$FAKE_DIR/stdin"; fi; env > "$FAKE_DIR/env"',
        },
        ...HEALTHY_SONMCLI,
      ],
    });
    const r = await checkJson(rig, [], { SECRET_TOKEN: 'do-not-leak' });
    expect(r.code).toBe(0);
    const calls = rig.tools.callsOf('sonmcli');
    expect(calls.length).toBeGreaterThan(0);
    for (const c of calls) {
      expect(c.asUser).toBe('rig');
      expect(c.args).toContain('--json');
    }
    expect(
      rig.tools.callsOf('sudo').some((c) => c.args.slice(0, 4).join(' ') === '-n -u rig -H'),
    ).toBe(true);
    expect(readFileSync(join(rig.tools.dir, 'stdin'), 'utf8').trim()).toBe('closed');
    const env = readFileSync(join(rig.tools.dir, 'env'), 'utf8');
    expect(env).not.toContain('SECRET_TOKEN');
    expect(env).toContain('LC_ALL=C');
  });

  it('prints a readable report without colour or spinner when stdout is not a terminal', async () => {
    const rig = makeRig();
    const programs = writePrograms(rig.dir, [activeProgram()]);
    const r = await runCli(rig, ['check', '--programs', programs]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/\x1b\[/);
    expect(r.stderr).not.toMatch(/\x1b\[|Probing/);
    expect(r.stdout).toMatch(/✔ +gpus +6 qualifying of 6 \(RTX 2080 Ti ×6\)/);
    expect(r.stdout).toContain(
      'Estimate: 6 qualifying GPUs × $2/day ≈ $12/day, about $360 a month',
    );
    expect(r.stdout).toMatch(/ +# {2}model +PCI id +bus id +memory +qualifies/);
    expect(r.stdout).toContain('Eligible');
  });
});

describe('check: GPU faults', () => {
  it('nvidia-smi missing: fails with "install the NVIDIA driver", exit 1', async () => {
    const rig = makeRig();
    writeFileSync(join(rig.tools.bin, 'nvidia-smi'), '');
    const { rmSync } = await import('node:fs');
    rmSync(join(rig.tools.bin, 'nvidia-smi'));
    const r = await checkJson(rig);
    expect(r.code).toBe(1);
    expect(r.check('gpus')).toMatchObject({
      status: 'fail',
      remedy: 'nvidia-smi not found: install the NVIDIA driver',
    });
  });

  it('driver not loaded (exit 9)', async () => {
    const rig = makeRig({
      nvidia: { stdout: fixture('nvidia-smi/driver-not-loaded.txt'), exit: 9 },
    });
    const r = await checkJson(rig);
    expect(r.code).toBe(1);
    expect(r.check('gpus').message).toMatch(
      /NVIDIA driver not loaded: NVIDIA-SMI has failed because it couldn't communicate/,
    );
  });

  it('one GPU of six lost (exit 15): the other five counted, the lost one reported', async () => {
    const rig = makeRig({
      nvidia: { stdout: fixture('nvidia-smi/lost-one-of-six.txt'), exit: 15 },
    });
    const r = await checkJson(rig);
    expect(r.code).toBe(0);
    expect(r.json.reward.qualifyingGpus).toBe(5);
    expect(r.json.lostGpus).toEqual([
      { busId: '0000:03:00.0', reason: 'GPU is lost', code: 'gpu-lost', source: 'nvidia-smi' },
    ]);
    expect(r.check('gpus').status).toBe('warn');
  });

  it('a hung nvidia-smi is killed at its deadline and the check still finishes', async () => {
    const rig = makeRig({ nvidia: { hang: true } });
    const r = await checkJson(rig, [], { SONM_REWARDS_NVIDIA_TIMEOUT_MS: '1500' });
    expect(r.code).toBe(1);
    expect(r.check('gpus')).toMatchObject({ status: 'fail' });
    expect(r.check('gpus').message).toMatch(/did not answer within 2 s/);
    expect(r.json.checks.find((c: any) => c.id === 'sonm-version').status).toBe('pass');
  });

  it.each([
    ['nvidia-smi/na-values.csv', 1],
    ['nvidia-smi/1080-and-p102.csv', 0],
    ['nvidia-smi/nine-1080ti.csv', 9],
    ['nvidia-smi/h200-real.csv', 0],
  ])('%s: %i qualifying', async (file, qualifying) => {
    const rig = makeRig({ nvidia: { stdout: fixture(file) } });
    const r = await checkJson(rig);
    expect(r.json.reward.qualifyingGpus).toBe(qualifying);
    expect(r.code).toBe(file.includes('na-values') ? 0 : 1);
  });
});

describe('check: SONM faults', () => {
  it('sonmcli missing and dpkg-query without SONM: not installed', async () => {
    const rig = makeRig({
      dpkg: { exit: 1, stderr: 'dpkg-query: no packages found matching sonm-worker\n' },
      systemctl: [{ match: 'is-active*', stdout: 'inactive\n', exit: 3 }],
    });
    const { rmSync } = await import('node:fs');
    rmSync(join(rig.tools.bin, 'sonmcli'));
    const r = await checkJson(rig);
    expect(r.code).toBe(1);
    expect(r.check('sonm-version')).toMatchObject({
      status: 'fail',
      message: 'SONM is not installed',
    });
    expect(r.check('sonm-worker')).toMatchObject({ status: 'skip', actual: 'not installed' });
  });

  it('a hanging sonmcli is abandoned at its deadline', async () => {
    const rig = makeRig({ sonmcli: [{ hang: true }] });
    const r = await checkJson(rig, [], { SONM_REWARDS_SONMCLI_TIMEOUT_MS: '1500' });
    // Finished on its own (a hang would be killed by the runner: no exit code, no JSON).
    expect(r.code).not.toBeNull();
    expect(r.check('sonm-worker')).toMatchObject({ status: 'warn' });
    expect(r.check('sonm-worker').message).toMatch(/did not answer in time/);
  });

  it('sonmcli error JSON (node down, exit 1) names the reason', async () => {
    const rig = makeRig({
      sonmcli: [{ stdout: fixture('sonmcli/error-node-down.json'), exit: 1 }],
    });
    const r = await checkJson(rig);
    expect(r.check('sonm-worker').message).toBe(
      'worker not connected: worker status failed: failed to connect to the Node: connection refused',
    );
    // SONM writes "Node": the remedy comes from the code the probe parsed, not from the text.
    expect(r.check('sonm-worker')).toMatchObject({
      code: 'node-unreachable',
      remedy: 'start sonm-node: `sudo systemctl start sonm-node`',
    });
  });

  it('dpkg-query exiting 1 with partial output still reads the known packages', async () => {
    const rig = makeRig({
      dpkg: {
        stdout: fixture('dpkg/no-optimus.txt'),
        stderr: fixture('dpkg/no-optimus.stderr'),
        exit: 1,
      },
    });
    const r = await checkJson(rig);
    expect(r.json.sonm.versions.packages).toEqual({
      'sonm-worker': '0.4.25',
      'sonm-node': '0.4.25',
      'sonm-cli': '0.4.25',
    });
    expect(r.check('sonm-version').status).toBe('pass');
  });

  it.each([
    ['dpkg/all-0.4.24.txt', 'fail', /upgrade --master/],
    ['dpkg/all-0.4.9.txt', 'fail', /upgrade --master/],
  ])('%s -> %s', async (file, status, remedy) => {
    const rig = makeRig({ dpkg: { stdout: fixture(file) } });
    const r = await checkJson(rig);
    expect(r.check('sonm-version').status).toBe(status);
    expect(r.check('sonm-version').remedy).toMatch(remedy);
  });

  it('falls back to sonmcli version --json when dpkg-query knows nothing', async () => {
    const rig = makeRig({ dpkg: { exit: 1 } });
    const r = await checkJson(rig);
    expect(r.json.sonm.versions).toEqual({
      packages: { 'sonm-cli': 'v0.4.25-dd5be502' },
      notInstalled: {},
      source: 'sonmcli',
      lowest: '0.4.25',
    });
  });

  it('garbage versions are unreadable, not a crash', async () => {
    const rig = makeRig({ dpkg: { stdout: 'sonm-worker\tinstall ok installed\tgarbage\n' } });
    const r = await checkJson(rig);
    expect(r.check('sonm-version')).toMatchObject({ status: 'fail' });
    expect(r.check('sonm-version').message).toMatch(/unreadable/);
  });
});

describe('check: hardware boundaries end to end', () => {
  it.each([
    [{ memTotalKb: Math.round(15.5 * 1024 * 1024) }, 'ram', 'pass'],
    [{ memTotalKb: 12 * 1000 * 1000 }, 'ram', 'fail'],
    [{ diskBytes: 60_022_480_896 }, 'disk', 'pass'],
    [{ diskBytes: 59e9 }, 'disk', 'fail'],
    [{ cores: 2, maxMHz: 2000 }, 'cpu-speed', 'pass'],
    [{ cores: 1 }, 'cpu-cores', 'fail'],
    [{ wireless: true, iface: 'wlp2s0' }, 'network', 'fail'],
    [{ linkMbps: null }, 'network', 'warn'],
  ])('%o: %s %s', async (spec, id, status) => {
    const rig = makeRig(spec);
    const r = await checkJson(rig);
    expect(r.check(id).status).toBe(status);
  });
});

describe('check: usage errors and the clock', () => {
  it.each([
    [
      ['check', '--programs', '/nonexistent.json'],
      /cannot read --programs \/nonexistent.json: ENOENT/,
    ],
    [['check', '--programs', 'package.json'], /is not a valid program definition/],
    [['check', '--bogus'], /unknown option '--bogus'/],
  ])('%j exits 2 with one line and no stack', async (args, message) => {
    const rig = makeRig();
    const r = await runCli(rig, args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it('an invalid programs file shows the stack only with --verbose', async () => {
    const rig = makeRig();
    const bad = join(rig.dir, 'bad.json');
    writeFileSync(bad, '{ not json');
    const quiet = await runCli(rig, ['check', '--programs', bad]);
    expect(quiet.code).toBe(2);
    expect(quiet.stderr.trim().split('\n')).toHaveLength(1);
    const loud = await runCli(rig, ['--verbose', 'check', '--programs', bad]);
    expect(loud.code).toBe(2);
    expect(loud.stderr).toMatch(/\n\s+at /);
  });

  it('the built-in program: eligible during its window (libfaketime), ended today', async () => {
    const rig = makeRig();
    const during = await runCli(rig, ['check', '--json'], {
      env: fixedTimeEnv('2019-05-01 12:00:00'),
    });
    expect(during.stdout, during.stderr).toMatch(/^\{/);
    expect(JSON.parse(during.stdout).program).toMatchObject({
      id: 'elevated-1080ti-2080ti-2019',
      active: true,
      admission: 'suspended',
    });
    expect(during.code).toBe(0);
    const today = await runCli(rig, ['check', '--json']);
    expect(JSON.parse(today.stdout).program.window.phase).toBe('ended');
    expect(today.code).toBe(1);
  });
});
