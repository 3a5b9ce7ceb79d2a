/**
 * The dashboard's reads (src/service/dashboard/queries.ts) against the store's own calls on the
 * same data: ledgerDays() must sum exactly what ledger() lists, fleetDays() must count exactly
 * what fleet(hour) counts, hour by hour. These tie the pages to the JSON API's logic.
 */
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/service/store.js';
import { parsePrograms } from '../../src/program/definitions.js';
import { reportIdFor } from '../../src/protocol/report-id.js';
import type { HourlyReport } from '../../src/protocol/types.js';
import { summaryOf } from '../../src/service/dashboard/queries.js';
import { activeProgram } from '../helpers/programs.js';

const programs = parsePrograms({
  programs: [activeProgram('2026-05-20T00:00:00Z', { admission: 'suspended' })],
});
const now = new Date('2026-06-03T00:30:00Z');
const MASTER = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const open = parsePrograms({ programs: [activeProgram('2026-05-20T00:00:00Z')] });
const RIGS = ['AAAAAAAAAAAAAAAAAAAAAA', 'BBBBBBBBBBBBBBBBBBBBBB', 'CCCCCCCCCCCCCCCCCCCCCC'];

function report(
  rig: string,
  hour: string,
  connected: number,
  gpus = 3,
  model = 'GTX 1080 Ti',
): HourlyReport {
  return {
    reportId: reportIdFor(rig, hour),
    rigId: rig,
    hour,
    intervalSeconds: 300,
    samples: 12,
    connectedSamples: connected,
    minQualifyingGpus: gpus,
    gpus: Array.from({ length: gpus }, (_, i) => ({
      uuid: `GPU-${rig}-${i}`,
      pciDeviceId: model === 'GTX 1080 Ti' ? '1b06' : '1e07',
      model,
      qualifying: true,
    })),
    workerAddress: null,
    sonmVersion: null,
    agentVersion: 't',
    seq: 1,
  };
}

function fixture() {
  const store = openSqliteStore(':memory:');
  RIGS.forEach((rig, k) => {
    store.enroll(
      {
        publicKey: `k${k}`,
        masterAddress: k < 2 ? MASTER.toLowerCase() : '0x0000000000000000000000000000000000000001',
        workerAddress: null,
        agentVersion: 't',
        hardware: {
          qualifyingGpus: 3,
          gpus: [{ model: 'GTX 1080 Ti' }, { model: 'GTX 1080 Ti' }, { model: 'RTX 2080 Ti' }],
        },
      },
      rig,
      now,
    );
    const hours = Array.from({ length: 60 }, (_, h) =>
      new Date(Date.parse('2026-05-31T12:00:00Z') + h * 3_600_000)
        .toISOString()
        .replace('.000Z', 'Z'),
    );
    // Some hours not connected; rig B has other GPUs.
    store.ingest(
      hours.map((h, i) =>
        report(rig, h, i % 7 === 3 ? 5 : 12, 3, k === 1 ? 'RTX 2080 Ti' : 'GTX 1080 Ti'),
      ),
      rig,
      open,
      now,
    );
  });
  return store;
}

describe("dashboard reads agree with the JSON API's store calls", () => {
  it('ledgerDays sums exactly the hours ledger() lists, per day and outcome', () => {
    // Rig C is ingested under a program whose admission is suspended: its hours are not paid.
    const store = openSqliteStore(':memory:');
    for (const rig of RIGS) {
      store.enroll(
        {
          publicKey: 'k',
          masterAddress: MASTER,
          workerAddress: null,
          agentVersion: 't',
          hardware: {},
        },
        rig,
        now,
      );
      const hours = Array.from({ length: 60 }, (_, h) =>
        new Date(Date.parse('2026-05-31T12:00:00Z') + h * 3_600_000)
          .toISOString()
          .replace('.000Z', 'Z'),
      );
      store.ingest(
        hours.map((h, i) => report(rig, h, i % 7 === 3 ? 5 : 12)),
        rig,
        rig === RIGS[2] ? programs : open,
        now,
      );
    }
    const from = '2026-05-31T00:00:00Z';
    const to = '2026-06-03T00:00:00Z';
    const sql = store.ledgerDays(RIGS, from, to);
    const js = RIGS.flatMap((rig) => summaryOf(rig, store.ledger(rig, from, to)));
    expect(sql).toEqual(js);
    expect(new Set(sql.map((d) => d.outcome))).toEqual(
      new Set(['credited', 'not-connected', 'admission-suspended']),
    );
  });

  it('fleetDays counts, hour by hour, what fleet(hour) counts', () => {
    const store = fixture();
    const days = store.fleetDays('2026-05-31');
    for (const d of days) {
      d.gpus.forEach((n, h) => {
        const hour = `${d.day}T${String(h).padStart(2, '0')}:00:00Z`;
        expect(n, `${d.model} ${hour}`).toBe(
          store.fleet(hour).find((r) => r.model === d.model)?.gpus ?? 0,
        );
      });
    }
    expect(days.reduce((s, d) => s + d.gpus.reduce((a, b) => a + b, 0), 0)).toBeGreaterThan(0);
  });

  it("rigProfiles finds a master's rigs whatever the case of the address, with hardware and the last report", () => {
    const store = fixture();
    const rigs = store.rigProfiles({ master: MASTER });
    expect(rigs.map((r) => r.rigId)).toEqual(RIGS.slice(0, 2));
    expect(rigs[0]).toMatchObject({
      gpus: [
        { model: 'GTX 1080 Ti', count: 2 },
        { model: 'RTX 2080 Ti', count: 1 },
      ],
      qualifyingGpus: 3,
      verdict: null,
      lastReportHour: '2026-06-02T23:00:00Z',
    });
    store.saveEligibility(
      RIGS[0]!,
      {
        checkedAt: now.toISOString(),
        eligible: false,
        checks: [
          { id: 'ram', status: 'fail', message: 'RAM 12 GB' },
          { id: 'arch', status: 'pass' },
        ],
      } as never,
      now,
    );
    expect(store.rigProfiles({ rigId: RIGS[0]! })[0]!.verdict).toMatchObject({
      eligible: false,
      failing: [{ id: 'ram', message: 'RAM 12 GB' }],
    });
    expect(store.rigProfiles({ master: '0x1111111111111111111111111111111111111111' })).toEqual([]);
  });
});
