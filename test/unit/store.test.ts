import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { openSqliteStore, SchemaError, type RewardsStore } from '../../src/service/store.js';
import { parsePrograms } from '../../src/program/definitions.js';
import { reportFingerprint } from '../../src/protocol/ids.js';
import { reportIdFor } from '../../src/protocol/report-id.js';
import type { HourlyReport } from '../../src/protocol/types.js';
import { activeProgram } from '../helpers/programs.js';
import { tempDir } from '../helpers/rig.js';

const programs = parsePrograms({ programs: [activeProgram('2026-01-01T00:00:00Z')] });
const now = new Date('2026-06-02T00:30:00Z');
const RIG = 'AAAAAAAAAAAAAAAAAAAAAA';
const OTHER = 'BBBBBBBBBBBBBBBBBBBBBB';
const MASTER = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const report = (hour: string, uuids: string[], rig = RIG): HourlyReport => ({
  reportId: reportIdFor(rig, hour),
  rigId: rig,
  hour,
  intervalSeconds: 300,
  samples: 12,
  connectedSamples: 12,
  minQualifyingGpus: uuids.length,
  gpus: uuids.map((uuid) => ({
    uuid,
    pciDeviceId: '1b06',
    model: 'GTX 1080 Ti',
    qualifying: true,
  })),
  workerAddress: null,
  sonmVersion: null,
  agentVersion: 't',
  seq: 1,
});
const enrolledAt = new Date('2026-05-25T00:00:00Z');
/** Enrol `rig` a week before `now`, with a verdict listing `uuids` (1b06) received then. */
const enroll = (
  store: RewardsStore,
  rig: string,
  uuids = ['G1', 'G2', 'G3'],
  at = enrolledAt,
): void => {
  store.enroll(
    {
      publicKey: `key-${rig}`,
      masterAddress: MASTER,
      workerAddress: null,
      agentVersion: 't',
      hardware: {},
    },
    rig,
    at,
  );
  verdict(store, rig, uuids, at);
};
const verdict = (store: RewardsStore, rig: string, uuids: string[], at: Date): string =>
  store.saveVerdict(
    rig,
    {
      checkedAt: at.toISOString(),
      eligible: true,
      programs: [],
      gpus: uuids.map((uuid) => ({ uuid, pciDeviceId: '1b06', qualifying: true })),
    },
    at,
  );
const credited = (r: { status: string; credited: { gpus: number } }[]): [string, number][] =>
  r.map((x) => [x.status, x.credited.gpus]);

describe('SQLite store', () => {
  it('batches with different numbers of GPUs on the same day reuse no statement prepared for another shape', () => {
    const store = openSqliteStore(':memory:');
    enroll(store, RIG);
    const a = store.ingest([report('2026-06-01T10:00:00Z', ['G1', 'G2'])], RIG, programs, now);
    const b = store.ingest([report('2026-06-01T11:00:00Z', ['G1'])], RIG, programs, now);
    const c = store.ingest(
      [report('2026-06-01T12:00:00Z', ['G1', 'G2', 'G3'])],
      RIG,
      programs,
      now,
    );
    expect([a, b, c].map((r) => [r[0]!.status, r[0]!.credited.gpus])).toEqual([
      ['accepted', 2],
      ['accepted', 1],
      ['accepted', 3],
    ]);
    store.close();
  });

  it(
    'stores each distinct GPU list once, and gives back every report exactly as sent (its ' +
      'hash is content_hash)',
    () => {
      const path = join(tempDir('store-'), 'r.db');
      const store = openSqliteStore(path);
      enroll(store, RIG);
      const sent = [
        report('2026-06-01T10:00:00Z', ['G1', 'G2']),
        report('2026-06-01T11:00:00Z', ['G1', 'G2']),
        report('2026-06-01T12:00:00Z', ['G1']),
        {
          ...report('2026-06-01T13:00:00Z', ['G1', 'G2']),
          workerAddress: '0xabc',
          sonmVersion: 'v0.4.25',
          gpus: [
            { uuid: 'G1', pciDeviceId: null, model: null, qualifying: false },
            { uuid: 'G2', pciDeviceId: '1b06', model: 'GTX 1080 Ti', qualifying: true },
          ],
        },
      ];
      expect(store.ingest(sent, RIG, programs, now).map((r) => r.status)).toEqual([
        'accepted',
        'accepted',
        'accepted',
        'accepted',
      ]);
      const check = new Database(path, { readonly: true });
      expect(check.prepare('SELECT COUNT(*) AS n FROM gpu_sets').get()).toEqual({ n: 3 });
      for (const r of sent) {
        expect(store.report(r.reportId)).toEqual(r);
        expect(reportFingerprint(store.report(r.reportId)!).hash).toBe(
          (
            check
              .prepare('SELECT content_hash AS h FROM reports WHERE report_id = ?')
              .get(r.reportId) as { h: string }
          ).h,
        );
      }
      check.close();
      expect(store.report('rpt-none')).toBeNull();
      store.close();
    },
  );

  it(
    'GPU claims survive a restart: a second rig claiming a paid uuid with no better proof ' +
      'disputes it for both',
    () => {
      const db = join(tempDir('store-'), 'r.db');
      const first = openSqliteStore(db);
      enroll(first, RIG);
      enroll(first, OTHER);
      expect(
        credited(first.ingest([report('2026-06-01T10:00:00Z', ['G1', 'G2'])], RIG, programs, now)),
      ).toEqual([['accepted', 2]]);
      first.close();
      const again = openSqliteStore(db);
      const out = again.ingest(
        [
          report('2026-06-01T10:00:00Z', ['G2', 'G3'], OTHER),
          report('2026-06-01T11:00:00Z', ['G2'], OTHER),
        ],
        OTHER,
        programs,
        now,
      );
      expect(credited(out)).toEqual([
        ['accepted', 1],
        ['accepted', 1],
      ]);
      expect(again.disputes(false).map((x) => [x.hour, x.uuid, x.rigId])).toEqual(
        [
          ['2026-06-01T10:00:00Z', 'G2', RIG],
          ['2026-06-01T10:00:00Z', 'G2', OTHER],
        ].sort((x, y) => x[2]!.localeCompare(y[2]!)),
      );
      // The first rig's payment for G2 at 10:00 is taken back: arrival order decided nothing.
      const [h] = again.ledger(RIG, '2026-06-01T10:00:00Z', '2026-06-01T11:00:00Z');
      expect([h!.gpus, h!.unpaidGpus]).toEqual([1, [{ uuid: 'G2', reason: 'disputed' }]]);
      again.close();
    },
  );

  it('two batches of one group commit claiming one uuid: disputed for both, paid to neither', () => {
    const store = openSqliteStore(':memory:');
    enroll(store, RIG);
    enroll(store, OTHER);
    const h = '2026-06-01T10:00:00Z';
    store.ingestMany(
      [
        { reports: [report(h, ['G1'])], signer: RIG, now },
        { reports: [report(h, ['G1'], OTHER)], signer: OTHER, now },
      ],
      programs,
    );
    expect([RIG, OTHER].map((rig) => store.ledger(rig, h, '2026-06-01T11:00:00Z')[0]!.usd)).toEqual(
      [0, 0],
    );
    expect(store.counts().disputes).toBe(2);
    store.close();
  });

  it('front-running: the rig that proved a uuid first and was paid for it keeps it, whoever reports first', () => {
    const store = openSqliteStore(':memory:');
    enroll(store, RIG, ['G1']);
    expect(
      credited(store.ingest([report('2026-06-01T09:00:00Z', ['G1'])], RIG, programs, now)),
    ).toEqual([['accepted', 1]]);
    enroll(store, OTHER, ['G1'], new Date('2026-05-30T00:00:00Z')); // the attacker lists the victim's uuid later
    const h = '2026-06-01T10:00:00Z';
    expect(credited(store.ingest([report(h, ['G1'], OTHER)], OTHER, programs, now))).toEqual([
      ['accepted', 1],
    ]);
    expect(credited(store.ingest([report(h, ['G1'])], RIG, programs, now))).toEqual([
      ['accepted', 1],
    ]);
    const attacker = store.ledger(OTHER, h, '2026-06-01T11:00:00Z')[0]!;
    expect([attacker.usd, attacker.unpaidGpus]).toEqual([
      0,
      [{ uuid: 'G1', reason: 'claimed-by-another-rig' }],
    ]);
    // An hour the victim has not reported yet is paid to the attacker only until the victim does.
    const h2 = '2026-06-01T11:00:00Z';
    store.ingest([report(h2, ['G1'], OTHER)], OTHER, programs, now);
    store.ingest([report(h2, ['G1'])], RIG, programs, now);
    expect(
      [RIG, OTHER].map((rig) => store.ledger(rig, h2, '2026-06-01T12:00:00Z')[0]!.gpus),
    ).toEqual([1, 0]);
    expect(store.counts()).toMatchObject({ disputes: 0, flags: 2 });
    store.close();
  });

  it('resolving a dispute pays the winner once; resolving again or resending changes nothing', () => {
    const store = openSqliteStore(':memory:');
    enroll(store, RIG, ['G1']);
    enroll(store, OTHER, ['G1']);
    const h = '2026-06-01T10:00:00Z';
    store.ingest([report(h, ['G1'])], RIG, programs, now);
    store.ingest([report(h, ['G1'], OTHER)], OTHER, programs, now);
    const paid = (): number[] =>
      [RIG, OTHER].map((rig) => store.ledger(rig, h, '2026-06-01T11:00:00Z')[0]!.gpus);
    expect(paid()).toEqual([0, 0]);
    const id = store.queueAction('resolve', { hour: h, uuid: 'G1', winner: OTHER }, now);
    store.applyActions(programs, now);
    expect(store.actionOutcome(id)).toMatch(/^ok: G1 in .* resolved for/);
    expect(paid()).toEqual([0, 1]);
    const again = store.queueAction('resolve', { hour: h, uuid: 'G1', winner: RIG }, now);
    store.applyActions(programs, now);
    expect(store.actionOutcome(again)).toMatch(/^refused: .*already resolved/);
    expect(credited(store.ingest([report(h, ['G1'], OTHER)], OTHER, programs, now))).toEqual([
      ['duplicate', 1],
    ]);
    expect(paid()).toEqual([0, 1]);
    expect(store.disputes(false)).toEqual([]);
    store.close();
  });

  it('review: hours are held until approval; approval credits the held hours inside the deadline, once', () => {
    const review = parsePrograms({
      programs: [activeProgram('2026-01-01T00:00:00Z', { admission: 'review' })],
    });
    const store = openSqliteStore(':memory:');
    enroll(store, RIG, ['G1'], new Date('2026-05-20T00:00:00Z'));
    const late = new Date('2026-05-27T00:30:00Z');
    store.ingest([report('2026-05-20T10:00:00Z', ['G1'])], RIG, review, late);
    expect(
      credited(
        store.ingest(
          [report('2026-06-01T10:00:00Z', ['G1']), report('2026-06-01T11:00:00Z', ['G1'])],
          RIG,
          review,
          now,
        ),
      ),
    ).toEqual([
      ['accepted', 0],
      ['accepted', 0],
    ]);
    expect(store.rigs({ review: 'pending' }).map((r) => [r.rigId, r.heldHours])).toEqual([
      [RIG, 3],
    ]);
    const id = store.queueAction('approve', { rigId: RIG }, now);
    store.applyActions(review, now);
    expect(store.actionOutcome(id)).toBe(
      'ok: rig AAAAAAAAAAAAAAAAAAAAAA approved; 2 held hours credited ($0.1666), 1 past the deadline',
    );
    expect(
      store
        .ledger(RIG, '2026-05-20T00:00:00Z', '2026-06-02T00:00:00Z')
        .map((h) => [h.hour.slice(5, 13), h.gpus, h.held]),
    ).toEqual([
      ['05-20T10', 0, false],
      ['06-01T10', 1, false],
      ['06-01T11', 1, false],
    ]);
    store.applyActions(review, now);
    expect(store.rigs({}).map((r) => r.heldHours)).toEqual([0]);
    store.close();
  });

  it('a database of another schema version is refused with what to do; an empty file gets the schema', () => {
    const path = join(tempDir('store-'), 'old.db');
    const old = new Database(path);
    old.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)',
    );
    old.close();
    expect(() => openSqliteStore(path)).toThrow(SchemaError);
    expect(() => openSqliteStore(path)).toThrow(
      /schema version 0, not 4: .*start with a new database file/,
    );
    const fresh = openSqliteStore(join(tempDir('store-'), 'new.db'));
    fresh.close();
  });
});
