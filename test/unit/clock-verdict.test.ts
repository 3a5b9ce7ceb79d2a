/** The pure rules of time (src/uptime/clock.ts) and of "is a verdict due" (src/uptime/verdict.ts), as tables. */
import { describe, expect, it } from 'vitest';
import {
  currentOffset,
  detectJump,
  heldByOffset,
  markForSample,
  samplesOnTime,
  viewTime,
  type ClockJump,
} from '../../src/uptime/clock.js';
import { gpuSetKey, verdictDue, type VerdictFacts } from '../../src/uptime/verdict.js';
import { offsetFromDate } from '../../src/protocol/client.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();
const MIN = 60_000;
const st = (
  o: Partial<{
    clockOffsetMs: number | null;
    clockOffsetAt: string | null;
    lastTickAt: string | null;
    clockJumps: ClockJump[];
  }> = {},
) => ({ clockOffsetMs: null, clockOffsetAt: null, lastTickAt: null, clockJumps: [], ...o });

describe('detectJump', () => {
  it.each([
    ['first tick', null, null],
    ['5 min later', iso(NOW - 5 * MIN), null],
    ['an hour later', iso(NOW - 60 * MIN), null],
    ['2 hours later', iso(NOW - 120 * MIN), 115 * MIN],
    ['9 min in our future', iso(NOW + 9 * MIN), null],
    ['40 days in our future', iso(NOW + 40 * 86_400_000), -40 * 86_400_000 - 5 * MIN],
  ])('%s', (_, last, delta) => {
    expect(detectJump(NOW, last, 5 * MIN)?.deltaMs ?? null).toBe(delta);
  });
});

describe('currentOffset', () => {
  const jump: ClockJump = { at: iso(NOW), from: iso(NOW - 86_400_000), deltaMs: 1 };
  it.each([
    [
      'measured 5 min ago',
      st({ clockOffsetMs: -35_000, clockOffsetAt: iso(NOW - 5 * MIN) }),
      null,
      -35_000,
    ],
    [
      'measured 3 h ago',
      st({ clockOffsetMs: -35_000, clockOffsetAt: iso(NOW - 180 * MIN) }),
      null,
      null,
    ],
    [
      'measured "in the future"',
      st({ clockOffsetMs: 0, clockOffsetAt: iso(NOW + 86_400_000) }),
      null,
      null,
    ],
    ['a jump since', st({ clockOffsetMs: 0, clockOffsetAt: iso(NOW - 5 * MIN) }), jump, null],
    ['never measured', st(), null, null],
  ])('%s', (_, s, j, want) => {
    expect(currentOffset(NOW, s, j)).toBe(want);
  });
});

describe('viewTime', () => {
  const recent: ClockJump = {
    at: iso(NOW - 30 * MIN),
    from: iso(NOW - 40 * MIN),
    deltaMs: 86_400_000,
  };
  const old: ClockJump = {
    at: iso(NOW - 90 * MIN),
    from: iso(NOW - 100 * MIN),
    deltaMs: 86_400_000,
  };
  it.each([
    [
      'service 35 s behind us',
      st(),
      null,
      -35_000,
      { trusted: true, best: NOW - 35_000, buildUntil: NOW - 37_000 },
    ],
    [
      'service 5 min ahead',
      st(),
      null,
      300_000,
      { trusted: true, best: NOW + 300_000, buildUntil: NOW - 2_000 },
    ],
    ['no service, no jump', st(), null, null, { trusted: true, best: NOW, buildUntil: NOW }],
    ['no service, a jump now', st(), recent, null, { trusted: false, buildUntil: null }],
    [
      'no service, a jump 30 min ago',
      st({ clockJumps: [recent] }),
      null,
      null,
      { trusted: false, buildUntil: null },
    ],
    [
      'no service, a jump 90 min ago',
      st({ clockJumps: [old] }),
      null,
      null,
      { trusted: true, buildUntil: NOW },
    ],
    [
      'a jump now, confirmed by the service',
      st(),
      recent,
      -86_400_000,
      { trusted: true, best: NOW - 86_400_000 },
    ],
  ])('%s', (_, s, jump, offset, want) => {
    expect(viewTime(NOW, s, jump, offset)).toMatchObject(want);
  });
});

describe('heldByOffset', () => {
  it.each([
    ['service 35 s behind, 20 s past the hour', Date.parse('2026-06-01T12:00:20Z'), -35_000, true],
    ['service 35 s behind, 40 s past the hour', Date.parse('2026-06-01T12:00:40Z'), -35_000, false],
    ['service ahead', Date.parse('2026-06-01T12:00:20Z'), 60_000, false],
    ['no service', Date.parse('2026-06-01T12:00:20Z'), null, false],
  ])('%s', (_, now, offset, want) => {
    expect(heldByOffset(viewTime(now, st(), null, offset))).toBe(want);
  });
});

describe('marks', () => {
  it('marks a sample taken more than 10 minutes off the service, with the offset to count it on time', () => {
    expect(markForSample(iso(NOW), viewTime(NOW, st(), null, -5 * MIN))).toBeNull();
    const m = markForSample(iso(NOW), viewTime(NOW, st(), null, -40 * 86_400_000));
    expect(m).toMatchObject({
      offsetMs: -40 * 86_400_000,
      reason: expect.stringMatching(/\+40 d off/),
    });
  });
  it('counts marked samples at their corrected time; drops unmarked ones ahead of the service', () => {
    const view = viewTime(NOW, st(), null, 0);
    const marks = new Map([
      [
        iso(NOW + 86_400_000),
        { t: iso(NOW + 86_400_000), reason: 'x', at: iso(NOW), offsetMs: -86_400_000 },
      ],
    ]);
    const out = samplesOnTime(
      [{ t: iso(NOW - MIN) }, { t: iso(NOW + 86_400_000) }, { t: iso(NOW + 3_600_000) }],
      marks,
      view,
    );
    expect(out.samples.map((s) => s.t)).toEqual([iso(NOW - MIN), iso(NOW)]);
    expect(out.marks.map((m) => [m.t, m.offsetMs])).toEqual([[iso(NOW + 3_600_000), null]]);
  });
});

describe('offsetFromDate', () => {
  it.each([
    ['service 35 s behind', 'Mon, 01 Jun 2026 11:59:25 GMT', NOW - 100, NOW + 100, -34_500],
    ['no header', undefined, NOW, NOW, null],
    ['garbage', 'soon', NOW, NOW, null],
  ])('%s', (_, date, sent, received, want) => {
    expect(offsetFromDate(date, sent, received)).toBe(want);
  });
});

describe('verdictDue', () => {
  const gpus = (ids: string[]) =>
    gpuSetKey(ids.map((id) => ({ uuid: `GPU-${id}`, pciDeviceId: '1b06', qualifying: true })));
  const sent = {
    sentAt: iso(NOW - 3_600_000),
    qualifyingSeen: 2,
    gpusSeen: gpus(['a', 'b']),
    programsKey: 'p1',
  };
  const base: VerdictFacts = {
    service: 'http://s',
    enrolledWith: 'http://s',
    sent,
    nowMs: NOW,
    qualifying: 2,
    gpusKey: gpus(['a', 'b']),
    programsKey: 'p1',
  };
  it.each([
    ['no service', { service: null }, null],
    ['not enrolled', { enrolledWith: null }, 'not-enrolled'],
    ['enrolled with another service', { enrolledWith: 'http://other' }, 'other-service'],
    ['never sent', { sent: null }, 'never-sent'],
    ['sent a day ago', { sent: { ...sent, sentAt: iso(NOW - 86_400_000) } }, 'daily'],
    ['one GPU fewer', { qualifying: 1, gpusKey: gpus(['a']) }, 'gpu-count'],
    ['a card swapped: same count, another uuid', { gpusKey: gpus(['a', 'c']) }, 'gpu-set'],
    [
      'the same card in another PCI id',
      {
        gpusKey: gpuSetKey([
          { uuid: 'GPU-a', pciDeviceId: '1b06', qualifying: true },
          { uuid: 'GPU-b', pciDeviceId: '1e07', qualifying: true },
        ]),
      },
      'gpu-set',
    ],
    [
      'state from an older agent (no set kept)',
      { sent: { ...sent, gpusSeen: undefined } },
      'gpu-set',
    ],
    ['programs changed', { programsKey: 'p2' }, 'programs'],
    ['nothing changed', {}, null],
  ] as [string, Partial<VerdictFacts>, string | null][])('%s', (_, over, want) => {
    expect(verdictDue({ ...base, ...over })).toBe(want);
  });
  it('the set ignores order and non-qualifying GPUs', () => {
    const a = gpuSetKey([
      { uuid: 'b', pciDeviceId: '1', qualifying: true },
      { uuid: 'a', pciDeviceId: '1', qualifying: true },
      { uuid: 'z', pciDeviceId: '1', qualifying: false },
    ]);
    expect(a).toBe(
      gpuSetKey([
        { uuid: 'a', pciDeviceId: '1', qualifying: true },
        { uuid: 'b', pciDeviceId: '1', qualifying: true },
      ]),
    );
  });
});
