/**
 * Every command of `sonm-rewards`, as data: its name, description, options with their types and
 * a lazy loader (the pattern of unjs/citty's `defineCommand`, see docs/style.md). src/cli/main.ts
 * turns this table into commander's parser; each command module takes the type of its options
 * from here (`OptionValues<typeof CHECK.options>`), so a flag and its type are written once, and
 * the compiler rejects a runner that reads a flag its entry does not declare.
 *
 * To add a flag: one line in the command's `options` (the key is the camelCase name; the flag is
 * its kebab-case form: `scriptUrl` → `--script-url`). Its value reaches the runner typed.
 * To add a command: one spec below (`defineSpec({...})`), one `command(SPEC, loader)` line in
 * COMMANDS, and its runner in src/commands/<name>.ts taking `(ctx, options, operands)`.
 *
 * The loaders are dynamic imports: a run loads only the command it runs. The timer's `report`
 * tick never loads this table (src/cli/plain-tick.ts decides; src/cli/tick.ts runs it).
 */
import type { CommandContext } from './context.js';

/** `--<name> <value>`: a string, or undefined when not given (unless a default is set). */
export interface StringOption {
  type: 'string';
  /** The placeholder shown in --help, such as `<dir>`. */
  value: string;
  description: string;
  default?: string;
}
/** `--<name>`: true when given, undefined otherwise. */
export interface BooleanOption {
  type: 'boolean';
  description: string;
}
/** `--no-<name>`: false when given, true otherwise (commander's negatable flag). */
export interface NegatedOption {
  type: 'negated';
  description: string;
}
export type OptionDef = StringOption | BooleanOption | NegatedOption;
export type OptionsDef = Readonly<Record<string, OptionDef>>;

/** The values a runner receives for the options `O` declares: strings for string options. */
export type OptionValues<O extends OptionsDef> = {
  [K in keyof O]?: O[K] extends StringOption ? string : boolean;
};

/** A positional argument, such as timer's `<action>`. */
export interface OperandDef {
  name: string;
  description: string;
  /** The only values accepted; anything else is a usage error (exit 2). */
  choices?: readonly string[];
}

/** What a command is, without its code. */
export interface CommandSpec<O extends OptionsDef = OptionsDef> {
  name: string;
  description: string;
  options: O;
  operands?: readonly OperandDef[];
  /** Shown after the command's --help. */
  example?: string;
}

/**
 * A command's code: the context, its typed options together with the global flags (commander's
 * optsWithGlobals), and its operands in the order the spec declares them; the exit code out
 * (0 ok, 1 not eligible/refused/failed; README "Exit codes"). It throws the typed errors of
 * src/lib/errors.ts for the other codes.
 */
export type Runner<O extends OptionsDef> = (
  ctx: CommandContext,
  options: OptionValues<O> & OptionValues<typeof GLOBAL_OPTIONS>,
  operands: readonly string[],
) => number | Promise<number>;

/** A table entry: the spec and the loader of its runner. */
export interface CommandDef extends CommandSpec {
  load(): Promise<Runner<OptionsDef>>;
}

/**
 * Declare a spec, keeping its literal option types (`const`) so `OptionValues` can read them.
 * Returns the spec unchanged.
 */
export function defineSpec<const O extends OptionsDef>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec;
}

/**
 * Join a spec to the loader of its runner. The compiler checks here that the runner takes
 * exactly the options the spec declares. Returns the table entry.
 */
export function command<O extends OptionsDef>(
  spec: CommandSpec<O>,
  load: () => Promise<Runner<O>>,
): CommandDef {
  // The one widening: main.ts builds the parser from this same spec, so what commander hands
  // over has the shape OptionValues<O> describes.
  return { ...spec, load: load as () => Promise<Runner<OptionsDef>> };
}

/** Options every command accepts (before or after the command's name). */
export const GLOBAL_OPTIONS = {
  json: { type: 'boolean', description: 'print JSON only on stdout' },
  verbose: {
    type: 'boolean',
    description: 'show details, the effective configuration and stack traces',
  },
  color: { type: 'negated', description: 'no colour and no spinner' },
  stateDir: {
    type: 'string',
    value: '<dir>',
    description:
      'state directory (env SONM_REWARDS_STATE_DIR; default /var/lib/sonm-rewards as root)',
  },
  service: {
    type: 'string',
    value: '<url>',
    description: 'rewards service URL (env SONM_REWARDS_SERVICE)',
  },
  sonmConfigDir: {
    type: 'string',
    value: '<dir>',
    description: "SONM's configuration directory (default /etc/sonm)",
  },
  textfileDir: {
    type: 'string',
    value: '<dir>',
    description: 'write Prometheus metrics here for node_exporter (config key textfileDir)',
  },
} as const satisfies OptionsDef;

export const CHECK = defineSpec({
  name: 'check',
  description: 'probe this rig and say, rule by rule, whether it qualifies and what it would earn',
  options: {
    programs: {
      type: 'string',
      value: '<file>',
      description: 'evaluate against the program definitions in this JSON file',
    },
    report: { type: 'boolean', description: 'also send the result to the rewards service now' },
  },
});

export const UPGRADE = defineSpec({
  name: 'upgrade',
  description:
    'the announced upgrade to SONM 0.4.25 (stop optimus, purge ask plans, ' +
    "run SONM's script), made safe and verified",
  options: {
    master: {
      type: 'string',
      value: '<address>',
      description: 'your master address (0x…, EIP-55 checked)',
    },
    dryRun: {
      type: 'boolean',
      description: 'print the plan and the exact commands; change nothing',
    },
    yes: {
      type: 'boolean',
      description: 'do not ask for confirmation (required without a terminal)',
    },
    force: {
      type: 'boolean',
      description: 'upgrade even when everything is already at the target version',
    },
    scriptUrl: {
      type: 'string',
      value: '<url>',
      description: "where to fetch SONM's autodeploy script (https, or http to loopback)",
    },
    scriptSha256: {
      type: 'string',
      value: '<hex>',
      description: 'refuse to run a script with another SHA-256',
    },
    wait: {
      type: 'string',
      value: '<duration>',
      description: 'how long to wait for the worker to come back (default 5m)',
    },
    scriptTimeout: {
      type: 'string',
      value: '<duration>',
      description: "deadline for SONM's script (default 30m)",
    },
  },
  example:
    '$ sudo sonm-rewards upgrade --master 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed --dry-run',
});

export const REPORT = defineSpec({
  name: 'report',
  description: 'one tick of the timer: sample the connection, store it, deliver complete hours',
  options: {},
});

export const STATUS = defineSpec({
  name: 'status',
  description: 'hours recorded, delivered and credited, from local state',
  options: {
    days: {
      type: 'string',
      value: '<n>',
      description: 'days of credit to show (1-30)',
      default: '7',
    },
    proof: {
      type: 'boolean',
      description:
        'print a proof bundle: every signed receipt with its report (check it with verify-proof)',
    },
    from: {
      type: 'string',
      value: '<date>',
      description: 'with --proof: hours from this date or time (UTC)',
    },
    to: {
      type: 'string',
      value: '<date>',
      description: 'with --proof: hours before this date or time (UTC)',
    },
  },
});

export const VERIFY_PROOF = defineSpec({
  name: 'verify-proof',
  description:
    'check a proof bundle offline: exit 0 if every receipt holds, 1 naming each report that does not',
  operands: [{ name: 'file', description: 'the bundle from `status --proof` (- for stdin)' }],
  options: {},
});

export const ENROLL = defineSpec({
  name: 'enroll',
  description: 'register this rig with the rewards service',
  options: {
    master: {
      type: 'string',
      value: '<address>',
      description: 'master address (default: the one in worker-default.yaml)',
    },
    acceptServiceKey: {
      type: 'string',
      value: '<keyId>',
      description: "confirm the service's new signing key after an announced rotation",
    },
  },
});

export const TIMER = defineSpec({
  name: 'timer',
  description: 'install, remove or inspect the systemd timer that runs `report`',
  operands: [
    { name: 'action', description: 'what to do', choices: ['install', 'uninstall', 'status'] },
  ],
  options: {
    interval: { type: 'string', value: '<duration>', description: 'sampling interval, such as 5m' },
    unitDir: {
      type: 'string',
      value: '<dir>',
      description: 'where the units go (default /etc/systemd/system)',
    },
    dryRun: { type: 'boolean', description: 'print the units and commands; change nothing' },
  },
});

export const CONFIGURE = defineSpec({
  name: 'configure',
  description:
    'set the rewards service (--service) and rig user for every run, in the config file (root)',
  options: {
    rigUser: {
      type: 'string',
      value: '<user>',
      description: 'the OS user whose ~/.sonm/cli.yaml sonmcli uses',
    },
  },
});

/** The table, in --help order. */
export const COMMANDS: readonly CommandDef[] = [
  command(CHECK, () => import('./check.js').then((m) => m.checkCommand)),
  command(UPGRADE, () => import('./upgrade.js').then((m) => m.upgradeCommand)),
  command(REPORT, () => import('./report.js').then((m) => m.reportCommand)),
  command(STATUS, () => import('./status.js').then((m) => m.statusCommand)),
  command(VERIFY_PROOF, () => import('./verify-proof.js').then((m) => m.verifyProofCommand)),
  command(ENROLL, () => import('./enroll.js').then((m) => m.enrollCommand)),
  command(TIMER, () => import('./timer.js').then((m) => m.timerCommand)),
  command(CONFIGURE, () => import('./configure.js').then((m) => m.configureCommand)),
];
