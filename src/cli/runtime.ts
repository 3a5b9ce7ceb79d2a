/**
 * What every run of the agent shares: the command context, the mapping of typed errors to exit
 * codes, the one exit, and the timer's fast path. Kept apart from main.ts (commander and every
 * command) so that the 5-minute tick can be bundled without them (see src/cli/tick.ts).
 */
import { CliError, EXIT } from '../lib/errors.js';
import type { CommandContext } from '../commands/context.js';
import { resolveSettings, type GlobalFlags } from '../commands/settings.js';

function write(stream: NodeJS.WriteStream) {
  return { write: (t: string) => void stream.write(t), isTTY: Boolean(stream.isTTY) };
}

/**
 * The context of one run from the parsed global flags and this process: the effective
 * settings (resolveSettings; throws its UsageError), colour only on a terminal without
 * NO_COLOR/--no-color/--json, a confirm() only when stdin and stdout are terminals.
 */
export function makeContext(flags: GlobalFlags): CommandContext {
  const isRoot = process.getuid?.() === 0;
  const settings = resolveSettings(flags, process.env, isRoot);
  const color =
    flags.color !== false && !process.env.NO_COLOR && Boolean(process.stdout.isTTY) && !flags.json;
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  return {
    settings,
    json: Boolean(flags.json),
    verbose: Boolean(flags.verbose),
    color,
    stdout: write(process.stdout),
    stderr: write(process.stderr),
    env: process.env,
    now: () => new Date(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    isRoot,
    confirm: interactive
      ? async (q) => {
          const { createInterface } = await import('node:readline/promises'); // only upgrade asks
          const rl = createInterface({ input: process.stdin, output: process.stdout });
          try {
            return /^y(es)?$/i.test((await rl.question(`${q} [y/N] `)).trim());
          } finally {
            rl.close();
          }
        }
      : undefined,
  };
}

/** Print one line for an error and return its exit code (with the stack only under --verbose). */
export function explain(e: unknown, verboseFlag: boolean): number {
  if (e instanceof CliError) {
    process.stderr.write(`sonm-rewards: ${e.message}\n`);
    if (verboseFlag && e.stack) process.stderr.write(`${e.stack}\n`);
    return e.exitCode;
  }
  const err = e as Error;
  process.stderr.write(
    `sonm-rewards: ${err?.message ?? String(e)}${verboseFlag ? '' : ' (run with --verbose for details)'}\n`,
  );
  if (verboseFlag && err?.stack) process.stderr.write(`${err.stack}\n`);
  return EXIT.FAILURE;
}

/**
 * The timer's tick (argv as src/cli/plain-tick.ts's isPlainTick accepts it): the flags are
 * read without commander. Returns `report`'s exit code.
 */
export async function runTimerTick(argv: string[]): Promise<number> {
  const flags: GlobalFlags = {
    verbose: argv.includes('--verbose'),
    json: argv.includes('--json'),
    color: !argv.includes('--no-color'),
  };
  const ctx = makeContext(flags);
  if (ctx.verbose) ctx.stderr.write(`effective configuration: ${JSON.stringify(ctx.settings)}\n`);
  const { reportCommand } = await import('../commands/report.js');
  return reportCommand(ctx);
}

/** Run, map errors to an exit code, and exit: the one place the agent exits. */
export async function finish(argv: string[], body: () => Promise<number>): Promise<void> {
  let code: number;
  try {
    code = await body();
  } catch (e) {
    code = explain(e, argv.includes('--verbose'));
  }
  if (argv.includes('--verbose')) {
    const cpu = process.cpuUsage();
    process.stderr.write(
      `cpu: ${Math.round(cpu.user / 1000)} ms user, ` +
        `${Math.round(cpu.system / 1000)} ms system (this process), ` +
        `peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB\n`,
    );
  }
  // Exit explicitly: an abandoned, unkillable child must not keep the agent alive.
  process.stdout.write('', () => process.exit(code));
}
