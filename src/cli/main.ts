/**
 * The sonm-rewards entry point: commander wiring only. Every command returns an exit code or
 * throws a typed error; runtime.ts's finish() is the single place that maps errors to exit codes
 * and exits.
 */
import { EXIT } from '../lib/errors.js';
import type { CommandContext } from '../commands/context.js';
import type { GlobalFlags } from '../commands/settings.js';
import { AGENT_VERSION } from '../lib/agent-version.js';
import { explain, finish, isPlainTick, makeContext, runTimerTick } from './runtime.js';

const EXAMPLES = `
Examples:
  $ sonm-rewards check                      does this rig qualify, and what would it earn?
  $ sonm-rewards check --json               the same, as JSON (schema: docs/check-result.schema.json)
  $ sudo sonm-rewards upgrade --master 0x…  the announced upgrade to SONM 0.4.25, made safe
  $ sudo sonm-rewards timer install         sample every 5 minutes and report connected hours
  $ sonm-rewards status                     hours recorded, delivered and credited

Exit codes: 0 eligible / done, 1 not eligible / refused, 2 usage error, 3 failure.`;

async function run(argv: string[]): Promise<number> {
  const { Argument, Command, CommanderError } = await import('commander');
  let verboseFlag = argv.includes('--verbose');
  const program = new Command('sonm-rewards')
    .description('Eligibility, safe upgrades and signed uptime reports for the SONM elevated rewards program')
    .version(AGENT_VERSION, '--version', 'print the version')
    .option('--json', 'print JSON only on stdout')
    .option('--verbose', 'show details, the effective configuration and stack traces')
    .option('--no-color', 'no colour and no spinner')
    .option('--state-dir <dir>', 'state directory (env SONM_REWARDS_STATE_DIR; default /var/lib/sonm-rewards as root)')
    .option('--service <url>', 'rewards service URL (env SONM_REWARDS_SERVICE)')
    .option('--sonm-config-dir <dir>', "SONM's configuration directory (default /etc/sonm)")
    .option('--textfile-dir <dir>', 'write Prometheus metrics here for node_exporter (config key textfileDir)')
    .addHelpText('after', EXAMPLES)
    .showHelpAfterError('(run sonm-rewards --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s.startsWith('error:') ? `sonm-rewards: ${s}` : s) });

  let exitCode: number = EXIT.OK;
  const context = (cmd: InstanceType<typeof Command>): CommandContext => {
    const flags = cmd.optsWithGlobals() as GlobalFlags;
    verboseFlag = Boolean(flags.verbose);
    const ctx = makeContext(flags);
    if (ctx.verbose) ctx.stderr.write(`effective configuration: ${JSON.stringify(ctx.settings)}\n`);
    return ctx;
  };

  program
    .command('check')
    .description('probe this rig and say, rule by rule, whether it qualifies and what it would earn')
    .option('--programs <file>', 'evaluate against the program definitions in this JSON file')
    .option('--report', 'also send the result to the rewards service now')
    .action(async (opts, cmd) => {
      const { checkCommand } = await import('../commands/check.js');
      exitCode = await checkCommand(context(cmd), opts);
    });

  program
    .command('upgrade')
    .description("the announced upgrade to SONM 0.4.25 (stop optimus, purge ask plans, run SONM's script), made safe and verified")
    .option('--master <address>', 'your master address (0x…, EIP-55 checked)')
    .option('--dry-run', 'print the plan and the exact commands; change nothing')
    .option('--yes', 'do not ask for confirmation (required without a terminal)')
    .option('--force', 'upgrade even when everything is already at the target version')
    .option('--script-url <url>', "where to fetch SONM's autodeploy script (https, or http to loopback)")
    .option('--script-sha256 <hex>', 'refuse to run a script with another SHA-256')
    .option('--wait <duration>', 'how long to wait for the worker to come back (default 5m)')
    .option('--script-timeout <duration>', "deadline for SONM's script (default 30m)")
    .addHelpText('after', '\nExample:\n  $ sudo sonm-rewards upgrade --master 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed --dry-run')
    .action(async (opts, cmd) => {
      const { upgradeCommand } = await import('../commands/upgrade.js');
      exitCode = await upgradeCommand(context(cmd), opts);
    });

  program
    .command('report')
    .description('one tick of the timer: sample the connection, store it, deliver complete hours')
    .action(async (_opts, cmd) => {
      const { reportCommand } = await import('../commands/report.js');
      exitCode = await reportCommand(context(cmd));
    });

  program
    .command('status')
    .description('hours recorded, delivered and credited, from local state')
    .option('--days <n>', 'days of credit to show (1-30)', '7')
    .option('--proof', "print a proof bundle: every signed receipt with its report (check it with verify-proof)")
    .option('--from <date>', 'with --proof: hours from this date or time (UTC)')
    .option('--to <date>', 'with --proof: hours before this date or time (UTC)')
    .action(async (opts, cmd) => {
      const { statusCommand } = await import('../commands/status.js');
      exitCode = await statusCommand(context(cmd), opts);
    });

  program
    .command('verify-proof')
    .description("check a proof bundle offline: exit 0 if every receipt holds, 1 naming each report that does not")
    .argument('<file>', 'the bundle from `status --proof` (- for stdin)')
    .action(async (file, _opts, cmd) => {
      const { verifyProofCommand } = await import('../commands/verify-proof.js');
      exitCode = await verifyProofCommand(context(cmd), file);
    });

  program
    .command('enroll')
    .description('register this rig with the rewards service')
    .option('--master <address>', 'master address (default: the one in worker-default.yaml)')
    .option('--accept-service-key <keyId>', "confirm the service's new signing key after an announced rotation")
    .action(async (opts, cmd) => {
      const { enrollCommand } = await import('../commands/enroll.js');
      exitCode = await enrollCommand(context(cmd), opts);
    });

  program
    .command('timer')
    .description('install, remove or inspect the systemd timer that runs `report`')
    .addArgument(new Argument('<action>', 'what to do').choices(['install', 'uninstall', 'status']))
    .option('--interval <duration>', 'sampling interval, such as 5m', undefined)
    .option('--unit-dir <dir>', 'where the units go (default /etc/systemd/system)')
    .option('--dry-run', 'print the units and commands; change nothing')
    .action(async (action, opts, cmd) => {
      const { timerCommand } = await import('../commands/timer.js');
      exitCode = await timerCommand(context(cmd), action, opts);
    });

  program
    .command('configure')
    .description('set the rewards service (--service) and rig user for every run, in the config file (root)')
    .option('--rig-user <user>', 'the OS user whose ~/.sonm/cli.yaml sonmcli uses')
    .action(async (opts, cmd) => {
      const { configureCommand } = await import('../commands/configure.js');
      const service = (cmd.optsWithGlobals() as GlobalFlags).service;
      exitCode = configureCommand(context(cmd), { ...opts, service });
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.OK;
      return EXIT.USAGE; // commander has already printed one line saying what is wrong
    }
    return explain(e, verboseFlag);
  }
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  await finish(argv, () => (isPlainTick(argv) ? runTimerTick(argv) : run(argv)));
}
