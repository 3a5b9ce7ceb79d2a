import { describe, expect, it } from 'vitest';
import { evaluate, evaluateProgram, type CheckId } from '../../src/program/evaluate.js';
import {
  builtInPrograms,
  parsePrograms,
  programWindow,
  ProgramsFormatError,
  type Program,
} from '../../src/program/definitions.js';
import type { GpuInfo, Probed, RigProbe } from '../../src/probe/types.js';
import { interpretNvidiaSmi } from '../../src/probe/nvidia.js';
import { fixture } from '../helpers/rig.js';

const ok = <T>(value: T): Probed<T> => ({ ok: true, value, ms: 1 });
const GIB = 2 ** 30;
const gpu = (i: number, pci = '1e07'): GpuInfo => ({
  index: i,
  name: 'GeForce RTX 2080 Ti',
  uuid: `GPU-${i}`,
  busId: `00000000:0${i}:00.0`,
  pciDeviceId: pci,
  pciVendorId: '10de',
  memoryMiB: 11019,
  driverVersion: '418.56',
});

function probe(over: Partial<RigProbe> = {}): RigProbe {
  return {
    probedAt: '2019-05-01T12:00:00.000Z',
    arch: ok({ machine: 'x86_64' }),
    cpu: ok({
      model: 'Celeron',
      physicalCores: 2,
      logicalCpus: 2,
      maxMHz: 2000,
      speedSource: 'cpufreq-max',
    }),
    memory: ok({ bytes: 16 * GIB, source: 'modules', modules: [8 * GIB, 8 * GIB] }),
    disk: ok({ path: '/var/lib/docker', device: '/dev/sda', bytes: 60_022_480_896, model: 'SSD' }),
    network: ok({ iface: 'enp3s0', kind: 'wired', speedMbps: 100 }),
    nvidia: ok({ gpus: [0, 1, 2, 3, 4, 5].map((i) => gpu(i)), lost: [], warning: null }),
    sonmVersions: ok({
      packages: { 'sonm-worker': '0.4.25' },
      source: 'dpkg-query',
      lowest: '0.4.25',
    }),
    worker: ok({
      service: 'active',
      status: null,
      statusError: null,
      connected: true,
      notConnectedReason: null,
    }),
    market: null,
    ...over,
  };
}

const program = builtInPrograms()[0]!;
const during = new Date('2019-05-01T12:00:00Z');
const status = (p: RigProbe, id: CheckId) =>
  evaluateProgram(p, program, during).checks.find((c) => c.id === id)!.status;
const cpu = (
  physicalCores: number | null,
  maxMHz: number | null,
  speedSource: 'cpufreq-max' | 'cpuinfo-current' = 'cpufreq-max',
) => ok({ model: null, physicalCores, logicalCpus: physicalCores, maxMHz, speedSource });

describe('evaluator: one rule at a time', () => {
  it.each<[string, Partial<RigProbe>, CheckId, string]>([
    ['healthy rig passes every rule', {}, 'gpus', 'pass'],
    ['aarch64 fails', { arch: ok({ machine: 'aarch64' }) }, 'arch', 'fail'],
    ['2 physical cores pass', { cpu: cpu(2, 2000) }, 'cpu-cores', 'pass'],
    ['1 physical core fails', { cpu: cpu(1, 3000) }, 'cpu-cores', 'fail'],
    ['unknown core count warns', { cpu: cpu(null, 3000) }, 'cpu-cores', 'warn'],
    ['2.0 GHz passes', { cpu: cpu(2, 2000) }, 'cpu-speed', 'pass'],
    ['1.99 GHz rated fails', { cpu: cpu(2, 1990) }, 'cpu-speed', 'fail'],
    ['0 GHz in a VM warns', { cpu: cpu(2, 0) }, 'cpu-speed', 'warn'],
    ['low current clock only warns', { cpu: cpu(2, 800, 'cpuinfo-current') }, 'cpu-speed', 'warn'],
    ['16 GiB of modules pass', {}, 'ram', 'pass'],
    [
      'MemTotal 15.5 GiB passes (estimate)',
      { memory: ok({ bytes: 15.5 * GIB, source: 'memtotal', modules: null }) },
      'ram',
      'pass',
    ],
    [
      'MemTotal 14.5 GiB passes (estimate floor)',
      { memory: ok({ bytes: 14.5 * GIB, source: 'memtotal', modules: null }) },
      'ram',
      'pass',
    ],
    [
      'a 12 GB machine fails',
      { memory: ok({ bytes: 11.6 * GIB, source: 'memtotal', modules: null }) },
      'ram',
      'fail',
    ],
    [
      '12 GB of modules fail',
      { memory: ok({ bytes: 12 * GIB, source: 'modules', modules: [8 * GIB, 4 * GIB] }) },
      'ram',
      'fail',
    ],
    ['a "60 GB" SSD (60,022,480,896 bytes) passes', {}, 'disk', 'pass'],
    [
      '59 GB fails',
      { disk: ok({ path: '/', device: '/dev/sda', bytes: 59e9, model: null }) },
      'disk',
      'fail',
    ],
    [
      'wireless fails',
      { network: ok({ iface: 'wlan0', kind: 'wireless', speedMbps: 300 }) },
      'network',
      'fail',
    ],
    [
      'virtual default route fails',
      { network: ok({ iface: 'tun0', kind: 'virtual', speedMbps: null }) },
      'network',
      'fail',
    ],
    [
      'unknown link speed warns',
      { network: ok({ iface: 'eth0', kind: 'wired', speedMbps: null }) },
      'network',
      'warn',
    ],
    [
      '10 Mbit/s passes',
      { network: ok({ iface: 'eth0', kind: 'wired', speedMbps: 10 }) },
      'network',
      'pass',
    ],
    [
      'no default route fails',
      { network: ok({ iface: null, kind: 'unknown', speedMbps: null }) },
      'network',
      'fail',
    ],
    [
      'nvidia-smi missing fails',
      { nvidia: { ok: false, error: 'nvidia-smi not found', code: 'nvidia-smi-not-found', ms: 1 } },
      'gpus',
      'fail',
    ],
    [
      'a GTX 1080 and a P102-100 do not qualify',
      {
        nvidia: ok(
          interpretNvidiaSmi({
            command: '',
            args: [],
            exitCode: 0,
            signal: null,
            stdout: fixture('nvidia-smi/1080-and-p102.csv'),
            stderr: '',
            timedOut: false,
            notFound: false,
            durationMs: 1,
          }),
        ),
      },
      'gpus',
      'fail',
    ],
    [
      'nine GPUs fail the count rule',
      {
        nvidia: ok({
          gpus: [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => gpu(i, '1b06')),
          lost: [],
          warning: null,
        }),
      },
      'gpus',
      'fail',
    ],
    [
      'eight GPUs pass',
      {
        nvidia: ok({
          gpus: [0, 1, 2, 3, 4, 5, 6, 7].map((i) => gpu(i, '1b06')),
          lost: [],
          warning: null,
        }),
      },
      'gpus',
      'pass',
    ],
    [
      'a lost GPU among others warns',
      {
        nvidia: ok({
          gpus: [gpu(0)],
          lost: [
            {
              busId: '0000:03:00.0',
              reason: 'GPU is lost',
              code: 'gpu-lost',
              source: 'nvidia-smi',
            },
          ],
          warning: 'x',
        }),
      },
      'gpus',
      'warn',
    ],
    [
      'the real H200 does not qualify',
      {
        nvidia: ok(
          interpretNvidiaSmi({
            command: '',
            args: [],
            exitCode: 0,
            signal: null,
            stdout: fixture('nvidia-smi/h200-real.csv'),
            stderr: '',
            timedOut: false,
            notFound: false,
            durationMs: 1,
          }),
        ),
      },
      'gpus',
      'fail',
    ],
    [
      'SONM 0.4.24 fails',
      {
        sonmVersions: ok({
          packages: { 'sonm-worker': '0.4.24' },
          source: 'dpkg-query',
          lowest: '0.4.24',
        }),
      },
      'sonm-version',
      'fail',
    ],
    [
      'SONM 0.4.9 fails (not 0.4.90)',
      {
        sonmVersions: ok({
          packages: { 'sonm-worker': '0.4.9' },
          source: 'dpkg-query',
          lowest: '0.4.9',
        }),
      },
      'sonm-version',
      'fail',
    ],
    [
      'SONM 0.5.0 passes',
      {
        sonmVersions: ok({
          packages: { 'sonm-worker': '0.5.0' },
          source: 'dpkg-query',
          lowest: '0.5.0',
        }),
      },
      'sonm-version',
      'pass',
    ],
    [
      'SONM not installed fails',
      { sonmVersions: ok({ packages: {}, source: 'none', lowest: null }) },
      'sonm-version',
      'fail',
    ],
    [
      'worker not connected warns',
      {
        worker: ok({
          service: 'active',
          status: null,
          statusError: 'x',
          connected: false,
          notConnectedReason: 'master not confirmed',
        }),
      },
      'sonm-worker',
      'warn',
    ],
  ])('%s', (_n, over, id, expected) => expect(status(probe(over), id)).toBe(expected));
});

describe('evaluator: verdict, reward and window', () => {
  it('six 2080 Ti earn $12/day while the program is active', () => {
    const v = evaluateProgram(probe(), program, during);
    expect(v).toMatchObject({
      qualifies: true,
      eligible: true,
      qualifyingGpus: 6,
      creditedGpus: 6,
      usdPerDay: 12,
    });
    expect(v.gpus.every((g) => g.model === 'RTX 2080 Ti' && g.qualifying)).toBe(true);
  });
  it('the GPU table names non-qualifying cards by PCI id, not by name', () => {
    const v = evaluateProgram(
      probe({
        nvidia: ok({
          gpus: [{ ...gpu(0, '1b80'), name: 'GeForce GTX 1080' }],
          lost: [],
          warning: null,
        }),
      }),
      program,
      during,
    );
    expect(v.gpus[0]).toMatchObject({ model: 'GTX 1080', qualifying: false });
  });
  it.each([
    ['2019-04-15T11:59:59Z', 'not-started', false],
    ['2019-04-15T12:00:00Z', 'guaranteed', true],
    ['2019-07-15T12:00:00Z', 'extended', true],
    ['2020-04-15T12:00:00Z', 'ended', false],
  ])('window at %s is %s', (t, phase, active) => {
    expect(programWindow(program, new Date(t))).toMatchObject({ phase, active });
    expect(evaluateProgram(probe(), program, new Date(t)).eligible).toBe(active);
  });
  it('an announced end date overrides the extension limit', () => {
    const p: Program = { ...program, endsAt: '2019-10-01T00:00:00.000Z' };
    expect(programWindow(p, new Date('2019-10-02T00:00:00Z')).phase).toBe('ended');
  });
  it('several programs: eligible when any active one is met', () => {
    const gtx1070 = parsePrograms({
      programs: [
        {
          ...JSON.parse(JSON.stringify(program)),
          id: 'gtx1070',
          name: '1070',
          requirements: {
            ...program.requirements,
            gpuModels: [{ model: 'GTX 1070', pciDeviceIds: ['1b81'] }],
          },
        },
      ],
    })[0]!;
    const ev = evaluate(probe(), [gtx1070, program], during);
    expect(ev.eligible).toBe(true);
    expect(ev.primary.program.id).toBe(program.id);
    expect(ev.verdicts.map((v) => v.qualifies)).toEqual([false, true]);
  });
});

describe('program definitions', () => {
  it.each([
    [{}, /expected \{"programs"/],
    [{ programs: [{ id: 'x' }] }, /programs\[0\]\.requirements: must be an object/],
    [
      { programs: [{ ...JSON.parse(JSON.stringify(program)), start: 'soon' }] },
      /programs\[0\]\.start: "soon" is not an ISO 8601 date/,
    ],
    [{ programs: [{ ...JSON.parse(JSON.stringify(program)), admission: 'maybe' }] }, /admission/],
    [
      { programs: [JSON.parse(JSON.stringify(program)), JSON.parse(JSON.stringify(program))] },
      /appears twice/,
    ],
  ])('rejects %#', (doc, message) => {
    expect(() => parsePrograms(doc)).toThrow(ProgramsFormatError);
    expect(() => parsePrograms(doc)).toThrow(message);
  });
  it('the built-in program matches the announcement', () => {
    expect(program).toMatchObject({
      id: 'elevated-1080ti-2080ti-2019',
      start: '2019-04-15T12:00:00.000Z',
      guaranteedUntil: '2019-07-15T12:00:00.000Z',
      admission: 'suspended',
    });
    expect(program.requirements).toMatchObject({
      minPhysicalCores: 2,
      minCpuMHz: 2000,
      minGpus: 1,
      maxGpus: 8,
      minDiskBytes: 60e9,
      minLinkMbps: 10,
      minSonmVersion: '0.4.25',
    });
  });
});
