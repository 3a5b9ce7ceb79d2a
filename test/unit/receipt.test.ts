/**
 * Receipts (src/protocol/receipt.ts), the agent's pinning and acceptance (src/uptime/receipts.ts)
 * and proof bundles (src/uptime/proof.ts), as tables over real Ed25519 keys.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import {
  checkReceipt,
  leafHash,
  merkleTree,
  receiptsFromHead,
  rootFromInclusionProof,
  type Receipt,
} from '../../src/protocol/receipt.js';
import { reportFingerprint } from '../../src/protocol/ids.js';
import { reportIdFor } from '../../src/protocol/report-id.js';
import type { HourlyReport, ReportResult } from '../../src/protocol/types.js';
import { loadServiceKey, publicServiceKey, ReceiptSigner } from '../../src/service/receipts.js';
import { acceptResults, pinServiceKey, ReceiptError } from '../../src/uptime/receipts.js';
import { buildProof, verifyProof } from '../../src/uptime/proof.js';
import { EMPTY_STATE, type AgentState, type ResultRecord } from '../../src/uptime/store.js';

const RIG = 'AAAAAAAAAAAAAAAAAAAAAA';
const SERVICE = 'http://127.0.0.1:8080';
const NOW = new Date('2026-06-02T00:00:00Z');

function report(h: number): HourlyReport {
  const hour = `2026-06-01T${String(h).padStart(2, '0')}:00:00Z`;
  return {
    reportId: reportIdFor(RIG, hour),
    rigId: RIG,
    hour,
    intervalSeconds: 300,
    samples: 12,
    connectedSamples: 12,
    minQualifyingGpus: 6,
    gpus: [{ uuid: `GPU-${h}`, pciDeviceId: '1e07', model: 'RTX 2080 Ti', qualifying: true }],
    workerAddress: null,
    sonmVersion: '0.4.25',
    agentVersion: 't',
    seq: h + 1,
  };
}
const result = (r: HourlyReport, usd = 0.5): ReportResult => ({
  reportId: r.reportId,
  status: 'accepted',
  credited: { connected: true, gpus: 6, usd },
});

function signed(n: number, key = loadServiceKey(null, false)) {
  const reports = Array.from({ length: n }, (_, i) => report(i));
  const signer = new ReceiptSigner(key, [{ id: 'p1' }] as never, '{"programs":[]}');
  const plain = reports.map((r) => result(r));
  const hashes = reports.map((r) => reportFingerprint(r).hash);
  const head = signer.sign(plain, hashes, NOW);
  // What the agent keeps: one self-contained receipt per result, derived from the head.
  const receipts = receiptsFromHead(plain, hashes, head)!;
  return {
    key,
    reports,
    head,
    plain,
    results: plain.map((r, i) => ({ ...r, receipt: receipts[i]! })),
  };
}

describe('RFC 9162 Merkle tree and inclusion proofs', () => {
  it.each([1, 2, 3, 5, 8, 13, 500])(
    'every leaf of a %i-leaf tree proves its inclusion, and only at its own index',
    (n) => {
      const leaves = Array.from({ length: n }, (_, i) => leafHash(`leaf ${i}`));
      const { root, proofs } = merkleTree(leaves);
      for (let i = 0; i < n; i++) {
        expect(rootFromInclusionProof(leaves[i]!, i, n, proofs[i]!)?.equals(root)).toBe(true);
        if (n > 1)
          expect(
            rootFromInclusionProof(leaves[i]!, (i + 1) % n, n, proofs[i]!)?.equals(root) ?? false,
          ).toBe(false);
      }
    },
  );

  it('matches the RFC 6962/9162 tree hash of two leaves computed by hand', () => {
    const a = leafHash('a');
    const b = leafHash('b');
    const want = createHash('sha256')
      .update(Buffer.concat([Buffer.from([1]), a, b]))
      .digest();
    expect(merkleTree([a, b]).root.equals(want)).toBe(true);
  });
});

describe('receipts', () => {
  it('the head of another answer, or of changed results, yields no receipts', () => {
    const a = signed(4);
    const hashes = a.reports.map((r) => reportFingerprint(r).hash);
    expect(receiptsFromHead(a.plain, hashes, a.head)).toHaveLength(4);
    expect(receiptsFromHead(a.plain.slice(1), hashes.slice(1), a.head)).toBeNull();
    expect(
      receiptsFromHead(
        [{ ...a.plain[0]!, credited: { connected: true, gpus: 6, usd: 9 } }, ...a.plain.slice(1)],
        hashes,
        a.head,
      ),
    ).toBeNull();
    expect(receiptsFromHead(a.plain, [hashes[1]!, ...hashes.slice(1)], a.head)).toBeNull();
  });

  it('each result of a signed response verifies alone against the service key', () => {
    const { key, reports, results } = signed(7);
    results.forEach((r, i) =>
      expect(
        checkReceipt(r, r.receipt, publicServiceKey(key), reportFingerprint(reports[i]!).hash),
      ).toBeNull(),
    );
  });

  it.each([
    [
      'usd',
      (r: ReportResult) => {
        r.credited.usd = 0.6;
      },
    ],
    [
      'gpus',
      (r: ReportResult) => {
        r.credited.gpus = 7;
      },
    ],
    [
      'status',
      (r: ReportResult) => {
        r.status = 'duplicate';
      },
    ],
    [
      'reason',
      (r: ReportResult) => {
        r.reason = 'not-connected';
      },
    ],
    [
      'report id',
      (r: ReportResult) => {
        r.reportId = reportIdFor(RIG, '2026-06-01T20:00:00Z');
      },
    ],
  ])('a changed %s does not verify', (_, change) => {
    const { key, results } = signed(4);
    const r = structuredClone(results[2]!);
    change(r);
    expect(checkReceipt(r, r.receipt, publicServiceKey(key), null)).toMatchObject({
      code: 'bad-signature',
    });
  });

  it('other report content, another key, a forged signature and no receipt are each told apart', () => {
    const { key, reports, results } = signed(3);
    const pin = publicServiceKey(key);
    expect(
      checkReceipt(results[0]!, results[0]!.receipt, pin, reportFingerprint(reports[1]!).hash),
    ).toMatchObject({ code: 'content-mismatch' });
    const other = signed(3);
    expect(checkReceipt(other.results[0]!, other.results[0]!.receipt, pin, null)).toMatchObject({
      code: 'other-key',
      keyId: other.key.keyId,
    });
    // Another key's signature presented under the pinned key's id.
    const forged = { ...other.results[0]!.receipt, keyId: pin.keyId };
    expect(checkReceipt(other.results[0]!, forged, pin, null)).toMatchObject({
      code: 'bad-signature',
    });
    expect(checkReceipt(results[0]!, undefined, pin, null)).toMatchObject({ code: 'unsigned' });
  });
});

describe('the agent pins the service key and counts only verified answers', () => {
  const fresh = (): AgentState => structuredClone(EMPTY_STATE);

  it('pins on enrolment; the same key again changes nothing; another key is an event, never accepted silently', () => {
    const a = loadServiceKey(null, false);
    const b = loadServiceKey(null, false);
    const st = fresh();
    pinServiceKey(st, { serviceKey: publicServiceKey(a) }, SERVICE, NOW);
    expect(st.serviceKey).toMatchObject({ keyId: a.keyId, service: SERVICE });
    pinServiceKey(st, { serviceKey: publicServiceKey(a) }, SERVICE, NOW);
    expect(() => pinServiceKey(st, { serviceKey: publicServiceKey(b) }, SERVICE, NOW)).toThrow(
      ReceiptError,
    );
    expect(st.serviceKey!.keyId).toBe(a.keyId);
    expect(st.serviceKeyEvent).toMatchObject({ pinned: a.keyId, offered: b.keyId });
    expect(() =>
      pinServiceKey(st, { serviceKey: publicServiceKey(b) }, SERVICE, NOW, 'someOtherKeyId'),
    ).toThrow(/not someOtherKeyId/);
    pinServiceKey(st, { serviceKey: publicServiceKey(b) }, SERVICE, NOW, b.keyId);
    expect(st.serviceKey).toMatchObject({
      keyId: b.keyId,
      previous: [expect.objectContaining({ keyId: a.keyId })],
    });
    expect(st.serviceKeyEvent).toBeNull();
    expect(() => pinServiceKey(fresh(), {}, SERVICE, NOW)).toThrow(/no usable signing key/);
    expect(() =>
      pinServiceKey(
        fresh(),
        { serviceKey: { ...publicServiceKey(a), keyId: b.keyId } },
        SERVICE,
        NOW,
      ),
    ).toThrow(/no usable signing key/);
  });

  it('an answer signed by another key is not counted as delivered, and says why', () => {
    const mine = signed(2);
    const other = signed(2);
    const st = fresh();
    pinServiceKey(st, { serviceKey: publicServiceKey(mine.key) }, SERVICE, NOW);
    const good = acceptResults(mine.plain, mine.head, mine.reports, st, SERVICE, NOW);
    expect(good.problem).toBeNull();
    expect(good.records.map((r) => r.receipt?.keyId)).toEqual([mine.key.keyId, mine.key.keyId]);
    const bad = acceptResults(other.plain, other.head, other.reports, st, SERVICE, NOW);
    expect(bad.records).toEqual([]);
    expect(bad.problem).toMatch(
      /2 answer\(s\) not counted as delivered: the answer is signed by key .*, not the pinned service key/,
    );
    expect(bad.problem).toMatch(/enroll --accept-service-key/);
    // Another key's signature presented under the pinned key's id: badly signed.
    const forged = acceptResults(
      other.plain,
      { ...other.head, keyId: mine.key.keyId },
      other.reports,
      { ...st, serviceKeyEvent: null },
      SERVICE,
      NOW,
    );
    expect(forged).toMatchObject({
      records: [],
      problem: expect.stringMatching(/not counted as delivered/),
    });
    expect(acceptResults(mine.plain, undefined, mine.reports, st, SERVICE, NOW).problem).toMatch(
      /carries no signed receipts/,
    );
    expect(
      acceptResults(mine.plain, mine.head, mine.reports, fresh(), SERVICE, NOW).problem,
    ).toMatch(/no service key is pinned/);
  });
});

describe('proof bundles', () => {
  function bundle() {
    const { key, reports, plain, head } = signed(5);
    const st = {
      ...structuredClone(EMPTY_STATE),
      enrolled: { service: SERVICE, rigId: RIG, master: '0xabc', at: NOW.toISOString() },
    };
    pinServiceKey(st, { serviceKey: publicServiceKey(key) }, SERVICE, NOW);
    const { records } = acceptResults(plain, head, reports, st, SERVICE, NOW);
    const legacy: ResultRecord = {
      reportId: reportIdFor(RIG, '2026-05-01T00:00:00Z'),
      hour: '2026-05-01T00:00:00Z',
      status: 'accepted',
      credited: { connected: true, gpus: 6, usd: 0.5 },
      at: NOW.toISOString(),
    };
    return buildProof({
      records: [legacy, ...records],
      reports,
      state: st,
      from: '2026-01-01T00:00:00Z',
      to: '2027-01-01T00:00:00Z',
      now: NOW,
    });
  }

  it('verifies offline, with totals; answers without a receipt are counted apart', () => {
    const b = bundle();
    expect(b.unsigned).toBe(1);
    expect(b.totals).toEqual({ hours: 5, creditedHours: 5, usd: 2.5 });
    expect(verifyProof(JSON.parse(JSON.stringify(b)))).toMatchObject({
      ok: true,
      verified: 5,
      creditedHours: 5,
      usd: 2.5,
    });
  });

  it('one changed character anywhere in any receipt, result or report fails, naming the report', () => {
    const text = JSON.stringify(bundle());
    const b = JSON.parse(text);
    let tried = 0;
    for (const [i, e] of (b.entries as { result: ReportResult; receipt: Receipt }[]).entries()) {
      // Every string and number value of the entry, one character changed.
      const paths: (string | number)[][] = [];
      const walk = (v: unknown, path: (string | number)[]) => {
        if (v && typeof v === 'object')
          for (const [k, x] of Object.entries(v))
            walk(x, [...path, Array.isArray(v) ? Number(k) : k]);
        else if (typeof v === 'string' || typeof v === 'number') paths.push(path);
      };
      walk(e, []);
      for (const path of paths) {
        const copy = JSON.parse(text);
        let o = copy.entries[i];
        for (const k of path.slice(0, -1)) o = o[k];
        const last = path[path.length - 1]!;
        const v = o[last];
        o[last] = typeof v === 'number' ? v + 1 : `${v.slice(0, -1)}${v.endsWith('A') ? 'B' : 'A'}`;
        const verdict = verifyProof(copy);
        expect(verdict.ok, path.join('.')).toBe(false);
        expect(
          verdict.failures.map((f) => f.index),
          path.join('.'),
        ).toEqual([i]);
        tried++;
      }
    }
    expect(tried).toBeGreaterThan(100);
  });
});
