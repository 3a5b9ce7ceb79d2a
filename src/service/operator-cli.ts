/**
 * The operator's command on the service host: `sonm-rewards-service rigs list|approve|revoke` and
 * `disputes list|resolve`, on the service's own database, whether or not the service is running.
 *
 * Reads go straight to the database (WAL lets them run beside the service). Changes are queued
 * in operator_actions and applied by whoever holds `<db>.lock`, the one process that writes
 * credits and holds the GPU claims in memory: the running service applies them within a second
 * (src/service/group-commit.ts) and this command waits for its answer; with no service running,
 * the command takes the lock and applies them itself. Either way the same code applies them
 * (src/service/operator.ts), so a claim is never changed behind the service's back.
 */
import { Command, CommanderError } from 'commander';
import { LockBusyError } from '../lib/lock.js';
import { lockDatabase } from './db-lock.js';
import { builtInPrograms, parsePrograms, type Program } from '../program/definitions.js';
import { openSqliteStore, type RewardsStore } from './store.js';
import { parseHour } from './hours.js';
import { readJson, StartError } from './start-error.js';

/** How long the command waits for a running service to apply its action, in ms. */
const APPLY_WAIT_MS = 15_000;

interface Common {
  db: string;
  programs?: string;
  json?: boolean;
}

const out = (s: string): void => {
  process.stdout.write(`${s}\n`);
};

function programsFrom(o: Common): Program[] {
  try {
    return o.programs ? parsePrograms(readJson(o.programs, '--programs')) : builtInPrograms();
  } catch (e) {
    throw new StartError(
      e instanceof StartError ? e.message : `--programs ${o.programs}: ${(e as Error).message}`,
    );
  }
}

function openStore(db: string): RewardsStore {
  if (db === ':memory:') throw new StartError("--db must name the service's database file");
  try {
    return openSqliteStore(db);
  } catch (e) {
    throw new StartError(`--db ${db}: ${(e as Error).message}`);
  }
}

/** Queue an action and see it applied: by the running service, or here. Returns its outcome line. */
async function act(o: Common, action: string, args: Record<string, unknown>): Promise<string> {
  const store = openStore(o.db);
  try {
    const id = store.queueAction(action, args, new Date());
    let lock;
    try {
      lock = lockDatabase(o.db);
    } catch (e) {
      if (!(e instanceof LockBusyError)) throw e;
      return await waitForService(store, id, e.holder.pid);
    }
    try {
      store.applyActions(programsFrom(o), new Date());
    } finally {
      lock.release();
    }
    return store.actionOutcome(id) ?? 'refused: the action was not applied';
  } finally {
    store.close();
  }
}

async function waitForService(store: RewardsStore, id: number, pid: number): Promise<string> {
  const until = Date.now() + APPLY_WAIT_MS;
  for (;;) {
    const outcome = store.actionOutcome(id);
    if (outcome !== null) return outcome;
    if (Date.now() > until) {
      return (
        `refused: queued as action ${id}, but the running service (pid ${pid}) ` +
        `has not applied it within ${APPLY_WAIT_MS / 1000} s; it will when it can`
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function listRigs(o: Common & { review?: string }): void {
  if (o.review && !['pending', 'approved', 'revoked'].includes(o.review))
    throw new UsageError('--review must be pending, approved or revoked');
  const store = openStore(o.db);
  try {
    const rigs = store.rigs({ review: o.review as never });
    if (o.json) return out(JSON.stringify({ rigs }));
    if (rigs.length === 0) return out('no rigs');
    out(
      table([
        ['rig id', 'master', 'enrolled', 'review', 'held hours'],
        ...rigs.map((r) => [r.rigId, r.master, r.enrolledAt, r.review, String(r.heldHours)]),
      ]),
    );
  } finally {
    store.close();
  }
}

function listDisputes(o: Common & { all?: boolean }): void {
  const store = openStore(o.db);
  try {
    const rows = store.disputes(Boolean(o.all));
    if (o.json) return out(JSON.stringify({ disputes: rows }));
    if (rows.length === 0) return out(o.all ? 'no disputes' : 'no open disputes');
    out(
      table([
        ['hour', 'uuid', 'rig id', 'report id', 'winner'],
        ...rows.map((r) => [
          r.hour,
          r.uuid,
          r.rigId,
          r.reportId,
          r.winner ?? (r.resolvedAt ? '' : 'open'),
        ]),
      ]),
    );
  } finally {
    store.close();
  }
}

class UsageError extends Error {}

/** Print an action's outcome; exit 1 when it was refused. */
function report(outcome: string): void {
  out(outcome.replace(/^ok: /, ''));
  if (!outcome.startsWith('ok: ')) process.exitCode = 1;
}

/**
 * Run `sonm-rewards-service rigs …` or `disputes …` with `argv` (after the program name).
 * Exit codes: 0 done, 1 refused, 2 usage, 3 environment (the database cannot be opened).
 * Rules: README, "The reference rewards service" (Operators); docs/decisions.md, "Service"
 * (operator actions are queued). Throws nothing: a refused action sets process.exitCode to 1,
 * every other failure is one line on stderr and process.exit (2 usage, 3 environment).
 */
export async function operatorMain(argv: string[]): Promise<void> {
  const db = (c: Command): Command =>
    c.option('--db <file>', "the service's SQLite database", './rewards.db');
  const programs = (c: Command): Command =>
    c.option(
      '--programs <file>',
      'program definitions, as given to the service (used when no service is running)',
    );
  const root = new Command('sonm-rewards-service').exitOverride().configureOutput({
    writeErr: (s) =>
      process.stderr.write(s.startsWith('error:') ? `sonm-rewards-service: ${s}` : s),
  });
  const rigs = root.command('rigs').description('list, approve or revoke rigs');
  db(rigs.command('list').description('enrolled rigs, their review and held hours'))
    .option('--review <state>', 'only rigs in this review state: pending, approved or revoked')
    .option('--json', 'JSON output')
    .action((o) => listRigs(o));
  programs(
    db(
      rigs
        .command('approve <rigId>')
        // A rig id is base64url and starts with '-' once in 64: read it as the operand it is.
        .allowUnknownOption()
        .description('approve a rig: its held hours inside the report deadline are credited'),
    ),
  ).action(async (rigId: string, o: Common) => report(await act(o, 'approve', { rigId })));
  programs(
    db(
      rigs
        .command('revoke <rigId>')
        .allowUnknownOption() // a rig id may start with '-', as for approve
        .description('revoke a rig: none of its hours are credited from now on'),
    ),
  ).action(async (rigId: string, o: Common) => report(await act(o, 'revoke', { rigId })));
  const disputes = root
    .command('disputes')
    .description('GPU uuids that two rigs claimed in one hour');
  db(disputes.command('list').description('open disputes (--all: resolved ones too)'))
    .option('--all', 'resolved disputes too')
    .option('--json', 'JSON output')
    .action((o) => listDisputes(o));
  programs(
    db(disputes.command('resolve <hour> <uuid>').description('pay one party for the GPU-hour')),
  )
    .requiredOption('--winner <rigId>', 'the rig that is paid')
    .action(async (hour: string, uuid: string, o: Common & { winner: string }) => {
      if (parseHour(hour) === null)
        throw new UsageError(`${hour} is not an hour such as 2019-04-15T12:00:00Z`);
      report(await act(o, 'resolve', { hour, uuid, winner: o.winner }));
    });
  try {
    await root.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError)
      process.exit(e.code === 'commander.helpDisplayed' || e.code === 'commander.help' ? 0 : 2);
    if (e instanceof UsageError) {
      process.stderr.write(`sonm-rewards-service: ${e.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`sonm-rewards-service: ${(e as Error).message}\n`);
    process.exit(3);
  }
}
