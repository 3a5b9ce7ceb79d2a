/**
 * The eligibility rules as tables (issue 12, item 4) and the remedy table by reason code
 * (issue 8, item 3): each rule is called by its check id with named fields; each remedy is built
 * from the program definition, so changing the program changes the words.
 */
import { describe, expect, it } from 'vitest';
import { RULES } from '../../src/program/rules.js';
import { REMEDIES, remedyFor } from '../../src/program/remedies.js';
import { evaluateProgram } from '../../src/program/evaluate.js';
import { evaluateGpus, gpuQualifies, gpuModel } from '../../src/program/gpu.js';
import { CHECK_IDS, type CheckId } from '../../src/program/outcome.js';
import { builtInPrograms, type Program } from '../../src/program/definitions.js';
import type { GpuInfo, Probed, RigProbe } from '../../src/probe/types.js';

const ok = <T>(value: T): Probed<T> => ({ ok: true, value, ms: 1 });
const program = builtInPrograms()[0]!;
const r = program.requirements;
const gpu = (i: number, pci = '1e07', vendor: string | null = '10de'): GpuInfo => ({
  index: i,
  name: 'GeForce RTX 2080 Ti',
  uuid: `GPU-${i}`,
  busId: `00000000:0${i}:00.0`,
  pciDeviceId: pci,
  pciVendorId: vendor,
  memoryMiB: 11019,
  driverVersion: '418.56',
});
const nvidia = (gpus: GpuInfo[], over: Record<string, unknown> = {}) =>
  ok({
    gpus,
    lost: [],
    notices: [],
    warning: null,
    answerMs: 300,
    pciDisplayDevices: null,
    ...over,
  });

function probe(over: Partial<RigProbe> = {}): RigProbe {
  return {
    probedAt: '2019-05-01T12:00:00.000Z',
    arch: ok({ machine: 'x86_64' }),
    cpu: ok({
      model: null,
      physicalCores: 4,
      logicalCpus: 4,
      maxMHz: 3500,
      speedSource: 'cpufreq-max',
    }),
    memory: ok({ bytes: 16 * 2 ** 30, source: 'modules', modules: [2 ** 34] }),
    disk: ok({ path: '/', device: '/dev/sda', bytes: 120e9, model: null }),
    network: ok({ iface: 'enp3s0', kind: 'wired', speedMbps: 1000, lowerDevices: [] }),
    nvidia: nvidia([gpu(0), gpu(1)]),
    sonmVersions: ok({
      packages: { 'sonm-worker': '0.4.25', 'sonm-cli': '0.4.25' },
      notInstalled: {},
      source: 'dpkg-query',
      lowest: '0.4.25',
    }),
    worker: ok({
      service: 'active',
      status: null,
      statusError: null,
      connected: true,
      notConnectedReason: null,
      notConnectedCode: null,
    }),
    market: null,
    ...over,
  };
}
const worker = (code: string, reason: string) =>
  ok({
    service: 'active',
    status: null,
    statusError: null,
    connected: false,
    notConnectedReason: reason,
    notConnectedCode: code as never,
  });
const rule = (id: CheckId, p: RigProbe, prog: Program = program) =>
  RULES[id]({
    probe: p,
    program: prog,
    gpus: p.nvidia.ok ? evaluateGpus(p.nvidia.value.gpus, prog, p.nvidia.value.notices) : [],
  });

describe('rules, keyed by check id', () => {
  it('one rule per check id', () =>
    expect(Object.keys(RULES).sort()).toEqual([...CHECK_IDS].sort()));

  it.each<[string, CheckId, Partial<RigProbe>, string, string]>([
    ['healthy arch', 'arch', {}, 'pass', 'ok'],
    ['aarch64', 'arch', { arch: ok({ machine: 'aarch64' }) }, 'fail', 'arch-unsupported'],
    ['arch unreadable', 'arch', { arch: { ok: false, error: 'x', ms: 1 } }, 'warn', 'unmeasured'],
    [
      '1 core',
      'cpu-cores',
      {
        cpu: ok({
          model: null,
          physicalCores: 1,
          logicalCpus: 2,
          maxMHz: 3000,
          speedSource: 'cpufreq-max',
        }),
      },
      'fail',
      'too-few-cores',
    ],
    [
      'cores unknown',
      'cpu-cores',
      {
        cpu: ok({
          model: null,
          physicalCores: null,
          logicalCpus: 2,
          maxMHz: 3000,
          speedSource: 'cpufreq-max',
        }),
      },
      'warn',
      'cores-unknown',
    ],
    [
      '1.9 GHz rated',
      'cpu-speed',
      {
        cpu: ok({
          model: null,
          physicalCores: 2,
          logicalCpus: 2,
          maxMHz: 1900,
          speedSource: 'cpufreq-max',
        }),
      },
      'fail',
      'cpu-too-slow',
    ],
    [
      '800 MHz now',
      'cpu-speed',
      {
        cpu: ok({
          model: null,
          physicalCores: 2,
          logicalCpus: 2,
          maxMHz: 800,
          speedSource: 'cpuinfo-current',
        }),
      },
      'warn',
      'cpu-clocked-down',
    ],
    [
      'no frequency',
      'cpu-speed',
      {
        cpu: ok({ model: null, physicalCores: 2, logicalCpus: 2, maxMHz: null, speedSource: null }),
      },
      'warn',
      'cpu-speed-unknown',
    ],
    [
      '12 GB',
      'ram',
      { memory: ok({ bytes: 12e9, source: 'memtotal', modules: null }) },
      'fail',
      'ram-too-small',
    ],
    [
      '59 GB',
      'disk',
      { disk: ok({ path: '/var/lib/docker', device: '/dev/sda', bytes: 59e9, model: null }) },
      'fail',
      'disk-too-small',
    ],
    [
      'no route',
      'network',
      { network: ok({ iface: null, kind: 'unknown', speedMbps: null }) },
      'fail',
      'no-default-route',
    ],
    [
      'Wi-Fi',
      'network',
      { network: ok({ iface: 'wlan0', kind: 'wireless', speedMbps: 300 }) },
      'fail',
      'wireless-link',
    ],
    [
      'bridge',
      'network',
      { network: ok({ iface: 'br0', kind: 'virtual', speedMbps: null }) },
      'fail',
      'virtual-link',
    ],
    [
      'speed unknown',
      'network',
      { network: ok({ iface: 'enp3s0', kind: 'wired', speedMbps: null }) },
      'warn',
      'link-speed-unknown',
    ],
    [
      '5 Mbit/s',
      'network',
      { network: ok({ iface: 'enp3s0', kind: 'wired', speedMbps: 5 }) },
      'fail',
      'link-too-slow',
    ],
    [
      'bond of wired ports',
      'network',
      {
        network: ok({
          iface: 'bond0',
          kind: 'wired',
          speedMbps: 1000,
          lowerDevices: ['eth0', 'eth1'],
        }),
      },
      'pass',
      'ok',
    ],
    [
      'nine cards',
      'gpus',
      { nvidia: nvidia([0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => gpu(i))) },
      'fail',
      'too-many-gpus',
    ],
    ['a GTX 1080', 'gpus', { nvidia: nvidia([gpu(0, '1b80')]) }, 'fail', 'no-qualifying-gpu'],
    [
      'a 2080 Ti id from another vendor',
      'gpus',
      { nvidia: nvidia([gpu(0, '1e07', '1002')]) },
      'fail',
      'no-qualifying-gpu',
    ],
    [
      'the only card lost',
      'gpus',
      {
        nvidia: nvidia([], {
          lost: [
            {
              busId: '0000:01:00.0',
              reason: 'GPU is lost',
              code: 'gpu-lost',
              source: 'nvidia-smi',
            },
          ],
        }),
      },
      'fail',
      'gpu-lost',
    ],
    [
      'one lost among two',
      'gpus',
      {
        nvidia: nvidia([gpu(0)], {
          lost: [{ busId: '0000:04:00.0', reason: 'x', code: 'not-listed', source: 'pci' }],
        }),
      },
      'warn',
      'gpu-lost',
    ],
    [
      'infoROM corrupted',
      'gpus',
      {
        nvidia: nvidia([gpu(1)], {
          notices: [
            {
              busId: '0000:01:00.0',
              code: 'inforom-corrupted',
              text: 'infoROM is corrupted at gpu 0000:01:00.0',
            },
          ],
        }),
      },
      'warn',
      'inforom-corrupted',
    ],
    [
      'nvidia-smi slow (20 s)',
      'gpus',
      { nvidia: nvidia([gpu(0)], { answerMs: 20_000 }) },
      'warn',
      'nvidia-smi-slow',
    ],
    ['nvidia-smi quick (0.3 s)', 'gpus', {}, 'pass', 'ok'],
    [
      'nvidia-smi timed out',
      'gpus',
      { nvidia: { ok: false, error: 'x', code: 'nvidia-smi-timeout', ms: 1 } },
      'fail',
      'nvidia-smi-timeout',
    ],
    [
      'driver not loaded',
      'gpus',
      { nvidia: { ok: false, error: 'x', code: 'driver-not-loaded', ms: 1 } },
      'fail',
      'driver-not-loaded',
    ],
    [
      'SONM 0.4.24',
      'sonm-version',
      {
        sonmVersions: ok({
          packages: { 'sonm-worker': '0.4.24' },
          source: 'dpkg-query',
          lowest: '0.4.24',
        }),
      },
      'fail',
      'sonm-outdated',
    ],
    [
      'optimus rc, the rest 0.4.25',
      'sonm-version',
      {
        sonmVersions: ok({
          packages: { 'sonm-worker': '0.4.25' },
          notInstalled: { 'sonm-optimus': 'config-files' },
          source: 'dpkg-query',
          lowest: '0.4.25',
        }),
      },
      'pass',
      'ok',
    ],
    [
      'worker half-installed',
      'sonm-version',
      {
        sonmVersions: ok({
          packages: { 'sonm-cli': '0.4.25' },
          notInstalled: { 'sonm-worker': 'half-installed' },
          source: 'dpkg-query',
          lowest: '0.4.25',
        }),
      },
      'fail',
      'sonm-package-broken',
    ],
    [
      'nothing installed',
      'sonm-version',
      { sonmVersions: ok({ packages: {}, source: 'none', lowest: null }) },
      'fail',
      'sonm-not-installed',
    ],
    [
      'garbage version',
      'sonm-version',
      {
        sonmVersions: ok({
          packages: { 'sonm-worker': 'garbage' },
          source: 'dpkg-query',
          lowest: null,
        }),
      },
      'fail',
      'sonm-version-unreadable',
    ],
    [
      'node down',
      'sonm-worker',
      { worker: worker('node-unreachable', 'worker status failed: failed to connect to the Node') },
      'warn',
      'node-unreachable',
    ],
    [
      'master unconfirmed',
      'sonm-worker',
      { worker: worker('master-unconfirmed', 'master not confirmed') },
      'warn',
      'master-unconfirmed',
    ],
    [
      'SONM absent',
      'sonm-worker',
      { worker: worker('not-installed', 'SONM is not installed') },
      'skip',
      'sonm-not-installed',
    ],
  ])('%s: %s is %s (%s)', (_n, id, over, status, code) => {
    expect(rule(id, probe(over))).toMatchObject({ status, code });
  });

  it('link speed unknown is a warn with a null value, never a pass at 65535', () => {
    expect(
      rule('network', probe({ network: ok({ iface: 'enp3s0', kind: 'wired', speedMbps: null }) })),
    ).toMatchObject({ value: null, message: 'enp3s0: link speed unknown' });
  });
  it('an rc package is "not installed", never "0.4.24 installed"', () => {
    const o = rule(
      'sonm-version',
      probe({
        sonmVersions: ok({
          packages: { 'sonm-worker': '0.4.25' },
          notInstalled: { 'sonm-optimus': 'config-files' },
          source: 'dpkg-query',
          lowest: '0.4.25',
        }),
      }),
    );
    expect(o.actual).toBe(
      '0.4.25 (sonm-worker 0.4.25; not installed: sonm-optimus removed, config files left)',
    );
  });
});

describe('remedies by reason code, built from the program definition', () => {
  // A program with other numbers: every remedy that names a number, version or model must follow it.
  const other: Program = {
    ...program,
    requirements: {
      ...r,
      minCpuMHz: 2500,
      minSonmVersion: '0.5.1',
      minPhysicalCores: 6,
      minRamBytes: 32 * 2 ** 30,
      minDiskBytes: 250e9,
      minLinkMbps: 100,
      maxGpus: 12,
      minGpus: 2,
      gpuModels: [{ model: 'RTX 3090', pciDeviceIds: ['2204'] }],
    },
  };
  const rows: [CheckId, string, string, string | null, RegExp, RegExp][] = [
    ['arch', 'arch-unsupported', '', null, /x86-64/, /x86-64/],
    ['cpu-cores', 'cores-unknown', '', null, /lscpu/, /lscpu/],
    [
      'cpu-cores',
      'too-few-cores',
      '',
      null,
      /at least 2 physical cores/,
      /at least 6 physical cores/,
    ],
    ['cpu-speed', 'cpu-speed-unknown', '', null, /rated frequency/, /rated frequency/],
    ['cpu-speed', 'cpu-clocked-down', '', null, /clock down/, /clock down/],
    ['cpu-speed', 'cpu-too-slow', '', null, /rated at 2 GHz or more/, /rated at 2\.5 GHz or more/],
    ['ram', 'ram-too-small', '', null, /reach 16 GB/, /reach 32 GB/],
    [
      'disk',
      'disk-too-small',
      '',
      '/var/lib/docker',
      /move \/var\/lib\/docker to a disk of 60 GB/,
      /250 GB/,
    ],
    ['network', 'no-default-route', '', null, /Ethernet cable/, /Ethernet cable/],
    ['network', 'wireless-link', '', null, /wired connection/, /wired connection/],
    ['network', 'virtual-link', '', null, /physical Ethernet port/, /physical Ethernet port/],
    [
      'network',
      'link-speed-unknown',
      '',
      'enp3s0',
      /ethtool enp3s0`; it must be at least 10 Mbit\/s/,
      /at least 100 Mbit\/s/,
    ],
    ['network', 'link-too-slow', '', null, /cable and switch port/, /cable and switch port/],
    ['network', 'link-kind-unknown', '', null, /by cable/, /by cable/],
    [
      'gpus',
      'nvidia-smi-not-found',
      '',
      null,
      /^nvidia-smi not found: install the NVIDIA driver$/,
      /install the NVIDIA driver/,
    ],
    ['gpus', 'driver-not-loaded', '', null, /reinstall it or reboot/, /reboot/],
    ['gpus', 'driver-mismatch', '', null, /reboot/, /reboot/],
    ['gpus', 'nvidia-smi-timeout', '', null, /nvidia-smi -pm 1/, /nvidia-persistenced/],
    ['gpus', 'nvidia-smi-too-old', '', null, /update the NVIDIA driver/, /update/],
    ['gpus', 'nvidia-smi-failed', '', null, /run `nvidia-smi`/, /run `nvidia-smi`/],
    [
      'gpus',
      'gpu-lost',
      '',
      '0000:03:00.0',
      /GPU 0000:03:00\.0 is lost: reseat the card and its riser/,
      /riser/,
    ],
    ['gpus', 'too-many-gpus', '', null, /no more than 8 remain/, /no more than 12 remain/],
    [
      'gpus',
      'no-qualifying-gpu',
      '',
      null,
      /at least 1 GTX 1080 Ti or RTX 2080 Ti/,
      /at least 2 RTX 3090 \(/,
    ],
    [
      'gpus',
      'inforom-corrupted',
      '',
      '0000:02:00.0',
      /0000:02:00\.0 works, but its infoROM is corrupted/,
      /infoROM/,
    ],
    [
      'gpus',
      'nvidia-smi-slow',
      '',
      null,
      /`sudo nvidia-smi -pm 1`, or run the `nvidia-persistenced` service/,
      /persistence mode/,
    ],
    [
      'sonm-version',
      'sonm-not-installed',
      '',
      null,
      /install SONM 0\.4\.25/,
      /install SONM 0\.5\.1/,
    ],
    [
      'sonm-version',
      'sonm-version-unreadable',
      '',
      null,
      /install SONM 0\.4\.25/,
      /install SONM 0\.5\.1/,
    ],
    ['sonm-version', 'sonm-outdated', '', null, /sonm-rewards upgrade --master/, /upgrade/],
    [
      'sonm-version',
      'sonm-package-broken',
      '',
      'sonm-worker',
      /dpkg --configure -a`, then `sudo apt-get install --reinstall sonm-worker/,
      /reinstall/,
    ],
    ['sonm-worker', 'service-inactive', '', null, /systemctl start sonm-worker/, /sonm-worker/],
    [
      'sonm-worker',
      'node-unreachable',
      '',
      null,
      /^start sonm-node: `sudo systemctl start sonm-node`$/,
      /sonm-node/,
    ],
    ['sonm-worker', 'status-failed', '', null, /journalctl -u sonm-worker/, /journalctl/],
    ['sonm-worker', 'benchmarks-running', '', null, /benchmarks/, /benchmarks/],
    ['sonm-worker', 'master-unconfirmed', '', null, /sonmcli master confirm/, /master confirm/],
    ['sonm-worker', 'no-rendezvous', '', null, /rendezvous/, /rendezvous/],
  ];

  it('the table above covers every remedy there is', () => {
    const table = Object.entries(REMEDIES)
      .flatMap(([id, byCode]) => Object.keys(byCode).map((c) => `${id}/${c}`))
      .sort();
    expect(rows.map(([id, code]) => `${id}/${code}`).sort()).toEqual(table);
  });
  it.each(rows)('%s/%s', (id, code, _x, subject, built, changed) => {
    expect(remedyFor(id, code, { r, subject })).toMatch(built);
    expect(remedyFor(id, code, { r: other.requirements, subject })).toMatch(changed);
  });
  it('a pass has no remedy; "unmeasured" gets the check\'s by-hand step', () => {
    expect(remedyFor('ram', 'ok', { r, subject: null })).toBeNull();
    expect(remedyFor('ram', 'unmeasured', { r, subject: null })).toBe('check `free -g` by hand');
  });
  it('SONM writes "Node": a worker whose sonm-node is down is told to start sonm-node', () => {
    const v = evaluateProgram(
      probe({
        worker: worker(
          'node-unreachable',
          'worker status failed: failed to connect to the Node: connection refused',
        ),
      }),
      program,
      new Date('2019-05-01T12:00:00Z'),
    );
    expect(v.checks.find((c) => c.id === 'sonm-worker')).toMatchObject({
      code: 'node-unreachable',
      remedy: 'start sonm-node: `sudo systemctl start sonm-node`',
    });
  });
  it('every fail and warn of a verdict has a code and a remedy', () => {
    const bad = probe({
      arch: ok({ machine: 'aarch64' }),
      network: ok({ iface: 'enp3s0', kind: 'wired', speedMbps: null }),
      nvidia: nvidia([gpu(0, '1b80')]),
    });
    for (const c of evaluateProgram(bad, program, new Date('2019-05-01T12:00:00Z')).checks) {
      expect(c.code).toMatch(/^[a-z-]+$/);
      if (c.status === 'fail' || c.status === 'warn') expect(c.remedy, c.id).toBeTruthy();
    }
  });
});

describe('one rule for "this GPU qualifies"', () => {
  it.each([
    [{ pciDeviceId: '1b06', pciVendorId: '10de' }, true],
    [{ pciDeviceId: '1E07' }, true], // a report carries no vendor; case does not matter
    [{ pciDeviceId: '1e07', pciVendorId: '1002' }, false],
    [{ pciDeviceId: '1b80', pciVendorId: '10de' }, false],
    [{ pciDeviceId: null }, false],
  ])('%o qualifies: %s', (g, want) => expect(gpuQualifies(program, g)).toBe(want));
  it('models by PCI id, from the program, else from the common cards', () => {
    expect(gpuModel([program], '1e04')).toBe('RTX 2080 Ti');
    expect(gpuModel([program], '1b07')).toBe('P102-100');
    expect(gpuModel([program], 'ffff')).toBeNull();
  });
});
