/**
 * The upgrade planner as tables: planUpgrade (resume, the pins, redaction, the preflight),
 * the purge's verdict on each ask plan, URL redaction, and the verification wait on an injected
 * clock. Deal and plan shapes come from test/fixtures/sonmcli (sonmcli's JSON, parsed by the
 * probe's own parsers); the sources of each neighbour are given on its row.
 */
import { describe, expect, it } from 'vitest';
import { parseAskPlans, parseDealStatus } from '../../src/probe/sonm-parse.js';
import type { MarketInfo } from '../../src/probe/types.js';
import {
  planUpgrade,
  redactUrl,
  type RefusalCode,
  type UpgradeFacts,
  type UpgradePlan,
} from '../../src/upgrade/plan.js';
import { MAX_ARG_STRLEN, runScriptCommand } from '../../src/upgrade/steps.js';
import { judgePlans, type PlanFate } from '../../src/upgrade/market.js';
import { verifyUntilSettled } from '../../src/upgrade/apply.js';
import type { Verification } from '../../src/upgrade/verify.js';
import type { UpgradeJournal } from '../../src/upgrade/journal.js';
import { ANNOUNCED_INSTALLER_URL, ANNOUNCED_SONM_VERSION } from '../../src/program/announcement.js';
import { MAX_SCRIPT_BYTES } from '../../src/upgrade/download.js';
import { fixture } from '../helpers/rig.js';

const MASTER = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const OTHER = '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359';
const SHA = 'ab'.repeat(32);
const NOW = new Date('2019-05-01T12:00:00Z');

/** ask-plan list and deal status answers (fixture names), parsed as the probe parses them. */
function market(plans: string, deals: Record<string, string> = {}): MarketInfo {
  const askPlans = parseAskPlans(JSON.parse(fixture(plans)));
  return {
    askPlans,
    deals: Object.entries(deals).map(([id, f]) => parseDealStatus(id, JSON.parse(fixture(f)))),
  };
}

function facts(over: Partial<UpgradeFacts> = {}): UpgradeFacts {
  return {
    master: MASTER,
    force: false,
    isRoot: true,
    rigUser: 'rig',
    stateDir: '/var/lib/sonm-rewards',
    now: NOW,
    scriptTimeoutMs: 1_800_000,
    configuredMaster: { master: MASTER, path: '/etc/sonm/worker-default.yaml', exists: true },
    versions: { packages: { 'sonm-worker': '0.4.24' }, source: 'dpkg-query', lowest: '0.4.24' },
    services: { 'sonm-worker': 'active', 'sonm-node': 'active', 'sonm-optimus': 'active' },
    market: {
      ok: true,
      value: market('sonmcli/askplans-spot.json', { 84117: 'sonmcli/deal-spot.json' }),
    },
    platform: null,
    userPin: null,
    script: { url: ANNOUNCED_INSTALLER_URL, ok: true, sha256: SHA, bytes: 20_000 },
    journal: null,
    found: { sudo: true, service: true, sonmcli: true, bash: true },
    ...over,
  };
}

const journal = (over: Partial<UpgradeJournal> = {}): UpgradeJournal => ({
  id: 'j',
  startedAt: '2019-05-01T11:00:00.000Z',
  master: MASTER,
  targetVersion: '0.4.25',
  scriptUrl: ANNOUNCED_INSTALLER_URL,
  scriptSha256: SHA,
  logPath: '/var/lib/sonm-rewards/upgrade/upgrade-j.log',
  steps: {},
  ...over,
});
const purged = {
  'stop-optimus': { startedAt: 'a', ok: true },
  purge: { startedAt: 'b', ok: true },
};
const service = (p: Partial<NonNullable<UpgradeFacts['platform']>>): UpgradeFacts['platform'] => ({
  source: 'https://rewards.example',
  targetVersion: '0.4.25',
  installerUrl: null,
  installerSha256: null,
  ...p,
});

/** What a row expects: a refusal code, up-to-date, or go; and text that must appear. */
type Want = { kind: 'refuse'; code: RefusalCode } | { kind: 'up-to-date' } | { kind: 'go' };
const text = (p: UpgradePlan): string =>
  p.kind === 'refuse'
    ? [p.reason, ...p.items].join('\n')
    : p.kind === 'go'
      ? p.notes.join('\n')
      : p.message;

describe('planUpgrade', () => {
  it.each<[string, Partial<UpgradeFacts>, Want, RegExp?]>([
    [
      'a rig at 0.4.24 with a spot deal',
      {},
      { kind: 'go' },
      /the purge will close 1 spot deal: 84117/,
    ],
    // resume
    [
      'an interrupted run for another master',
      { journal: journal({ master: OTHER }) },
      { kind: 'refuse', code: 'interrupted-other-master' },
      /interrupted upgrade to master 0xfB69/,
    ],
    [
      'an interrupted run that has purged: no market check again',
      { journal: journal({ steps: purged }), market: { ok: false, error: 'node down' } },
      { kind: 'go' },
      /resuming the upgrade started/,
    ],
    [
      'an interrupted run before the purge: the market is checked again',
      { journal: journal(), market: { ok: false, error: 'node down' } },
      { kind: 'refuse', code: 'market-unreadable' },
    ],
    [
      'a finished run is no resume',
      { journal: journal({ master: OTHER, finishedAt: 'x' }) },
      { kind: 'go' },
    ],
    [
      'a resumed run whose script changed',
      { journal: journal({ steps: purged, scriptSha256: 'cd'.repeat(32) }) },
      { kind: 'go' },
      /the script changed since the interrupted run \(cdcdcdcdcdcd… → abababababab…\)/,
    ],
    // the rig
    [
      'another master configured',
      { configuredMaster: { master: OTHER, path: '/etc/sonm/worker-default.yaml', exists: true } },
      { kind: 'refuse', code: 'configured-master' },
      /keeps the configured master/,
    ],
    [
      'ask plans that cannot be listed',
      { market: { ok: false, error: 'failed to connect to the Node' } },
      { kind: 'refuse', code: 'market-unreadable' },
      /start sonm-node/,
    ],
    [
      'already at the target, services active',
      { versions: { packages: {}, source: 'dpkg-query', lowest: '0.4.25' } },
      { kind: 'up-to-date' },
    ],
    [
      'at the target, optimus inactive',
      {
        versions: { packages: {}, source: 'dpkg-query', lowest: '0.4.25' },
        services: { 'sonm-worker': 'active', 'sonm-node': 'active', 'sonm-optimus': 'inactive' },
      },
      { kind: 'go' },
    ],
    [
      'at the target with --force',
      { force: true, versions: { packages: {}, source: 'dpkg-query', lowest: '0.4.25' } },
      { kind: 'go' },
    ],
    [
      'versions unreadable',
      { versions: null },
      { kind: 'go' },
      /the installed SONM version could not be read/,
    ],
    // the script
    [
      'a failed download, its URL redacted',
      {
        script: {
          url: 'https://user:pw@example.org/s.sh?token=T',
          ok: false,
          error: 'https://user:pw@example.org/s.sh?token=T answered 404',
        },
      },
      { kind: 'refuse', code: 'download' },
      /^https:\/\/\*\*\*@example\.org\/s\.sh\?\*\*\* answered 404$/,
    ],
    [
      '--script-sha256 that differs',
      { userPin: 'cd'.repeat(32) },
      { kind: 'refuse', code: 'pin-mismatch' },
      /SHA-256 is (ab){32}, but --script-sha256 pins (cd){32}: it was not run/,
    ],
    [
      'a service pin for the announced script that differs',
      { platform: service({ installerSha256: 'cd'.repeat(32) }) },
      { kind: 'refuse', code: 'pin-mismatch' },
      /but https:\/\/rewards\.example pins (cd){32}/,
    ],
    [
      'a malformed service pin matches no script',
      { platform: service({ installerSha256: 'not-a-hash' }) },
      { kind: 'refuse', code: 'pin-mismatch' },
      /pins not-a-hash/,
    ],
    [
      'a service pin the user pin agrees with, the service not',
      { userPin: SHA, platform: service({ installerSha256: 'cd'.repeat(32) }) },
      { kind: 'refuse', code: 'pin-mismatch' },
      /rewards\.example pins/,
    ],
    [
      'a service naming another installer: not followed, its pin not applied',
      {
        platform: service({
          installerUrl: 'https://evil.example/x.sh',
          installerSha256: 'cd'.repeat(32),
        }),
      },
      { kind: 'go' },
      new RegExp(
        String.raw`names https:\/\/evil\.example\/x\.sh as the installer: ` +
          'only the announcement or --script-url choose the script, so its hash is not applied',
      ),
    ],
    [
      '--script-url elsewhere: the service pin for the announced script does not apply',
      {
        script: { url: 'https://mirror.example/s.sh', ok: true, sha256: SHA, bytes: 10 },
        platform: service({ installerSha256: 'cd'.repeat(32) }),
      },
      { kind: 'go' },
    ],
    // the preflight: what would fail after the first change
    [
      'bash missing',
      { found: { sudo: true, service: true, sonmcli: true, bash: false } },
      { kind: 'refuse', code: 'missing-command' },
      /bash is not on PATH/,
    ],
    [
      'not root and sudo missing',
      { isRoot: false, found: { sudo: false, service: true, sonmcli: true, bash: true } },
      { kind: 'refuse', code: 'missing-command' },
      /sudo is not on PATH/,
    ],
    [
      'a state directory path longer than one argument may be',
      { stateDir: `/${'d'.repeat(MAX_ARG_STRLEN)}` },
      { kind: 'refuse', code: 'argument-too-long' },
      /run SONM's autodeploy script: an argument of \d+ bytes/,
    ],
  ])('%s', (_name, over, want, pattern) => {
    const plan = planUpgrade(facts(over));
    expect(plan.kind).toBe(want.kind);
    if (want.kind === 'refuse' && plan.kind === 'refuse') expect(plan.code).toBe(want.code);
    if (pattern) expect(text(plan)).toMatch(pattern);
  });

  it("go: the steps in the announcement's order, the script run from its saved file", () => {
    const plan = planUpgrade(facts({ userPin: SHA, platform: service({ installerSha256: SHA }) }));
    if (plan.kind !== 'go') throw new Error(text(plan));
    const path = `/var/lib/sonm-rewards/upgrade/sonm-auto-deploy-supplier-${SHA.slice(0, 12)}.sh`;
    expect(plan.steps.map((s) => [s.command, ...s.args])).toEqual([
      ['service', 'sonm-optimus', 'stop'],
      [
        'sudo',
        '-n',
        '-u',
        'rig',
        '-H',
        '--',
        'sonmcli',
        'worker',
        'ask-plan',
        'purge',
        '--json',
        '--timeout=2m',
      ],
      ['bash', '-c', `eval "$(< '${path}')"`, '-s', MASTER],
      ['(internal)'],
    ]);
    expect(plan.script).toMatchObject({
      path,
      pinnedBy: ['--script-sha256', 'https://rewards.example'],
    });
    expect(plan.rollback).toMatchObject({ command: 'service', args: ['sonm-optimus', 'start'] });
    expect(plan.target).toEqual({ version: '0.4.25', source: 'https://rewards.example' });
    expect(plan.journal).toMatchObject({
      startedAt: NOW.toISOString(),
      master: MASTER,
      scriptSha256: SHA,
      steps: {},
    });
  });

  it('not root: every root step through sudo -n, sonmcli as the user itself', () => {
    const plan = planUpgrade(facts({ isRoot: false }));
    if (plan.kind !== 'go') throw new Error(text(plan));
    expect(plan.steps.slice(0, 3).map((s) => [s.command, ...s.args.slice(0, 2)])).toEqual([
      ['sudo', '-n', 'service'],
      ['sonmcli', 'worker', 'ask-plan'],
      ['sudo', '-n', 'bash'],
    ]);
  });

  it('a resumed run keeps its journal, with the new hash', () => {
    const plan = planUpgrade(
      facts({ journal: journal({ steps: purged, scriptSha256: 'cd'.repeat(32) }) }),
    );
    if (plan.kind !== 'go') throw new Error(text(plan));
    expect(plan.journal).toMatchObject({ id: 'j', steps: purged, scriptSha256: SHA });
  });

  it("without a service the target and source are the announcement's", () => {
    const plan = planUpgrade(facts());
    if (plan.kind !== 'go') throw new Error(text(plan));
    expect(plan.target).toEqual({ version: ANNOUNCED_SONM_VERSION, source: 'the announcement' });
    expect(plan.script.pinnedBy).toEqual([]);
  });

  it.each([1, 128 * 1024, 600 * 1024, MAX_SCRIPT_BYTES])(
    'a %i-byte script plans arguments Linux accepts',
    (bytes) => {
      const plan = planUpgrade(
        facts({ script: { url: ANNOUNCED_INSTALLER_URL, ok: true, sha256: SHA, bytes } }),
      );
      if (plan.kind !== 'go') throw new Error(text(plan));
      for (const s of plan.steps)
        for (const a of [s.command, ...s.args]) expect(Buffer.byteLength(a)).toBeLessThan(1024);
    },
  );
});

describe('deals, not plans: what the purge does to each ask plan', () => {
  // Rule: core v0.4.25 Salesman.RemoveAskPlan/closeDeal/cancelOrder; Deal.IsSpot is duration 0.
  it.each<[string, string, Record<string, string>, PlanFate[]]>([
    // shared/cases/real-rigs/upgrade-spot-deal-on-timed-plan and sonm-io/core#1790: a plan's
    // duration is not its deal's.
    [
      'a spot deal on a 24 h plan',
      'sonmcli/askplans-forward.json',
      { 84200: 'sonmcli/deal-spot.json' },
      ['close-spot-deal'],
    ],
    [
      'a forward deal on a 24 h plan',
      'sonmcli/askplans-forward.json',
      { 84200: 'sonmcli/deal-forward.json' },
      ['forward-deal'],
    ],
    // A deal's duration is the bid's (sonm-platform.md; core#1412): a spot plan can hold a forward deal.
    [
      'a forward deal on a spot plan, and an order-only plan',
      'sonmcli/askplans-spot.json',
      { 84117: 'sonmcli/deal-forward.json' },
      ['forward-deal', 'cancel-order'],
    ],
    // closeDeal leaves a closed deal (status 2) alone; core#1428: plans outlive their closed deal.
    [
      'a forward deal that has closed',
      'sonmcli/askplans-forward.json',
      { 84200: 'sonmcli/deal-forward-closed.json' },
      ['deal-closed'],
    ],
    // cancelOrder: a plan with an order and no deal, whatever its duration.
    [
      'a 24 h plan with only an order',
      'sonmcli/askplans-forward-order-only.json',
      {},
      ['cancel-order'],
    ],
    ['no plans', 'sonmcli/askplans-none.json', {}, []],
  ])('%s', (_name, plans, deals, fates) => {
    expect(judgePlans(market(plans, deals)).map((v) => v.fate)).toEqual(fates);
  });

  it.each<[string, { status?: number; duration?: number }, PlanFate]>([
    // DealStatus (core proto/marketplace.pb.go): 0 unknown, omitted from JSON; 1 accepted; 2 closed.
    ['status omitted (DEAL_UNKNOWN)', { duration: 86400 }, 'deal-unknown'],
    ['a status SONM does not define', { status: 7 }, 'deal-unknown'],
    ['a spot deal that has closed', { status: 2 }, 'deal-closed'],
  ])('a deal with %s', (_name, deal, fate) => {
    const plans = { askPlans: { p: { ID: 'p', dealID: '9', duration: {} } } };
    const m = { askPlans: parseAskPlans(plans), deals: [parseDealStatus('9', { deal })] };
    expect(judgePlans(m)[0]!.fate).toBe(fate);
  });

  it('a forward deal past its end still stops the upgrade, saying the worker closes it', () => {
    const plan = planUpgrade(
      facts({
        now: new Date('2019-05-03T00:00:00Z'),
        market: {
          ok: true,
          value: market('sonmcli/askplans-forward.json', { 84200: 'sonmcli/deal-forward.json' }),
        },
      }),
    );
    expect(plan.kind === 'refuse' && plan.code).toBe('forward-deal');
    expect(text(plan)).toMatch(
      /deal 84200 is forward \(24 h\), open until 2019-05-02T10:00:00Z: its end has passed/,
    );
  });
});

describe('redactUrl', () => {
  it.each([
    [ANNOUNCED_INSTALLER_URL, ANNOUNCED_INSTALLER_URL],
    [
      'https://raw.githubusercontent.com/o/r/master/s.sh?token=GHSAT0AAA',
      'https://raw.githubusercontent.com/o/r/master/s.sh?***',
    ],
    ['https://me:secret@host.example/s.sh', 'https://***@host.example/s.sh'],
    ['not a url', 'not a url'],
  ])('%s', (url, shown) => expect(redactUrl(url)).toBe(shown));
});

it('runScriptCommand quotes any path for the -c shell', () => {
  expect(runScriptCommand("/s/it's.sh", MASTER)).toEqual([
    'bash',
    '-c',
    `eval "$(< '/s/it'\\''s.sh')"`,
    '-s',
    MASTER,
  ]);
});

describe('verifyUntilSettled: one injected clock for sleeps and deadlines', () => {
  function clock(): { now(): Date; sleep(ms: number): Promise<void>; slept: number[] } {
    let t = NOW.getTime();
    const slept: number[] = [];
    return {
      slept,
      now: () => new Date(t),
      sleep: async (ms) => {
        slept.push(ms);
        t += ms;
      },
    };
  }
  const answers = (...vs: Verification[]) => {
    let i = 0;
    return async (): Promise<Verification> => vs[Math.min(i++, vs.length - 1)]!;
  };
  const pending: Verification = { ok: true, problems: [], pending: ['benchmarks'] };
  const done: Verification = { ok: true, problems: [], pending: [] };
  const broken: Verification = { ok: false, problems: ['sonm-node is failed'], pending: [] };

  it.each<[string, Verification[], number, number[], Verification]>([
    ['settled at once', [done], 300_000, [], done],
    ['settles after two polls', [pending, pending, done], 300_000, [10_000, 10_000], done],
    [
      'never settles: the deadline ends the wait',
      [pending],
      25_000,
      [10_000, 10_000, 5_000],
      pending,
    ],
    ['--wait 0: one look', [broken], 0, [], broken],
    ['broken until the deadline', [broken], 20_000, [10_000, 10_000], broken],
  ])('%s', async (_name, vs, waitMs, sleeps, last) => {
    const c = clock();
    const v = await verifyUntilSettled({ check: answers(...vs), clock: c, waitMs });
    expect(c.slept).toEqual(sleeps);
    expect(v).toEqual(last);
  });
});
