/**
 * The sonm-rewards entry point: commander wiring only. The commands, their options and their
 * types are data in src/commands/table.ts; this file turns that table into commander's parser.
 * Every command returns an exit code or throws a typed error; runtime.ts's finish() is the single
 * place that maps errors to exit codes and exits.
 *
 * Adding a command or a flag is one entry in src/commands/table.ts; nothing changes here.
 * bin/sonm-rewards.cjs answers `--version` and the timer's plain tick (src/cli/plain-tick.ts)
 * before this file is loaded.
 */
import type { Command as CommanderCommand } from 'commander';
import { EXIT } from '../lib/errors.js';
import type { CommandContext } from '../commands/context.js';
import type { GlobalFlags } from '../commands/settings.js';
import {
  COMMANDS,
  GLOBAL_OPTIONS,
  type CommandDef,
  type OptionsDef,
  type OptionValues,
} from '../commands/table.js';
import { AGENT_VERSION } from '../lib/agent-version.js';
import { isPlainTick } from './plain-tick.js';
import { explain, finish, makeContext, runTimerTick } from './runtime.js';

const DESCRIPTION =
  'Eligibility, safe upgrades and signed uptime reports for the SONM elevated rewards program';

const EXAMPLES = `
Examples:
  $ sonm-rewards check                      does this rig qualify, and what would it earn?
  $ sonm-rewards check --json               the same, as JSON (schema: docs/check-result.schema.json)
  $ sudo sonm-rewards upgrade --master 0x…  the announced upgrade to SONM 0.4.25, made safe
  $ sudo sonm-rewards timer install         sample every 5 minutes and report connected hours
  $ sonm-rewards status                     hours recorded, delivered and credited

Exit codes: 0 eligible / done, 1 not eligible / refused, 2 usage error, 3 failure.`;

/** `stateDir` → `--state-dir`. */
function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Declare the options of one table entry (or the global ones) on a commander command. */
function addOptions(cmd: CommanderCommand, options: OptionsDef): void {
  for (const [key, o] of Object.entries(options)) {
    const name = flagName(key);
    if (o.type === 'string') cmd.option(`--${name} ${o.value}`, o.description, o.default);
    else if (o.type === 'boolean') cmd.option(`--${name}`, o.description);
    else cmd.option(`--no-${name}`, o.description);
  }
}

async function run(argv: string[]): Promise<number> {
  const { Argument, Command, CommanderError } = await import('commander');
  let verboseFlag = argv.includes('--verbose');
  const program = new Command('sonm-rewards')
    .description(DESCRIPTION)
    .version(AGENT_VERSION, '--version', 'print the version');
  addOptions(program, GLOBAL_OPTIONS);
  program
    .addHelpText('after', EXAMPLES)
    .showHelpAfterError('(run sonm-rewards --help for usage)')
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s.startsWith('error:') ? `sonm-rewards: ${s}` : s),
    });

  const context = (cmd: CommanderCommand): CommandContext => {
    const flags = cmd.optsWithGlobals<GlobalFlags>();
    verboseFlag = Boolean(flags.verbose);
    const ctx = makeContext(flags);
    if (ctx.verbose) ctx.stderr.write(`effective configuration: ${JSON.stringify(ctx.settings)}\n`);
    return ctx;
  };

  let exitCode: number = EXIT.OK;
  const declare = (def: CommandDef): void => {
    const cmd = program.command(def.name).description(def.description);
    for (const o of def.operands ?? []) {
      const operand = new Argument(`<${o.name}>`, o.description);
      cmd.addArgument(o.choices ? operand.choices(o.choices) : operand);
    }
    addOptions(cmd, def.options);
    if (def.example) cmd.addHelpText('after', `\nExample:\n  ${def.example}`);
    cmd.action(async () => {
      const runner = await def.load();
      // The command's own options and the global ones (configure reads --service).
      const options = cmd.optsWithGlobals<OptionValues<OptionsDef>>();
      exitCode = await runner(context(cmd), options, cmd.processedArgs as string[]);
    });
  };
  COMMANDS.forEach(declare);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      const shown = ['commander.helpDisplayed', 'commander.version', 'commander.help'];
      // commander has already printed the help, the version, or one line saying what is wrong.
      return shown.includes(e.code) ? EXIT.OK : EXIT.USAGE;
    }
    return explain(e, verboseFlag);
  }
}

/**
 * Run the agent for argv (without node and the script) and exit the process with the command's
 * exit code (README "Exit codes"). Never returns normally; never throws.
 */
export async function main(argv = process.argv.slice(2)): Promise<void> {
  await finish(argv, () => (isPlainTick(argv) ? runTimerTick(argv) : run(argv)));
}
