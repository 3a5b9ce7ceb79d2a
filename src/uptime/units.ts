/**
 * The systemd units that run `sonm-rewards report` every interval, rendered purely from options.
 * One renderer serves both writers: `sonm-rewards timer install` and the .deb (scripts/release.mjs),
 * so there is one set of units and one hardening policy (README "Install on a rig").
 *
 * Hardening follows systemd.exec(5) as far as the job allows. The tick runs as root and spawns
 * nvidia-smi (needs /dev/nvidia*: no PrivateDevices, DevicePolicy or ProtectClock, which implies
 * DeviceAllow=), `sudo -u <rig user> sonmcli` (needs setuid/setgid, kill and PAM's
 * setrlimit/audit) and systemctl. Every directive either works on systemd 229 (Ubuntu 16.04) or
 * is one that 229 ignores with a warning; the agent never depends on one of the latter.
 */
export const SERVICE_UNIT = 'sonm-rewards-report.service';
export const TIMER_UNIT = 'sonm-rewards-report.timer';
/** Where the .deb puts its units (systemd's system unit path on Ubuntu 16.04 and later). */
export const PACKAGED_UNIT_DIR = '/lib/systemd/system';
/** The package's command, a link to its own runtime (see scripts/release.mjs). */
export const PACKAGED_EXEC = ['/usr/bin/sonm-rewards'];
export const DEFAULT_STATE_DIR = '/var/lib/sonm-rewards';

export interface UnitOptions {
  /** The argv before `report`: [node, .../bin/sonm-rewards.cjs], or PACKAGED_EXEC. */
  exec: string[];
  /** The sampling interval in seconds (divides an hour). */
  intervalSeconds: number;
  /** Environment for the report (SONM_REWARDS_SERVICE, ...). */
  environment: Record<string, string>;
  /** Extra writable paths (a textfile collector directory, the rig user's ~/.sonm). */
  readWritePaths: string[];
  /** Who writes the files; said in their first line. */
  writer: 'timer install' | 'package';
}

/**
 * The capabilities the tick's process tree keeps: sudo switching to the rig user (SETUID,
 * SETGID), sudo relaying a deadline's signal to that user's sonmcli (KILL), PAM's pam_limits
 * and audit in sudo (SYS_RESOURCE, AUDIT_WRITE), and finding the rig user's ~/.sonm/cli.yaml
 * behind a 0700 home (DAC_READ_SEARCH). Everything else is dropped.
 */
export const CAPABILITIES = [
  'CAP_SETUID',
  'CAP_SETGID',
  'CAP_KILL',
  'CAP_SYS_RESOURCE',
  'CAP_AUDIT_WRITE',
  'CAP_DAC_READ_SEARCH',
];

/**
 * Each hardening directive with the first systemd version that knows it (systemd's NEWS and
 * systemd.exec(5)); README "Install on a rig" prints this table. Older versions log "Unknown
 * lvalue" or "Failed to parse" and ignore the line.
 */
export const HARDENING: ReadonlyArray<readonly [directive: string, since: number]> = [
  ['UMask=0077', 1],
  ['NoNewPrivileges=yes', 187],
  ['PrivateTmp=yes', 1],
  // 229 does not know "strict" and keeps the "full" above it; later versions take the last one.
  ['ProtectSystem=full', 214],
  ['ProtectSystem=strict', 232],
  ['ProtectHome=read-only', 214],
  [`CapabilityBoundingSet=${CAPABILITIES.join(' ')}`, 1],
  ['RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK', 211],
  ['SystemCallArchitectures=native', 213],
  // A deny list: a group 229 does not know is skipped, which only filters less.
  [
    'SystemCallFilter=~@clock @cpu-emulation @debug @module @mount @obsolete @raw-io @reboot @swap',
    187,
  ],
  ['SystemCallErrorNumber=EPERM', 209],
  ['ProtectKernelTunables=yes', 232],
  ['ProtectKernelModules=yes', 232],
  ['ProtectControlGroups=yes', 232],
  ['RestrictRealtime=yes', 231],
  ['RestrictNamespaces=yes', 233],
  ['LockPersonality=yes', 235],
  ['RestrictSUIDSGID=yes', 242],
  ['ProtectHostname=yes', 242],
  ['ProtectKernelLogs=yes', 244],
];

/** "*:0/5" for 5 minutes; "*:*:0/30" for 30 seconds. */
export function onCalendarFor(intervalSeconds: number): string {
  if (intervalSeconds >= 60 && intervalSeconds % 60 === 0)
    return intervalSeconds === 3600 ? 'hourly' : `*:0/${intervalSeconds / 60}`;
  return `*:*:0/${intervalSeconds}`;
}

const quote = (s: string): string =>
  /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/(["\\])/g, '\\$1')}"`;

function header(o: UnitOptions): string {
  return o.writer === 'package'
    ? '# Installed by the sonm-rewards package. ' +
        'Configure the agent in /etc/sonm-rewards/config.json;\n' +
        '# change this unit with `systemctl edit`, not here (an upgrade replaces this file).'
    : '# Written by `sonm-rewards timer install`; change it with that command, not by hand.';
}

/**
 * The service unit: a oneshot `report` under a deadline, hardened per HARDENING.
 * Input: UnitOptions. Returns the unit file's text. Pure.
 */
export function renderServiceUnit(o: UnitOptions): string {
  const env = Object.entries(o.environment).map(([k, v]) => `Environment=${quote(`${k}=${v}`)}`);
  // StateDirectory= (235) makes the state directory writable under ProtectSystem=strict; on 232-234
  // ReadWritePaths= (231) does. On 229 neither matters and the package creates the directory.
  const rw = [DEFAULT_STATE_DIR, ...o.readWritePaths].map((p) => `ReadWritePaths=-${p}`);
  // The tick's own delivery deadline is well under the interval; systemd stops a stuck one here.
  const timeout = Math.max(30, Math.min(240, Math.floor(o.intervalSeconds * 0.8)));
  return [
    header(o),
    '[Unit]',
    'Description=SONM rewards: sample the worker and deliver signed hourly uptime reports',
    'Documentation=man:systemd.timer(5)',
    'After=network-online.target sonm-worker.service',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${[...o.exec, 'report'].map(quote).join(' ')}`,
    `TimeoutStartSec=${timeout}`,
    'StateDirectory=sonm-rewards',
    'StateDirectoryMode=0700',
    ...env,
    ...HARDENING.map(([d]) => d),
    ...rw,
    'Nice=10',
    '',
  ].join('\n');
}

/** The timer unit: every interval, spread over a fifth of it, catching up after downtime. Pure. */
export function renderTimerUnit(o: UnitOptions): string {
  // Spread a fleet over a fifth of the interval so rigs do not hit the service in the same second;
  // a sample still lands in its own interval slot.
  const spread = Math.max(1, Math.floor(o.intervalSeconds / 5));
  const every =
    o.intervalSeconds % 60 === 0
      ? `${o.intervalSeconds / 60} minutes`
      : `${o.intervalSeconds} seconds`;
  return [
    header(o),
    '[Unit]',
    `Description=Run sonm-rewards report every ${every}`,
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

/** The package's units: PACKAGED_EXEC every 5 minutes, configured by the config file alone. */
export function packagedUnitOptions(): UnitOptions {
  return {
    exec: PACKAGED_EXEC,
    intervalSeconds: 300,
    environment: {},
    readWritePaths: [],
    writer: 'package',
  };
}
