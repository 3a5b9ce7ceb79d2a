/**
 * Time is evidence (docs/decisions.md): the report tick in process with an injected rig clock
 * that is wrong in the ways real rigs' clocks are (a few seconds or minutes fast, behind, days
 * ahead at boot before NTP), against the real service on loopback whose clock is right. Every
 * real hour must be delivered and credited, nothing expired, no hour built in the future.
 * Also: a Retry-After of a year is capped at an hour.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/rig.js';
import {
  FaultProxy,
  healthyProbe,
  SimClock,
  simContext,
  startInProcessService,
  type InProcessService,
} from '../helpers/sim.js';
import { runTick } from '../../src/commands/report.js';
import { UptimeStore } from '../../src/uptime/store.js';
import { summarize } from '../../src/uptime/summary.js';

const T0 = Date.parse('2026-06-01T10:00:00Z');
const FIVE_MIN = 300_000;
const DAY = 86_400_000;

/** The rig's clock: the real (simulated) time plus `skew`; its sleeps move real time. */
function rigClock(real: SimClock, skew: () => number): SimClock {
  return { now: () => new Date(real.t + skew()), sleep: real.sleep } as unknown as SimClock;
}

async function tick(rig: SimClock, dir: string, service: string) {
  const captured = { stdout: '', stderr: '' };
  const ctx = simContext(rig, dir, { service, deliveryTimeoutMs: 500, tickAttempts: 6 }, captured);
  const o = await runTick(ctx, { probe: async () => healthyProbe(rig), random: () => 0.5 });
  return { ...o, ...captured };
}

interface Run {
  dir: string;
  real: SimClock;
  svc: InProcessService;
  stderr: string;
}

/**
 * Ticks for `hours` hours. The timer fires on the rig's clock (OnCalendar every 5 minutes plus a
 * random delay of up to 60 s), so with a constant `lag` the real time of tick k is its slot minus
 * the lag; `jump(k)` is a step of the rig's clock at tick k only (real time goes on regardless).
 */
async function simulate(o: {
  hours: number;
  lag?: number;
  jump?: (k: number) => number;
}): Promise<Run> {
  const dir = tempDir('clock-');
  const real = new SimClock(T0);
  const svc = await startInProcessService(dir, real);
  let skew = 0;
  const rig = rigClock(real, () => skew);
  let stderr = '';
  for (let k = 0; k < o.hours * 12 + 2; k++) {
    const delay = ((k * 37) % 60) * 1000; // RandomizedDelaySec, deterministic
    skew = (o.lag ?? 0) + (o.jump?.(k) ?? 0);
    real.t = T0 + k * FIVE_MIN + delay - (o.lag ?? 0);
    stderr += (await tick(rig, dir, svc.url)).stderr;
  }
  return { dir, real, svc, stderr };
}

/** Every hour from T0 for `hours` hours was built once, accepted and credited; nothing else. */
function expectEveryHourCredited(r: Run, hours: number): void {
  const store = new UptimeStore(r.dir);
  const reports = store.reports();
  const want = Array.from({ length: hours }, (_, i) =>
    new Date(T0 + i * 3_600_000).toISOString().replace('.000Z', 'Z'),
  );
  expect(reports.map((x) => x.hour)).toEqual(want);
  const finals = store.finalResults();
  for (const rep of reports) {
    expect(finals.get(rep.reportId), rep.hour).toMatchObject({
      status: 'accepted',
      credited: { connected: true, gpus: 6 },
    });
    expect(finals.get(rep.reportId)!.credited!.usd, rep.hour).toBeGreaterThan(0);
  }
  expect(store.results().filter((x) => x.status === 'rejected' || x.status === 'expired')).toEqual(
    [],
  );
  const ledger = r.svc.store.ledger(
    reports[0]!.rigId,
    '2026-05-01T00:00:00Z',
    '2026-08-01T00:00:00Z',
  );
  expect(ledger.filter((h) => h.usd > 0)).toHaveLength(hours);
}

describe('a rig clock that is off by a constant', () => {
  for (const [name, lag] of [
    ['35 s fast', 35_000],
    ['5 minutes fast', 300_000],
    ['5 minutes behind', -300_000],
  ] as const) {
    it(`${name}: every hour is delivered and credited`, async () => {
      const r = await simulate({ hours: 4, lag });
      try {
        expectEveryHourCredited(r, 4);
        expect(r.stderr).not.toMatch(/rejected|jumped/);
        expect(Math.round(new UptimeStore(r.dir).state().clockOffsetMs! / 1000)).toBeCloseTo(
          -lag / 1000,
          -1,
        );
      } finally {
        await r.svc.close();
      }
    });
  }
});

describe('a rig clock that jumps', () => {
  it('+40 days for one tick, then the right time: nothing is lost, every real hour delivered', async () => {
    const r = await simulate({ hours: 4, jump: (k) => (k === 25 ? 40 * DAY : 0) });
    try {
      expectEveryHourCredited(r, 4);
      const store = new UptimeStore(r.dir);
      expect(existsSync(join(r.dir, 'samples', '2026-06-01.log'))).toBe(true);
      // The +40-day sample is kept in its own day file, and marked.
      expect(store.days()).toEqual(['2026-06-01', '2026-07-11']);
      expect([...store.marks().values()]).toEqual([
        expect.objectContaining({ reason: expect.stringMatching(/\+40 d off/) }),
      ]);
      expect(store.state().clockJumps.map((j) => Math.round(j.deltaMs / DAY))).toEqual([40, -40]);
      expect(r.stderr).toMatch(/clock jumped \+40 d/);
      expect(r.stderr).toMatch(/clock jumped -40 d/);
      const sum = summarize({
        samples: store.readSamples().samples,
        reports: store.reports(),
        results: store.results(),
        state: store.state(),
        now: r.real.now(),
        days: 1,
        intervalSeconds: 300,
        skipped: 0,
        marked: store.marks().size,
      });
      expect(sum.clockJumps).toHaveLength(2);
      expect(sum.markedSamples).toBe(1);
      expect(sum.counts.expired).toBe(0);
    } finally {
      await r.svc.close();
    }
  });

  it(
    '+1 day for two ticks across an hour boundary, then the right time: the real hours are ' +
      'built and delivered',
    async () => {
      // Ticks 23 and 24 are 11:55 and 12:00 (real): at +1 day, the second one "completes" tomorrow's 11:00.
      const r = await simulate({ hours: 4, jump: (k) => (k === 23 || k === 24 ? DAY : 0) });
      try {
        expectEveryHourCredited(r, 4);
        expect(new UptimeStore(r.dir).marks().size).toBe(2);
      } finally {
        await r.svc.close();
      }
    },
  );

  it("2 hours behind for an hour: the samples are marked and counted at the service's time; nothing lost", async () => {
    const r = await simulate({ hours: 4, jump: (k) => (k >= 13 && k < 25 ? -2 * 3_600_000 : 0) });
    try {
      expectEveryHourCredited(r, 4);
      expect(new UptimeStore(r.dir).marks().size).toBe(12);
    } finally {
      await r.svc.close();
    }
  });
});

describe('bounded waits', () => {
  it('Retry-After: 31536000 (a year) is obeyed for an hour at most, logged as capped', async () => {
    const dir = tempDir('clock-');
    const real = new SimClock(T0 + 20_000);
    const svc = await startInProcessService(dir, real);
    let fault = true;
    const year = { status: 503, headers: { 'retry-after': '31536000' } };
    const proxy = new FaultProxy(
      () => svc.url,
      (req) => (fault && req.url === '/v1/reports' ? year : 'pass'),
      real,
    );
    await proxy.listen();
    try {
      let stderr = '';
      for (let i = 0; i < 13; i++) {
        stderr += (await tick(real, dir, proxy.url)).stderr;
        real.t = T0 + 20_000 + (i + 1) * FIVE_MIN;
      }
      expect(stderr).toMatch(
        /asked to wait 31536000 s \(Retry-After: 31536000\); waiting at most 3600 s/,
      );
      const retryAt = Date.parse(new UptimeStore(dir).state().retryAt!);
      expect(retryAt - real.t).toBeLessThanOrEqual(3_600_000);
      fault = false; // the service is fixed
      let delivered = 0;
      for (let i = 0; i < 14; i++) {
        real.t += FIVE_MIN;
        delivered += (await tick(real, dir, proxy.url)).delivered;
      }
      expect(delivered).toBe(2); // hour 10, held back an hour at most, and hour 11
    } finally {
      await proxy.close();
      await svc.close();
    }
  });
});
