/** Prometheus text-format metrics for node_exporter's textfile collector, written atomically. */
import { join } from 'node:path';
import { unsafeDirReason, writeFileAtomic } from '../lib/atomic.js';

export interface AgentMetrics {
  connected: boolean;
  qualifyingGpus: number;
  hoursPending: number;
  hoursDelivered: number;
  hoursRejected: number;
  lastSampleSeconds: number;
  lastDeliverySeconds: number | null;
  clockOffsetSeconds: number | null;
}

/**
 * The Prometheus text format of `m`: one gauge `sonm_rewards_<name>` per field with HELP and TYPE
 * lines; booleans as 1/0, timestamps in Unix seconds, the clock offset in seconds; a null field is
 * left out. README, "Uptime" (`--textfile-dir`) lists the names. Pure; throws nothing.
 */
export function renderMetrics(m: AgentMetrics): string {
  const lines: string[] = [];
  const g = (name: string, help: string, v: number | null): void => {
    if (v === null) return;
    lines.push(
      `# HELP sonm_rewards_${name} ${help}`,
      `# TYPE sonm_rewards_${name} gauge`,
      `sonm_rewards_${name} ${v}`,
    );
  };
  g(
    'connected',
    'Whether the SONM worker was connected at the last sample (1) or not (0).',
    m.connected ? 1 : 0,
  );
  g('qualifying_gpus', 'Qualifying GPUs seen at the last sample.', m.qualifyingGpus);
  g('hours_pending', 'Hourly reports built but not yet delivered.', m.hoursPending);
  g('hours_delivered', 'Hourly reports the service accepted (retained window).', m.hoursDelivered);
  g('hours_rejected', 'Hourly reports the service rejected (retained window).', m.hoursRejected);
  g('last_sample_timestamp_seconds', 'When the last sample was taken.', m.lastSampleSeconds);
  g('last_delivery_timestamp_seconds', 'When reports were last delivered.', m.lastDeliverySeconds);
  g(
    'clock_offset_seconds',
    'Service clock minus rig clock, when the service reported a skew.',
    m.clockOffsetSeconds,
  );
  return `${lines.join('\n')}\n`;
}

/**
 * Write the metrics to `dir`/sonm_rewards.prom atomically. Throws, with one line saying what to do,
 * when root would write in a directory that someone else can write (docs/decisions.md, "Files
 * written as root"), and the fs error when the write fails.
 */
export function writeMetrics(dir: string, m: AgentMetrics): void {
  const unsafe = unsafeDirReason(dir);
  if (unsafe)
    throw new Error(
      `refusing to write there as root: ${unsafe}; ` +
        `make it root-owned (chown root: ${dir}; chmod 755 ${dir}) or sticky (chmod +t)`,
    );
  writeFileAtomic(join(dir, 'sonm_rewards.prom'), renderMetrics(m));
}
