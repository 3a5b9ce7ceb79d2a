import { describe, expect, it } from 'vitest';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  appendRecords,
  decodeLine,
  encodeRecord,
  parseRecords,
  readRecords,
} from '../../src/uptime/journal.js';
import { buildHourlyReport, bucketByHour, hoursToBuild } from '../../src/uptime/hours.js';
import { warningsFrom } from '../../src/uptime/summary.js';
import type { Sample } from '../../src/uptime/sample.js';
import { rigIdFromPublicKey, reportFingerprint } from '../../src/protocol/ids.js';
import { hourOf, reportIdFor } from '../../src/protocol/report-id.js';
import {
  contentDigest,
  parseSignatureHeaders,
  signRequest,
  verifySignature,
} from '../../src/protocol/signing.js';
import { generateKeyPairSync } from 'node:crypto';
import { rawPublicKey, publicKeyFromRaw } from '../../src/protocol/ids.js';
import { backoffDelay, parseRetryAfter } from '../../src/lib/backoff.js';
import { onCalendarFor } from '../../src/uptime/units.js';
import { tempDir } from '../helpers/rig.js';

const sample = (
  t: string,
  connected = true,
  qualifying = 6,
  reason: string | null = null,
): Sample => ({
  t,
  connected,
  reason,
  gpus: Array.from({ length: qualifying }, (_, i) => ({
    uuid: `GPU-${i}`,
    pciDeviceId: '1b06',
    model: 'GTX 1080 Ti',
    qualifying: true,
  })),
  qualifying,
  worker: '0xabc',
  sonmVersion: 'v0.4.25',
});
const hourSamples = (hour: string, n: number, connected: (i: number) => boolean = () => true) =>
  Array.from({ length: n }, (_, i) =>
    sample(new Date(Date.parse(hour) + i * 300_000 + 20_000).toISOString(), connected(i)),
  );

describe('journal', () => {
  it('round-trips records with a checksum', () => {
    const line = encodeRecord({ a: 1 });
    expect(line).toMatch(/^[0-9a-f]{8} \{"a":1\}\n$/);
    expect(decodeLine(line.trimEnd())).toEqual({ a: 1 });
  });
  it.each([
    ['a torn last line', `${encodeRecord({ a: 1 })}${encodeRecord({ b: 2 }).slice(0, 10)}`, 1, 1],
    [
      'a flipped byte',
      `${encodeRecord({ a: 1 }).replace('"a":1', '"a":2')}${encodeRecord({ b: 2 })}`,
      1,
      1,
    ],
    ['NUL bytes after a crash', `${encodeRecord({ a: 1 })}\0\0\0\0\n`, 1, 1],
    ['an empty file', '', 0, 0],
  ])('%s is skipped, never fatal', (_n, text, good, skipped) => {
    const r = parseRecords(text);
    expect(r.records).toHaveLength(good);
    expect(r.skipped).toBe(skipped);
  });
  it('cuts a torn tail before appending, so it cannot glue onto the next record', () => {
    const p = join(tempDir('journal-'), 'j.log');
    appendRecords(p, [{ a: 1 }]);
    appendFileSync(p, encodeRecord({ torn: true }).slice(0, 7));
    appendRecords(p, [{ b: 2 }]);
    expect(readRecords(p)).toEqual({ records: [{ a: 1 }, { b: 2 }], skipped: 0 });
    writeFileSync(p, 'garbage with no newline');
    appendRecords(p, [{ c: 3 }]);
    expect(readFileSync(p, 'utf8')).toBe(encodeRecord({ c: 3 }));
  });
});

describe('hourly bucketing', () => {
  const H = '2026-06-01T10:00:00Z';
  const meta = { rigId: 'R', intervalSeconds: 300, agentVersion: '0.1.0', seq: 7 };
  it('groups samples by aligned UTC hour', () => {
    const b = bucketByHour([...hourSamples(H, 12), sample('2026-06-01T11:00:00.000Z')]);
    expect([...b.keys()]).toEqual([H, '2026-06-01T11:00:00Z']);
    expect(b.get(H)).toHaveLength(12);
  });
  it.each<
    [string, Sample[], { samples: number; connectedSamples: number; minQualifyingGpus: number }]
  >([
    [
      '12 connected samples',
      hourSamples(H, 12),
      { samples: 12, connectedSamples: 12, minQualifyingGpus: 6 },
    ],
    [
      '10 of 12 connected',
      hourSamples(H, 12, (i) => i >= 2),
      { samples: 12, connectedSamples: 10, minQualifyingGpus: 6 },
    ],
    [
      'a GPU lost mid-hour: the minimum counts',
      [
        ...hourSamples(H, 6),
        ...hourSamples(H, 12)
          .slice(6)
          .map((s) => ({ ...s, qualifying: 5, gpus: s.gpus.slice(0, 5) })),
      ],
      { samples: 12, connectedSamples: 12, minQualifyingGpus: 5 },
    ],
    [
      'manual runs in the same slot count once',
      [...hourSamples(H, 12), ...hourSamples(H, 12)],
      { samples: 12, connectedSamples: 12, minQualifyingGpus: 6 },
    ],
    [
      'a rig offline half the hour',
      hourSamples(H, 6),
      { samples: 6, connectedSamples: 6, minQualifyingGpus: 6 },
    ],
    [
      'never connected',
      hourSamples(H, 12, () => false),
      { samples: 12, connectedSamples: 0, minQualifyingGpus: 0 },
    ],
  ])('%s', (_n, ss, expected) => {
    const r = buildHourlyReport(H, ss, meta);
    expect(r).toMatchObject({
      ...expected,
      hour: H,
      reportId: reportIdFor('R', H),
      seq: 7,
      intervalSeconds: 300,
    });
  });
  it('builds only complete, unbuilt hours inside retention, oldest first', () => {
    const b = bucketByHour([
      ...hourSamples('2026-06-01T08:00:00Z', 1),
      ...hourSamples(H, 1),
      ...hourSamples('2026-06-01T09:00:00Z', 1),
      ...hourSamples('2026-06-01T11:00:00Z', 1),
    ]);
    expect(
      hoursToBuild(
        b,
        new Set(['2026-06-01T08:00:00Z']),
        Date.parse('2026-06-01T11:30:00Z'),
        30 * 864e5,
      ),
    ).toEqual(['2026-06-01T09:00:00Z', H]);
    expect(hoursToBuild(b, new Set(), Date.parse('2026-07-05T00:00:00Z'), 30 * 864e5)).toEqual([]);
  });
  it.each([
    ['2026-06-01T10:59:59.999Z', '2026-06-01T10:00:00Z'],
    ['2026-06-01T11:00:00.000Z', '2026-06-01T11:00:00Z'],
  ])('hourOf(%s)', (t, h) => expect(hourOf(Date.parse(t))).toBe(h));
});

describe('status warnings', () => {
  it('names the moment the GPU count dropped and since when the worker is down, with the reason', () => {
    const now = Date.parse('2026-06-01T15:00:00Z');
    const ss = [
      sample('2026-06-01T14:00:00Z'),
      sample('2026-06-01T14:05:00Z', true, 5),
      sample('2026-06-01T14:10:00Z', false, 5, 'master not confirmed'),
      sample('2026-06-01T14:55:00Z', false, 5, 'master not confirmed'),
    ];
    expect(warningsFrom(ss, now)).toEqual([
      'GPU count dropped from 6 to 5 at 14:05',
      'worker not connected since 14:10: master not confirmed',
    ]);
  });
  it('notices a timer that stopped', () => {
    expect(
      warningsFrom([sample('2026-06-01T10:00:00Z')], Date.parse('2026-06-01T12:00:00Z'))[0],
    ).toMatch(/no sample since 2026-06-01 10:00 UTC/);
  });
});

describe('protocol', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const x = rawPublicKey(publicKey);
  it('derives a 22-character rig id from the raw key', () => {
    expect(rigIdFromPublicKey(x)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(() => rigIdFromPublicKey('short')).toThrow();
  });
  it('signs and verifies, and any change to method, URL or body breaks it', () => {
    const body = '{"a":1}';
    const h = signRequest({
      method: 'POST',
      url: 'http://127.0.0.1:1/v1/reports',
      body,
      privateKey,
      keyid: 'k',
      created: 1000,
      nonce: 'n',
    });
    expect(h['content-digest']).toBe(contentDigest(body));
    expect(h['signature-input']).toBe(
      'sig1=("@method" "@target-uri" "content-digest");created=1000;nonce="n";keyid="k";alg="ed25519"',
    );
    const p = parseSignatureHeaders(h['signature-input'], h.signature);
    if ('error' in p) throw new Error(p.error);
    const key = publicKeyFromRaw(x);
    const values = {
      '@method': 'POST',
      '@target-uri': 'http://127.0.0.1:1/v1/reports',
      'content-digest': h['content-digest']!,
    };
    expect(verifySignature(p, values, key)).toBe(true);
    expect(verifySignature(p, { ...values, '@method': 'PUT' }, key)).toBe(false);
    expect(
      verifySignature(p, { ...values, '@target-uri': 'http://127.0.0.1:1/v1/rigs' }, key),
    ).toBe(false);
    expect(verifySignature(p, { ...values, 'content-digest': contentDigest('{"a":2}') }, key)).toBe(
      false,
    );
  });
  it('verifies parameters in the order they were received (RFC 9421 uses the serialized value)', () => {
    const h = signRequest({
      method: 'GET',
      url: 'http://h/x',
      privateKey,
      keyid: 'k',
      created: 5,
      nonce: 'n',
    });
    const p = parseSignatureHeaders(h['signature-input'], h.signature);
    if ('error' in p) throw new Error(p.error);
    const reordered = parseSignatureHeaders(
      'sig1=("@method" "@target-uri");keyid="k";created=5;nonce="n";alg="ed25519"',
      h.signature,
    );
    if ('error' in reordered) throw new Error(reordered.error);
    expect(
      verifySignature(p, { '@method': 'GET', '@target-uri': 'http://h/x' }, publicKeyFromRaw(x)),
    ).toBe(true);
    expect(
      verifySignature(
        reordered,
        { '@method': 'GET', '@target-uri': 'http://h/x' },
        publicKeyFromRaw(x),
      ),
    ).toBe(false);
  });
  it.each([
    [undefined, 'x'],
    ['sig1=("@method");created=1', 'x'],
    ['sig1=("@method");created=1;nonce="n";keyid="k";alg="ed25519"', 'other=:AA==:'],
  ])('rejects malformed headers %#', (input, sig) => {
    expect('error' in parseSignatureHeaders(input, sig)).toBe(true);
  });
  it("a report's fingerprint ignores key order, and sees any change", () => {
    const a = {
      reportId: 'x',
      rigId: 'r',
      hour: 'h',
      intervalSeconds: 300,
      samples: 12,
      connectedSamples: 12,
      minQualifyingGpus: 1,
      gpus: [{ uuid: 'u', model: 'm', pciDeviceId: '1b06', qualifying: true }],
      workerAddress: null,
      sonmVersion: null,
      agentVersion: '1',
      seq: 1,
    };
    const b = {
      seq: 1,
      agentVersion: '1',
      sonmVersion: null,
      workerAddress: null,
      gpus: [{ qualifying: true, pciDeviceId: '1b06', model: 'm', uuid: 'u' }],
      minQualifyingGpus: 1,
      connectedSamples: 12,
      samples: 12,
      intervalSeconds: 300,
      hour: 'h',
      rigId: 'r',
      reportId: 'x',
    };
    expect(reportFingerprint(a)).toEqual(reportFingerprint(b));
    expect(reportFingerprint({ ...a, seq: 2 }).hash).not.toBe(reportFingerprint(a).hash);
  });
});

describe('backoff and timer expressions', () => {
  it.each([
    [0, 0.5, 500],
    [1, 0.5, 1000],
    [3, 0.999, 7992],
    [10, 0.5, 30000],
    [10, 0.999, 59940],
  ])('attempt %i at random %s waits %i ms (full jitter, base 1 s, cap 60 s)', (attempt, r, ms) =>
    expect(backoffDelay(attempt, undefined, () => r)).toBe(ms),
  );
  it.each([
    ['120', 120_000],
    ['Fri, 01 Jan 2027 00:00:10 GMT', 10_000],
    ['soon', undefined],
    [undefined, undefined],
  ])('Retry-After %j', (v, ms) =>
    expect(parseRetryAfter(v, Date.parse('2027-01-01T00:00:00Z'))).toBe(ms),
  );
  it.each([
    [300, '*:0/5'],
    [600, '*:0/10'],
    [3600, 'hourly'],
    [30, '*:*:0/30'],
  ])('%i s -> %s', (s, cal) => expect(onCalendarFor(s)).toBe(cal));
});
