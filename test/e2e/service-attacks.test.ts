/**
 * The adversarial review of issue 10, replayed over real HTTP on loopback: each attack as it was
 * made, now paying nothing it should not; the resource attacks, bounded and self-stopping; and
 * the operator's command on the running service's database (docs/threat-model.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { runBin, tempDir } from '../helpers/rig.js';
import { activeProgram, writePrograms } from '../helpers/programs.js';
import {
  hoursAgo,
  startService,
  startServiceInPast,
  TestRig,
  type RunningService,
} from '../helpers/service.js';
import { httpRequest } from '../../src/lib/http.js';
import { signRequest } from '../../src/protocol/signing.js';
import { reportIdFor } from '../../src/protocol/report-id.js';

const rtx = (uuid: string) => ({
  uuid,
  pciDeviceId: '1e04',
  model: 'RTX 2080 Ti',
  qualifying: true,
});
const usdOf = async (rig: TestRig, from: string): Promise<number> =>
  (await rig.send('GET', `/v1/rigs/${rig.rigId}/ledger?from=${from}`)).json.totals.usd;

describe('each attack of the review pays nothing it should not', () => {
  let svc: Awaited<ReturnType<typeof startServiceInPast>>;
  let victim: TestRig;
  let attacker: TestRig;
  let honest: TestRig;
  let liar: TestRig;
  beforeAll(async () => {
    svc = await startServiceInPast(tempDir('atk-'), 30, {
      programs: [activeProgram()],
      demand: { 'GTX 1080 Ti': 4 },
    });
    victim = new TestRig(svc.url);
    honest = new TestRig(svc.url);
    liar = new TestRig(svc.url);
    victim.now = honest.now = liar.now = svc.at;
    await victim.enroll();
    await honest.enroll();
    await liar.enroll(undefined, false);
    expect(
      (await liar.verdict([{ uuid: `GPU-${liar.rigId}-1080`, pciDeviceId: '1b80' }])).status,
    ).toBe(204); // one GTX 1080
    // The victim is paid for its GPUs, hours before the attacker appears.
    svc.clock.set(svc.at() + 3 * 3_600_000);
    victim.now = () => svc.at() + 3 * 3_600_000;
    expect(
      (await victim.send('POST', '/v1/reports', { reports: [victim.report(hoursAgo(29))] })).json
        .results[0].credited.gpus,
    ).toBe(2);
    attacker = new TestRig(svc.url);
    attacker.now = victim.now;
    await attacker.enroll(undefined, false);
    // The attacker's own verdict lists the victim's uuids (they are not secret).
    expect((await attacker.verdict(victim.gpus())).status).toBe(204);
    svc.present();
    for (const r of [victim, attacker, honest, liar]) r.now = () => Date.now();
  });
  afterAll(async () => {
    await svc.stop();
  });

  it('backdating: a key enrolled seconds ago is paid nothing for 167 earlier hours of invented GPUs', async () => {
    const late = new TestRig(svc.url);
    await late.enroll(undefined, false);
    const gpus = Array.from({ length: 8 }, (_, i) => rtx(`GPU-invented-${late.rigId}-${i}`));
    expect((await late.verdict(gpus)).status).toBe(204);
    const reports = Array.from({ length: 167 }, (_, i) =>
      late.report(hoursAgo(2 + i), { gpus, minQualifyingGpus: 8 }),
    );
    const r = await late.send('POST', '/v1/reports', { reports });
    expect(
      new Set(r.json.results.map((x: any) => `${x.status} ${x.reason ?? ''} ${x.credited.usd}`)),
    ).toEqual(new Set(['accepted before-enrolment 0']));
    expect(await usdOf(late, hoursAgo(200))).toBe(0);
  });

  it('hour aliases: T24:00 and day 31 of a 30-day month are rejected; one physical hour is paid once', async () => {
    const day = hoursAgo(1).slice(0, 10); // the latest midnight that has ended: 1 to 25 hours ago
    const prev = new Date(Date.parse(`${day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    const midnight = `${day}T00:00:00Z`;
    const paid = await honest.send('POST', '/v1/reports', { reports: [honest.report(midnight)] });
    expect(paid.json.results[0].credited.gpus).toBe(2);
    for (const alias of [`${prev}T24:00:00Z`, '2026-09-31T10:00:00Z', `${day}T00:00:00.000Z`]) {
      const r = await honest.send('POST', '/v1/reports', {
        reports: [{ ...honest.report(alias), reportId: reportIdFor(honest.rigId, alias) }],
      });
      expect(r.json.results[0], alias).toMatchObject({ status: 'rejected', credited: { usd: 0 } });
      // The .000Z alias has the midnight report's id, so it is caught as a conflicting copy.
      expect(['hour-not-aligned', 'conflict']).toContain(r.json.results[0].reason);
    }
    const ledger = await honest.send(
      'GET',
      `/v1/rigs/${honest.rigId}/ledger?from=${prev}T00:00:00Z&to=${day}T01:00:00Z`,
    );
    expect(ledger.json.totals).toMatchObject({ hours: 1, creditedHours: 1 });
  });

  it('front-running: the attacker who reports first at hh:00:01 is paid nothing; the victim is paid', async () => {
    const h = hoursAgo(1);
    const first = await attacker.send('POST', '/v1/reports', {
      reports: [attacker.report(h, { gpus: victim.gpus() })],
    });
    expect(first.json.results[0].status).toBe('accepted');
    const second = await victim.send('POST', '/v1/reports', { reports: [victim.report(h)] });
    expect(second.json.results[0].credited).toEqual({ connected: true, gpus: 2, usd: 0.1667 });
    const ledger = await attacker.send('GET', `/v1/rigs/${attacker.rigId}/ledger?from=${h}`);
    expect(ledger.json.totals.usd).toBe(0);
    expect(ledger.json.hours[0].unpaidGpus.map((g: any) => g.reason)).toEqual([
      'claimed-by-another-rig',
      'claimed-by-another-rig',
    ]);
  });

  it("claims the rig's own verdict contradicts: a verdict of one GTX 1080 pays nothing for 8 RTX 2080 Ti", async () => {
    const gpus = Array.from({ length: 8 }, (_, i) => rtx(`GPU-${liar.rigId}-r${i}`));
    const r = await liar.send('POST', '/v1/reports', {
      reports: [liar.report(hoursAgo(1), { gpus, minQualifyingGpus: 8 })],
    });
    expect(r.json.results[0]).toMatchObject({
      status: 'accepted',
      reason: 'no-qualifying-gpus',
      credited: { usd: 0 },
    });
    const ledger = await liar.send('GET', `/v1/rigs/${liar.rigId}/ledger?from=${hoursAgo(1)}`);
    expect(ledger.json.hours[0].unpaidGpus).toEqual(
      gpus.map((g) => ({ uuid: g.uuid, reason: 'not-in-verdict' })),
    );
  });

  it('fleet models come from PCI ids through the program, never from the client text', async () => {
    const h = hoursAgo(1);
    await honest.send('POST', '/v1/reports', {
      reports: [
        honest.report(h, {
          gpus: honest.gpus().map((g) => ({ ...g, model: 'Bogus 9000 <script>' })),
        }),
      ],
    });
    const fleet = JSON.parse((await httpRequest(`${svc.url}/v1/fleet`, { timeoutMs: 5000 })).body);
    expect(fleet.models.map((m: any) => m.model)).toEqual(['GTX 1080 Ti']);
    expect(fleet.models[0]).toMatchObject({ gpus: 4, devices: 2 });
  });

  it.each([
    ['a month 13', '?from=2026-13-01T00:00:00Z'],
    ['from given twice', `?from=${hoursAgo(3)}&from=${hoursAgo(2)}`],
    ['a year beyond Date', '?to=275760-09-14T00:00:00Z'],
    ['hour 24', '?to=2026-11-01T24:00:00Z'],
    ['from after to', `?from=${hoursAgo(1)}&to=${hoursAgo(3)}`],
    ['a range of years', '?from=2000-01-01T00:00:00Z'],
  ])('a ledger query with %s is a 400 problem, not a 500', async (_what, query) => {
    const r = await honest.send('GET', `/v1/rigs/${honest.rigId}/ledger${query}`);
    expect([r.status, r.json.type]).toEqual([400, 'urn:sonm-rewards:problem:invalid-query']);
  });

  it('an older verdict never replaces a newer one; a request signed before a restart is refused after it', async () => {
    expect((await honest.verdict()).status).toBe(204);
    const older = await honest.verdict(undefined, {
      checkedAt: new Date(Date.now() - 3_600_000).toISOString(),
      qualifies: false,
    });
    expect([older.status, older.json?.type], older.body).toEqual([
      409,
      'urn:sonm-rewards:problem:stale-verdict',
    ]);
    const body = JSON.stringify({ reports: [honest.report(hoursAgo(3))] });
    const signedAt = Math.floor(Date.now() / 1000) - 1; // before the restart
    await svc.stop();
    const again = await startService(tempDir('atk-'), {
      programs: [activeProgram()],
      dbPath: svc.dbPath,
    });
    try {
      // The same request as it was signed before the restart (for the new port: the URL is signed too).
      const headers = {
        'content-type': 'application/json',
        ...signRequest({
          method: 'POST',
          url: `${again.url}/v1/reports`,
          body,
          privateKey: honest.privateKey,
          keyid: honest.rigId,
          created: signedAt,
        }),
      };
      const replay = await httpRequest(`${again.url}/v1/reports`, {
        method: 'POST',
        headers,
        body,
        timeoutMs: 5000,
      });
      expect(replay.status).toBe(503);
      expect(JSON.parse(replay.body).type).toBe('urn:sonm-rewards:problem:signed-before-start');
      expect(Number(replay.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await again.stop();
    }
  });
});

/** Open a raw TCP connection to the service; resolves once connected. */
function rawSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname, () => resolve(s));
    s.once('error', reject);
  });
}

/** Everything the server sends until it closes the connection. */
function untilClosed(s: Socket): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    s.on('data', (d) => {
      got += d;
    });
    s.on('error', () => {});
    s.once('close', () => resolve(got));
  });
}

describe('resources are bounded', () => {
  let svc: RunningService;
  let rig: TestRig;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    svc = await startService(tempDir('res-'), {
      programs: [activeProgram()],
      extraArgs: ['--request-timeout', '1000', '--connections-per-address', '4'],
    });
    rig = new TestRig(svc.url);
    await rig.enroll();
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await svc.stop();
  });

  it('a slow body (headers, then a byte now and then) is answered 408 and closed by the server', async () => {
    const s = await rawSocket(svc.url);
    sockets.push(s);
    const closed = untilClosed(s);
    s.write(
      'POST /v1/reports HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{',
    );
    const drip = setInterval(() => {
      if (s.writable) s.write(' ');
    }, 200);
    const answer = await closed;
    clearInterval(drip);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toContain('urn:sonm-rewards:problem:request-timeout');
  });

  it.each([
    [
      'an enrolment over 16 KiB',
      '/v1/rigs',
      () => ({
        publicKey: rig.publicKey,
        masterAddress: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
        workerAddress: null,
        agentVersion: 't',
        hardware: { pad: 'x'.repeat(20_000) },
      }),
      413,
      'body-too-large',
    ],
    [
      'an eligibility body over 64 KiB',
      '/v1/eligibility',
      () => ({
        schemaVersion: 1,
        checkedAt: new Date().toISOString(),
        eligible: true,
        programs: [],
        gpus: [],
        pad: 'x'.repeat(70_000),
      }),
      413,
      'body-too-large',
    ],
    [
      'an enrolment nested 1,000 deep',
      '/v1/rigs',
      () => ({
        publicKey: rig.publicKey,
        masterAddress: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
        workerAddress: null,
        agentVersion: 't',
        hardware: JSON.parse(`${'{"a":'.repeat(1000)}1${'}'.repeat(1000)}`),
      }),
      400,
      'malformed',
    ],
  ])('%s is a %s problem', async (_what, path, body, status, slug) => {
    const r = await rig.send('POST', path, body());
    expect([r.status, r.json?.type]).toEqual([status, `urn:sonm-rewards:problem:${slug}`]);
  });

  it('a nonce longer than 64 characters is refused before it is remembered', async () => {
    const body = JSON.stringify({ reports: [rig.report(hoursAgo(3))] });
    const headers = {
      'content-type': 'application/json',
      ...signRequest({
        method: 'POST',
        url: `${svc.url}/v1/reports`,
        body,
        privateKey: rig.privateKey,
        keyid: rig.rigId,
        nonce: 'n'.repeat(65),
      }),
    };
    const r = await httpRequest(`${svc.url}/v1/reports`, {
      method: 'POST',
      headers,
      body,
      timeoutMs: 5000,
    });
    expect([r.status, JSON.parse(r.body).detail]).toEqual([
      401,
      'the nonce must have 1 to 64 characters',
    ]);
  });
  // Last: the connections it holds stay open until the end of this block.
  it('connections beyond the per-address cap are closed at once; the service still answers', async () => {
    const held = await Promise.all(Array.from({ length: 4 }, () => rawSocket(svc.url)));
    sockets.push(...held);
    const extra = await Promise.all(Array.from({ length: 3 }, () => rawSocket(svc.url)));
    sockets.push(...extra);
    expect(await Promise.all(extra.map(untilClosed))).toEqual(['', '', '']);
    // The connections within the cap are served.
    const answer = new Promise<string>((resolve) =>
      held[0]!.once('data', (d) => resolve(String(d))),
    );
    held[0]!.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
    expect(await answer).toMatch(/^HTTP\/1\.1 200 /);
  });
});

describe("the operator's command, on the running service's database", () => {
  it('review: hours are held; rigs approve releases them while the service runs; revoke stops pay', async () => {
    const svc = await startServiceInPast(tempDir('op-'), 5, {
      programs: [activeProgram('2026-01-01T00:00:00Z', { admission: 'review' })],
    });
    try {
      const rig = new TestRig(svc.url);
      rig.now = svc.at;
      await rig.enroll();
      svc.present();
      rig.now = () => Date.now();
      const held = await rig.send('POST', '/v1/reports', {
        reports: [rig.report(hoursAgo(3)), rig.report(hoursAgo(2))],
      });
      expect(held.json.results.map((x: any) => [x.reason, x.credited.usd])).toEqual([
        ['held-for-review', 0],
        ['held-for-review', 0],
      ]);
      const list = await runBin('sonm-rewards-service', [
        'rigs',
        'list',
        '--db',
        svc.dbPath,
        '--json',
      ]);
      expect(
        JSON.parse(list.stdout).rigs.map((r: any) => [r.rigId, r.review, r.heldHours]),
      ).toEqual([[rig.rigId, 'pending', 2]]);
      const approve = await runBin('sonm-rewards-service', [
        'rigs',
        'approve',
        rig.rigId,
        '--db',
        svc.dbPath,
      ]);
      expect([approve.code, approve.stdout.trim()]).toEqual([
        0,
        `rig ${rig.rigId} approved; 2 held hours credited ($0.3334)`,
      ]);
      expect(await usdOf(rig, hoursAgo(4))).toBe(0.3334);
      const revoke = await runBin('sonm-rewards-service', [
        'rigs',
        'revoke',
        rig.rigId,
        '--db',
        svc.dbPath,
      ]);
      expect(revoke.code).toBe(0);
      const after = await rig.send('POST', '/v1/reports', { reports: [rig.report(hoursAgo(1))] });
      expect(after.json.results[0]).toMatchObject({ reason: 'revoked', credited: { usd: 0 } });
      const unknown = await runBin('sonm-rewards-service', [
        'rigs',
        'approve',
        'AAAAAAAAAAAAAAAAAAAAAA',
        '--db',
        svc.dbPath,
      ]);
      expect([unknown.code, unknown.stdout.trim()]).toEqual([
        1,
        'refused: no rig AAAAAAAAAAAAAAAAAAAAAA is enrolled',
      ]);
    } finally {
      await svc.stop();
    }
  });

  it('with no service running, the command takes the lock and applies the action itself', async () => {
    const dir = tempDir('op-');
    const review = [activeProgram('2026-01-01T00:00:00Z', { admission: 'review' })];
    const svc = await startServiceInPast(dir, 4, { programs: review });
    const rig = new TestRig(svc.url);
    rig.now = svc.at;
    await rig.enroll();
    svc.present();
    rig.now = () => Date.now();
    await rig.send('POST', '/v1/reports', { reports: [rig.report(hoursAgo(2))] });
    await svc.stop();
    const approve = await runBin('sonm-rewards-service', [
      'rigs',
      'approve',
      rig.rigId,
      '--db',
      svc.dbPath,
      '--programs',
      writePrograms(dir, review),
    ]);
    expect([approve.code, approve.stdout.trim()]).toEqual([
      0,
      `rig ${rig.rigId} approved; 1 held hours credited ($0.1667)`,
    ]);
    const list = await runBin('sonm-rewards-service', [
      'rigs',
      'list',
      '--db',
      svc.dbPath,
      '--review',
      'approved',
      '--json',
    ]);
    expect(JSON.parse(list.stdout).rigs.map((r: any) => [r.rigId, r.heldHours])).toEqual([
      [rig.rigId, 0],
    ]);
    const bad = await runBin('sonm-rewards-service', [
      'disputes',
      'resolve',
      '2026-06-31T10:00:00Z',
      'GPU-x',
      '--winner',
      rig.rigId,
      '--db',
      svc.dbPath,
    ]);
    expect([bad.code, bad.stderr.trim()]).toEqual([
      2,
      'sonm-rewards-service: 2026-06-31T10:00:00Z is not an hour such as 2019-04-15T12:00:00Z',
    ]);
    // One rig id in 64 starts with '-' (base64url): it is an operand, not an unknown option.
    const dashed = '-SbmJQng4aqHyNsMb6Atyg';
    const revoke = await runBin('sonm-rewards-service', [
      'rigs',
      'revoke',
      dashed,
      '--db',
      svc.dbPath,
    ]);
    expect([revoke.code, revoke.stdout.trim()]).toEqual([
      1,
      `refused: no rig ${dashed} is enrolled`,
    ]);
  });

  it('a contested GPU is disputed for both, listed, and resolving it pays the winner once', async () => {
    const svc = await startServiceInPast(tempDir('op-'), 5, { programs: [activeProgram()] });
    try {
      const a = new TestRig(svc.url);
      const b = new TestRig(svc.url);
      a.now = b.now = svc.at;
      await a.enroll();
      await b.enroll(undefined, false);
      await b.verdict(a.gpus(1));
      svc.present();
      a.now = b.now = () => Date.now();
      const h = hoursAgo(2);
      await a.send('POST', '/v1/reports', {
        reports: [a.report(h, { gpus: a.gpus(1), minQualifyingGpus: 1 })],
      });
      const rb = b.report(h, { gpus: a.gpus(1), minQualifyingGpus: 1 });
      await b.send('POST', '/v1/reports', { reports: [rb] });
      expect([await usdOf(a, h), await usdOf(b, h)]).toEqual([0, 0]);
      const ledger = await a.send('GET', `/v1/rigs/${a.rigId}/ledger?from=${h}`);
      expect(ledger.json.totals.disputedGpuHours).toBe(1);
      const list = await runBin('sonm-rewards-service', [
        'disputes',
        'list',
        '--db',
        svc.dbPath,
        '--json',
      ]);
      expect(
        JSON.parse(list.stdout)
          .disputes.map((d: any) => d.rigId)
          .sort(),
      ).toEqual([a.rigId, b.rigId].sort());
      const uuid = a.gpus(1)[0]!.uuid;
      const resolve = await runBin('sonm-rewards-service', [
        'disputes',
        'resolve',
        h,
        uuid,
        '--winner',
        b.rigId,
        '--db',
        svc.dbPath,
      ]);
      expect([resolve.code, resolve.stdout.trim()]).toEqual([
        0,
        `${uuid} in ${h} resolved for ${b.rigId} (its hour now credits $0.0833)`,
      ]);
      const twice = await runBin('sonm-rewards-service', [
        'disputes',
        'resolve',
        h,
        uuid,
        '--winner',
        a.rigId,
        '--db',
        svc.dbPath,
      ]);
      expect(twice.code).toBe(1);
      const resend = await b.send('POST', '/v1/reports', { reports: [rb] });
      expect(resend.json.results[0]).toMatchObject({
        status: 'duplicate',
        credited: { gpus: 1, usd: 0.0833 },
      });
      expect([await usdOf(a, h), await usdOf(b, h)]).toEqual([0, 0.0833]);
      expect(
        (
          await runBin('sonm-rewards-service', ['disputes', 'list', '--db', svc.dbPath])
        ).stdout.trim(),
      ).toBe('no open disputes');
    } finally {
      await svc.stop();
    }
  });
});
