/**
 * The systemd units that run `sonm-rewards report` every interval, rendered purely from options.
 * Hardening follows systemd.exec(5), except PrivateDevices: nvidia-smi needs /dev/nvidia*.
 */
export const SERVICE_UNIT = 'sonm-rewards-report.service';
export const TIMER_UNIT = 'sonm-rewards-report.timer';

export interface UnitOptions {
  /** Absolute path of node. */
  nodePath: string;
  /** Absolute path of bin/sonm-rewards.cjs. */
  binPath: string;
  intervalSeconds: number;
  /** Environment for the report (SONM_REWARDS_SERVICE, ...). */
  environment: Record<string, string>;
  /** Extra writable paths (a textfile collector directory, the rig user's ~/.sonm). */
  readWritePaths: string[];
}

/** "*:0/5" for 5 minutes; "*:*:0/30" for 30 seconds. */
export function onCalendarFor(intervalSeconds: number): string {
  if (intervalSeconds >= 60 && intervalSeconds % 60 === 0) return intervalSeconds === 3600 ? 'hourly' : `*:0/${intervalSeconds / 60}`;
  return `*:*:0/${intervalSeconds}`;
}

const quote = (s: string): string => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/(["\\])/g, '\\$1')}"`);

export function renderServiceUnit(o: UnitOptions): string {
  const env = Object.entries(o.environment).map(([k, v]) => `Environment=${quote(`${k}=${v}`)}`);
  const rw = o.readWritePaths.map((p) => `ReadWritePaths=-${p}`);
  // The tick's own delivery deadline is well under the interval; systemd stops a stuck one here.
  const timeout = Math.max(30, Math.min(240, Math.floor(o.intervalSeconds * 0.8)));
  return [
    '# Written by `sonm-rewards timer install`; change it with that command, not by hand.',
    '[Unit]',
    'Description=SONM rewards: sample the worker and deliver signed hourly uptime reports',
    'Documentation=man:systemd.timer(5)',
    'After=network-online.target sonm-worker.service',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${quote(o.nodePath)} ${quote(o.binPath)} report`,
    `TimeoutStartSec=${timeout}`,
    'StateDirectory=sonm-rewards',
    'StateDirectoryMode=0700',
    ...env,
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=read-only',
    'PrivateTmp=yes',
    ...rw,
    'Nice=10',
    '',
  ].join('\n');
}

export function renderTimerUnit(o: UnitOptions): string {
  // Spread a fleet over a fifth of the interval so rigs do not hit the service in the same second;
  // a sample still lands in its own interval slot.
  const spread = Math.max(1, Math.floor(o.intervalSeconds / 5));
  return [
    '# Written by `sonm-rewards timer install`.',
    '[Unit]',
    `Description=Run sonm-rewards report every ${o.intervalSeconds % 60 === 0 ? `${o.intervalSeconds / 60} minutes` : `${o.intervalSeconds} seconds`}`,
    '',
    '[Timer]',
    `OnCalendar=${onCalendarFor(o.intervalSeconds)}`,
    'Persistent=true',
    `RandomizedDelaySec=${spread}`,
    'AccuracySec=1s',
    `Unit=${SERVICE_UNIT}`,
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
}
