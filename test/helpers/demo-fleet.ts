/**
 * A small demo fleet for the dashboard tests: rigs enrolled with the real service over signed
 * HTTP (TestRig), with check verdicts and hourly reports through POST /v1/reports, so every
 * figure on a page comes from the service's own crediting.
 *   master A: three rigs of 6 × RTX 2080 Ti; rig 3 stopped earning 5 hours ago (master not confirmed);
 *   master A: one rig of 2 × GTX 1080 Ti whose last check says it no longer qualifies;
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

/** A verdict as check --json sends it (the fields the service reads), listing `list` as qualifying. */
function verdict(rig: TestRig, eligible: boolean, list: ReturnType<typeof gpus>) {
  return {
    schemaVersion: 1,
    checkedAt: new Date(rig.now()).toISOString(),
    eligible,
    programs: [{ id: 'test-program', qualifies: eligible }],
    gpus: list.map((g, index) => ({ index, name: g.model, busId: null, memoryMiB: 11264, ...g })),
    // A failing check as `check` reports one: a card fell off the bus (docs/check-result.schema.json).
    checks: eligible ? [] : [{ id: 'gpus', status: 'fail', code: 'gpu-lost' }],
  };
}

async function post(rig: TestRig, path: string, body: unknown, want: number): Promise<void> {
  const r = await rig.send('POST', path, body);
  if (r.status !== want) throw new Error(`${path}: ${r.status} ${r.body}`);
}

/**
 * Enrol the fleet with `svc` (started by startServiceInPast at least `days` days and an hour back,
 * so that rigs enrol and send their verdicts before the hours they report), move its clock to
 * now, and deliver `days` days of hours up to the last complete one.
 */
export async function makeDemoFleet(
  svc: { url: string; at(): number; present(): void },
  days = 3,
): Promise<DemoFleet> {
  const specs = [
    {
      master: MASTER_A,
      n: 6,
      model: 'RTX 2080 Ti',
      pci: '1e07',
      stopAt: null as number | null,
      eligibleLater: true,
    },
    {
      master: MASTER_A,
      n: 6,
      model: 'RTX 2080 Ti',
      pci: '1e07',
      stopAt: null,
      eligibleLater: true,
    },
    { master: MASTER_A, n: 6, model: 'RTX 2080 Ti', pci: '1e07', stopAt: 5, eligibleLater: true },
    {
      master: MASTER_A,
      n: 2,
      model: 'GTX 1080 Ti',
      pci: '1b06',
      stopAt: null,
      eligibleLater: false,
    },
    {
      master: MASTER_B,
      n: 4,
      model: 'GTX 1080 Ti',
      pci: '1b06',
      stopAt: null,
      eligibleLater: true,
    },
  ];
  const rigs = specs.map(() => new TestRig(svc.url));
  for (const [k, s] of specs.entries()) {
    const rig = rigs[k]!;
    rig.now = () => svc.at();
    const list = gpus(rig, s.n, s.model, s.pci);
    const hardware = { qualifyingGpus: s.n, gpus: list };
    await post(
      rig,
      '/v1/rigs',
      {
        publicKey: rig.publicKey,
        masterAddress: s.master,
        workerAddress: null,
        agentVersion: 'demo',
        hardware,
      },
      201,
    );
    await post(rig, '/v1/eligibility', verdict(rig, true, list), 204);
  }
  svc.present();
  for (const [k, s] of specs.entries()) {
    const rig = rigs[k]!;
    rig.now = () => Date.now();
    const list = gpus(rig, s.n, s.model, s.pci);
    const reports = [];
    for (let h = days * 24; h >= 1; h--) {
      // The stopped rig: master confirmation lost `stopAt` hours ago; every rig misses one hour a day.
      const down = (s.stopAt !== null && h <= s.stopAt) || h % 24 === 7;
      reports.push(
        rig.report(hoursAgo(h), {
          connectedSamples: down ? 4 : 12,
          minQualifyingGpus: s.n,
          gpus: list,
        }),
      );
    }
    for (let i = 0; i < reports.length; i += 500)
      await post(rig, '/v1/reports', { reports: reports.slice(i, i + 500) }, 200);
    // A later check that fails: the hours before it stay credited, the rig page says it no longer qualifies.
    if (!s.eligibleLater) await post(rig, '/v1/eligibility', verdict(rig, false, list), 204);
  }
  return { rigs, stopped: rigs[2]!, failing: rigs[3]! };
}
