/**
 * The real reference service for tests: the built binary on a free loopback port with its own
 * SQLite file, and a test rig that signs requests with the project's own signing code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { ROOT } from './rig.js';
import { FakeClockFile } from './fake-clock.js';
import { httpRequest, type HttpResponse } from '../../src/lib/http.js';
import { signRequest } from '../../src/protocol/signing.js';
import { rawPublicKey, rigIdFromPublicKey } from '../../src/protocol/ids.js';
import { reportIdFor } from '../../src/protocol/report-id.js';
import type { HourlyReport } from '../../src/protocol/types.js';
import { HOUR_MS } from '../../src/lib/time.js';
import { FaultProxy } from './sim.js';

export interface RunningService {
  url: string;
  proc: ChildProcess;
  dbPath: string;
  stderr: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startService(
  dir: string,
  opts: {
    programs?: Record<string, unknown>[];
    demand?: Record<string, number>;
    platform?: Record<string, unknown>;
    dbPath?: string;
    extraArgs?: string[];
    prefix?: string[];
    env?: Record<string, string>;
    dateFromClock?: boolean;
  } = {},
): Promise<RunningService> {
  const dbPath = opts.dbPath ?? join(dir, 'rewards.db');
  // With dateFromClock, an address given with --listen is the proxy's; the service takes any port.
  const given = opts.extraArgs?.indexOf('--listen') ?? -1;
  const frontPort =
    opts.dateFromClock && given >= 0 ? Number(opts.extraArgs![given + 1]!.split(':').pop()) : 0;
  const extra = frontPort
    ? opts.extraArgs!.filter((_, k) => k !== given && k !== given + 1)
    : (opts.extraArgs ?? []);
  const args = ['--listen', '127.0.0.1:0', '--db', dbPath, '--log-level', 'warn', ...extra];
  // Each input file: written as JSON into `dir`, then passed by its flag.
  const fileArg = (flag: string, name: string, value: unknown): void => {
    const p = join(dir, name);
    writeFileSync(p, JSON.stringify(value));
    args.push(flag, p);
  };
  // A fresh name each start: a restarted service may be given other programs.
  const programsName = `programs-${Date.now()}-${Math.random().toString(36).slice(2)}.json`;
  if (opts.programs) fileArg('--programs', programsName, { programs: opts.programs });
  if (opts.demand) fileArg('--demand', 'demand.json', opts.demand);
  if (opts.platform) fileArg('--platform', 'platform.json', opts.platform);
  const argv = [
    ...(opts.prefix ?? []),
    process.execPath,
    join(ROOT, 'bin', 'sonm-rewards-service.js'),
    ...args,
  ];
  const proc = spawn(argv[0]!, argv.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', ...opts.env },
  });
  let err = '';
  proc.stderr!.on('data', (d) => {
    err += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`service did not start: ${err}`)), 20_000);
    proc.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl).trim());
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited ${code}: ${err}`));
    });
  });
  // Under libfaketime, Node's cached Date header lags the fake clock by up to a real second,
  // minutes or hours of fake time when ticks are milliseconds apart; the agent reads the service's
  // clock from that header. With `dateFromClock`, a proxy dates every answer at the clock file's
  // time instead (the service's own address then stays behind the proxy).
  const clockFile = opts.dateFromClock ? opts.env?.FAKETIME_TIMESTAMP_FILE : undefined;
  const proxy = clockFile
    ? new FaultProxy(() => url, undefined, {
        get t() {
          return fakeClockTime(clockFile);
        },
      })
    : null;
  const front = proxy ? await proxy.listen(frontPort) : url;
  return {
    url: front,
    proc,
    dbPath,
    stderr: () => err,
    async stop(signal = 'SIGTERM') {
      await proxy?.close();
      return new Promise((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) {
          resolve(proc.exitCode);
          return;
        }
        proc.once('exit', (code) => resolve(code));
        proc.kill(signal);
      });
    },
  };
}

/** The time in a libfaketime timestamp file ("@2026-06-01 10:00:20"), in ms since the epoch. */
function fakeClockTime(file: string): number {
  const m = /^@(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)/.exec(readFileSync(file, 'utf8'));
  return m ? Date.parse(`${m[1]}T${m[2]}Z`) : Date.now();
}

/** A rig identity living only in the test, signing with the project's RFC 9421 code. */
export class TestRig {
  readonly privateKey: KeyObject;
  readonly publicKey: string;
  readonly rigId: string;
  seq = 0;
  /** The time this rig signs with and checks at (epoch ms): the fake clock's, when the service runs on one. */
  now: () => number = () => Date.now();
  constructor(readonly url: string) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    this.privateKey = privateKey;
    this.publicKey = rawPublicKey(publicKey);
    this.rigId = rigIdFromPublicKey(this.publicKey);
  }

  async send(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    tweak: {
      created?: number;
      keyid?: string;
      key?: KeyObject;
      rawBody?: string;
      headers?: Record<string, string>;
      signUrl?: string;
      signMethod?: string;
      unsigned?: boolean;
    } = {},
  ): Promise<HttpResponse & { json: any }> {
    const text = tweak.rawBody ?? (body === undefined ? undefined : JSON.stringify(body));
    const created = tweak.created ?? Math.floor(this.now() / 1000);
    const signed = tweak.unsigned
      ? {}
      : signRequest({
          method: tweak.signMethod ?? method,
          url: tweak.signUrl ?? `${this.url}${path}`,
          body: text,
          privateKey: tweak.key ?? this.privateKey,
          keyid: tweak.keyid ?? this.rigId,
          created,
        });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      ...signed,
      ...tweak.headers,
    };
    if (text === undefined) delete headers['content-type'];
    const res = await httpRequest(`${this.url}${path}`, {
      method,
      headers,
      body: text,
      timeoutMs: 10_000,
    });
    let json: any = null;
    try {
      json = JSON.parse(res.body);
    } catch {
      json = null;
    }
    return { ...res, json };
  }

  /** Enrol, then (unless `verdict` is false) send a verdict listing this rig's own two GPUs, as the agent does. */
  async enroll(master = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', verdict = true) {
    const r = await this.send('POST', '/v1/rigs', {
      publicKey: this.publicKey,
      masterAddress: master,
      workerAddress: null,
      agentVersion: 'test',
      hardware: {},
    });
    if (verdict && (r.status === 201 || r.status === 200)) {
      const v = await this.verdict();
      if (v.status !== 204)
        throw new Error(`verdict answered ${v.status}: ${JSON.stringify(v.json)}`);
    }
    return r;
  }

  /** Send an eligibility verdict (the shape of check --json that the service reads) listing `gpus` as qualifying. */
  verdict(
    gpus: { uuid: string; pciDeviceId: string }[] = this.gpus(),
    over: { checkedAt?: string; qualifies?: boolean } = {},
  ) {
    return this.send('POST', '/v1/eligibility', {
      schemaVersion: 1,
      checkedAt: over.checkedAt ?? new Date(this.now()).toISOString(),
      eligible: over.qualifies ?? true,
      programs: [{ id: 'test-program', qualifies: over.qualifies ?? true }],
      gpus: gpus.map((g, index) => ({
        index,
        name: 'NVIDIA GeForce GTX 1080 Ti',
        model: 'GTX 1080 Ti',
        busId: null,
        memoryMiB: 11264,
        qualifying: true,
        ...g,
      })),
    });
  }

  /** This rig's own GPUs, as its reports list them. */
  gpus(
    n = 2,
    pciDeviceId = '1b06',
  ): { uuid: string; pciDeviceId: string; model: string; qualifying: boolean }[] {
    return Array.from({ length: n }, (_, i) => ({
      uuid: `GPU-${this.rigId}-${i}`,
      pciDeviceId,
      model: 'GTX 1080 Ti',
      qualifying: true,
    }));
  }

  report(hour: string, over: Partial<HourlyReport> = {}): HourlyReport {
    return {
      reportId: reportIdFor(this.rigId, hour),
      rigId: this.rigId,
      hour,
      intervalSeconds: 300,
      samples: 12,
      connectedSamples: 12,
      minQualifyingGpus: 2,
      gpus: this.gpus(),
      workerAddress: null,
      sonmVersion: '0.4.25',
      agentVersion: 'test',
      seq: ++this.seq,
      ...over,
    };
  }
}

/**
 * The service on a fake clock (libfaketime, test/helpers/fake-clock.ts) that starts `hoursBack`
 * hours ago, so rigs can enrol and send verdicts in the past; `present()` moves it to now.
 */
export async function startServiceInPast(
  dir: string,
  hoursBack: number,
  opts: Parameters<typeof startService>[1] = {},
): Promise<RunningService & { clock: FakeClockFile; present(): void; at(): number }> {
  const clock = new FakeClockFile(join(dir, `clock-${Math.random().toString(36).slice(2)}`));
  let at = Math.floor(Date.now() / 1000) * 1000 - hoursBack * 3_600_000;
  clock.set(at);
  const svc = await startService(dir, { ...opts, env: { ...opts.env, ...clock.env() } });
  return Object.assign(svc, {
    clock,
    present() {
      at = Math.floor(Date.now() / 1000) * 1000;
      clock.set(at);
    },
    at: () => at,
  });
}

/** The start of the UTC hour `n` hours before now. */
export function hoursAgo(n: number, now = Date.now()): string {
  return `${new Date(Math.floor(now / HOUR_MS) * HOUR_MS - n * HOUR_MS).toISOString().slice(0, 13)}:00:00Z`;
}

export async function metric(url: string, name: string): Promise<number> {
  const r = await httpRequest(`${url}/metrics`, { timeoutMs: 5000 });
  const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(r.body);
  return m ? Number(m[1]) : NaN;
}
