import { describe, expect, it } from 'vitest';
import {
  creditReport,
  requiredSamples,
  validateReport,
  type CreditFacts,
  type Verdict,
} from '../../src/service/credit.js';
import { parsePrograms, type Program } from '../../src/program/definitions.js';
import { reportIdFor } from '../../src/protocol/report-id.js';
import type { HourlyReport } from '../../src/protocol/types.js';
import { activeProgram } from '../helpers/programs.js';

const program: Program = parsePrograms({ programs: [activeProgram('2026-01-01T00:00:00Z')] })[0]!;
const RIG = 'AAAAAAAAAAAAAAAAAAAAAA';
const HOUR = '2026-06-01T10:00:00Z';
const gpus = (n: number, pci = '1b06') =>
  Array.from({ length: n }, (_, i) => ({
    uuid: `GPU-${i}`,
    pciDeviceId: pci,
    model: 'GTX 1080 Ti',
    qualifying: true,
  }));
const report = (over: Partial<HourlyReport> = {}): HourlyReport => ({
  reportId: reportIdFor(RIG, over.hour ?? HOUR),
  rigId: RIG,
  hour: HOUR,
  intervalSeconds: 300,
  samples: 12,
  connectedSamples: 12,
  minQualifyingGpus: 6,
  gpus: gpus(6),
  workerAddress: null,
  sonmVersion: '0.4.25',
  agentVersion: '0.1.0',
  seq: 1,
  ...over,
});
const verdict = (
  uuids = gpus(10).map((g) => g.uuid),
  pci = '1b06',
  programs: [string, boolean][] = [],
): Verdict => ({
  receivedAt: 0,
  checkedAt: 0,
  programs: new Map(programs),
  gpus: new Map(uuids.map((u) => [u, pci])),
});
const member = (...ids: string[]): Map<string, number> => new Map(ids.map((id) => [id, 0]));
const facts = (over: Partial<CreditFacts> = {}): CreditFacts => ({
  enrolledAt: 0,
  review: 'pending',
  memberSince: member(program.id),
  verdict: verdict(),
  contest: new Map(),
  masterFull: () => false,
  ...over,
});
const usdPerGpuHour = 2 / 24;

describe('connected-hour threshold', () => {
  it.each([
    [0.8, 300, 10],
    [0.8, 60, 48],
    [1, 300, 12],
    [0.5, 600, 3],
    [0.8, 3600, 1],
  ])('share %s at %is needs %i samples', (share, interval, n) =>
    expect(requiredSamples(share, interval)).toBe(n),
  );
});

describe('crediting rules', () => {
  it.each<
    [
      string,
      Partial<HourlyReport>,
      Partial<CreditFacts>,
      { connected: boolean; gpus: number; usd: number },
      string | null,
    ]
  >([
    [
      '12 of 12 connected, six 1080 Ti',
      {},
      {},
      { connected: true, gpus: 6, usd: 6 * usdPerGpuHour },
      null,
    ],
    [
      '10 of 12 is connected',
      { connectedSamples: 10 },
      {},
      { connected: true, gpus: 6, usd: 6 * usdPerGpuHour },
      null,
    ],
    [
      '9 of 12 is not connected',
      { connectedSamples: 9 },
      {},
      { connected: false, gpus: 0, usd: 0 },
      'not-connected',
    ],
    [
      'the GPU count is the minimum over the hour',
      { minQualifyingGpus: 4 },
      {},
      { connected: true, gpus: 4, usd: 4 * usdPerGpuHour },
      null,
    ],
    [
      'more than 8 GPUs are capped at 8',
      { gpus: gpus(10), minQualifyingGpus: 10 },
      {},
      { connected: true, gpus: 8, usd: 8 * usdPerGpuHour },
      null,
    ],
    [
      'non-qualifying cards earn nothing',
      { gpus: gpus(2, '1b80') },
      {},
      { connected: true, gpus: 0, usd: 0 },
      'no-qualifying-gpus',
    ],
    [
      'a uuid another rig keeps is not paid again',
      {},
      {
        contest: new Map([
          ['GPU-0', 'taken'],
          ['GPU-1', 'taken'],
        ]),
      },
      { connected: true, gpus: 4, usd: 4 * usdPerGpuHour },
      null,
    ],
    [
      'a disputed uuid is paid to nobody; the others are',
      {},
      { contest: new Map([['GPU-0', 'disputed']]) },
      { connected: true, gpus: 5, usd: 5 * usdPerGpuHour },
      null,
    ],
    [
      'an hour that ended before enrolment is not paid',
      {},
      { enrolledAt: Date.parse(HOUR) + 3_600_000 },
      { connected: true, gpus: 0, usd: 0 },
      'before-enrolment',
    ],
    [
      'the hour the rig enrolled in is paid',
      {},
      { enrolledAt: Date.parse(HOUR) + 3_599_999 },
      { connected: true, gpus: 6, usd: 6 * usdPerGpuHour },
      null,
    ],
    [
      'a revoked rig is not paid',
      {},
      { review: 'revoked' },
      { connected: true, gpus: 0, usd: 0 },
      'revoked',
    ],
    [
      'no verdict on file: nothing is paid',
      {},
      { verdict: null },
      { connected: true, gpus: 0, usd: 0 },
      'no-verdict',
    ],
    [
      'only the GPUs the verdict lists are paid',
      {},
      { verdict: verdict(['GPU-0', 'GPU-1']) },
      { connected: true, gpus: 2, usd: 2 * usdPerGpuHour },
      null,
    ],
    [
      'a verdict that lists the uuid with another PCI id pays nothing for it',
      {},
      { verdict: verdict(undefined, '1b80') },
      { connected: true, gpus: 0, usd: 0 },
      'no-qualifying-gpus',
    ],
    [
      'the model the client names is ignored: PCI ids decide',
      { gpus: gpus(6).map((g) => ({ ...g, pciDeviceId: '1b80', model: 'RTX 2080 Ti' })) },
      {},
      { connected: true, gpus: 0, usd: 0 },
      'no-qualifying-gpus',
    ],
    [
      'an hour before the program starts is not paid',
      { hour: '2025-12-31T23:00:00Z' },
      {},
      { connected: true, gpus: 0, usd: 0 },
      'outside-window',
    ],
    [
      'an hour after the program ends is not paid',
      { hour: '2028-02-01T00:00:00Z' },
      {},
      { connected: true, gpus: 0, usd: 0 },
      'outside-window',
    ],
    [
      'a rig whose latest check fails this program is not paid',
      {},
      { verdict: verdict(undefined, '1b06', [[program.id, false]]) },
      { connected: true, gpus: 0, usd: 0 },
      'not-eligible',
    ],
  ])('%s', (_n, over, f, credited, reason) => {
    const out = creditReport(report(over), [program], facts(f));
    expect({ connected: out.connected, gpus: out.gpus, usd: out.usd }).toEqual({
      ...credited,
      usd: Math.round(credited.usd * 10_000) / 10_000,
    });
    expect(out.perProgram[0]!.reason).toBe(reason);
  });

  it('says why each unpaid qualifying GPU was not paid, and pays each model from its PCI id', () => {
    const out = creditReport(
      report({ minQualifyingGpus: 4 }),
      [program],
      facts({
        verdict: verdict(['GPU-0', 'GPU-1', 'GPU-2', 'GPU-3', 'GPU-4']),
        contest: new Map([
          ['GPU-3', 'disputed'],
          ['GPU-4', 'taken'],
        ]),
      }),
    );
    expect(out.unpaid).toEqual([
      { uuid: 'GPU-3', reason: 'disputed' },
      { uuid: 'GPU-4', reason: 'claimed-by-another-rig' },
      { uuid: 'GPU-5', reason: 'not-in-verdict' },
    ]);
    expect([...out.claimed]).toEqual([
      ['GPU-0', 'GTX 1080 Ti'],
      ['GPU-1', 'GTX 1080 Ti'],
      ['GPU-2', 'GTX 1080 Ti'],
    ]);
  });

  const suspended: Program = {
    ...program,
    admission: 'suspended',
    admissionSuspendedAt: '2026-03-01T00:00:00.000Z',
  };
  it.each<[string, string, boolean, number, string | null, boolean]>([
    ['a member keeps earning after admission is suspended', HOUR, true, 6, null, false],
    ['a new rig after suspension is refused', HOUR, false, 0, 'admission-suspended', false],
    [
      'a late report for an hour before the suspension does not make a new rig a member',
      '2026-02-01T10:00:00Z',
      false,
      0,
      'admission-suspended',
      false,
    ],
  ])('%s', (_n, hour, isMember, gpusPaid, reason, joins) => {
    const out = creditReport(
      report({ hour, reportId: reportIdFor(RIG, hour) }),
      [suspended],
      facts({ memberSince: isMember ? member(program.id) : member() }),
    );
    expect(out.gpus).toBe(gpusPaid);
    expect(out.perProgram[0]).toMatchObject({ reason, joins });
  });

  it('a membership that began after the suspension does not count', () => {
    const late = new Map([[program.id, Date.parse('2026-03-02T00:00:00Z')]]);
    expect(
      creditReport(report(), [suspended], facts({ memberSince: late })).perProgram[0]!.reason,
    ).toBe('admission-suspended');
  });

  const review: Program = { ...program, admission: 'review' };
  it.each<[string, Partial<CreditFacts>, number, string | null, boolean]>([
    [
      "review: a new rig's hour is held, not paid",
      { memberSince: member() },
      0,
      'held-for-review',
      true,
    ],
    [
      'review: an approved rig joins and is paid',
      { memberSince: member(), review: 'approved' },
      6,
      null,
      false,
    ],
    ['review: a member is paid', {}, 6, null, false],
    [
      'open: a master at its rig cap cannot add a member',
      { memberSince: member(), masterFull: () => true },
      0,
      'master-rig-cap',
      false,
    ],
  ])('%s', (_n, f, gpusPaid, reason, held) => {
    const out = creditReport(report(), [f.masterFull ? program : review], facts(f));
    expect([out.gpus, out.perProgram[0]!.reason, out.held]).toEqual([gpusPaid, reason, held]);
  });

  it('open admission: the first credited hour makes the rig a member', () => {
    expect(
      creditReport(report(), [program], facts({ memberSince: member() })).perProgram[0]!.joins,
    ).toBe(true);
  });

  it('several programs at once: each pays for its own models, a GPU is paid once', () => {
    const p2080: Program = {
      ...program,
      id: 'p2080',
      requirements: {
        ...program.requirements,
        gpuModels: [{ model: 'RTX 2080 Ti', pciDeviceIds: ['1e07'] }],
      },
      reward: { ...program.reward, usdPerGpuDay: 3 },
    };
    const mixed = [
      ...gpus(2),
      ...gpus(3, '1e07').map((g, i) => ({ ...g, uuid: `T-${i}`, model: 'RTX 2080 Ti' })),
    ];
    const p1080: Program = {
      ...program,
      requirements: {
        ...program.requirements,
        gpuModels: [{ model: 'GTX 1080 Ti', pciDeviceIds: ['1b06'] }],
      },
    };
    const both = (u: string[]): Verdict => ({
      ...verdict(),
      gpus: new Map(mixed.filter((g) => u.includes(g.uuid)).map((g) => [g.uuid, g.pciDeviceId])),
    });
    const all = both(mixed.map((g) => g.uuid));
    const out = creditReport(
      report({ gpus: mixed, minQualifyingGpus: 5 }),
      [p1080, p2080],
      facts({ memberSince: member(program.id, 'p2080'), verdict: all }),
    );
    expect(out.perProgram.map((c) => [c.programId, c.gpus])).toEqual([
      [program.id, 2],
      ['p2080', 3],
    ]);
    expect(out.usd).toBe(Math.round(((2 * 2) / 24 + (3 * 3) / 24) * 10_000) / 10_000);
    const dropped = creditReport(
      report({ gpus: mixed, minQualifyingGpus: 4 }),
      [p1080, p2080],
      facts({ memberSince: member(program.id, 'p2080'), verdict: all }),
    );
    expect(dropped.perProgram.map((c) => c.gpus)).toEqual([2, 2]);
    const overlap = creditReport(
      report(),
      [program, { ...program, id: 'dup' }],
      facts({ memberSince: member(program.id, 'dup') }),
    );
    expect(overlap.perProgram.map((c) => c.gpus)).toEqual([6, 0]);
  });
});

describe('report validation', () => {
  const now = new Date('2026-06-01T12:30:00Z');
  it.each<[string, Partial<HourlyReport>, string | null]>([
    ['a good report', {}, null],
    ["another rig's report", { rigId: 'BBBBBBBBBBBBBBBBBBBBBB' }, 'rig-mismatch'],
    [
      'an unaligned hour',
      { hour: '2026-06-01T10:30:00Z', reportId: reportIdFor(RIG, '2026-06-01T10:30:00Z') },
      'hour-not-aligned',
    ],
    ['a malformed hour', { hour: 'yesterday' }, 'hour-not-aligned'],
    [
      "hour 24, an alias of the next day's 00:00",
      { hour: '2026-05-31T24:00:00Z', reportId: reportIdFor(RIG, '2026-05-31T24:00:00Z') },
      'hour-not-aligned',
    ],
    [
      'June 31, an alias of July 1',
      { hour: '2026-06-31T10:00:00Z', reportId: reportIdFor(RIG, '2026-06-31T10:00:00Z') },
      'hour-not-aligned',
    ],
    [
      'February 29 of a common year',
      { hour: '2026-02-29T10:00:00Z', reportId: reportIdFor(RIG, '2026-02-29T10:00:00Z') },
      'hour-not-aligned',
    ],
    [
      'milliseconds: not the canonical text',
      { hour: '2026-06-01T10:00:00.000Z' },
      'hour-not-aligned',
    ],
    ['a report id not derived from rig and hour', { reportId: 'rpt-x' }, 'invalid-report-id'],
    [
      'the current hour',
      { hour: '2026-06-01T12:00:00Z', reportId: reportIdFor(RIG, '2026-06-01T12:00:00Z') },
      'hour-not-ended',
    ],
    [
      'a future hour',
      { hour: '2026-06-02T12:00:00Z', reportId: reportIdFor(RIG, '2026-06-02T12:00:00Z') },
      'hour-not-ended',
    ],
    [
      'an hour past the 168 h deadline',
      { hour: '2026-05-25T10:00:00Z', reportId: reportIdFor(RIG, '2026-05-25T10:00:00Z') },
      'past-deadline',
    ],
    ['13 samples at a 5-minute interval', { samples: 13, connectedSamples: 13 }, 'invalid-counts'],
    ['more connected than samples', { samples: 5, connectedSamples: 6 }, 'invalid-counts'],
    ['an interval that does not divide an hour', { intervalSeconds: 700 }, 'invalid-interval'],
    ['more qualifying GPUs than GPUs listed', { minQualifyingGpus: 7 }, 'invalid-counts'],
    [
      'the same uuid twice',
      { gpus: [...gpus(1), ...gpus(1)], minQualifyingGpus: 1 },
      'invalid-counts',
    ],
  ])('%s', (_n, over, reason) => expect(validateReport(report(over), RIG, now, 168)).toBe(reason));
});
