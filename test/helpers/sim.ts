/**
 * In-process simulation: a command context with an injected clock whose sleep advances time,
 * the real service (buildServer + SQLite) on a loopback port with the same clock, and a proxy
 * in front of it that injects faults (500, reset, hang, 429, 400) on request.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import type { CommandContext } from '../../src/commands/context.js';
import { resolveSettings, type Settings } from '../../src/commands/settings.js';
import { buildServer } from '../../src/service/server.js';
import { loadServiceKey, type ServiceSigningKey } from '../../src/service/receipts.js';
import { openSqliteStore, type RewardsStore } from '../../src/service/store.js';
import { parsePrograms } from '../../src/program/definitions.js';
import type { RigProbe, GpuInfo, Probed } from '../../src/probe/types.js';
import { activeProgram } from './programs.js';

export class SimClock {
  constructor(public t: number) {}
  now = (): Date => new Date(this.t);
  sleep = async (ms: number): Promise<void> => {
    this.t += ms;
  };
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface Captured {
  stdout: string;
  stderr: string;
}

export function simContext(
  clock: SimClock,
  stateDir: string,
  over: Partial<Settings> = {},
  captured: Captured = { stdout: '', stderr: '' },
): CommandContext {
  const settings = {
    ...resolveSettings({}, { SONM_REWARDS_CONFIG: join(stateDir, 'no-config.json') }, true),
    stateDir,
    sonmConfigDir: join(stateDir, 'etc-sonm'),
    ...over,
  };
  return {
    settings,
    json: false,
    verbose: false,
    color: false,
    stdout: {
      write: (t) => {
        captured.stdout += t;
      },
      isTTY: false,
    },
    stderr: {
      write: (t) => {
        captured.stderr += t;
      },
      isTTY: false,
    },
    env: {},
    now: clock.now,
    sleep: clock.sleep,
    isRoot: true,
  };
}

const ok = <T>(value: T): Probed<T> => ({ ok: true, value, ms: 1 });

/** A healthy rig's probe at the clock's time, with `gpus` 1080 Ti cards and a connected worker. */
export function healthyProbe(
  clock: SimClock,
  opts: { gpus?: number; connected?: boolean; reason?: string } = {},
): RigProbe {
  const n = opts.gpus ?? 6;
  const gpus: GpuInfo[] = Array.from({ length: n }, (_, i) => ({
    index: i,
    name: 'GeForce GTX 1080 Ti',
    uuid: `GPU-sim-${i}`,
    busId: `00000000:0${i + 1}:00.0`,
    pciDeviceId: '1b06',
    pciVendorId: '10de',
    memoryMiB: 11178,
    driverVersion: '418.56',
  }));
  const connected = opts.connected ?? true;
  return {
    probedAt: clock.now().toISOString(),
    arch: ok({ machine: 'x86_64' }),
    cpu: ok({
      model: 'i5',
      physicalCores: 4,
      logicalCpus: 4,
      maxMHz: 3500,
      speedSource: 'cpufreq-max',
    }),
    memory: ok({ bytes: 16 * 2 ** 30, source: 'modules', modules: [16 * 2 ** 30] }),
    disk: ok({ path: '/', device: '/dev/sda', bytes: 120e9, model: null }),
    network: ok({ iface: 'eth0', kind: 'wired', speedMbps: 1000 }),
    nvidia: ok({ gpus, lost: [], warning: null }),
    sonmVersions: ok({
      packages: { 'sonm-worker': '0.4.25' },
      source: 'dpkg-query',
      lowest: '0.4.25',
    }),
    worker: ok({
      service: 'active',
      status: {
        uptime: 100,
        version: 'v0.4.25-dd5be502',
        ethAddr: '0x8125721C2413d99a33E351e1F6Bb4e56b6b633FD',
        master: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
        admin: null,
        isMasterConfirmed: connected,
        isBenchmarkFinished: true,
        rendezvousStatus: '1.2.3.4:14099',
        taskCount: 0,
        country: null,
      },
      statusError: null,
      connected,
      notConnectedReason: connected ? null : (opts.reason ?? 'master not confirmed'),
    }),
    market: null,
  };
}

export interface InProcessService {
  url: string;
  port: number;
  store: RewardsStore;
  close(): Promise<void>;
}

export async function startInProcessService(
  dir: string,
  clock: SimClock,
  opts: {
    skewMs?: number;
    port?: number;
    programs?: Record<string, unknown>[];
    serviceKey?: ServiceSigningKey;
  } = {},
): Promise<InProcessService> {
  const store = openSqliteStore(join(dir, `svc-${Math.random().toString(36).slice(2)}.db`));
  const programs = parsePrograms({
    programs: opts.programs ?? [activeProgram('2026-01-01T00:00:00Z')],
  });
  const now = (): Date => new Date(clock.t + (opts.skewMs ?? 0));
  const app = await buildServer({
    store,
    programs,
    demand: {},
    platform: { targetVersion: '0.4.25', installerUrl: 'x', installerSha256: null },
    now,
    logLevel: 'silent',
    serviceKey: opts.serviceKey ?? loadServiceKey(null, false),
  });
  // The service's Date header on its own (simulated) clock, as a real service's is on its real one:
  // the agent measures the service's clock from it.
  app.addHook('onSend', async (_req, reply) => {
    reply.header('date', now().toUTCString());
  });
  const address = await app.listen({ host: '127.0.0.1', port: opts.port ?? 0 });
  const port = Number(new URL(address).port);
  return {
    url: address,
    port,
    store,
    close: async () => {
      await app.close();
      store.close();
    },
  };
}

export type Fault =
  'pass' | 'reset' | 'hang' | { status: number; headers?: Record<string, string>; body?: string };

/** A proxy that asks `decide` what to do with each request, then forwards or misbehaves. */
export class FaultProxy {
  server: Server;
  requests: { method: string; url: string; body: string }[] = [];
  private sockets = new Set<Socket>();
  url = '';
  /** `clock`: the simulated time for the Date header of every answer, injected or passed on. */
  constructor(
    private target: () => string | null,
    public decide: (req: { method: string; url: string; body: string }) => Fault = () => 'pass',
    private clock: { t: number } | null = null,
  ) {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }
  async listen(port = 0): Promise<string> {
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }
  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const info = { method: req.method ?? 'GET', url: req.url ?? '/', body };
      this.requests.push(info);
      const fault = this.decide(info);
      const target = this.target();
      if (fault === 'reset' || (fault === 'pass' && !target)) {
        req.socket.destroy();
        return;
      }
      if (fault === 'hang') return; // never answer
      if (fault !== 'pass') {
        if (this.clock) {
          res.sendDate = false;
          res.setHeader('date', new Date(this.clock.t).toUTCString());
        }
        res.writeHead(fault.status, {
          'content-type': 'application/problem+json',
          ...fault.headers,
        });
        res.end(
          fault.body ??
            JSON.stringify({
              type: 'urn:test',
              title: 'fault',
              status: fault.status,
              detail: `injected ${fault.status}`,
            }),
        );
        return;
      }
      const up = httpRequest(
        `${target}${req.url}`,
        { method: req.method, headers: req.headers },
        (ures) => {
          // With a clock, the Date header is the simulated time's, as a real service's is the real time's.
          const date = this.clock ? { date: new Date(this.clock.t).toUTCString() } : {};
          res.writeHead(ures.statusCode ?? 502, { ...ures.headers, ...date });
          ures.pipe(res);
        },
      );
      up.on('error', () => req.socket.destroy());
      up.end(body);
    });
  }
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
