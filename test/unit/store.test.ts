import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { MIGRATIONS, openSqliteStore } from '../../src/service/store.js';
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
  reportId: reportIdFor(rig, hour), rigId: rig, hour, intervalSeconds: 300, samples: 12, connectedSamples: 12, minQualifyingGpus: uuids.length,
  gpus: uuids.map((uuid) => ({ uuid, pciDeviceId: '1b06', model: 'GTX 1080 Ti', qualifying: true })), workerAddress: null, sonmVersion: null, agentVersion: 't', seq: 1,
});
const enroll = (store: ReturnType<typeof openSqliteStore>, rig: string): void => {
  store.enroll({ publicKey: `key-${rig}`, masterAddress: MASTER, workerAddress: null, agentVersion: 't', hardware: {} }, rig, now);
};
const credited = (r: { status: string; credited: { gpus: number } }[]): [string, number][] => r.map((x) => [x.status, x.credited.gpus]);

describe('SQLite store', () => {
  it('batches with different numbers of GPUs on the same day reuse no statement prepared for another shape', () => {
    const store = openSqliteStore(':memory:');
    enroll(store, RIG);
    const a = store.ingest([report('2026-06-01T10:00:00Z', ['G1', 'G2'])], RIG, programs, now);
    const b = store.ingest([report('2026-06-01T11:00:00Z', ['G1'])], RIG, programs, now);
    const c = store.ingest([report('2026-06-01T12:00:00Z', ['G1', 'G2', 'G3'])], RIG, programs, now);
    expect([a, b, c].map((r) => [r[0]!.status, r[0]!.credited.gpus])).toEqual([['accepted', 2], ['accepted', 1], ['accepted', 3]]);
    store.close();
  });

  it('stores each distinct GPU list once, and gives back every report exactly as sent (its hash is content_hash)', () => {
    const path = join(tempDir('store-'), 'r.db');
    const store = openSqliteStore(path);
    enroll(store, RIG);
    const sent = [report('2026-06-01T10:00:00Z', ['G1', 'G2']), report('2026-06-01T11:00:00Z', ['G1', 'G2']), report('2026-06-01T12:00:00Z', ['G1']),
      { ...report('2026-06-01T13:00:00Z', ['G1', 'G2']), workerAddress: '0xabc', sonmVersion: 'v0.4.25', gpus: [{ uuid: 'G1', pciDeviceId: null, model: null, qualifying: false }, { uuid: 'G2', pciDeviceId: '1b06', model: 'GTX 1080 Ti', qualifying: true }] }];
    expect(store.ingest(sent, RIG, programs, now).map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
    const check = new Database(path, { readonly: true });
    expect(check.prepare('SELECT COUNT(*) AS n FROM gpu_sets').get()).toEqual({ n: 3 });
    for (const r of sent) {
      expect(store.report(r.reportId)).toEqual(r);
      expect(reportFingerprint(store.report(r.reportId)!).hash).toBe((check.prepare('SELECT content_hash AS h FROM reports WHERE report_id = ?').get(r.reportId) as { h: string }).h);
    }
    check.close();
    expect(store.report('rpt-none')).toBeNull();
    store.close();
  });

    it('GPU claims survive a restart: another rig reporting a paid uuid for that hour is flagged, not paid', () => {
    const db = join(tempDir('store-'), 'r.db');
    const first = openSqliteStore(db);
    enroll(first, RIG);
    enroll(first, OTHER);
    expect(credited(first.ingest([report('2026-06-01T10:00:00Z', ['G1', 'G2'])], RIG, programs, now))).toEqual([['accepted', 2]]);
    first.close();
    const again = openSqliteStore(db);
    const out = again.ingest([report('2026-06-01T10:00:00Z', ['G2', 'G3'], OTHER), report('2026-06-01T11:00:00Z', ['G2'], OTHER)], OTHER, programs, now);
    expect(credited(out)).toEqual([['accepted', 1], ['accepted', 1]]);
    expect(again.counts().flags).toBe(1);
    again.close();
  });

  it('two batches of one group commit claiming one uuid: the first is paid, the second flagged', () => {
    const store = openSqliteStore(':memory:');
    enroll(store, RIG);
    enroll(store, OTHER);
    const h = '2026-06-01T10:00:00Z';
    const out = store.ingestMany([{ reports: [report(h, ['G1'])], signer: RIG, now }, { reports: [report(h, ['G1'], OTHER)], signer: OTHER, now }], programs);
    expect(out.map((r) => credited(r as never))).toEqual([[['accepted', 1]], [['accepted', 0]]]);
    expect(store.counts().flags).toBe(1);
    store.close();
  });

  it('migrations 2 and 3 carry a version-1 database over: claims with their models, reports without body', () => {
    const path = join(tempDir('store-'), 'v1.db');
    const v1 = new Database(path);
    v1.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    v1.exec(MIGRATIONS[0]!);
    v1.prepare('INSERT INTO schema_migrations VALUES (1, ?)').run(now.toISOString());
    const old = report('2026-06-01T10:00:00Z', ['G1', 'G2']);
    const { text, hash } = reportFingerprint(old);
    v1.prepare('INSERT INTO rigs (rig_id, public_key, master, worker, agent_version, hardware, enrolled_at) VALUES (?, ?, ?, NULL, ?, ?, ?)').run(RIG, 'k', MASTER, 't', '{}', now.toISOString());
    v1.prepare(`INSERT INTO reports VALUES (?, ?, ?, 1, ?, ?, ?, 12, 12, 1, 2, 0.1667, '[]')`).run(old.reportId, RIG, old.hour, hash, text, now.toISOString());
    // As version 1 stored it: G1 paid at 10:00 and 11:00 (bits 10 and 11), G2 at 10:00 only.
    v1.prepare('INSERT INTO gpu_days VALUES (?, ?, ?, ?)').run('G1', '2026-06-01', RIG, (1 << 10) | (1 << 11));
    v1.prepare('INSERT INTO gpu_days VALUES (?, ?, ?, ?)').run('G2', '2026-06-01', RIG, 1 << 10);
    v1.prepare('INSERT INTO fleet_hours VALUES (?, ?, ?, 2)').run(old.hour, 'GTX 1080 Ti', RIG);
    v1.close();

    const store = openSqliteStore(path);
    const check = new Database(path, { readonly: true });
    expect(check.prepare('SELECT day, rig_id AS rig, uuid, model, hours FROM gpu_claims ORDER BY uuid').all()).toEqual([
      { day: '2026-06-01', rig: RIG, uuid: 'G1', model: 'GTX 1080 Ti', hours: (1 << 10) | (1 << 11) },
      { day: '2026-06-01', rig: RIG, uuid: 'G2', model: 'GTX 1080 Ti', hours: 1 << 10 }]);
    expect(check.prepare("SELECT name FROM sqlite_master WHERE name IN ('gpu_days', 'fleet_hours')").all()).toEqual([]);
    // Migration 3: the body became columns and a GPU set, from which the report is rebuilt exactly.
    expect(check.prepare('SELECT version FROM schema_migrations ORDER BY version').all()).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
    expect(check.prepare("SELECT COUNT(*) AS n FROM pragma_table_info('reports') WHERE name = 'body'").get()).toEqual({ n: 0 });
    expect(store.report(old.reportId)).toEqual(old);
    check.close();
    enroll(store, OTHER);
    expect(credited(store.ingest([report('2026-06-01T10:00:00Z', ['G1', 'G3'], OTHER)], OTHER, programs, now))).toEqual([['accepted', 1]]);
    expect(credited(store.ingest([report('2026-06-01T11:00:00Z', ['G1', 'G2'], OTHER)], OTHER, programs, now))).toEqual([['accepted', 1]]);
    expect(store.fleet('2026-06-01T10:00:00Z')).toEqual([{ model: 'GTX 1080 Ti', devices: 2, gpus: 3 }]);
    expect(store.fleet('2026-06-01T11:00:00Z')).toEqual([{ model: 'GTX 1080 Ti', devices: 2, gpus: 2 }]);
    expect(store.fleet('2026-06-01T12:00:00Z')).toEqual([]);
    store.close();
  });
});
