import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/service/store.js';
import { parsePrograms } from '../../src/program/definitions.js';
import { reportIdFor } from '../../src/protocol/report-id.js';
import type { HourlyReport } from '../../src/protocol/types.js';
import { activeProgram } from '../helpers/programs.js';

const programs = parsePrograms({ programs: [activeProgram('2026-01-01T00:00:00Z')] });
const now = new Date('2026-06-02T00:30:00Z');
const RIG = 'AAAAAAAAAAAAAAAAAAAAAA';
const report = (hour: string, uuids: string[]): HourlyReport => ({
  reportId: reportIdFor(RIG, hour), rigId: RIG, hour, intervalSeconds: 300, samples: 12, connectedSamples: 12, minQualifyingGpus: uuids.length,
  gpus: uuids.map((uuid) => ({ uuid, pciDeviceId: '1b06', model: 'GTX 1080 Ti', qualifying: true })), workerAddress: null, sonmVersion: null, agentVersion: 't', seq: 1,
});

describe('SQLite store', () => {
  it('batches with different numbers of GPUs on the same day reuse no statement prepared for another shape', () => {
    const store = openSqliteStore(':memory:');
    store.enroll({ publicKey: 'x', masterAddress: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', workerAddress: null, agentVersion: 't', hardware: {} }, RIG, now);
    const a = store.ingest([report('2026-06-01T10:00:00Z', ['G1', 'G2'])], RIG, programs, now);
    const b = store.ingest([report('2026-06-01T11:00:00Z', ['G1'])], RIG, programs, now);
    const c = store.ingest([report('2026-06-01T12:00:00Z', ['G1', 'G2', 'G3'])], RIG, programs, now);
    expect([a, b, c].map((r) => [r[0]!.status, r[0]!.credited.gpus])).toEqual([['accepted', 2], ['accepted', 1], ['accepted', 3]]);
    store.close();
  });
});
