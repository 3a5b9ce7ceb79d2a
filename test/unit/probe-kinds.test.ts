/**
 * The kinds of fault real rigs show (issue 8), one table per kind, on the probe's pure parts and
 * on fixture sysroots: nvidia-smi's wordings and exit codes, the PCI cross-check, link speeds and
 * aggregate links, dpkg package states. Each input's source is in its fixture folder's README.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { crossCheckPci, interpretNvidiaSmi, parseNvidiaSmiCsv } from '../../src/probe/nvidia.js';
import { isNvidiaDisplay, normalizeBusId, scanPciDisplayDevices } from '../../src/probe/pci.js';
import { parseLinkSpeed, probeNetwork } from '../../src/probe/network.js';
import { DPKG_QUERY_ARGS, parseDpkgVersions } from '../../src/probe/sonm-parse.js';
import { defaultProbeContext } from '../../src/probe/context.js';
import { buildSample } from '../../src/uptime/sample.js';
import { builtInPrograms } from '../../src/program/definitions.js';
import type { ExecResult } from '../../src/lib/exec.js';
import { FIXTURES, fixture } from '../helpers/rig.js';

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
const rig = (p: string): string => fixture(join('real-rigs', p));

describe('nvidia-smi wordings across driver generations', () => {
  it.each([
    // [input, exit, gpus counted, lost bus ids, lost codes]
    ['real-rigs/lost-gpu-nospace/nvidia-smi.stdout', 255, 5, ['0000:03:00.0'], ['gpu-error']],
    ['nvidia-smi/lost-one-of-six.txt', 15, 5, ['0000:03:00.0'], ['gpu-lost']],
    [
      'nvidia-smi/lost-two-exit255.txt',
      255,
      1,
      ['0000:0b:00.0', '0000:0c:00.0'],
      ['gpu-error', 'gpu-lost'],
    ],
    ['nvidia-smi/placeholder-gpu-is-lost.csv', 15, 2, [null], ['gpu-lost']],
    ['nvidia-smi/placeholder-requires-reset.csv', 0, 1, ['0000:02:00.0'], ['reset-required']],
    ['nvidia-smi/placeholder-unknown-error.csv', 0, 1, ['0000:02:00.0'], ['gpu-error']],
  ])('%s (exit %i): %i counted, lost %j', (file, exitCode, counted, busIds, codes) => {
    const info = interpretNvidiaSmi(exec({ exitCode, stdout: fixture(file) }));
    expect(info.gpus).toHaveLength(counted);
    expect(info.gpus.every((g) => !g.name.startsWith('['))).toBe(true);
    expect(info.lost.map((l) => l.busId)).toEqual(busIds);
    expect(info.lost.map((l) => l.code)).toEqual(codes);
  });

  it("the lost line without a space keeps nvidia-smi's reason", () => {
    const info = interpretNvidiaSmi(
      exec({ exitCode: 255, stdout: rig('lost-gpu-nospace/nvidia-smi.stdout') }),
    );
    expect(info.lost).toEqual([
      { busId: '0000:03:00.0', reason: 'Unknown Error', code: 'gpu-error', source: 'nvidia-smi' },
    ]);
  });

  it.each([
    [
      'rows with the warning among them',
      { stdout: rig('inforom-corrupted-exit14/nvidia-smi.stdout') },
      2,
      '0000:02:00.0',
    ],
    [
      'the warning on stderr',
      {
        stdout: fixture('nvidia-smi/inforom-stdout.csv'),
        stderr: fixture('nvidia-smi/inforom-stderr.txt'),
      },
      1,
      '0000:00:1e.0',
    ],
  ])(
    'exit 14 is a warning (%s): every card counts, the infoROM is a notice',
    (_n, out, counted, busId) => {
      const info = interpretNvidiaSmi(exec({ exitCode: 14, ...out }));
      expect(info.gpus).toHaveLength(counted);
      expect(info.lost).toEqual([]);
      expect(info.notices).toEqual([
        {
          busId,
          code: 'inforom-corrupted',
          text: expect.stringMatching(/^infoROM is corrupted at gpu/),
        },
      ]);
    },
  );

  it.each([
    [{ exitCode: 255, stdout: 'Something odd\n' }, 'nvidia-smi-failed'],
    [{ exitCode: 3, stdout: fixture('nvidia-smi/six-2080ti.csv') }, 'nvidia-smi-failed'],
    [{ exitCode: 15, stdout: '' }, 'gpu-lost'],
  ])('exit codes without a lost card are no data: %o', (r, code) => {
    expect(() => interpretNvidiaSmi(exec(r))).toThrow(expect.objectContaining({ probeCode: code }));
  });

  it('a timeout says how long it waited, and never that a GPU fell off the bus', () => {
    expect(() => interpretNvidiaSmi(exec({ timedOut: true, exitCode: null }), 30_000)).toThrow(
      expect.objectContaining({
        probeCode: 'nvidia-smi-timeout',
        message: 'nvidia-smi did not answer within 30 s and was stopped',
      }),
    );
  });

  it('a row that is all placeholders, index included, is a broken card, never a GPU named "[Unknown Error]"', () => {
    const row = Array.from({ length: 7 }, () => '[Unknown Error]').join(', ');
    expect(parseNvidiaSmiCsv(`${row}\r\n`)).toEqual({
      gpus: [],
      lost: [{ busId: null, reason: 'Unknown Error', code: 'gpu-error', source: 'nvidia-smi' }],
      notices: [],
      unparsed: [],
    });
  });

  it('the [N/A] family still means "missing value", not a broken card', () => {
    expect(parseNvidiaSmiCsv(fixture('nvidia-smi/na-values.csv'))).toMatchObject({
      lost: [],
      unparsed: [],
    });
  });
});

describe('the tick: a slow nvidia-smi is "timed out", never "lost"', () => {
  const worker = {
    ok: true as const,
    ms: 1,
    value: {
      service: 'active',
      status: null,
      statusError: null,
      connected: true,
      notConnectedReason: null,
    },
  };
  it('records the timeout as its own reason', () => {
    const sample = buildSample(
      {
        probedAt: '2019-05-01T12:00:00.000Z',
        worker,
        nvidia: {
          ok: false,
          ms: 30_000,
          code: 'nvidia-smi-timeout',
          error: 'nvidia-smi did not answer within 30 s and was stopped',
        },
      },
      builtInPrograms(),
    );
    expect(sample.reason).toMatch(/^nvidia-smi timed out/);
    expect(sample.reason).not.toMatch(/lost|fell off/);
  });
});

describe('PCI cross-check', () => {
  const ctx = { sysroot: join(FIXTURES, 'pci', 'six-on-bus') };
  it('finds the six NVIDIA display devices, not their audio functions nor the Intel GPU', () => {
    expect(scanPciDisplayDevices(ctx)).toEqual([
      '0000:01:00.0',
      '0000:02:00.0',
      '0000:03:00.0',
      '0000:04:00.0',
      '0000:05:00.0',
      '0000:06:00.0',
    ]);
  });
  it('6 on the bus, 5 in nvidia-smi: the sixth is lost, with its bus id', () => {
    const info = crossCheckPci(
      interpretNvidiaSmi(exec({ stdout: fixture('pci/five-of-six.csv') })),
      scanPciDisplayDevices(ctx),
    );
    expect(info.gpus).toHaveLength(5);
    expect(info.lost).toEqual([
      {
        busId: '0000:04:00.0',
        reason: expect.stringContaining('nvidia-smi does not list it'),
        code: 'not-listed',
        source: 'pci',
      },
    ]);
    expect(info.pciDisplayDevices).toBe(6);
  });
  it('a card nvidia-smi already reports lost is not reported twice', () => {
    const info = crossCheckPci(
      interpretNvidiaSmi(exec({ exitCode: 15, stdout: fixture('nvidia-smi/lost-one-of-six.txt') })),
      [
        '0000:01:00.0',
        '0000:02:00.0',
        '0000:03:00.0',
        '0000:04:00.0',
        '0000:05:00.0',
        '0000:06:00.0',
      ],
    );
    expect(info.lost.map((l) => l.busId)).toEqual(['0000:03:00.0']);
  });
  it('no sysfs: no cross-check', () =>
    expect(scanPciDisplayDevices({ sysroot: join(FIXTURES, 'dpkg') })).toBeNull());
  it.each([
    ['0x10de\n', '0x030000\n', true],
    ['0x10de', '0x030200', true],
    ['0x10de', '0x040300', false],
    ['0x10de', '0x068000', false],
    ['0x8086', '0x030000', false],
    [null, null, false],
  ])('vendor %j class %j: NVIDIA display %s', (v, c, want) =>
    expect(isNvidiaDisplay(v, c)).toBe(want),
  );
  it.each([
    ['00000000:01:00.0', '0000:01:00.0'],
    ['0000:0B:00.0', '0000:0b:00.0'],
    ['01:00.0', '0000:01:00.0'],
    ['[N/A]', null],
  ])('bus id %s -> %s', (raw, want) => expect(normalizeBusId(raw)).toBe(want));
});

describe('link speeds: every kernel "unknown" is unknown', () => {
  it.each([
    ['1000\n', 1000],
    ['10\n', 10],
    ['65535\n', null], // (u16)-1: real-rigs/net-speed-65535, safchain/ethtool#21
    ['4294967295\n', null], // (u32)-1: zero-os/0-core#713
    ['-1\n', null], // SPEED_UNKNOWN: prometheus/node_exporter#1967
    ['0\n', null], // ethtool: 0 is "Unknown!"
    ['', null], // EINVAL on a down link reads as nothing
    [null, null],
    ['fast', null],
  ])('speed %j is %j', (text, want) => expect(parseLinkSpeed(text)).toBe(want));
});

describe('bonds, teams and VLANs by their wired ports; bridges, tunnels and Wi-Fi fail', () => {
  const net = (dir: string) => probeNetwork(defaultProbeContext({ sysroot: dir }));
  it.each([
    [
      'real-rigs/bond0-default-route/sysroot',
      {
        iface: 'bond0',
        kind: 'wired',
        speedMbps: 1000,
        lowerDevices: ['eth0', 'eth1', 'eth2', 'eth3'],
      },
    ],
    [
      'net/vlan-over-wired',
      { iface: 'enp3s0.100', kind: 'wired', speedMbps: 1000, lowerDevices: ['enp3s0'] },
    ],
    [
      'net/team-two-ports',
      { iface: 'team0', kind: 'wired', speedMbps: 10000, lowerDevices: ['eno1', 'eno2'] },
    ],
    [
      'net/vlan-over-bond',
      { iface: 'bond0.20', kind: 'wired', speedMbps: 1000, lowerDevices: ['eth0', 'eth1'] },
    ],
    ['net/bridge-br0', { iface: 'br0', kind: 'virtual' }],
    ['net/wireguard-wg0', { iface: 'wg0', kind: 'virtual' }],
    ['net/bond-over-wifi', { iface: 'bond0', kind: 'wireless', speedMbps: null }],
  ])('%s', async (dir, want) => expect(await net(join(FIXTURES, dir))).toMatchObject(want));
});

describe('dpkg: only installed packages count', () => {
  const dpkgQuery = ['/usr/bin/dpkg-query', '/bin/dpkg-query'].find((p) => {
    try {
      readFileSync(p);
      return true;
    } catch {
      return false;
    }
  });
  /** What the real dpkg-query prints for the probe's query from a status database. */
  function realQuery(statusFile: string): string {
    const admin = mkdtempSync(join(tmpdir(), 'dpkg-'));
    copyFileSync(statusFile, join(admin, 'status'));
    return spawnSync(dpkgQuery!, [`--admindir=${admin}`, ...DPKG_QUERY_ARGS], { encoding: 'utf8' })
      .stdout;
  }
  it.each(['all-0.4.24', 'all-0.4.25', 'all-0.4.9', 'no-optimus'])(
    'dpkg/%s.txt is what dpkg-query prints for %s.status',
    (name) => {
      expect(realQuery(join(FIXTURES, 'dpkg', `${name}.status`))).toBe(fixture(`dpkg/${name}.txt`));
    },
  );
  it.each([
    [
      'real-rigs/dpkg-rc-optimus/dpkg-status',
      { 'sonm-cli': '0.4.25', 'sonm-node': '0.4.25', 'sonm-worker': '0.4.25' },
      { 'sonm-optimus': 'config-files' },
    ],
    [
      'dpkg/half-installed-worker.status',
      { 'sonm-cli': '0.4.25', 'sonm-node': '0.4.25', 'sonm-optimus': '0.4.25' },
      { 'sonm-worker': 'reinst-required' },
    ],
    [
      'dpkg/unpacked-node.status',
      { 'sonm-cli': '0.4.25', 'sonm-optimus': '0.4.25', 'sonm-worker': '0.4.25' },
      { 'sonm-node': 'unpacked' },
    ],
    [
      'dpkg/triggers-pending.status',
      {
        'sonm-cli': '0.4.25',
        'sonm-node': '0.4.25',
        'sonm-optimus': '0.4.25',
        'sonm-worker': '0.4.25',
      },
      {},
    ],
    [
      'dpkg/purged-optimus.status',
      { 'sonm-cli': '0.4.25', 'sonm-node': '0.4.25', 'sonm-worker': '0.4.25' },
      { 'sonm-optimus': 'not-installed' },
    ],
  ])('%s', (file, installed, notInstalled) => {
    expect(parseDpkgVersions(realQuery(join(FIXTURES, file)))).toEqual({ installed, notInstalled });
  });
});
