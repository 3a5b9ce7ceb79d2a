/**
 * The one rule for "is this the timer's plain tick": `report`, once, with at most the boolean
 * global flags --verbose, --json and --no-color. Such a run skips argument parsing (commander is
 * the largest module a tick would load) and runs from dist/agent/tick.cjs alone.
 *
 * bin/sonm-rewards.cjs requires this file's bundle (dist/agent/plain-tick.cjs) before anything
 * else, so it must import nothing. test/unit/command-table.test.ts checks that these flags are
 * boolean global options of src/commands/table.ts.
 */

/** The flags a plain tick may carry, exactly as typed on the command line. */
export const TICK_FLAGS: readonly string[] = ['--verbose', '--json', '--no-color'];

/**
 * Whether argv (without node and the script; strings as typed) is a plain tick.
 * Returns true for `report` once plus any of TICK_FLAGS; false for anything else.
 */
export function isPlainTick(argv: readonly string[]): boolean {
  const reports = argv.filter((a) => a === 'report').length;
  return reports === 1 && argv.every((a) => a === 'report' || TICK_FLAGS.includes(a));
}
