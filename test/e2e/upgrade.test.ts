/**
 * `sonm-rewards upgrade` end to end: fake service, systemctl, sonmcli, dpkg-query and sudo on
 * PATH; SONM's script served over loopback HTTP and run by the real bash.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import {
  agentArgv,
  fixture,
  FIXTURES,
  makeRig,
  runCli,
  tempDir,
  type Rig,
} from '../helpers/rig.js';
import { startService } from '../helpers/service.js';
import type { FakeCase } from '../helpers/rig.js';

const MASTER = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const OTHER = '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359';

/** What the stand-in for sonm-auto-deploy-supplier.sh does: record how it was run, "install" 0.4.25. */
function standInScript(
  rig: Rig,
  opts: { exit?: number; install?: boolean; sleep?: number } = {},
): string {
  const t = rig.tools.dir;
  return [
    '#!/bin/bash',
    "# Test stand-in for SONM's sonm-auto-deploy-supplier.sh",
    `printf '%s\\n' "$0" "$1" "$SUDO_USER" "$(pwd)" "$(id -u)" "$#" > '${t}/script-ran'`,
    opts.sleep ? `sleep ${opts.sleep}` : '',
    opts.install === false
      ? ''
      : `cp '${t}/dpkg-0.4.25' '${t}/out/dpkg-query.0.out'; cp '${t}/status-0.4.25' '${t}/out/sonmcli.0.out'`,
    `exit ${opts.exit ?? 0}`,
    '',
  ].join('\n');
}

function upgradeRig(
  over: {
    askPlans?: string;
    deal?: string;
    purge?: string;
    master?: string | null;
    versions?: string;
    status?: string;
    anyUser?: boolean;
  } = {},
): Rig {
  const sonmcli: FakeCase[] = [
    {
      match: '*worker status*',
      stdout: over.status ?? fixture('sonmcli/worker-status-0.4.24.json'),
    },
    {
      match: '*worker ask-plan list*',
      stdout: over.askPlans ?? fixture('sonmcli/askplans-spot.json'),
    },
    { match: '*worker ask-plan purge*', stdout: over.purge ?? fixture('sonmcli/purge-ok.json') },
    { match: '*deal status*', stdout: over.deal ?? fixture('sonmcli/deal-spot.json') },
    { match: '*version*', stdout: fixture('sonmcli/version.json') },
  ];
  const rig = makeRig(
    { dpkg: { stdout: over.versions ?? fixture('dpkg/all-0.4.24.txt') }, sonmcli },
    { anyUser: over.anyUser },
  );
  writeFileSync(join(rig.tools.dir, 'dpkg-0.4.25'), fixture('dpkg/all-0.4.25.txt'));
  writeFileSync(
    join(rig.tools.dir, 'status-0.4.25'),
    fixture('sonmcli/worker-status-connected.json'),
  );
  const etc = rig.env.SONM_REWARDS_SONM_CONFIG_DIR!;
  mkdirSync(etc, { recursive: true });
  if (over.master !== null)
    writeFileSync(
      join(etc, 'worker-default.yaml'),
      `endpoint: ":15010"\nmaster: ${over.master ?? MASTER}\nadmin: ${MASTER}\n`,
    );
  return rig;
}

type Mode =
  | { kind: 'ok'; body: string }
  | { kind: 'status'; status: number }
  | { kind: 'html' }
  | { kind: 'cut' }
  | { kind: 'huge' };
let server: Server;
let base = '';
const modes = new Map<string, Mode>();
/** Requests per path: a URL the agent must never fetch stays at 0. */
const hits = new Map<string, number>();
beforeAll(async () => {
  server = createServer((req, res) => {
    hits.set(req.url ?? '', (hits.get(req.url ?? '') ?? 0) + 1);
    const m = modes.get(req.url ?? '') ?? { kind: 'status', status: 404 };
    if (m.kind === 'ok') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(m.body);
    } else if (m.kind === 'status') {
      res.writeHead(m.status);
      res.end(`error ${m.status}`);
    } else if (m.kind === 'html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!DOCTYPE html>\n<html><body>Rate limited</body></html>\n');
    } else if (m.kind === 'cut') {
      res.writeHead(200, { 'content-length': '5000' });
      res.write('#!/bin/bash\necho half a scr');
      setTimeout(() => res.socket?.destroy(), 50);
    } else {
      res.writeHead(200);
      res.end(`#!/bin/bash\n${'# padding\n'.repeat(220_000)}`);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

let n = 0;
function serve(mode: Mode): string {
  const path = `/script-${++n}.sh`;
  modes.set(path, mode);
  return `${base}${path}`;
}

const changed = (rig: Rig) => ({
  stopped: rig.tools.callsOf('service').length,
  purged: rig.tools.callsOf('sonmcli').filter((c) => c.args.join(' ').includes('purge')).length,
  scriptRan: existsSync(join(rig.tools.dir, 'script-ran')),
});
const nothingChanged = { stopped: 0, purged: 0, scriptRan: false };

describe('refusals change nothing', () => {
  it.each<[string, () => { rig: Rig; args: string[]; uid?: number }, number, RegExp]>([
    [
      'an invalid address',
      () => ({ rig: upgradeRig(), args: ['--master', '0x123'] }),
      2,
      /--master: "0x123" has 3 hex digits/,
    ],
    [
      'a checksum typo',
      () => ({
        rig: upgradeRig(),
        args: ['--master', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1Beaed'],
      }),
      2,
      /fails its EIP-55 checksum/,
    ],
    [
      'a forward ask plan',
      () => ({
        rig: upgradeRig({
          askPlans: fixture('sonmcli/askplans-forward.json'),
          deal: fixture('sonmcli/deal-forward.json'),
        }),
        args: [],
      }),
      1,
      new RegExp(
        String.raw`a forward deal is open[\s\S]*ask plan f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b ` +
          String.raw`is forward \(24 h\)[\s\S]*deal 84200 is forward \(24 h\), open until 2019-05-02T10:00:00Z`,
      ),
    ],
    [
      'a forward deal behind a spot plan',
      () => ({ rig: upgradeRig({ deal: fixture('sonmcli/deal-forward.json') }), args: [] }),
      1,
      /deal 84117 is forward \(24 h\), open until 2019-05-02T10:00:00Z/,
    ],
    [
      'ask plans that cannot be listed',
      () => ({ rig: upgradeRig({ askPlans: fixture('sonmcli/error-node-down.json') }), args: [] }),
      1,
      /cannot list the ask plans[\s\S]*failed to connect to the Node/,
    ],
    [
      'another master in worker-default.yaml',
      () => ({ rig: upgradeRig({ master: OTHER }), args: [] }),
      1,
      /names master 0xfB69.*SONM's script keeps the configured master and ignores the argument/,
    ],
    [
      'a 404',
      () => ({ rig: upgradeRig(), args: ['--script-url', serve({ kind: 'status', status: 404 })] }),
      1,
      /answered 404\. Nothing was changed/,
    ],
    [
      'a 500',
      () => ({ rig: upgradeRig(), args: ['--script-url', serve({ kind: 'status', status: 500 })] }),
      1,
      /answered 500/,
    ],
    [
      'an HTML page with status 200',
      () => ({ rig: upgradeRig(), args: ['--script-url', serve({ kind: 'html' })] }),
      1,
      /is not a shell script: its first line is not a shebang/,
    ],
    [
      'a connection cut mid-body',
      () => ({ rig: upgradeRig(), args: ['--script-url', serve({ kind: 'cut' })] }),
      1,
      /broke off after \d+ bytes.*a partial script is never run/,
    ],
    [
      'a 2 MiB download',
      () => ({ rig: upgradeRig(), args: ['--script-url', serve({ kind: 'huge' })] }),
      1,
      /larger than 1048576 bytes/,
    ],
    [
      'a wrong pinned hash',
      () => ({
        rig: upgradeRig(),
        args: [
          '--script-url',
          serve({ kind: 'ok', body: '#!/bin/bash\nexit 0\n' }),
          '--script-sha256',
          'a'.repeat(64),
        ],
      }),
      1,
      /SHA-256 is [0-9a-f]{64}, but --script-sha256 pins a{64}: it was not run/,
    ],
    [
      'plain HTTP to another host',
      () => ({ rig: upgradeRig(), args: ['--script-url', 'http://example.org/s.sh'] }),
      2,
      /plain HTTP is only allowed to loopback/,
    ],
  ])('%s', async (_name, make, code, message) => {
    const { rig, args } = make();
    const ok = serve({ kind: 'ok', body: standInScript(rig) });
    const all = [
      'upgrade',
      '--master',
      MASTER,
      '--script-url',
      ok,
      '--yes',
      '--wait',
      '0',
      ...args,
    ];
    const r = await runCli(rig, all);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(changed(rig)).toEqual(nothingChanged);
  });

  it('without privileges (not root, sudo asks for a password): exit 2, run it with sudo', async () => {
    const rig = upgradeRig({ anyUser: true });
    rig.tools.sudo({ nonInteractiveOk: false });
    for (const p of [rig.dir, rig.tools.dir, rig.tools.bin]) chmodSync(p, 0o755);
    const r = await runCli(rig, ['upgrade', '--master', MASTER, '--yes'], {
      uid: 65534,
      gid: 65534,
    });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `sonm-rewards: the upgrade needs root: run \`sudo sonm-rewards upgrade --master ${MASTER}\``,
    );
    expect(changed(rig)).toEqual(nothingChanged);
  });

  it('without a terminal and without --yes: exit 2, nothing changed', async () => {
    const rig = upgradeRig();
    const r = await runCli(rig, [
      'upgrade',
      '--master',
      MASTER,
      '--script-url',
      serve({ kind: 'ok', body: standInScript(rig) }),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pass --yes/);
    expect(changed(rig)).toEqual(nothingChanged);
  });

  it('--dry-run prints every command as an argument list and the script hash, and runs nothing', async () => {
    const rig = upgradeRig();
    const body = standInScript(rig);
    const r = await runCli(rig, [
      'upgrade',
      '--master',
      MASTER.toLowerCase(),
      '--script-url',
      serve({ kind: 'ok', body }),
      '--dry-run',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`sha256 ${createHash('sha256').update(body).digest('hex')}`);
    expect(r.stdout).toContain('["service","sonm-optimus","stop"]');
    expect(r.stdout).toContain(
      '["sudo","-n","-u","rig","-H","--","sonmcli","worker","ask-plan","purge","--json","--timeout=2m"]',
    );
    // Issue 9: the script runs from its saved file (no E2BIG), with $0 and $1 as announced.
    const sha = createHash('sha256').update(body).digest('hex');
    const saved = join(rig.stateDir, 'upgrade', `sonm-auto-deploy-supplier-${sha.slice(0, 12)}.sh`);
    expect(r.stdout).toContain(
      JSON.stringify(['bash', '-c', `eval "$(< '${saved}')"`, '-s', MASTER]),
    );
    expect(createHash('sha256').update(readFileSync(saved)).digest('hex')).toBe(sha);
    expect(r.stdout).toContain('the purge will close 1 spot deal: 84117');
    expect(r.stdout).toContain('Dry run: nothing was changed.');
    expect(changed(rig)).toEqual(nothingChanged);
  });
});

describe('applying', () => {
  it('the happy path: optimus stopped, purge as the rig user, the script as announced, then verified', async () => {
    const rig = upgradeRig();
    const r = await runCli(rig, [
      'upgrade',
      '--master',
      MASTER.toLowerCase(),
      '--script-url',
      serve({ kind: 'ok', body: standInScript(rig) }),
      '--yes',
      '--wait',
      '0',
    ]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const calls = rig.tools
      .calls()
      .map((c) => `${c.tool}${c.asUser ? `(as ${c.asUser})` : ''} ${c.args.join(' ')}`);
    const stop = calls.indexOf('service sonm-optimus stop');
    const purge = calls.indexOf('sonmcli(as rig) worker ask-plan purge --json --timeout=2m');
    expect(stop).toBeGreaterThanOrEqual(0);
    expect(purge).toBeGreaterThan(stop);
    const [zero, one, sudoUser, cwd, uid] = readFileSync(join(rig.tools.dir, 'script-ran'), 'utf8')
      .trim()
      .split('\n');
    expect({ zero, one, sudoUser, uid }).toEqual({
      zero: '-s',
      one: MASTER,
      sudoUser: 'rig',
      uid: '0',
    });
    expect(cwd!.startsWith(join(rig.stateDir, 'upgrade', 'run-'))).toBe(true);
    const after = calls.slice(purge + 1);
    expect(after).toEqual(
      expect.arrayContaining([
        'systemctl is-active sonm-worker',
        'systemctl is-active sonm-node',
        'systemctl is-active sonm-optimus',
        'sonmcli(as rig) worker status --json',
      ]),
    );
    expect(after.some((c) => c.startsWith('dpkg-query -W'))).toBe(true);
    expect(r.stdout).toMatch(
      /Upgraded and verified: SONM 0\.4\.25, master 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed/,
    );
    expect(r.stdout).toMatch(/step +result +duration/);
    const journal = JSON.parse(readFileSync(join(rig.stateDir, 'upgrade', 'journal.json'), 'utf8'));
    expect(journal).toMatchObject({ master: MASTER, outcome: 'verified' });
    expect(readFileSync(journal.logPath, 'utf8')).toContain('$ service sonm-optimus stop');
  });

  it('a purge with one failed plan: optimus is started again and the script never runs (exit 3)', async () => {
    const rig = upgradeRig({ purge: fixture('sonmcli/purge-one-failed.json') });
    const r = await runCli(rig, [
      'upgrade',
      '--master',
      MASTER,
      '--script-url',
      serve({ kind: 'ok', body: standInScript(rig) }),
      '--yes',
      '--wait',
      '0',
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      new RegExp(
        String.raw`the purge did not remove every ask plan \(plan f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b: ` +
          String.raw`failed to close deal 84200: deal is forward\)`,
      ),
    );
    expect(rig.tools.callsOf('service').map((c) => c.args.join(' '))).toEqual([
      'sonm-optimus stop',
      'sonm-optimus start',
    ]);
    expect(r.stdout).toContain('sonm-optimus was started again');
    expect(existsSync(join(rig.tools.dir, 'script-ran'))).toBe(false);
  });

  it(
    'the script exits 1 after a complete install (a failed image pull): verified, exit 0, ' +
      'with a warning',
    async () => {
      const rig = upgradeRig();
      const r = await runCli(rig, [
        'upgrade',
        '--master',
        MASTER,
        '--script-url',
        serve({ kind: 'ok', body: standInScript(rig, { exit: 1 }) }),
        '--yes',
        '--wait',
        '0',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/SONM's script exited 1, but the result verified/);
    },
  );

  it('the script exits 0 but the worker is still 0.4.24: exit 3, saying what is wrong', async () => {
    const rig = upgradeRig();
    const r = await runCli(rig, [
      'upgrade',
      '--master',
      MASTER,
      '--script-url',
      serve({ kind: 'ok', body: standInScript(rig, { install: false }) }),
      '--yes',
      '--wait',
      '0',
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /the upgrade did not verify: sonm-worker is still 0\.4\.24 \(target 0\.4\.25\)/,
    );
    expect(r.stderr).toMatch(/the running worker is still v0\.4\.24-8f1e3b2a/);
  });

  it('already on the target with every service active: exit 0, nothing touched; --force runs anyway', async () => {
    const rig = upgradeRig({
      versions: fixture('dpkg/all-0.4.25.txt'),
      status: fixture('sonmcli/worker-status-connected.json'),
    });
    const url = serve({ kind: 'ok', body: standInScript(rig) });
    const r = await runCli(rig, [
      'upgrade',
      '--master',
      MASTER,
      '--script-url',
      url,
      '--yes',
      '--wait',
      '0',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/nothing to do/);
    expect(changed(rig)).toEqual(nothingChanged);
    const forced = await runCli(rig, [
      'upgrade',
      '--master',
      MASTER,
      '--script-url',
      url,
      '--yes',
      '--wait',
      '0',
      '--force',
    ]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(changed(rig)).toEqual({ stopped: 1, purged: 1, scriptRan: true });
  });

  it('interrupted during the script (SIGKILL): a second run carries on without stopping or purging again', async () => {
    const rig = upgradeRig();
    const slow = serve({ kind: 'ok', body: standInScript(rig, { sleep: 30, install: false }) });
    const [cmd, ...pre] = agentArgv();
    const child = spawn(
      cmd!,
      [...pre, 'upgrade', '--master', MASTER, '--script-url', slow, '--yes', '--wait', '0'],
      { env: rig.env, stdio: 'ignore', detached: true },
    );
    const marker = join(rig.tools.dir, 'script-ran');
    // Wait for the event (the script has started, or the agent has exited), however long a
    // busy machine takes; the test's own timeout bounds it.
    while (!existsSync(marker) && child.exitCode === null)
      await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(marker)).toBe(true);
    process.kill(-child.pid!, 'SIGKILL'); // the agent and the script with it
    await new Promise((r) => child.on('exit', r));
    const journal = JSON.parse(readFileSync(join(rig.stateDir, 'upgrade', 'journal.json'), 'utf8'));
    expect(journal.finishedAt).toBeUndefined();
    expect(journal.steps.purge.ok).toBe(true);
    const before = changed(rig);
    expect(before).toMatchObject({ stopped: 1, purged: 1 });
    const r = await runCli(rig, [
      'upgrade',
      '--master',
      MASTER,
      '--script-url',
      serve({ kind: 'ok', body: standInScript(rig) }),
      '--yes',
      '--wait',
      '0',
    ]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/resuming the upgrade started/);
    expect(changed(rig)).toMatchObject({ stopped: 1, purged: 1 });
    expect(r.stdout).toMatch(/stop sonm-optimus +done earlier/);
  });
});

/** `script` grown to exactly `bytes` with comment lines after its shebang (ASCII only). */
function padded(script: string, bytes: number): string {
  const [shebang, ...rest] = script.split('\n');
  const lines: string[] = [];
  // Each line adds its length plus a newline; the last may be empty.
  for (let need = bytes - Buffer.byteLength(script); need > 0; need -= Math.min(need, 80)) {
    lines.push(Math.min(need, 80) === 1 ? '' : '#'.padEnd(Math.min(need, 80) - 1, '-'));
  }
  const out = [shebang, ...lines, ...rest].join('\n');
  if (Buffer.byteLength(out) !== bytes)
    throw new Error(`padded to ${Buffer.byteLength(out)}, not ${bytes}`);
  return out;
}

describe('issue 9: any script the download accepts also runs, from its file', () => {
  it('a 600 KiB text given to `bash -c` as one argument fails with E2BIG (why the file is run)', () => {
    const r = spawnSync('bash', ['-c', padded('#!/bin/bash\nexit 0\n', 600 * 1024), '-s', MASTER]);
    expect((r.error as NodeJS.ErrnoException | undefined)?.code).toBe('E2BIG');
  });

  // 128 KiB is the first size Linux refuses as one argument (MAX_ARG_STRLEN counts the NUL);
  // 1 MiB is the largest the download check accepts. Deterministic, so each size runs once.
  it.each([
    ['128 KiB', 128 * 1024],
    ['600 KiB', 600 * 1024],
    ['1 MiB', 1024 * 1024],
  ])(
    'a %s script runs to completion: argv0 "-s", then the master, nothing after',
    async (_n, bytes) => {
      const rig = upgradeRig();
      const body = padded(standInScript(rig), bytes);
      const r = await runCli(rig, [
        'upgrade',
        '--master',
        MASTER,
        '--script-url',
        serve({ kind: 'ok', body }),
        '--yes',
        '--wait',
        '0',
      ]);
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(
        `${bytes} bytes, sha256 ${createHash('sha256').update(body).digest('hex')}`,
      );
      const [zero, one, , , uid, argc] = readFileSync(join(rig.tools.dir, 'script-ran'), 'utf8')
        .trim()
        .split('\n');
      expect({ zero, one, uid, argc }).toEqual({ zero: '-s', one: MASTER, uid: '0', argc: '1' });
      expect(r.stdout).toMatch(/Upgraded and verified/);
    },
  );
});

/** A rig from a case in test/fixtures/real-rigs/ (copied from shared/cases/real-rigs, see its README). */
function realRig(name: string): { rig: Rig; args: string[] } {
  const dir = join(FIXTURES, 'real-rigs', name);
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
  // The case's dpkg-query.stdout answers the old `${Package} ${Version}` query: every package at
  // 0.4.24, installed. The probe now asks for the status too; the same database answers that
  // query with dpkg/all-0.4.24.txt (real dpkg-query output, test/unit/probe-kinds.test.ts).
  const oldQuery = (t: string): string[] =>
    t
      .trim()
      .split('\n')
      .map((l) => l.split('\t'))
      .map(([p, , v]) => `${p} ${v}`)
      .sort();
  expect(read('dpkg-query.stdout').trim().split('\n').sort()).toEqual(
    oldQuery(fixture('dpkg/all-0.4.24.txt')),
  );
  const rig = upgradeRig({
    askPlans: read('sonmcli.ask-plan-list.json'),
    deal: read('sonmcli.deal-status.json'),
    versions: fixture('dpkg/all-0.4.24.txt'),
  });
  const etc = rig.env.SONM_REWARDS_SONM_CONFIG_DIR!;
  for (const f of readdirSync(join(dir, 'etc-sonm')))
    copyFileSync(join(dir, 'etc-sonm', f), join(etc, f));
  return { rig, args: read('args.txt').trim().split(/\s+/) };
}

describe('issue 8: deals, not plans', () => {
  it('real rig: a spot deal on a 24 h ask plan is no forward deal; the run stops at the closed port', async () => {
    const { rig, args } = realRig('upgrade-spot-deal-on-timed-plan');
    const r = await runCli(rig, args);
    expect(r.stderr).not.toMatch(/forward/);
    expect(
      rig.tools.callsOf('sonmcli').some((c) => c.args.join(' ').startsWith('deal status 84300')),
    ).toBe(true);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /cannot fetch http:\/\/127\.0\.0\.1:9\/sonm-auto-deploy-supplier\.sh.*Nothing was changed\./,
    );
    expect(changed(rig)).toEqual(nothingChanged);
  });

  it('real rig, with a script to fetch: the dry run plans to close spot deal 84300', async () => {
    const { rig, args } = realRig('upgrade-spot-deal-on-timed-plan');
    const url = serve({ kind: 'ok', body: standInScript(rig) });
    const r = await runCli(
      rig,
      args.map((a) => (a.startsWith('http://127.0.0.1:9/') ? url : a)),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('the purge will close 1 spot deal: 84300');
    expect(r.stdout).toContain(
      'deal 84300 is spot although its ask plan 3d2e6a90-1c4b-4f57-9d0e-6b1f2a3c4d5e is forward (24 h)',
    );
    expect(changed(rig)).toEqual(nothingChanged);
  });

  // Neighbours, from sonm-io/core v0.4.25 insonmnia/worker/salesman/salesman.go RemoveAskPlan:
  // a plan with an order and no deal has its order cancelled (cancelOrder), whatever the plan's
  // duration; closeDeal refuses only `DEAL_ACCEPTED && Duration != 0`, so a forward deal that
  // has closed does not stop the purge (plans outliving their closed deal: sonm-io/core#1428).
  it.each<[string, string, string, string]>([
    [
      'a 24 h plan with an order and no deal',
      'sonmcli/askplans-forward-order-only.json',
      'sonmcli/deal-forward.json',
      'the purge will cancel 1 order not yet in a deal: 1250900',
    ],
    [
      'a 24 h plan whose forward deal has closed',
      'sonmcli/askplans-forward.json',
      'sonmcli/deal-forward-closed.json',
      'the purge will remove 1 plan whose deal has closed: 84200',
    ],
  ])('%s: no refusal, the plan says what the purge does', async (_name, askPlans, deal, note) => {
    const rig = upgradeRig({ askPlans: fixture(askPlans), deal: fixture(deal) });
    const r = await runCli(rig, [
      'upgrade',
      '--master',
      MASTER,
      '--script-url',
      serve({ kind: 'ok', body: standInScript(rig) }),
      '--dry-run',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(note);
    expect(changed(rig)).toEqual(nothingChanged);
  });
});

describe('issue 9: a service may vouch for a hash, never choose the script (the real service)', () => {
  const sha = (body: string): string => createHash('sha256').update(body).digest('hex');
  async function withPlatform(platform: (url: string, body: string) => Record<string, unknown>) {
    const rig = upgradeRig();
    const body = standInScript(rig);
    const url = serve({ kind: 'ok', body });
    const svc = await startService(tempDir('svc-'), { platform: platform(url, body) });
    try {
      const r = await runCli(
        rig,
        ['upgrade', '--master', MASTER, '--script-url', url, '--dry-run'],
        {
          env: { SONM_REWARDS_SERVICE: svc.url },
        },
      );
      return { rig, r, body, svcUrl: svc.url };
    } finally {
      await svc.stop();
    }
  }

  it('a service naming another installer: never fetched, its hash not applied, ours shown', async () => {
    const evil = '#!/bin/bash\ntouch /tmp/pwned\n';
    const evilUrl = serve({ kind: 'ok', body: evil });
    const { rig, r, body, svcUrl } = await withPlatform(() => ({
      targetVersion: '0.4.25',
      installerUrl: evilUrl,
      installerSha256: sha(evil),
    }));
    expect(r.code, r.stderr).toBe(0);
    expect(hits.get(new URL(evilUrl).pathname) ?? 0).toBe(0);
    expect(r.stdout).toContain(
      `${svcUrl} names ${evilUrl} as the installer: only the announcement or --script-url`,
    );
    expect(r.stdout).toContain(`sha256 ${sha(body)} (not pinned;`);
    expect(changed(rig)).toEqual(nothingChanged);
  });

  it('a service pin for the script in use that disagrees: refused, the hash shown, nothing changed', async () => {
    const { rig, r, body, svcUrl } = await withPlatform((url) => ({
      targetVersion: '0.4.25',
      installerUrl: url,
      installerSha256: 'e'.repeat(64),
    }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `the script's SHA-256 is ${sha(body)}, but ${svcUrl} pins ${'e'.repeat(64)}: it was not run`,
    );
    expect(r.stdout).toContain(`sha256 ${sha(body)} (not run)`);
    expect(changed(rig)).toEqual(nothingChanged);
  });

  it('a service pin that agrees is shown as such', async () => {
    const { r, svcUrl } = await withPlatform((url, body) => ({
      targetVersion: '0.4.25',
      installerUrl: url,
      installerSha256: sha(body),
    }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`(pinned by ${svcUrl}, matches;`);
  });
});
