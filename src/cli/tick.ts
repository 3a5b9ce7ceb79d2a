/**
 * The timer's entry point: `sonm-rewards report` (with at most --verbose, --json, --no-color),
 * bundled on its own as one CommonJS file (dist/agent/tick.cjs) because it starts every five
 * minutes on every rig. Everything else goes through main.ts and commander.
 */
import { finish, runTimerTick } from './runtime.js';

export async function tick(argv: string[]): Promise<void> {
  await finish(argv, () => runTimerTick(argv));
}
