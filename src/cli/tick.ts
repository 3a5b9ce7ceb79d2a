/**
 * The timer's entry point: `sonm-rewards report` (with at most --verbose, --json, --no-color),
 * bundled on its own as one CommonJS file (dist/agent/tick.cjs) because it starts every five
 * minutes on every rig. Everything else goes through main.ts and commander.
 */
import { finish, runTimerTick } from './runtime.js';

/**
 * Run the timer's plain tick for argv (as isPlainTick accepts it) and exit the process with
 * `report`'s exit code. Never returns normally; never throws.
 */
export async function tick(argv: string[]): Promise<void> {
  await finish(argv, () => runTimerTick(argv));
}
