/**
 * The report tick in process, with an injected clock, against the real service code on loopback
 * (optionally behind a fault-injecting proxy): delivery exactly once, long outages, every
 * failure mode of the service, eligibility updates and retention.
 */
import { describe, expect, it } from 'vitest';
import { createServer, type Socket } from 'node:net';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/rig.js';
import {
  FaultProxy,
  healthyProbe,
  SimClock,
  simContext,
  startInProcessService,
  type Fault,
} from '../helpers/sim.js';
import { runTick } from '../../src/commands/report.js';
import { UptimeStore } from '../../src/uptime/store.js';
import { summarize } from '../../src/uptime/summary.js';

const T0 = Date.parse('2026-06-01T10:00:20Z');
const FIVE_MIN = 300_000;

async function tick(
  clock: SimClock,
  dir: string,
  service: string | null,
  probe = healthyProbe,
  over = {},
) {
  const captured = { stdout: '', stderr: '' };
  const ctx = simContext(clock, dir, { service, deliveryTimeoutMs: 500, ...over }, captured);
  const o = await runTick(ctx, { probe: async () => probe(clock), random: () => 0.5 });
  return { ...o, ...captured };
}

describe('delivery', () => {
  it('twelve ticks across one hour make exactly one report with 12 samples, delivered once and credited', async () => {
    const dir = tempDir('sim-');
    const clock = new SimClock(T0);
    const svc = await startInProcessService(dir, clock);
    try {
      for (let i = 0; i < 12; i++) {
        const o = await tick(clock, dir, svc.url);
        expect(o.built).toBe(0);
        clock.advance(FIVE_MIN);
      }
      const o = await tick(clock, dir, svc.url); // 11:00:20: hour 10 is complete
      expect(o).toMatchObject({ built: 1, delivered: 1, pending: 0, deferred: null });
      const store = new UptimeStore(dir);
      const reports = store.reports();
      expect(reports).toHaveLength(1);
      expect(reports[0]).toMatchObject({
        hour: '2026-06-01T10:00:00Z',
        samples: 12,
        connectedSamples: 12,
        minQualifyingGpus: 6,
        seq: 1,
      });
      expect(store.results()).toEqual([
        expect.objectContaining({
          status: 'accepted',
          credited: { connected: true, gpus: 6, usd: 0.5 },
        }),
      ]);
      clock.advance(FIVE_MIN);
      const again = await tick(clock, dir, svc.url);
      expect(again).toMatchObject({ built: 0, delivered: 0, pending: 0 });
      expect(svc.store.counts().reports).toBe(1);
      expect(
        svc.store.ledger(reports[0]!.rigId, '2026-06-01T00:00:00Z', '2026-06-02T00:00:00Z'),
      ).toHaveLength(1);
    } finally {
      await svc.close();
    }
  });

  it('the service down for 7 days: bounded attempts per tick, then every hour delivered within 2 ticks', async () => {
    const dir = tempDir('sim-');
    const clock = new SimClock(T0);
    // "Down": something that accepts connections and resets them at once, counting them.
    let connections = 0;
    const sockets = new Set<Socket>();
    const dead = createServer((s) => {
      connections++;
      sockets.add(s);
      s.destroy();
    });
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
    const port = (dead.address() as { port: number }).port;
    const url = `http://127.0.0.1:${port}`;
    let maxPerTick = 0;
    const ticks = 7 * 288;
    for (let i = 0; i < ticks; i++) {
      clock.t = T0 + i * FIVE_MIN; // the timer fires on schedule, however long the last tick waited
      const before = connections;
      const o = await tick(clock, dir, url);
      maxPerTick = Math.max(maxPerTick, connections - before);
      expect(o.attempts).toBeLessThanOrEqual(4);
      if (i === ticks - 1)
        expect(o.deferred).toMatch(/cannot reach|broke|cut|no attempts|time is up/);
    }
    clock.t = T0 + ticks * FIVE_MIN;
    expect(maxPerTick).toBeLessThanOrEqual(4);
    expect(maxPerTick).toBeGreaterThan(0);
    await new Promise<void>((r) => dead.close(() => r()));
    const svc = await startInProcessService(dir, clock, { port });
    try {
      const store = new UptimeStore(dir);
      // Every complete hour with samples is built (backoff waits move the simulated clock, so count them).
      const { bucketByHour } = await import('../../src/uptime/hours.js');
      const { hourOf } = await import('../../src/protocol/report-id.js');
      const complete = [...bucketByHour(store.readSamples().samples).keys()].filter(
        (h) => h < hourOf(T0 + (ticks - 1) * FIVE_MIN),
      ); // as of the last tick
      expect(store.reports().map((r) => r.hour)).toEqual(complete);
      expect(complete.length).toBeGreaterThanOrEqual(7 * 24 - 1);
      let delivered = 0;
      for (let i = 0; i < 2; i++) {
        clock.t = T0 + (ticks + i) * FIVE_MIN;
        const o = await tick(clock, dir, svc.url);
        delivered += o.delivered;
      }
      expect(new UptimeStore(dir).finalResults().size).toBe(new UptimeStore(dir).reports().length);
      expect(delivered).toBe(new UptimeStore(dir).reports().length);
      expect(svc.store.counts().reports).toBe(new UptimeStore(dir).reports().length);
    } finally {
      await svc.close();
    }
  }, 240_000);
});

describe('service faults', () => {
  async function setup(decide: (req: { method: string; url: string; body: string }) => Fault) {
    const dir = tempDir('sim-');
    const clock = new SimClock(T0);
    const svc = await startInProcessService(dir, clock);
    const proxy = new FaultProxy(() => svc.url, decide, clock);
    await proxy.listen();
    // An hour of samples, then the tick that delivers it.
    for (let i = 0; i < 12; i++) {
      await tick(clock, dir, null);
      clock.advance(FIVE_MIN);
    }
    return {
      dir,
      clock,
      svc,
      proxy,
      close: async () => {
        await proxy.close();
        await svc.close();
      },
    };
  }
  const reportsOnly = (f: (n: number) => Fault) => {
    let n = 0;
    return (req: { url: string }) => (req.url === '/v1/reports' ? f(n++) : 'pass');
  };

  it('500 is retried with backoff within the tick, then delivered', async () => {
    const s = await setup(reportsOnly((n) => (n < 2 ? { status: 500 } : 'pass')));
    try {
      const t = s.clock.t;
      // Enrolment and eligibility take two attempts of this first tick's budget.
      const o = await tick(s.clock, s.dir, s.proxy.url, healthyProbe, { tickAttempts: 5 });
      expect(o).toMatchObject({ delivered: 1, deferred: null });
      expect(s.proxy.requests.filter((r) => r.url === '/v1/reports')).toHaveLength(3);
      expect(s.clock.t - t).toBeGreaterThan(0); // it waited (full jitter at 0.5: 0.5 s, then 1 s)
    } finally {
      await s.close();
    }
  });

  it('a reset connection is retried', async () => {
    const s = await setup(reportsOnly((n) => (n < 1 ? 'reset' : 'pass')));
    try {
      expect(await tick(s.clock, s.dir, s.proxy.url)).toMatchObject({
        delivered: 1,
        deferred: null,
      });
    } finally {
      await s.close();
    }
  });

  it('a service that hangs is abandoned at the request deadline; the hours wait on disk', async () => {
    const s = await setup(reportsOnly(() => 'hang'));
    try {
      // A tick that waited on the hung request would run into the test's timeout instead.
      const o = await tick(s.clock, s.dir, s.proxy.url, healthyProbe, { deliveryTimeoutMs: 300 });
      expect(o.delivered).toBe(0);
      expect(o.pending).toBe(1);
      expect(o.deferred).toMatch(/did not answer/);
      expect(o.stderr).toMatch(/delivery deferred \(1 hour pending, kept on disk\)/);
    } finally {
      await s.close();
    }
  });

  it('429 with a short Retry-After is waited out; a long one defers to a later tick and is honoured', async () => {
    const s = await setup(
      reportsOnly((n) =>
        n === 0
          ? { status: 429, headers: { 'retry-after': '20' } }
          : n === 1
            ? { status: 429, headers: { 'retry-after': '3600' } }
            : 'pass',
      ),
    );
    try {
      const t = s.clock.t;
      const o = await tick(s.clock, s.dir, s.proxy.url);
      expect(s.clock.t - t).toBeGreaterThanOrEqual(20_000);
      expect(o.deferred).toBeTruthy();
      expect(new UptimeStore(s.dir).state().retryAt).toBeTruthy();
      const seen = s.proxy.requests.length;
      s.clock.advance(FIVE_MIN);
      const waiting = await tick(s.clock, s.dir, s.proxy.url);
      expect(s.proxy.requests.length).toBe(seen); // nothing sent before Retry-After
      expect(waiting.deferred).toMatch(/asked us to wait/);
      s.clock.advance(3600_000);
      expect(await tick(s.clock, s.dir, s.proxy.url)).toMatchObject({ deferred: null, pending: 0 });
    } finally {
      await s.close();
    }
  });

  it(
    '401 for clock skew: the offset is recorded and shown, and the request is signed again ' +
      "on the service's clock",
    async () => {
      const dir = tempDir('sim-');
      const clock = new SimClock(T0);
      const svc = await startInProcessService(dir, clock, { skewMs: 10 * 60_000 });
      try {
        for (let i = 0; i < 13; i++) {
          await tick(clock, dir, null);
          clock.advance(FIVE_MIN);
        }
        const o = await tick(clock, dir, svc.url);
        expect(o).toMatchObject({ deferred: null, delivered: 1 });
        const store = new UptimeStore(dir);
        expect(Math.abs(store.state().clockOffsetMs! - 600_000)).toBeLessThanOrEqual(1000); // Date has 1 s steps
        const sum = summarize({
          samples: store.readSamples().samples,
          reports: store.reports(),
          results: store.results(),
          state: store.state(),
          now: clock.now(),
          days: 1,
          intervalSeconds: 300,
          skipped: 0,
        });
        expect(Math.abs(sum.clockOffsetSeconds! - 600)).toBeLessThanOrEqual(1);
        expect(sum.counts.pending).toBe(0);
      } finally {
        await svc.close();
      }
    },
  );

  it('400 for one report in a batch: that report is quarantined with its reason, the rest delivered', async () => {
    const dir = tempDir('sim-');
    const clock = new SimClock(T0);
    const svc = await startInProcessService(dir, clock);
    let bad = '';
    const proxy = new FaultProxy(
      () => svc.url,
      (req) =>
        req.url === '/v1/reports' && bad && req.body.includes(bad)
          ? {
              status: 400,
              body: JSON.stringify({
                type: 'urn:test',
                title: 'Bad request',
                status: 400,
                detail: 'body/reports/2 is broken',
              }),
            }
          : 'pass',
      clock,
    );
    await proxy.listen();
    try {
      for (let i = 0; i < 12 * 5; i++) {
        await tick(clock, dir, null);
        clock.advance(FIVE_MIN);
      }
      await tick(clock, dir, null);
      const reports = new UptimeStore(dir).reports();
      expect(reports).toHaveLength(5);
      bad = reports[2]!.reportId;
      const o = await tick(clock, dir, proxy.url, healthyProbe, { tickAttempts: 10 });
      expect(o.delivered).toBe(4);
      const finals = new UptimeStore(dir).finalResults();
      expect(finals.get(bad)).toMatchObject({
        status: 'rejected',
        reason: 'invalid: body/reports/2 is broken',
      });
      expect(o.stderr).toMatch(/rejected: invalid: body\/reports\/2 is broken/);
      clock.advance(FIVE_MIN);
      const before = proxy.requests.length;
      await tick(clock, dir, proxy.url);
      expect(proxy.requests.slice(before).some((r) => r.body.includes(bad))).toBe(false); // never resent as it is
    } finally {
      await proxy.close();
      await svc.close();
    }
  });
});

describe('eligibility reports', () => {
  it('sent on enrolment, again when the qualifying GPU count changes, and at least daily', async () => {
    const dir = tempDir('sim-');
    const clock = new SimClock(T0);
    const svc = await startInProcessService(dir, clock);
    const proxy = new FaultProxy(() => svc.url, undefined, clock);
    await proxy.listen();
    const sent = () => proxy.requests.filter((r) => r.url === '/v1/eligibility').length;
    try {
      await tick(clock, dir, proxy.url);
      expect(proxy.requests.map((r) => r.url).slice(0, 3)).toEqual([
        '/v1/rigs',
        '/v1/eligibility',
        '/v1/programs',
      ]);
      // The first delivery cached the service's programs, so the verdict now covers them: sent again once.
      clock.advance(FIVE_MIN);
      await tick(clock, dir, proxy.url);
      expect(sent()).toBe(2);
      expect(
        JSON.parse(proxy.requests.filter((r) => r.url === '/v1/eligibility')[1]!.body).program.id,
      ).toBe('test-program');
      clock.advance(FIVE_MIN);
      await tick(clock, dir, proxy.url);
      expect(sent()).toBe(2);
      // What the verdict was made with is remembered, so unchanged ticks do not probe the whole rig.
      expect(new UptimeStore(dir).state().eligibility).toMatchObject({
        qualifyingSeen: 6,
        programsKey: expect.any(String),
      });
      // A re-check that finds the same verdict sends nothing, but records what it saw.
      const st = new UptimeStore(dir).state();
      new UptimeStore(dir).saveState({
        ...st,
        eligibility: { ...st.eligibility!, qualifyingSeen: 99 },
      });
      clock.advance(FIVE_MIN);
      await tick(clock, dir, proxy.url);
      expect(sent()).toBe(2);
      expect(new UptimeStore(dir).state().eligibility?.qualifyingSeen).toBe(6);
      clock.advance(FIVE_MIN);
      await tick(clock, dir, proxy.url, (c) => healthyProbe(c, { gpus: 5 }));
      expect(sent()).toBe(3);
      expect(
        JSON.parse(proxy.requests.filter((r) => r.url === '/v1/eligibility')[2]!.body).reward
          .qualifyingGpus,
      ).toBe(5);
      clock.advance(25 * 3600_000);
      await tick(clock, dir, proxy.url, (c) => healthyProbe(c, { gpus: 5 }));
      expect(sent()).toBe(4);
    } finally {
      await proxy.close();
      await svc.close();
    }
  });
});

describe('a card swapped for another of the same model', () => {
  it('re-sends the verdict at once: the set of qualifying GPUs changed, not their number', async () => {
    const dir = tempDir('sim-');
    const clock = new SimClock(T0);
    const svc = await startInProcessService(dir, clock);
    const proxy = new FaultProxy(() => svc.url, undefined, clock);
    await proxy.listen();
    const verdicts = () =>
      proxy.requests
        .filter((r) => r.url === '/v1/eligibility')
        .map((r) => JSON.parse(r.body) as { gpus: { uuid: string }[] });
    const swapped = (c: SimClock) => {
      const p = healthyProbe(c);
      if (p.nvidia.ok) p.nvidia.value.gpus[2] = { ...p.nvidia.value.gpus[2]!, uuid: 'GPU-sim-new' };
      return p;
    };
    try {
      for (let i = 0; i < 3; i++) {
        await tick(clock, dir, proxy.url);
        clock.advance(FIVE_MIN);
      }
      const before = verdicts().length;
      await tick(clock, dir, proxy.url, swapped);
      expect(verdicts()).toHaveLength(before + 1);
      expect(
        verdicts()
          .at(-1)!
          .gpus.map((g) => g.uuid),
      ).toContain('GPU-sim-new');
      clock.advance(FIVE_MIN);
      await tick(clock, dir, proxy.url, swapped);
      expect(verdicts()).toHaveLength(before + 1); // sent once
    } finally {
      await proxy.close();
      await svc.close();
    }
  });
});

describe('retention', () => {
  it(
    'undelivered hours expire past the deadline on a trusted clock only; delivered data is ' +
      'compacted after 35 days',
    async () => {
      const dir = tempDir('sim-');
      const clock = new SimClock(T0);
      for (let i = 0; i < 14; i++) {
        await tick(clock, dir, null);
        clock.advance(FIVE_MIN);
      }
      expect(new UptimeStore(dir).reports()).toHaveLength(1);
      // Eight days later (off, or a clock step: with no service to ask, the tick cannot tell).
      clock.advance(8 * 86_400_000);
      const jumped = await tick(clock, dir, null);
      expect(jumped.stderr).toMatch(/clock jumped \+8 d/);
      const first = () =>
        new UptimeStore(dir).finalResults().get(new UptimeStore(dir).reports()[0]!.reportId);
      expect(first()).toBeUndefined(); // nothing destroyed on an unconfirmed jump
      for (let i = 0; i < 13; i++) {
        clock.advance(FIVE_MIN);
        await tick(clock, dir, null);
      }
      expect(first()).toMatchObject({ status: 'expired', reason: 'past-deadline' }); // after an hour without a jump
      const store = new UptimeStore(dir);
      const sum = summarize({
        samples: store.readSamples().samples,
        reports: store.reports(),
        results: store.results(),
        state: store.state(),
        now: clock.now(),
        days: 1,
        intervalSeconds: 300,
        skipped: 0,
      });
      expect(sum.counts.expired).toBe(1);
      expect(sum.counts.pastDeadline).toBe(1);
      clock.advance(30 * 86_400_000);
      for (let i = 0; i < 14; i++) {
        await tick(clock, dir, null);
        clock.advance(FIVE_MIN);
      }
      expect(readdirSync(join(dir, 'samples'))).not.toContain('2026-06-01.log');
      // Hour 10's report (seq 1) is gone with its day; seq keeps counting from the highest kept.
      const kept = new UptimeStore(dir).reports();
      expect(kept.map((r) => r.hour)).not.toContain('2026-06-01T10:00:00Z');
      expect(kept.map((r) => r.seq)).toEqual([...kept.map((r) => r.seq)].sort((a, b) => a - b));
      expect(Math.min(...kept.map((r) => r.seq))).toBeGreaterThan(1);
      expect(existsSync(join(dir, 'samples'))).toBe(true);
    },
  );

  it('the size cap drops the oldest delivered days first and counts what it dropped', async () => {
    const dir = tempDir('sim-');
    const clock = new SimClock(T0);
    const svc = await startInProcessService(dir, clock);
    try {
      for (let i = 0; i < 3 * 288; i++) {
        await tick(clock, dir, svc.url, healthyProbe, { maxStateBytes: 1e9 });
        clock.advance(FIVE_MIN);
      }
      const size = new UptimeStore(dir).sizeBytes();
      clock.advance(86_400_000);
      await tick(clock, dir, svc.url, healthyProbe, { maxStateBytes: Math.floor(size * 0.6) });
      const st = new UptimeStore(dir).state();
      expect(st.lost.droppedSamples).toBeGreaterThan(0);
      expect(new UptimeStore(dir).days()[0]).not.toBe('2026-06-01');
    } finally {
      await svc.close();
    }
  }, 120_000);
});
