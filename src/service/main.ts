/** sonm-rewards-service: the reference rewards service's entry point. */
import { LockBusyError, type Lock } from '../lib/lock.js';
import { lockDatabase } from './db-lock.js';
import { Command, CommanderError } from 'commander';
import { builtInPrograms, parsePrograms, type Program } from '../program/definitions.js';
import { openSqliteStore } from './store.js';
import { WorkerIngestor } from './ingest-worker.js';
import { ANNOUNCED_INSTALLER, buildServer, DEFAULT_LIMITS, type PlatformInfo } from './server.js';
import { readJson, StartError } from './start-error.js';
import { operatorMain } from './operator-cli.js';
import { loadServiceKey, ServiceKeyError } from './receipts.js';

/**
 * The binary: `sonm-rewards-service [options]` runs the service; `rigs …` and `disputes …` are
 * the operator's command (src/service/operator-cli.ts). Exits 2 on bad arguments, 3 when the
 * environment fails (README, "The reference rewards service"). `argv`: the arguments after the
 * program name. Throws nothing in practice: every failure is one line on stderr and
 * process.exit (2 for bad arguments and StartError, 3 otherwise); only an error other than
 * CommanderError out of argument parsing is rethrown. Resolves once the service listens.
 */
export async function main(argv = process.argv.slice(2)): Promise<void> {
  if (argv[0] === 'rigs' || argv[0] === 'disputes') return operatorMain(argv);
  // Requests signed before this process began may have been seen by the one before it.
  const startedAt = new Date(Date.now() - process.uptime() * 1000);
  const cmd = new Command('sonm-rewards-service')
    .description(
      'The reference SONM rewards service: verifies signed uptime reports and credits connected GPU-hours',
    )
    .option(
      '--listen <host:port>',
      'address to listen on (port 0 picks a free one)',
      '127.0.0.1:8080',
    )
    .option('--db <file>', 'SQLite database', './rewards.db')
    .option('--programs <file>', 'program definitions (default: the built-in first program)')
    .option('--demand <file>', 'GPUs wanted per model, e.g. {"GTX 1080 Ti": 400}')
    .option(
      '--platform <file>',
      '{targetVersion, installerUrl, installerSha256} served at /v1/platform',
    )
    .option(
      '--service-key <file>',
      'Ed25519 key (PKCS#8 PEM) that signs receipts (default <db>.service-key, made on first start)',
    )
    .option('--public-url <url>', 'the URL clients use, when behind a proxy (signatures cover it)')
    .option('--log-level <level>', 'pino log level (silent to disable)', 'info')
    .option(
      '--request-timeout <ms>',
      'longest a request may take to arrive, headers and body',
      String(DEFAULT_LIMITS.requestTimeoutMs),
    )
    .option(
      '--connections-per-address <n>',
      'open connections allowed from one IP address (raise it behind a proxy)',
      String(DEFAULT_LIMITS.connectionsPerAddress),
    )
    .option(
      '--synchronous <mode>',
      'SQLite durability: full (survives power loss) or normal (survives a crash of the service)',
      'full',
    )
    .exitOverride()
    .configureOutput({
      writeErr: (s) =>
        process.stderr.write(s.startsWith('error:') ? `sonm-rewards-service: ${s}` : s),
    });
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError)
      process.exit(e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2);
    throw e;
  }
  const o = cmd.opts<{
    listen: string;
    db: string;
    programs?: string;
    demand?: string;
    platform?: string;
    publicUrl?: string;
    logLevel: string;
    synchronous: string;
    requestTimeout: string;
    connectionsPerAddress: string;
    serviceKey?: string;
  }>();
  try {
    const m = /^(.*):(\d+)$/.exec(o.listen);
    if (!m)
      throw new StartError(`--listen ${o.listen}: expected host:port, such as 127.0.0.1:8080`);
    let programs: Program[];
    try {
      programs = o.programs ? parsePrograms(readJson(o.programs, '--programs')) : builtInPrograms();
    } catch (e) {
      throw new StartError(
        e instanceof StartError ? e.message : `--programs ${o.programs}: ${(e as Error).message}`,
      );
    }
    const demand = o.demand ? (readJson(o.demand, '--demand') as Record<string, number>) : {};
    const platform: PlatformInfo = o.platform
      ? (readJson(o.platform, '--platform') as PlatformInfo)
      : { targetVersion: '0.4.25', installerUrl: ANNOUNCED_INSTALLER, installerSha256: null };
    if (o.synchronous !== 'full' && o.synchronous !== 'normal')
      throw new StartError(`--synchronous must be full or normal, got ${o.synchronous}`);
    const limits = {
      requestTimeoutMs: Number(o.requestTimeout),
      connectionsPerAddress: Number(o.connectionsPerAddress),
    };
    if (!Number.isInteger(limits.requestTimeoutMs) || limits.requestTimeoutMs < 100)
      throw new StartError('--request-timeout must be a whole number of ms, at least 100');
    if (!Number.isInteger(limits.connectionsPerAddress) || limits.connectionsPerAddress < 1)
      throw new StartError('--connections-per-address must be a whole number, at least 1');
    // One process writes a database: the ingest worker keeps the GPU claims in memory, so a
    // second service on the same file could pay a uuid twice (docs/decisions.md).
    let lock: Lock | null = null;
    if (o.db !== ':memory:') {
      try {
        lock = lockDatabase(o.db);
      } catch (e) {
        if (!(e instanceof LockBusyError)) throw e;
        throw new StartError(
          `--db ${o.db} is in use by another sonm-rewards-service ` +
            `(pid ${e.holder.pid}, since ${e.holder.since}); run one service per database`,
        );
      }
    }
    let serviceKey;
    try {
      serviceKey = loadServiceKey(
        o.serviceKey ?? (o.db === ':memory:' ? null : `${o.db}.service-key`),
        !o.serviceKey,
      );
    } catch (e) {
      if (!(e instanceof ServiceKeyError)) throw e;
      lock?.release();
      throw new StartError(e.message);
    }
    let store;
    try {
      store = openSqliteStore(o.db, o.synchronous);
    } catch (e) {
      lock?.release();
      throw new Error(`--db ${o.db}: ${(e as Error).message}`);
    }
    // Reports are ingested on a worker thread with its own connection; everything else here.
    // (An in-memory database cannot be shared between connections: it stays on this thread.)
    // A service whose writer has died cannot store a report: exit, for the supervisor to restart it.
    const ingestor =
      o.db === ':memory:'
        ? undefined
        : new WorkerIngestor({
            dbPath: o.db,
            synchronous: o.synchronous,
            programs,
            now: () => new Date(),
            onDeath: (e) => {
              process.stderr.write(
                `sonm-rewards-service: the ingest worker died (${e.message}); exiting\n`,
              );
              lock?.release();
              process.exit(3);
            },
          });
    const app = await buildServer({
      store,
      programs,
      demand,
      platform,
      publicUrl: o.publicUrl,
      logLevel: o.logLevel,
      ingestor,
      limits,
      startedAt,
      serviceKey,
    });
    app.log.info({ keyId: serviceKey.keyId }, 'receipts are signed with this service key');
    // Signal handlers first: a supervisor may send SIGTERM the moment it reads the URL line.
    let closing = false;
    const stop = (signal: string): void => {
      if (closing) return;
      closing = true;
      app.log.info({ signal }, 'shutting down');
      app.close().then(
        () => {
          store.close();
          lock?.release();
          process.exit(0);
        },
        () => {
          lock?.release();
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    const host = m[1]!.replace(/^\[|\]$/g, '');
    const address = await app.listen({ host, port: Number(m[2]) });
    process.stdout.write(`${address}\n`);
  } catch (e) {
    process.stderr.write(`sonm-rewards-service: ${(e as Error).message}\n`);
    process.exit(e instanceof StartError ? 2 : 3);
  }
}
