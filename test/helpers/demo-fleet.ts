/**
 * A small demo fleet for the dashboard tests: rigs enrolled with the real service over signed
 * HTTP (TestRig), with check verdicts and hourly reports through POST /v1/reports, so every
 * figure on a page comes from the service's own crediting.
 *   master A: three rigs of 6 × RTX 2080 Ti; rig 3 stopped earning 5 hours ago (master not confirmed);
 *   master A: one rig of 2 × GTX 1080 Ti whose last check failed the RAM rule;
 *   master B: one rig of 4 × GTX 1080 Ti.
 */
import { TestRig, hoursAgo } from './service.js';

export const MASTER_A = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
export const MASTER_B = '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359';

export interface DemoFleet {
  rigs: TestRig[];
  stopped: TestRig;
  failing: TestRig;
}

const gpus = (rig: TestRig, n: number, model: string, pci: string) =>
  Array.from({ length: n }, (_, i) => ({
    uuid: `GPU-${rig.rigId}-${i}`,
    pciDeviceId: pci,
    model,
    qualifying: true,
  }));

function check(eligible: boolean, failing: { id: string; message: string }[] = []) {
  return {
    schemaVersion: 1,
    checkedAt: new Date().toISOString(),
    eligible,
    checks: [
      { id: 'arch', status: 'pass', message: 'x86_64' },
      ...failing.map((f) => ({ ...f, status: 'fail' })),
    ],
    programs: [{ id: 'test-program', qualifies: eligible }],
  };
}

/** Enrol the fleet with the service at `url` and deliver `days` days of hours up to the last complete one. */
export async function makeDemoFleet(url: string, days = 3): Promise<DemoFleet> {
  const specs = [
    {
      master: MASTER_A,
      n: 6,
      model: 'RTX 2080 Ti',
      pci: '1e07',
      stopAt: null as number | null,
      elig: check(true),
    },
    { master: MASTER_A, n: 6, model: 'RTX 2080 Ti', pci: '1e07', stopAt: null, elig: check(true) },
    { master: MASTER_A, n: 6, model: 'RTX 2080 Ti', pci: '1e07', stopAt: 5, elig: check(true) },
    {
      master: MASTER_A,
      n: 2,
      model: 'GTX 1080 Ti',
      pci: '1b06',
      stopAt: null,
      elig: check(false, [{ id: 'ram', message: 'RAM 12 GB: 16 GB needed' }]),
    },
    { master: MASTER_B, n: 4, model: 'GTX 1080 Ti', pci: '1b06', stopAt: null, elig: check(true) },
  ];
  const rigs: TestRig[] = [];
  for (const s of specs) {
    const rig = new TestRig(url);
    const enrolled = await rig.send('POST', '/v1/rigs', {
      publicKey: rig.publicKey,
      masterAddress: s.master,
      workerAddress: null,
      agentVersion: 'demo',
      hardware: { qualifyingGpus: s.n, gpus: gpus(rig, s.n, s.model, s.pci) },
    });
    if (enrolled.status !== 201) throw new Error(`enrol: ${enrolled.status} ${enrolled.body}`);
    const reports = [];
    for (let h = days * 24; h >= 1; h--) {
      // The stopped rig: master confirmation lost `stopAt` hours ago; every rig misses one hour a day.
      const down = (s.stopAt !== null && h <= s.stopAt) || h % 24 === 7;
      reports.push(
        rig.report(hoursAgo(h), {
          connectedSamples: down ? 4 : 12,
          minQualifyingGpus: s.n,
          gpus: gpus(rig, s.n, s.model, s.pci),
        }),
      );
    }
    for (let i = 0; i < reports.length; i += 500) {
      const r = await rig.send('POST', '/v1/reports', { reports: reports.slice(i, i + 500) });
      if (r.status !== 200) throw new Error(`reports: ${r.status} ${r.body}`);
    }
    // The verdict after the reports: the failing rig's hours were credited before its check failed.
    const e = await rig.send('POST', '/v1/eligibility', s.elig);
    if (e.status !== 204) throw new Error(`eligibility: ${e.status} ${e.body}`);
    rigs.push(rig);
  }
  return { rigs, stopped: rigs[2]!, failing: rigs[3]! };
}
