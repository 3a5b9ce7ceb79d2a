import { describe, expect, it } from 'vitest';
import { interpretNvidiaSmi, parseNvidiaSmiCsv, parsePciId } from '../../src/probe/nvidia.js';
import { parseCpuinfo, parseCpufreqKHz, parseLscpuMaxMHz } from '../../src/probe/cpu.js';
import { parseDmidecodeModules, parseMeminfoTotal } from '../../src/probe/memory.js';
import { mountFor, parseDockerDataRoot, parseMountinfo } from '../../src/probe/disk.js';
import { classifyInterface, parseDefaultRoute, parseLinkSpeed } from '../../src/probe/network.js';
import {
  deriveConnection,
  durationSeconds,
  lowestVersion,
  parseAskPlans,
  parseDealStatus,
  parseDpkgVersions,
  parsePurgeResult,
  parseSonmcliJson,
  parseWorkerStatus,
} from '../../src/probe/sonm-parse.js';
import { parseVersion } from '../../src/lib/version.js';
import type { ExecResult } from '../../src/lib/exec.js';
import { fixture } from '../helpers/rig.js';

const exec = (p: Partial<ExecResult>): ExecResult => ({
  command: 'nvidia-smi',
  args: [],
  exitCode: 0,
  signal: null,
  stdout: '',
  stderr: '',
  timedOut: false,
  notFound: false,
  durationMs: 1,
  ...p,
});

describe('nvidia-smi CSV', () => {
  it('parses the real H200 capture exactly', () => {
    const r = parseNvidiaSmiCsv(fixture('nvidia-smi/h200-real.csv'));
    expect(r.unparsed).toEqual([]);
    expect(r.gpus).toEqual([
      {
        index: 0,
        name: 'NVIDIA H200',
        uuid: 'GPU-126a9821-90df-c9a0-582c-b60a4035ca51',
        busId: '00000000:00:06.0',
        pciDeviceId: '2335',
        pciVendorId: '10de',
        memoryMiB: 143771,
        driverVersion: '580.159.04',
      },
    ]);
  });

  it.each([
    ['0x1B0610DE', { device: '1b06', vendor: '10de' }],
    ['0x1E0710DE', { device: '1e07', vendor: '10de' }],
    ['0x1e04', null],
    ['[N/A]', null],
    ['', null],
  ])('pci id %s', (raw, expected) => expect(parsePciId(raw)).toEqual(expected));

  it('treats [N/A], [Not Supported], [Insufficient Permissions] and deprecated values as missing', () => {
    const r = parseNvidiaSmiCsv(fixture('nvidia-smi/na-values.csv'));
    expect(r.gpus).toHaveLength(2);
    expect(r.gpus[0]).toMatchObject({
      uuid: null,
      memoryMiB: null,
      driverVersion: null,
      pciDeviceId: '1b06',
    });
    expect(r.gpus[1]).toMatchObject({ busId: null, pciDeviceId: null, memoryMiB: 11176 });
  });

  it('reports a lost GPU and keeps the other five', () => {
    const info = interpretNvidiaSmi(
      exec({ exitCode: 15, stdout: fixture('nvidia-smi/lost-one-of-six.txt') }),
    );
    expect(info.gpus).toHaveLength(5);
    expect(info.lost).toEqual([
      { busId: '0000:03:00.0', reason: 'GPU is lost', code: 'gpu-lost', source: 'nvidia-smi' },
    ]);
  });

  it.each([
    [{ notFound: true }, 'nvidia-smi-not-found'],
    [{ timedOut: true, exitCode: null }, 'nvidia-smi-timeout'],
    [{ exitCode: 9, stdout: fixture('nvidia-smi/driver-not-loaded.txt') }, 'driver-not-loaded'],
    [{ exitCode: 18, stdout: fixture('nvidia-smi/version-mismatch.txt') }, 'driver-mismatch'],
    [{ exitCode: 15, stderr: 'Unable to determine the device handle: GPU is lost\n' }, 'gpu-lost'],
    [
      { exitCode: 2, stdout: fixture('nvidia-smi/h200-real-unknown-field.txt') },
      'nvidia-smi-too-old',
    ],
    [{ exitCode: 255, stdout: 'Something odd\n' }, 'nvidia-smi-failed'],
  ])('failure %o is classified as %s', (partial, code) => {
    expect(() => interpretNvidiaSmi(exec(partial))).toThrow(
      expect.objectContaining({ probeCode: code }),
    );
  });

  it('"No devices were found" is zero GPUs, not a crash', () => {
    expect(
      interpretNvidiaSmi(exec({ exitCode: 6, stdout: fixture('nvidia-smi/no-devices.txt') })).gpus,
    ).toEqual([]);
  });
});

describe('cpu', () => {
  const block = (
    i: number,
    core: number,
    phys = 0,
    model = 'Intel(R) Celeron(R) CPU G3930 @ 2.90GHz',
  ) =>
    `processor\t: ${i}\nmodel name\t: ${model}\ncpu MHz\t\t: 800.123\n` +
    `physical id\t: ${phys}\ncore id\t\t: ${core}\ncpu cores\t: 2\n`;
  it.each([
    ['2 cores, no HT', [block(0, 0), block(1, 1)].join('\n'), 2, 2900],
    [
      '2 cores with HT = 4 logical',
      [block(0, 0), block(1, 1), block(2, 0), block(3, 1)].join('\n'),
      2,
      2900,
    ],
    ['1 core', block(0, 0), 1, 2900],
    ['two sockets', [block(0, 0, 0), block(1, 0, 1)].join('\n'), 2, 2900],
    [
      'VM without core ids',
      'processor\t: 0\nmodel name\t: AMD EPYC\ncpu MHz\t\t: 2596.000\ncpu cores\t: 2\n\n' +
        'processor\t: 1\nmodel name\t: AMD EPYC\ncpu MHz\t\t: 2596.000\ncpu cores\t: 2\n',
      2,
      null,
    ],
  ])('%s', (_name, text, cores, modelMHz) => {
    const f = parseCpuinfo(text);
    expect(f.physicalCores).toBe(cores);
    expect(f.modelMHz).toBe(modelMHz);
  });
  it('reads the current clock for VMs', () =>
    expect(parseCpuinfo('processor\t: 0\ncpu MHz\t\t: 2596.000\n').currentMHz).toBe(2596));
  it.each([
    ['4700000\n', 4700],
    ['', null],
    ['garbage', null],
  ])('cpufreq %j', (t, v) => expect(parseCpufreqKHz(t)).toBe(v));
  it('lscpu max', () =>
    expect(parseLscpuMaxMHz('Model name: X\nCPU max MHz:                     4700.0000\n')).toBe(
      4700,
    ));
});

describe('memory', () => {
  it.each([
    ['MemTotal:       16252928 kB\n', 16252928 * 1024],
    ['MemFree: 1 kB\n', null],
  ])('meminfo %#', (t, v) => expect(parseMeminfoTotal(t)).toBe(v));
  it('sums dmidecode modules and skips empty slots', () => {
    const t =
      'Handle 0x0040, DMI type 17, 40 bytes\nMemory Device\n\tSize: 8192 MB\n\n' +
      'Handle 0x0041\nMemory Device\n\tSize: No Module Installed\n\nHandle 0x0042\nMemory Device\n\tSize: 8 GB\n';
    expect(parseDmidecodeModules(t)).toEqual([8 * 2 ** 30, 8 * 2 ** 30]);
  });
});

describe('disk', () => {
  const mi =
    '26 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n' +
    '30 26 8:17 / /var/lib/docker rw - ext4 /dev/sdb1 rw\n31 26 0:40 / /var/lib/docker2 rw - tmpfs tmpfs rw\n';
  it.each([
    ['/var/lib/docker', '8:17'],
    ['/var/lib/docker/overlay2', '8:17'],
    ['/var/lib/docker2', '0:40'],
    ['/home', '254:0'],
  ])('%s is on %s', (path, dev) =>
    expect(mountFor(parseMountinfo(mi), path)?.majorMinor).toBe(dev),
  );
  it.each([
    ['{"data-root": "/mnt/docker"}', '/mnt/docker'],
    ['{"graph": "/srv/docker"}', '/srv/docker'],
    ['{}', null],
    ['not json', null],
    [null, null],
  ])('docker data root %j', (t, v) => expect(parseDockerDataRoot(t)).toBe(v));
});

describe('network', () => {
  it('picks the default route with the lowest metric', () => {
    const t =
      'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n' +
      'wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\nenp3s0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\n';
    expect(parseDefaultRoute(t)).toBe('enp3s0');
  });
  it('no default route', () => expect(parseDefaultRoute('Iface\tDestination\n')).toBeNull());
  it.each([
    [{ name: 'enp3s0', hasDevice: true, isWireless: false, type: 1 }, 'wired'],
    [{ name: 'eth0', hasDevice: true, isWireless: false, type: 1 }, 'wired'],
    [{ name: 'wlp2s0', hasDevice: true, isWireless: true, type: 1 }, 'wireless'],
    [{ name: 'docker0', hasDevice: false, isWireless: false, type: 1 }, 'virtual'],
    [{ name: 'veth12ab', hasDevice: false, isWireless: false, type: 1 }, 'virtual'],
    [{ name: 'tun0', hasDevice: false, isWireless: false, type: 65534 }, 'virtual'],
    [{ name: 'br-1234', hasDevice: false, isWireless: false, type: 1 }, 'virtual'],
    [{ name: 'ib0', hasDevice: true, isWireless: false, type: 32 }, 'unknown'],
  ])('%o is %s', (f, kind) => expect(classifyInterface(f)).toBe(kind));
  it.each([
    ['1000\n', 1000],
    ['-1\n', null],
    [null, null],
    ['10', 10],
  ])('speed %j', (t, v) => expect(parseLinkSpeed(t)).toBe(v));
});

describe('SONM', () => {
  it.each([
    ['0.4.25', '0.4.25'],
    ['v0.4.25-dd5be502', '0.4.25'],
    ['0.4.9', '0.4.9'],
    ['garbage', null],
    ['', null],
  ])('version %j', (raw, v) =>
    expect(
      parseVersion(raw)
        ? `${parseVersion(raw)!.major}.${parseVersion(raw)!.minor}.${parseVersion(raw)!.patch}`
        : null,
    ).toBe(v),
  );

  it('dpkg-query output with a missing package (exit 1, partial output)', () => {
    const p = parseDpkgVersions(fixture('dpkg/no-optimus.txt'));
    expect(p.installed).toEqual({
      'sonm-worker': '0.4.25',
      'sonm-node': '0.4.25',
      'sonm-cli': '0.4.25',
    });
    expect(lowestVersion(p.installed)).toBe('0.4.25');
  });
  it.each([
    [{ 'sonm-worker': '0.4.25', 'sonm-cli': '0.4.9' }, '0.4.9'],
    [{ 'sonm-worker': '0.4.10', 'sonm-cli': '0.4.9' }, '0.4.9'],
    [{ 'sonm-worker': 'garbage' }, null],
    [{}, null],
  ])('lowest of %o', (p, v) => expect(lowestVersion(p)).toBe(v));

  it('parses \\r\\n-terminated JSON and the error shape', () => {
    expect(parseSonmcliJson(fixture('sonmcli/version.json'))).toEqual({
      ok: true,
      value: { version: 'v0.4.25-dd5be502', platform: 'linux/amd64/go1.12.4' },
    });
    expect(parseSonmcliJson(fixture('sonmcli/error-node-down.json'))).toEqual({
      ok: false,
      message: 'failed to connect to the Node: connection refused',
    });
    expect(parseSonmcliJson('').ok).toBe(false);
    expect(parseSonmcliJson('Enter passphrase: ').ok).toBe(false);
  });

  it('worker status: omitted false fields are false', () => {
    const s = parseWorkerStatus(
      parseSonmcliJson<unknown>(fixture('sonmcli/worker-status-unconfirmed.json')).ok &&
        JSON.parse(fixture('sonmcli/worker-status-unconfirmed.json')),
    );
    expect(s).toMatchObject({
      isMasterConfirmed: false,
      isBenchmarkFinished: true,
      rendezvousStatus: 'not connected',
      uptime: null,
    });
  });

  const connected = parseWorkerStatus(JSON.parse(fixture('sonmcli/worker-status-connected.json')));
  it.each([
    ['active', connected, null, true, null, null],
    ['inactive', connected, null, false, 'sonm-worker service is inactive', 'service-inactive'],
    [
      'active',
      null,
      'failed to connect to the Node',
      false,
      'worker status failed: failed to connect to the Node',
      'node-unreachable',
    ],
    [
      'active',
      null,
      'dial tcp 127.0.0.1:15030: connect: connection refused',
      false,
      'worker status failed: dial tcp 127.0.0.1:15030: connect: connection refused',
      'node-unreachable',
    ],
    [
      'active',
      null,
      'context deadline exceeded',
      false,
      'worker status failed: context deadline exceeded',
      'status-failed',
    ],
    [
      'active',
      { ...connected, isBenchmarkFinished: false },
      null,
      false,
      'benchmarks not finished',
      'benchmarks-running',
    ],
    [
      'active',
      { ...connected, isMasterConfirmed: false },
      null,
      false,
      'master not confirmed',
      'master-unconfirmed',
    ],
    [
      'active',
      { ...connected, rendezvousStatus: 'not connected' },
      null,
      false,
      'no rendezvous connection',
      'no-rendezvous',
    ],
    [null, connected, null, true, null, null],
  ])('connection: service %s', (service, status, err, ok, reason, code) => {
    expect(deriveConnection(service, status, err)).toEqual({ connected: ok, reason, code });
  });

  it('ask plans: spot and forward, deal ids', () => {
    expect(parseAskPlans(JSON.parse(fixture('sonmcli/askplans-spot.json')))).toEqual([
      {
        id: '8e2b5b4c-6b7d-4b0b-9c0e-1f2a3b4c5d6e',
        dealId: '84117',
        orderId: '1250611',
        durationSeconds: 0,
        price: '{"perSecond":"2777777777777"}',
      },
      {
        id: '0c7d9a1e-2f3b-4c5d-8e9f-a0b1c2d3e4f5',
        dealId: null,
        orderId: '1250612',
        durationSeconds: 0,
        price: '{"perSecond":"1388888888888"}',
      },
    ]);
    expect(
      parseAskPlans(JSON.parse(fixture('sonmcli/askplans-forward.json')))[0]!.durationSeconds,
    ).toBe(86400);
    expect(parseAskPlans({})).toEqual([]);
  });
  it.each([
    [{}, 0],
    [{ nanoseconds: 3.6e12 }, 3600],
    [undefined, 0],
    [{ nanoseconds: '7200000000000' }, 7200],
  ])('duration %j', (d, s) => expect(durationSeconds(d)).toBe(s));
  it('deal status: spot when duration is absent, forward otherwise', () => {
    expect(parseDealStatus('84117', JSON.parse(fixture('sonmcli/deal-spot.json')))).toMatchObject({
      spot: true,
      status: 1,
    });
    expect(
      parseDealStatus('84201', JSON.parse(fixture('sonmcli/deal-forward.json'))),
    ).toMatchObject({ spot: false, durationSeconds: 86400, endTime: '2019-05-02T10:00:00Z' });
  });
  it('purge: exit 0 hides per-plan failures', () => {
    expect(parsePurgeResult(fixture('sonmcli/purge-one-failed.json'))).toEqual({
      ok: ['8e2b5b4c-6b7d-4b0b-9c0e-1f2a3b4c5d6e'],
      failed: [
        {
          id: 'f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b',
          err: 'failed to close deal 84200: deal is forward',
        },
      ],
    });
    expect(parsePurgeResult(fixture('sonmcli/error-node-down.json'))).toEqual({
      error: 'failed to connect to the Node: connection refused',
    });
  });
});
