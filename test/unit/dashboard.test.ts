/**
 * The dashboard's reads (src/service/dashboard/queries.ts) against the store's own calls on the
 * same data: ledgerDays() must sum exactly what ledger() lists, fleetDays() must count exactly
 * what fleet(hour) counts, hour by hour. These tie the pages to the JSON API's logic.
 */
import { describe, expect, it } from 'vitest';
import { openSqliteStore, type RewardsStore } from '../../src/service/store.js';
import { failingChecks } from '../../src/service/verdicts.js';
import { notEligibleText } from '../../src/service/dashboard/reasons.js';
import { parsePrograms } from '../../src/program/definitions.js';
import { reportIdFor } from '../../src/protocol/report-id.js';
import type { HourlyReport } from '../../src/protocol/types.js';
import { summaryOf } from '../../src/service/dashboard/queries.js';
import { activeProgram } from '../helpers/programs.js';

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

const BEFORE = new Date('2026-05-30T00:00:00Z');
const HOURS = Array.from({ length: 60 }, (_, h) =>
  new Date(Date.parse('2026-05-31T12:00:00Z') + h * 3_600_000).toISOString().replace('.000Z', 'Z'),
);

/** Enrol `rig` before its hours, with a verdict listing its GPUs unless `verdict` is false. */
function join(
  store: RewardsStore,
  rig: string,
  master: string,
  model: string,
  verdict = true,
): void {
  const hardware = {
    qualifyingGpus: 3,
    gpus: [{ model: 'GTX 1080 Ti' }, { model: 'GTX 1080 Ti' }, { model: 'RTX 2080 Ti' }],
  };
  store.enroll(
    {
      publicKey: `k-${rig}`,
      masterAddress: master,
      workerAddress: null,
      agentVersion: 't',
      hardware,
    },
    rig,
    BEFORE,
  );
  if (!verdict) return;
  const gpus = report(rig, HOURS[0]!, 12, 3, model).gpus;
  store.saveVerdict(
    rig,
    {
      checkedAt: BEFORE.toISOString(),
      eligible: true,
      programs: [{ id: 'test-program', qualifies: true }],
      gpus,
    },
    BEFORE,
  );
}

function fixture(): RewardsStore {
  const store = openSqliteStore(':memory:');
  RIGS.forEach((rig, k) => {
    const model = k === 1 ? 'RTX 2080 Ti' : 'GTX 1080 Ti';
    join(
      store,
      rig,
      k < 2 ? MASTER.toLowerCase() : '0x0000000000000000000000000000000000000001',
      model,
    );
    // Some hours not connected; rig B has other GPUs.
    store.ingest(
      HOURS.map((h, i) => report(rig, h, i % 7 === 3 ? 5 : 12, 3, model)),
      rig,
      open,
      now,
    );
  });
  return store;
}

describe("dashboard reads agree with the JSON API's store calls", () => {
  it('ledgerDays sums exactly the hours ledger() lists, per day and outcome', () => {
    // Rig C sent no verdict: its hours are not paid (no-verdict). Rig D's hours come under a
    // program that admits rigs on review: held until the operator approves it.
    const store = openSqliteStore(':memory:');
    const review = parsePrograms({
      programs: [activeProgram('2026-05-20T00:00:00Z', { admission: 'review' })],
    });
    const rigs = [...RIGS, 'DDDDDDDDDDDDDDDDDDDDDD'];
    for (const rig of rigs) {
      join(store, rig, MASTER, 'GTX 1080 Ti', rig !== RIGS[2]);
      store.ingest(
        HOURS.map((h, i) => report(rig, h, i % 7 === 3 ? 5 : 12)),
        rig,
        rig === rigs[3] ? review : open,
        now,
      );
    }
    const from = '2026-05-31T00:00:00Z';
    const to = '2026-06-03T00:00:00Z';
    const sql = store.ledgerDays(rigs, from, to);
    const js = rigs.flatMap((rig) => summaryOf(rig, store.ledger(rig, from, to)));
    expect(sql).toEqual(js);
    expect(new Set(sql.map((d) => d.outcome))).toEqual(
      new Set(['credited', 'not-connected', 'no-verdict', 'held']),
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

  it(
    "rigProfiles finds a master's rigs whatever the case of the address, with hardware, " +
      'review, verdict and the last report',
    () => {
      const store = fixture();
      const rigs = store.rigProfiles({ master: MASTER });
      expect(rigs.map((r) => r.rigId)).toEqual(RIGS.slice(0, 2));
      expect(rigs[0]).toMatchObject({
        gpus: [
          { model: 'GTX 1080 Ti', count: 2 },
          { model: 'RTX 2080 Ti', count: 1 },
        ],
        qualifyingGpus: 3,
        review: 'pending',
        verdict: { eligible: true, notQualifying: [] },
        lastReportHour: '2026-06-02T23:00:00Z',
      });
      store.saveVerdict(
        RIGS[0]!,
        {
          checkedAt: now.toISOString(),
          eligible: false,
          programs: [{ id: 'test-program', qualifies: false }],
          gpus: [],
        },
        now,
      );
      expect(store.rigProfiles({ rigId: RIGS[0]! })[0]!.verdict).toMatchObject({
        eligible: false,
        notQualifying: ['test-program'],
      });
      expect(store.rigProfiles({ master: '0x1111111111111111111111111111111111111111' })).toEqual(
        [],
      );
    },
  );

  it('keeps the failing checks of a verdict (id and code), drops malformed ones, and words them', () => {
    const store = fixture();
    const later = new Date(now.getTime() + 120_000);
    const checks = [
      { id: 'gpus', status: 'fail', code: 'gpu-lost' },
      { id: 'network', status: 'warn', code: 'link-speed-unknown' },
      { id: 'ram', status: 'fail' },
      { id: '<script>', status: 'fail', code: 'x' },
      { id: 'disk', status: 'fail', code: 'Not A Code' },
    ];
    const body = {
      checkedAt: later.toISOString(),
      eligible: false,
      programs: [],
      gpus: [],
      checks,
    };
    store.saveVerdict(RIGS[0]!, body, later);
    const v = store.rigProfiles({ rigId: RIGS[0]! })[0]!.verdict!;
    expect(v.failing).toEqual([
      ['gpus', 'gpu-lost'],
      ['ram', 'fail'],
      ['disk', 'fail'],
    ]);
    expect(notEligibleText(v)).toBe('not eligible: failing gpus (gpu-lost), ram, disk');
    expect(failingChecks({ checks: Array.from({ length: 40 }, () => checks[0]!) })).toHaveLength(
      16,
    );
  });
});
