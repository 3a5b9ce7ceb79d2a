/**
 * The upgrade's commands, pure: the announcement's steps as argument lists with deadlines, and
 * what would stop one from starting (a program missing from PATH, an argument Linux refuses).
 * src/upgrade/plan.ts decides whether they run; src/upgrade/apply.ts runs them.
 */
import { ANNOUNCED_SCRIPT_ARGV0 } from '../program/announcement.js';
// sonmcli as the rig user (under sudo it would read root's cli.yaml): the one rule, shared with the probe.
import { sonmcliAsRigUser } from '../lib/rig-user.js';

export type StepId = 'stop-optimus' | 'purge' | 'run-script' | 'verify';

/** One external command, as an argument list, with its deadline. */
export interface PlannedCommand {
  command: string;
  args: string[];
  timeoutMs: number;
  /** Variables on top of the minimal environment (src/lib/exec.ts). */
  env?: Record<string, string>;
}

export interface PlannedStep extends PlannedCommand {
  id: StepId;
  title: string;
}

/** Linux's limit on one argument, terminating NUL included (linux/binfmts.h: 32 pages). */
export const MAX_ARG_STRLEN = 32 * 4096;

/** A word for sh, in single quotes. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command that runs the saved script as the announcement does. The announcement runs
 * `bash -c "$(curl -s URL)" -s MASTER`: the script's text becomes one argument, which Linux
 * refuses above 128 KiB (E2BIG). Here the `-c` shell reads the file and evaluates its text, so
 * the text goes through the same parser, `$0` stays `-s`, `$1` the master, `$2` empty, and any
 * size the download accepts runs.
 */
export function runScriptCommand(scriptPath: string, master: string): string[] {
  return ['bash', '-c', `eval "$(< ${shQuote(scriptPath)})"`, ANNOUNCED_SCRIPT_ARGV0, master];
}

export interface StepOptions {
  isRoot: boolean;
  rigUser: string;
  master: string;
  scriptPath: string;
  scriptTimeoutMs: number;
}

/** A command as root: itself, or through `sudo -n`. */
export function asRoot(o: StepOptions, argv: string[]): { command: string; args: string[] } {
  return o.isRoot
    ? { command: argv[0]!, args: argv.slice(1) }
    : { command: 'sudo', args: ['-n', ...argv] };
}

/**
 * The announcement's commands for this rig, as argument lists, each with its deadline (ms):
 * root steps through `sudo -n` when not root, sonmcli as the rig user. Pure.
 */
export function planSteps(o: StepOptions): PlannedStep[] {
  const purge = ['worker', 'ask-plan', 'purge', '--json', '--timeout=2m'];
  const env = { HOME: '/root', SUDO_USER: o.rigUser, DEBIAN_FRONTEND: 'noninteractive' };
  return [
    {
      id: 'stop-optimus',
      title: 'stop sonm-optimus',
      timeoutMs: 120_000,
      ...asRoot(o, ['service', 'sonm-optimus', 'stop']),
    },
    {
      id: 'purge',
      title: 'purge ask plans (closes spot deals)',
      timeoutMs: 180_000,
      ...sonmcliAsRigUser(o, purge),
    },
    {
      id: 'run-script',
      title: "run SONM's autodeploy script",
      timeoutMs: o.scriptTimeoutMs,
      env,
      ...asRoot(o, runScriptCommand(o.scriptPath, o.master)),
    },
    { id: 'verify', title: 'verify the result', command: '(internal)', args: [], timeoutMs: 0 },
  ];
}

/** The programs a step needs on PATH: its own command, and what sudo runs. */
function programsOf(s: PlannedStep): string[] {
  if (s.id === 'verify') return [];
  if (s.command !== 'sudo') return [s.command];
  const rest = s.args.slice(s.args.indexOf('--') >= 0 ? s.args.indexOf('--') + 1 : 1);
  return ['sudo', rest[0]!];
}

export type LaunchProblem = { code: 'missing-command' | 'argument-too-long'; items: string[] };

/**
 * What would make a step fail before it starts: a program that `found` (program → on PATH)
 * marks missing, or an argument longer than MAX_ARG_STRLEN. Returns the first kind found with
 * one line per problem, or null. Pure.
 */
export function launchProblems(
  steps: PlannedStep[],
  found: Record<string, boolean>,
): LaunchProblem | null {
  const missing = [...new Set(steps.flatMap(programsOf))].filter((p) => found[p] === false);
  if (missing.length)
    return { code: 'missing-command', items: missing.map((p) => `${p} is not on PATH`) };
  const long = steps
    .flatMap((s) => [s.command, ...s.args].map((a) => ({ s, bytes: Buffer.byteLength(a) + 1 })))
    .filter((a) => a.bytes > MAX_ARG_STRLEN);
  if (long.length) {
    return {
      code: 'argument-too-long',
      items: long.map((a) => `${a.s.title}: an argument of ${a.bytes} bytes`),
    };
  }
  return null;
}
