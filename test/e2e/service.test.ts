/**
 * The reference service over real HTTP on loopback: the protocol, hostile requests, the
 * crediting rules end to end, admission, and a crash in the middle of a batch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runBin, tempDir } from '../helpers/rig.js';
import { activeProgram } from '../helpers/programs.js';
import {
  hoursAgo,
  metric,
  startService,
  startServiceInPast,
  TestRig,
  type RunningService,
} from '../helpers/service.js';
import { httpRequest } from '../../src/lib/http.js';
import { signRequest } from '../../src/protocol/signing.js';
import { reportIdFor } from '../../src/protocol/report-id.js';

const MASTER = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const OTHER_MASTER = '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359';

describe('hostile requests are refused, and nothing is stored or credited', () => {
  let svc: RunningService;
  let a: TestRig;
  let b: TestRig;
  // The hour of the one legitimate report, fixed once so that a UTC hour turning over mid-suite
  // cannot change what the conflict case reuses.
  const stored = hoursAgo(2);
  beforeAll(async () => {
    const past = await startServiceInPast(tempDir('svc-'), 4, { programs: [activeProgram()] });
    svc = past;
    a = new TestRig(svc.url);
    b = new TestRig(svc.url);
    a.now = b.now = past.at;
    expect((await a.enroll()).status).toBe(201);
    expect((await b.enroll()).status).toBe(201);
    past.present();
    const ok = await a.send('POST', '/v1/reports', { reports: [a.report(stored)] });
    expect(ok.json.results[0].status).toBe('accepted');
  });
  afterAll(async () => {
    await svc.stop();
  });

  const now = () => Math.floor(Date.now() / 1000);
  type Case = [
    string,
    () => Promise<{ status: number; json: any; headers: Record<string, string | undefined> }>,
    number,
    string?,
  ];
  const cases: Case[] = [
    [
      'no signature',
      () => a.send('POST', '/v1/reports', { reports: [a.report(hoursAgo(3))] }, { unsigned: true }),
      401,
      'bad-signature',
    ],
    [
      'a malformed Signature-Input',
      () =>
        a.send(
          'POST',
          '/v1/reports',
          { reports: [a.report(hoursAgo(3))] },
          { headers: { 'signature-input': 'sig1=garbage' } },
        ),
      401,
      'bad-signature',
    ],
    [
      'a garbage signature value',
      () =>
        a.send(
          'POST',
          '/v1/reports',
          { reports: [a.report(hoursAgo(3))] },
          { headers: { signature: 'sig1=:AAAA:' } },
        ),
      401,
      'bad-signature',
    ],
    [
      "a signature by another rig's key",
      () =>
        a.send('POST', '/v1/reports', { reports: [a.report(hoursAgo(3))] }, { key: b.privateKey }),
      401,
      'bad-signature',
    ],
    [
      'a key nobody enrolled',
      () => {
        const c = new TestRig(svc.url);
        return c.send('POST', '/v1/reports', { reports: [c.report(hoursAgo(3))] });
      },
      401,
      'unknown-key',
    ],
    [
      'created ten minutes ago',
      () =>
        a.send(
          'POST',
          '/v1/reports',
          { reports: [a.report(hoursAgo(3))] },
          { created: now() - 600 },
        ),
      401,
      'clock-skew',
    ],
    [
      'created ten minutes in the future',
      () =>
        a.send(
          'POST',
          '/v1/reports',
          { reports: [a.report(hoursAgo(3))] },
          { created: now() + 600 },
        ),
      401,
      'clock-skew',
    ],
    [
      'a replayed nonce',
      async () => {
        // A report past its deadline is refused per report, so the first copy stores nothing.
        const body = JSON.stringify({ reports: [a.report(hoursAgo(300))] });
        const headers = {
          'content-type': 'application/json',
          ...signRequest({
            method: 'POST',
            url: `${svc.url}/v1/reports`,
            body,
            privateKey: a.privateKey,
            keyid: a.rigId,
          }),
        };
        const first = await httpRequest(`${svc.url}/v1/reports`, {
          method: 'POST',
          headers,
          body,
          timeoutMs: 5000,
        });
        expect(first.status).toBe(200);
        const replay = await httpRequest(`${svc.url}/v1/reports`, {
          method: 'POST',
          headers,
          body,
          timeoutMs: 5000,
        });
        return { ...replay, json: JSON.parse(replay.body) };
      },
      401,
      'replay',
    ],
    [
      'a content-digest mismatch',
      () =>
        a.send(
          'POST',
          '/v1/reports',
          { reports: [a.report(hoursAgo(3))] },
          {
            headers: { 'content-digest': 'sha-256=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:' },
          },
        ),
      400,
      'digest-mismatch',
    ],
    [
      'a signature that does not cover the body',
      async () => {
        const body = JSON.stringify({ reports: [a.report(hoursAgo(3))] });
        const h = signRequest({
          method: 'POST',
          url: `${svc.url}/v1/reports`,
          privateKey: a.privateKey,
          keyid: a.rigId,
        });
        const r = await httpRequest(`${svc.url}/v1/reports`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...h },
          body,
          timeoutMs: 5000,
        });
        return { ...r, json: JSON.parse(r.body) };
      },
      401,
      'bad-signature',
    ],
    [
      'a signature for another URL',
      () =>
        a.send(
          'POST',
          '/v1/reports',
          { reports: [a.report(hoursAgo(3))] },
          { signUrl: 'http://evil.example/v1/reports' },
        ),
      401,
      'bad-signature',
    ],
    [
      'a signature for another method',
      () =>
        a.send('POST', '/v1/reports', { reports: [a.report(hoursAgo(3))] }, { signMethod: 'PUT' }),
      401,
      'bad-signature',
    ],
    [
      'alg other than ed25519',
      () =>
        a.send(
          'POST',
          '/v1/reports',
          { reports: [a.report(hoursAgo(3))] },
          {
            headers: {
              'signature-input':
                `sig1=("@method" "@target-uri" "content-digest");created=${now()};nonce="n1";` +
                `keyid="${a.rigId}";alg="rsa-pss-sha512"`,
            },
          },
        ),
      401,
      'bad-signature',
    ],
    [
      'a 2 MiB body',
      () =>
        a.send('POST', '/v1/reports', undefined, {
          rawBody: JSON.stringify({
            reports: [a.report(hoursAgo(3), { agentVersion: 'x'.repeat(2 * 1024 * 1024) })],
          }),
        }),
      413,
      'body-too-large',
    ],
    [
      'malformed JSON',
      () => a.send('POST', '/v1/reports', undefined, { rawBody: '{"reports": [' }),
      400,
      'malformed',
    ],
    [
      'wrong types',
      () =>
        a.send('POST', '/v1/reports', { reports: [{ ...a.report(hoursAgo(3)), samples: '12' }] }),
      400,
      'invalid-request',
    ],
    [
      'a missing field',
      () => {
        const r: any = a.report(hoursAgo(3));
        delete r.connectedSamples;
        return a.send('POST', '/v1/reports', { reports: [r] });
      },
      400,
      'invalid-request',
    ],
    [
      'an unknown field',
      () => a.send('POST', '/v1/reports', { reports: [{ ...a.report(hoursAgo(3)), bonus: 100 }] }),
      400,
      'invalid-request',
    ],
    [
      '501 reports in a batch',
      () =>
        a.send('POST', '/v1/reports', {
          reports: Array.from({ length: 501 }, (_, i) => a.report(hoursAgo(3 + i))),
        }),
      413,
      'batch-too-large',
    ],
    [
      'an empty batch',
      () => a.send('POST', '/v1/reports', { reports: [] }),
      400,
      'invalid-request',
    ],
    [
      'text/plain',
      () =>
        a.send(
          'POST',
          '/v1/reports',
          { reports: [] },
          { headers: { 'content-type': 'text/plain' } },
        ),
      415,
    ],
    [
      'enrolment with a bad master',
      () => {
        const c = new TestRig(svc.url);
        return c.enroll('0x123');
      },
      400,
      'invalid-request',
    ],
    [
      'enrolment signed with a key other than the enclosed one',
      () => {
        const c = new TestRig(svc.url);
        return c.send(
          'POST',
          '/v1/rigs',
          {
            publicKey: c.publicKey,
            masterAddress: MASTER,
            workerAddress: null,
            agentVersion: 't',
            hardware: {},
          },
          { key: b.privateKey },
        );
      },
      401,
      'bad-signature',
    ],
    [
      'enrolment claiming a keyid that is not its key',
      () => {
        const c = new TestRig(svc.url);
        return c.send(
          'POST',
          '/v1/rigs',
          {
            publicKey: c.publicKey,
            masterAddress: MASTER,
            workerAddress: null,
            agentVersion: 't',
            hardware: {},
          },
          { keyid: a.rigId },
        );
      },
      401,
      'bad-signature',
    ],
    ['a key bound to another master', () => a.enroll(OTHER_MASTER), 409, 'bound-to-another-master'],
    [
      "reading another rig's ledger",
      () => a.send('GET', `/v1/rigs/${b.rigId}/ledger`),
      403,
      'forbidden',
    ],
    ['an unknown route', () => a.send('GET', '/v1/secret'), 404, 'not-found'],
  ];
  it.each(cases)('%s -> %s', async (_name, call, status, slug) => {
    const r = await call();
    expect(r.status).toBe(status);
    if (slug) {
      expect(r.json.type).toBe(`urn:sonm-rewards:problem:${slug}`);
      expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(typeof r.json.title).toBe('string');
    }
    if (slug === 'clock-skew') expect(r.headers.date).toBeTruthy();
  });

  const perReport: [string, () => any, string][] = [
    [
      'an unaligned hour',
      () => ({ ...a.report(hoursAgo(3)), hour: hoursAgo(3).replace(':00:00Z', ':30:00Z') }),
      'hour-not-aligned',
    ],
    ['a future hour', () => a.report(hoursAgo(-2)), 'hour-not-ended'],
    ['the current hour', () => a.report(hoursAgo(0)), 'hour-not-ended'],
    ['an hour past the deadline', () => a.report(hoursAgo(200)), 'past-deadline'],
    [
      '13 samples at a 5-minute interval',
      () => a.report(hoursAgo(3), { samples: 13, connectedSamples: 13 }),
      'invalid-counts',
    ],
    [
      'a reportId reused with other content',
      () => ({ ...a.report(stored), minQualifyingGpus: 1 }),
      'conflict',
    ],
    ["another rig's report", () => b.report(hoursAgo(3)), 'rig-mismatch'],
    [
      'a reportId not derived from rig and hour',
      () => ({ ...a.report(hoursAgo(3)), reportId: reportIdFor(a.rigId, hoursAgo(4)) }),
      'invalid-report-id',
    ],
  ];
  it.each(perReport)('per report: %s is rejected with its reason', async (_name, make, reason) => {
    const r = await a.send('POST', '/v1/reports', { reports: [make()] });
    expect(r.status).toBe(200);
    expect(r.json.results[0]).toMatchObject({
      status: 'rejected',
      reason,
      credited: { connected: false, gpus: 0, usd: 0 },
    });
    expect(r.json.results[0].detail).toBeTruthy();
  });

  it('after all of that: one report stored, one rig-hour credited, two rigs', async () => {
    expect(await metric(svc.url, 'sonm_rewards_stored_reports')).toBe(1);
    expect(await metric(svc.url, 'sonm_rewards_rigs')).toBe(2);
    const ledger = await a.send('GET', `/v1/rigs/${a.rigId}/ledger`);
    expect(ledger.json.totals).toEqual({
      hours: 1,
      creditedHours: 1,
      heldHours: 0,
      disputedGpuHours: 0,
      usd: 0.1667,
    });
    expect(ledger.json.hours[0]).toMatchObject({ hour: stored, gpus: 2, connected: true });
  });
});

describe('crediting over HTTP', () => {
  let svc: Awaited<ReturnType<typeof startServiceInPast>>;
  /** Rigs enrolled (with their verdicts) 8 hours ago, before the hours they report. */
  const rigs: TestRig[] = [];
  const enrolled = (): TestRig => rigs.shift()!;
  beforeAll(async () => {
    svc = await startServiceInPast(tempDir('svc-'), 8, {
      programs: [activeProgram()],
      demand: { 'GTX 1080 Ti': 1, 'RTX 2080 Ti': 10 },
    });
    for (let i = 0; i < 3; i++) {
      const r = new TestRig(svc.url);
      r.now = svc.at;
      await r.enroll();
      r.now = () => Date.now();
      rigs.push(r);
    }
    svc.present();
  });
  afterAll(async () => {
    await svc.stop();
  });

  it('enrolment: 201, then 200 for the same master; programs and platform are served with ETags', async () => {
    const r = new TestRig(svc.url);
    expect((await r.enroll()).status).toBe(201);
    expect((await r.enroll()).status).toBe(200);
    const p = await httpRequest(`${svc.url}/v1/programs`, { timeoutMs: 5000 });
    expect(JSON.parse(p.body).programs[0].id).toBe('test-program');
    const again = await httpRequest(`${svc.url}/v1/programs`, {
      headers: { 'if-none-match': p.headers.etag! },
      timeoutMs: 5000,
    });
    expect(again.status).toBe(304);
    const platform = JSON.parse(
      (await httpRequest(`${svc.url}/v1/platform`, { timeoutMs: 5000 })).body,
    );
    expect(platform).toEqual({
      targetVersion: '0.4.25',
      installerUrl:
        'https://raw.githubusercontent.com/sonm-io/autodeploy/master/sonm-auto-deploy-supplier.sh',
      installerSha256: null,
      serviceKey: { keyId: expect.any(String), publicKey: expect.any(String), alg: 'ed25519' },
    });
    // The receipt key, made beside the database on first start, is the one published at the well-known path.
    const jwks = JSON.parse(
      (await httpRequest(`${svc.url}/.well-known/jwks.json`, { timeoutMs: 5000 })).body,
    );
    expect(jwks.keys).toEqual([
      {
        kty: 'OKP',
        crv: 'Ed25519',
        x: platform.serviceKey.publicKey,
        kid: platform.serviceKey.keyId,
        use: 'sig',
        alg: 'EdDSA',
      },
    ]);
    expect(statSync(`${svc.dbPath}.service-key`).mode & 0o777).toBe(0o600);
  });

  it('10 of 12 pays, 9 of 12 does not; a resend is a duplicate; the ledger and fleet agree', async () => {
    const r = enrolled();
    const batch = [
      r.report(hoursAgo(3), { connectedSamples: 10 }),
      r.report(hoursAgo(2), { connectedSamples: 9 }),
      r.report(hoursAgo(1)),
    ];
    const first = await r.send('POST', '/v1/reports', { reports: batch });
    expect(
      first.json.results.map((x: any) => [x.status, x.credited.connected, x.credited.usd]),
    ).toEqual([
      ['accepted', true, 0.1667],
      ['accepted', false, 0],
      ['accepted', true, 0.1667],
    ]);
    const resend = await r.send('POST', '/v1/reports', { reports: batch });
    expect(resend.json.results.map((x: any) => x.status)).toEqual([
      'duplicate',
      'duplicate',
      'duplicate',
    ]);
    expect(resend.json.results[0].credited.usd).toBe(0.1667);
    const ledger = await r.send('GET', `/v1/rigs/${r.rigId}/ledger`);
    expect(ledger.json.totals).toEqual({
      hours: 3,
      creditedHours: 2,
      heldHours: 0,
      disputedGpuHours: 0,
      usd: 0.3334,
    });
    const fleet = JSON.parse((await httpRequest(`${svc.url}/v1/fleet`, { timeoutMs: 5000 })).body);
    const gtx = fleet.models.find((m: any) => m.model === 'GTX 1080 Ti');
    expect(gtx).toMatchObject({ devices: 1, gpus: 2, demand: 1, ratio: 2, belowTarget: false });
    expect(fleet.models.find((m: any) => m.model === 'RTX 2080 Ti')).toMatchObject({
      gpus: 0,
      demand: 10,
      ratio: 0,
      belowTarget: true,
    });
  });

  it('a GPU uuid that a rig lists in no verdict of its own is not paid to it', async () => {
    const r1 = enrolled();
    const other = rigs[0]!;
    const h = hoursAgo(5);
    const x = await r1.send('POST', '/v1/reports', {
      reports: [r1.report(h, { gpus: other.gpus(1), minQualifyingGpus: 1 })],
    });
    expect(x.json.results[0]).toMatchObject({
      status: 'accepted',
      reason: 'no-qualifying-gpus',
      credited: { usd: 0 },
    });
    const ledger = await r1.send('GET', `/v1/rigs/${r1.rigId}/ledger?from=${h}`);
    expect(ledger.json.hours[0].unpaidGpus).toEqual([
      { uuid: other.gpus(1)[0]!.uuid, reason: 'not-in-verdict' },
    ]);
  });

  it('exposes Prometheus metrics and a health check', async () => {
    expect((await httpRequest(`${svc.url}/healthz`, { timeoutMs: 5000 })).status).toBe(200);
    expect(await metric(svc.url, 'sonm_rewards_reports_total{status="accepted"}')).toBeGreaterThan(
      0,
    );
  });
});

describe('admission and restarts', () => {
  it(
    'admission bypass: a member keeps earning after the suspension; a rig enrolled after it ' +
      'earns nothing, even for earlier hours',
    async () => {
      const dir = tempDir('svc-');
      const H = 3_600_000;
      const open = await startServiceInPast(dir, 6, { programs: [activeProgram()] });
      const member = new TestRig(open.url);
      let t = open.at();
      member.now = () => t;
      await member.enroll();
      t += 1.5 * H;
      open.clock.set(t);
      expect(
        (await member.send('POST', '/v1/reports', { reports: [member.report(hoursAgo(6))] })).json
          .results[0].credited.gpus,
      ).toBe(2);
      await open.stop();
      const suspendedAt = new Date(t + 0.5 * H).toISOString();
      const suspended = await startServiceInPast(dir, 3, {
        programs: [
          activeProgram('2026-01-01T00:00:00Z', {
            admission: 'suspended',
            admissionSuspendedAt: suspendedAt,
          }),
        ],
        dbPath: open.dbPath,
      });
      try {
        const newcomer = new TestRig(suspended.url);
        newcomer.now = suspended.at;
        await newcomer.enroll();
        suspended.present();
        const m = new TestRig(suspended.url);
        Object.assign(m, {
          privateKey: member.privateKey,
          publicKey: member.publicKey,
          rigId: member.rigId,
          seq: member.seq,
        });
        expect(
          (await m.send('POST', '/v1/reports', { reports: [m.report(hoursAgo(1))] })).json
            .results[0].credited.gpus,
        ).toBe(2);
        newcomer.now = () => Date.now();
        const r = await newcomer.send('POST', '/v1/reports', {
          reports: [
            newcomer.report(hoursAgo(5)),
            newcomer.report(hoursAgo(1)),
            newcomer.report(hoursAgo(2)),
          ],
        });
        expect(r.json.results.map((x: any) => [x.reason, x.credited.usd])).toEqual([
          ['before-enrolment', 0],
          ['admission-suspended', 0],
          ['admission-suspended', 0],
        ]);
      } finally {
        await suspended.stop();
      }
    },
  );

  it('SIGTERM shuts down gracefully with exit 0', async () => {
    const s = await startService(tempDir('svc-'));
    expect(await s.stop('SIGTERM')).toBe(0);
  });

  it(
    'an ingest worker that dies is reported once, and later batches are refused at once ' +
      'instead of hanging',
    async () => {
      const { WorkerIngestor } = await import(join(ROOT, 'dist', 'service', 'ingest-worker.js'));
      const deaths: Error[] = [];
      // A database in a directory that does not exist: the worker fails as it opens it.
      const ingestor = new WorkerIngestor({
        dbPath: join(tempDir('svc-'), 'missing', 'r.db'),
        synchronous: 'full',
        programs: [],
        now: () => new Date(),
        onDeath: (e: Error) => deaths.push(e),
      });
      await new Promise<void>((resolve) => {
        const t = setInterval(() => {
          if (deaths.length) {
            clearInterval(t);
            resolve();
          }
        }, 20);
      });
      expect(deaths).toHaveLength(1);
      await expect(ingestor.submit([], 'rig')).rejects.toThrow(deaths[0]!.message);
      await ingestor.close();
    },
  );

  it('a second service on the same database exits 2 and names the first; after a clean stop it starts', async () => {
    const dir = tempDir('svc-');
    const first = await startService(dir);
    const second = await runBin('sonm-rewards-service', [
      '--listen',
      '127.0.0.1:0',
      '--db',
      first.dbPath,
    ]);
    expect(second.code).toBe(2);
    expect(second.stderr.trim()).toMatch(
      new RegExp(
        String.raw`^sonm-rewards-service: --db .*rewards\.db is in use by another ` +
          String.raw`sonm-rewards-service \(pid ${first.proc.pid},.*run one service per database$`,
      ),
    );
    expect(await first.stop()).toBe(0);
    const again = await startService(dir, { dbPath: first.dbPath });
    expect(await again.stop()).toBe(0);
  });

  it('bad start-up arguments exit 2 with one line', async () => {
    const r = await runBin('sonm-rewards-service', ['--listen', 'nowhere', '--db', ':memory:']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'sonm-rewards-service: --listen nowhere: expected host:port, such as 127.0.0.1:8080',
    );
  });
});

describe('a crash in the middle of a batch', () => {
  it(
    'SIGKILL mid-batch: each batch is stored whole or not at all; the resend is duplicates; ' +
      'nothing is credited twice',
    async () => {
      const dir = tempDir('svc-');
      const past = await startServiceInPast(dir, 165, { programs: [activeProgram()] });
      let svc: RunningService = past;
      const rig = new TestRig(svc.url);
      rig.now = past.at;
      await rig.enroll();
      await svc.stop();
      rig.now = () => Date.now();
      svc = await startService(dir, { programs: [activeProgram()], dbPath: svc.dbPath });
      Object.assign(rig, { url: svc.url });
      // Four batches of 40 hourly reports, sent at once; the service is killed while they are in flight.
      const batches = Array.from({ length: 4 }, (_, b) =>
        Array.from({ length: 40 }, (_, i) => rig.report(hoursAgo(1 + b * 40 + i))),
      );
      for (let round = 0; round < 3; round++) {
        const sends = batches.map((batch) =>
          rig.send('POST', '/v1/reports', { reports: batch }).catch(() => null),
        );
        await new Promise((r) => setTimeout(r, 5 + round * 7));
        await svc.stop('SIGKILL');
        await Promise.all(sends);
        const db = new Database(svc.dbPath, { readonly: true });
        for (const batch of batches) {
          const stored = (
            db
              .prepare(
                `SELECT COUNT(*) AS n FROM reports WHERE report_id IN (${batch.map(() => '?').join(',')})`,
              )
              .get(...batch.map((r) => r.reportId)) as { n: number }
          ).n;
          expect([0, batch.length]).toContain(stored);
        }
        db.close();
        svc = await startService(dir, { programs: [activeProgram()], dbPath: svc.dbPath });
        Object.assign(rig, { url: svc.url });
      }
      const statuses = new Map<string, number>();
      for (const batch of batches) {
        const r = await rig.send('POST', '/v1/reports', { reports: batch });
        for (const x of r.json.results) statuses.set(x.status, (statuses.get(x.status) ?? 0) + 1);
      }
      expect(statuses.get('rejected') ?? 0).toBe(0);
      const ledger = await rig.send('GET', `/v1/rigs/${rig.rigId}/ledger?from=${hoursAgo(170)}`);
      expect(ledger.json.totals.hours).toBe(160);
      expect(ledger.json.totals.creditedHours).toBe(160);
      const again = await rig.send('POST', '/v1/reports', { reports: batches[0] });
      expect(again.json.results.every((x: any) => x.status === 'duplicate')).toBe(true);
      await svc.stop();
    },
  );
});
