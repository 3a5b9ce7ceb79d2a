/**
 * The real-rig cases (test/fixtures/real-rigs, copied from ../shared/cases/real-rigs) through the
 * built binary, as the other end-to-end tests run it: the case's nvidia-smi answer (its stdout,
 * exit code and delay) from a fake tool, its /proc and /sys files laid over the healthy rig, and
 * its dpkg status database answered by the real `dpkg-query --admindir=DIR`. Each right answer is
 * the one in the case README; every output must still validate against the check schema.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { FIXTURES, fixture, makeRig, ROOT, runCli, type RigSpec } from '../helpers/rig.js';
import { activeProgram, writePrograms } from '../helpers/programs.js';

const schema = JSON.parse(readFileSync(join(ROOT, 'docs', 'check-result.schema.json'), 'utf8'));
const validate = new Ajv2020.default({ strict: false }).compile(schema);
const CASES = join(FIXTURES, 'real-rigs');

/** The rig a case describes: the healthy two-1080-Ti rig with the case's files over it. */
function caseSpec(name: string): RigSpec {
  const dir = join(CASES, name);
  const file = (f: string): string | null =>
    existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : null;
  const stdout = file('nvidia-smi.stdout') ?? fixture('nvidia-smi/two-1080ti.csv');
  return {
    nvidia: {
      stdout,
      exit: Number(file('nvidia-smi.exit') ?? 0),
      delay: Number(file('nvidia-smi.delay') ?? 0) || undefined,
    },
    sysrootOverlay: existsSync(join(dir, 'sysroot')) ? join(dir, 'sysroot') : undefined,
    dpkgStatus: existsSync(join(dir, 'dpkg-status'))
      ? join(dir, 'dpkg-status')
      : join(FIXTURES, 'dpkg', 'all-0.4.25.status'),
  };
}

async function check(spec: RigSpec, env: Record<string, string> = {}) {
  const rig = makeRig(spec);
  const programs = writePrograms(rig.dir, [activeProgram()]);
  const r = await runCli(rig, ['check', '--json', '--programs', programs], {
    env,
    timeoutMs: 120_000,
  });
  const json = JSON.parse(r.stdout);
  expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
  return {
    ...r,
    json,
    rig,
    check: (id: string) => json.checks.find((c: { id: string }) => c.id === id),
  };
}

describe('real-rig cases give their right answers', () => {
  it('every case folder has a test here', () => {
    // upgrade-spot-deal-on-timed-plan is the upgrade's deal rule: test/e2e/upgrade.test.ts.
    expect(
      readdirSync(CASES)
        .filter((f) => f !== 'README.md' && !f.startsWith('upgrade-'))
        .sort(),
    ).toEqual([
      'bond0-default-route',
      'dpkg-rc-optimus',
      'inforom-corrupted-exit14',
      'lost-gpu-nospace',
      'net-speed-65535',
      'slow-nvidia-smi-20s',
    ]);
  });

  it('lost-gpu-nospace: five 1080 Ti count, $10/day, exit 0; the lost card listed with its reason', async () => {
    const r = await check(caseSpec('lost-gpu-nospace'));
    expect(r.code).toBe(0);
    expect(r.json.reward).toMatchObject({ qualifyingGpus: 5, usdPerDay: 10 });
    expect(r.json.lostGpus).toEqual([
      { busId: '0000:03:00.0', reason: 'Unknown Error', code: 'gpu-error', source: 'nvidia-smi' },
    ]);
    expect(r.check('gpus')).toMatchObject({ status: 'warn', code: 'gpu-lost' });
    expect(r.check('gpus').remedy).toMatch(/reseat the card and its riser/);
  });

  it('inforom-corrupted-exit14: both cards count, eligible; the infoROM is a warning on that card', async () => {
    const r = await check(caseSpec('inforom-corrupted-exit14'));
    expect(r.code).toBe(0);
    expect(r.json.eligible).toBe(true);
    expect(r.json.reward.qualifyingGpus).toBe(2);
    expect(r.json.lostGpus).toEqual([]);
    expect(r.json.gpus.map((g: { warnings: string[] }) => g.warnings)).toEqual([
      [],
      ['infoROM is corrupted at gpu 0000:02:00.0'],
    ]);
    expect(r.check('gpus')).toMatchObject({ status: 'warn', code: 'inforom-corrupted' });
  });

  it('slow-nvidia-smi-20s: waits, says so, counts the eight, and gives the persistence-mode hint', async () => {
    const r = await check(caseSpec('slow-nvidia-smi-20s'));
    expect(r.code).toBe(0);
    expect(r.json.reward.qualifyingGpus).toBe(8);
    expect(r.json.lostGpus).toEqual([]);
    expect(r.stderr).toMatch(/waiting for nvidia-smi \(up to 90 s\)/);
    expect(r.check('gpus')).toMatchObject({ status: 'warn', code: 'nvidia-smi-slow' });
    expect(r.check('gpus').message).not.toMatch(/lost|fell off/);
    expect(r.check('gpus').remedy).toMatch(/nvidia-smi -pm 1.*nvidia-persistenced/);
  });

  it('net-speed-65535: a warn "link speed unknown" with a null value, never a pass at 65535', async () => {
    const r = await check(caseSpec('net-speed-65535'));
    expect(r.check('network')).toMatchObject({
      status: 'warn',
      code: 'link-speed-unknown',
      value: null,
      message: 'enp3s0: link speed unknown',
    });
  });

  it('bond0-default-route: judged by its wired ports, a pass at 1000 Mbit/s', async () => {
    const r = await check(caseSpec('bond0-default-route'));
    expect(r.check('network')).toMatchObject({
      status: 'pass',
      value: 1000,
      actual: 'bond0, wired via eth0, eth1, eth2, eth3, 1000 Mbit/s',
    });
    expect(r.code).toBe(0);
  });

  it('dpkg-rc-optimus: SONM 0.4.25 passes; optimus is "not installed", not "0.4.24 installed"', async () => {
    const r = await check(caseSpec('dpkg-rc-optimus'));
    expect(r.check('sonm-version')).toMatchObject({ status: 'pass', value: '0.4.25' });
    expect(r.check('sonm-version').actual).toContain(
      'not installed: sonm-optimus removed, config files left',
    );
    expect(r.check('sonm-version').actual).not.toContain('0.4.24');
    expect(r.json.sonm.versions).toMatchObject({
      packages: { 'sonm-cli': '0.4.25', 'sonm-node': '0.4.25', 'sonm-worker': '0.4.25' },
      notInstalled: { 'sonm-optimus': 'config-files' },
    });
    expect(r.rig.tools.callsOf('dpkg-query')).toHaveLength(1);
  });
});

describe('neighbours of the cases, end to end', () => {
  it('PCI cross-check: 6 cards on the bus, 5 in nvidia-smi, the sixth lost with its bus id', async () => {
    const r = await check({
      nvidia: { stdout: fixture('pci/five-of-six.csv') },
      sysrootOverlay: join(FIXTURES, 'pci', 'six-on-bus'),
    });
    expect(r.json.reward.qualifyingGpus).toBe(5);
    expect(r.json.lostGpus).toEqual([
      {
        busId: '0000:04:00.0',
        reason: 'on the PCI bus, but nvidia-smi does not list it',
        code: 'not-listed',
        source: 'pci',
      },
    ]);
    expect(r.check('gpus')).toMatchObject({ status: 'warn', code: 'gpu-lost' });
  });

  it('a half-installed sonm-worker fails with the way to finish the installation', async () => {
    const r = await check({ dpkgStatus: join(FIXTURES, 'dpkg', 'half-installed-worker.status') });
    expect(r.code).toBe(1);
    expect(r.check('sonm-version')).toMatchObject({ status: 'fail', code: 'sonm-package-broken' });
    expect(r.check('sonm-version').remedy).toMatch(/dpkg --configure -a.*--reinstall sonm-worker/);
  });

  it.each([
    ['net/vlan-over-wired', 'pass'],
    ['net/bridge-br0', 'fail'],
    ['net/wireguard-wg0', 'fail'],
  ])('%s: network %s', async (overlay, status) => {
    const r = await check({ sysrootOverlay: join(FIXTURES, overlay) });
    expect(r.check('network').status).toBe(status);
  });

  it('the tick keeps a bounded deadline: a slow nvidia-smi is sampled as "timed out", never "lost"', async () => {
    const rig = makeRig({ nvidia: { stdout: fixture('nvidia-smi/two-1080ti.csv'), delay: 5 } });
    const r = await runCli(rig, ['report'], { env: { SONM_REWARDS_NVIDIA_TIMEOUT_MS: '1500' } });
    expect(r.code, r.stderr).toBe(0);
    const logs = readdirSync(join(rig.stateDir, 'samples'));
    const text = readFileSync(join(rig.stateDir, 'samples', logs[0]!), 'utf8');
    expect(text).toMatch(
      /nvidia-smi timed out \(nvidia-smi did not answer within 2 s and was stopped\)/,
    );
    expect(text).not.toMatch(/lost|fell off/);
  });
});
