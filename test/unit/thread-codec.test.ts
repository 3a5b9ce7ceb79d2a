import { describe, expect, it } from 'vitest';
import {
  decodeReports,
  decodeResults,
  encodeReports,
  encodeResults,
  type FingerprintedReport,
} from '../../src/service/thread-codec.js';
import { reportFingerprint } from '../../src/protocol/ids.js';
import type { HourlyReport, ReportResult } from '../../src/protocol/types.js';

const base: HourlyReport = {
  reportId: 'rpt-AAAAAAAAAAAAAAAAAAAAAA-2026060110',
  rigId: 'AAAAAAAAAAAAAAAAAAAAAA',
  hour: '2026-06-01T10:00:00Z',
  intervalSeconds: 300,
  samples: 12,
  connectedSamples: 10,
  minQualifyingGpus: 1,
  gpus: [],
  workerAddress: null,
  sonmVersion: null,
  agentVersion: '0.1.0',
  seq: 7,
};
const fp = (r: HourlyReport): FingerprintedReport => {
  const { hash, gpus } = reportFingerprint(r);
  return { ...r, fingerprint: { hash, gpus } };
};

describe('thread codec: reports and results cross to the ingest worker as flat arrays', () => {
  it.each<[string, HourlyReport[]]>([
    ['an empty batch', []],
    ['a report without GPUs', [base]],
    [
      'GPUs with null PCI id and model, and a worker address',
      [
        {
          ...base,
          workerAddress: '0xabc',
          sonmVersion: 'v0.4.25',
          gpus: [
            { uuid: 'GPU-1', pciDeviceId: '1b06', model: 'GTX 1080 Ti', qualifying: true },
            { uuid: 'GPU-2', pciDeviceId: null, model: null, qualifying: false },
          ],
        },
      ],
    ],
    [
      'reports with different GPU counts in a row',
      [
        {
          ...base,
          gpus: [{ uuid: 'a', pciDeviceId: '1e07', model: 'RTX 2080 Ti', qualifying: true }],
        },
        base,
        {
          ...base,
          seq: 8,
          gpus: [
            { uuid: 'b', pciDeviceId: '1b06', model: 'x', qualifying: true },
            { uuid: 'c', pciDeviceId: '1b06', model: 'y', qualifying: true },
          ],
        },
      ],
    ],
  ])('%s survives the round trip, fingerprint included', (_what, reports) => {
    const batch = reports.map(fp);
    const back = decodeReports(structuredClone(encodeReports(batch)));
    expect(back).toEqual(batch);
    for (const r of back) expect(reportFingerprint(r)).toMatchObject(r.fingerprint);
  });

  it('results keep their order, status, reason and credit', () => {
    const results: ReportResult[] = [
      { reportId: 'r1', status: 'accepted', credited: { connected: true, gpus: 6, usd: 0.5 } },
      {
        reportId: 'r2',
        status: 'accepted',
        reason: 'admission-suspended',
        credited: { connected: true, gpus: 0, usd: 0 },
      },
      { reportId: 'r3', status: 'duplicate', credited: { connected: false, gpus: 0, usd: 0 } },
      {
        reportId: 'r4',
        status: 'rejected',
        reason: 'conflict',
        credited: { connected: false, gpus: 0, usd: 0 },
      },
    ];
    expect(
      decodeResults(
        structuredClone(encodeResults(results)),
        results.map((r) => r.reportId),
      ),
    ).toEqual(results);
  });
});
