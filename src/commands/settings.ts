/**
 * The effective configuration: /etc/sonm-rewards/config.json, overridden by SONM_REWARDS_*
 * environment variables, overridden by flags. `--verbose` prints the result.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../lib/errors.js';
import { JsonFileError, readJsonFile } from '../lib/json-file.js';
import { transportProblem } from '../lib/url.js';
import type { GLOBAL_OPTIONS, OptionValues } from './table.js';
import { DEFAULT_DEADLINES, type ProbeDeadlines } from '../probe/context.js';

/** The effective configuration of one run (README "Configuration"); `--verbose` prints it. */
export interface Settings {
  configPath: string;
  stateDir: string;
  service: string | null;
  sonmConfigDir: string;
  /** Sampling interval in seconds (the timer's period). */
  intervalSeconds: number;
  textfileDir: string | null;
  rigUser: string | null;
  sysroot: string;
  deliveryTimeoutMs: number;
  /** Total time one report tick may spend delivering. */
  tickDeadlineMs: number;
  /** Request attempts one tick may make in all. */
  tickAttempts: number;
  /** Size cap of the state directory, in bytes (default 50 MB). */
  maxStateBytes: number;
  deadlines: ProbeDeadlines;
}

/** The global flags, as src/commands/table.ts declares them (GLOBAL_OPTIONS). */
export type GlobalFlags = OptionValues<typeof GLOBAL_OPTIONS>;

export const CONFIG_KEYS = [
  'service',
  'stateDir',
  'sonmConfigDir',
  'interval',
  'textfileDir',
  'rigUser',
  'deliveryTimeoutMs',
  'tickDeadlineMs',
  'tickAttempts',
  'maxStateBytes',
  'nvidiaTimeoutMs',
  'sonmcliTimeoutMs',
] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

function envName(key: string): string {
  return `SONM_REWARDS_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/**
 * A duration as the configuration and flags write it: "5m", "5min", "300s", "300" (seconds),
 * "1h", or a whole number of seconds. Returns the seconds (> 0), or null when it is not one.
 */
export function parseInterval(v: string | number): number | null {
  if (typeof v === 'number') return Number.isInteger(v) && v > 0 ? v : null;
  const m = /^(\d+)\s*(s|m|min|h)?$/.exec(v.trim());
  if (!m) return null;
  const n = Number(m[1]) * (m[2] === 'h' ? 3600 : m[2]?.startsWith('m') ? 60 : 1);
  return n > 0 ? n : null;
}

/**
 * The state directory when none is configured: systemd's STATE_DIRECTORY (its first entry)
 * under the timer's unit, /var/lib/sonm-rewards as root, else $XDG_STATE_HOME/sonm-rewards
 * (~/.local/state/sonm-rewards).
 */
export function defaultStateDir(env: NodeJS.ProcessEnv, isRoot: boolean): string {
  if (env.STATE_DIRECTORY) return env.STATE_DIRECTORY.split(':')[0]!; // set by systemd's StateDirectory=
  if (isRoot) return '/var/lib/sonm-rewards';
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'sonm-rewards');
}

/**
 * The configuration file as an object of known keys; {} when it does not exist.
 * Throws UsageError (exit 2) for unreadable or invalid JSON, a non-object or an unknown key, so
 * that a typo never silently does nothing (README "Configuration").
 */
export function readConfigFile(path: string): Partial<Record<ConfigKey, unknown>> {
  let v: unknown;
  try {
    v = readJsonFile(path, 'the configuration');
  } catch (e) {
    if (!(e instanceof JsonFileError)) throw e;
    if (e.problem === 'missing') return {};
    throw new UsageError(`${e.message}: fix or remove it`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new UsageError(`the configuration ${path} must be a JSON object`);
  const unknown = Object.keys(v).filter((k) => !(CONFIG_KEYS as readonly string[]).includes(k));
  if (unknown.length)
    throw new UsageError(
      `the configuration ${path} has unknown key(s) ${unknown.join(', ')}; known keys: ${CONFIG_KEYS.join(', ')}`,
    );
  return v as Partial<Record<ConfigKey, unknown>>;
}

/**
 * The effective configuration: flags over SONM_REWARDS_* environment variables over the file
 * $SONM_REWARDS_CONFIG (default /etc/sonm-rewards/config.json, absent is fine), over the
 * defaults (README "Configuration"). `isRoot` chooses the default state directory.
 * Throws UsageError (exit 2) for a configuration file that is unreadable, not JSON, not an
 * object or has unknown keys, a non-positive number, an interval that does not divide an hour,
 * or a service URL that is not https (or http to loopback).
 */
export function resolveSettings(
  flags: GlobalFlags,
  env: NodeJS.ProcessEnv,
  isRoot: boolean,
): Settings {
  const configPath = env.SONM_REWARDS_CONFIG || '/etc/sonm-rewards/config.json';
  const file = readConfigFile(configPath);
  const pick = (key: ConfigKey, flag?: string | number): string | number | undefined => {
    if (flag !== undefined) return flag;
    const e = env[envName(key)];
    if (e !== undefined && e !== '') return e;
    const f = file[key];
    return typeof f === 'string' || typeof f === 'number' ? f : undefined;
  };
  const positive = (key: ConfigKey, fallback: number): number => {
    const v = pick(key);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0)
      throw new UsageError(
        `${key} must be a positive number, got "${v}" (from ${envName(key)} or ${configPath})`,
      );
    return n;
  };
  const service = (pick('service', flags.service) as string | undefined) || null;
  if (service) {
    const problem = transportProblem(service);
    const from =
      flags.service !== undefined
        ? '--service'
        : env.SONM_REWARDS_SERVICE
          ? 'SONM_REWARDS_SERVICE'
          : `"service" in ${configPath}`;
    if (problem) throw new UsageError(`${from}: ${problem}`);
  }
  const intervalRaw = pick('interval') ?? 300;
  const intervalSeconds = parseInterval(intervalRaw);
  if (!intervalSeconds || 3600 % intervalSeconds !== 0)
    throw new UsageError(`interval "${intervalRaw}" must divide an hour evenly (for example 5m)`);
  return {
    configPath,
    stateDir: String(pick('stateDir', flags.stateDir) ?? defaultStateDir(env, isRoot)),
    service: service ? service.replace(/\/+$/, '') : null,
    sonmConfigDir: String(pick('sonmConfigDir', flags.sonmConfigDir) ?? '/etc/sonm'),
    intervalSeconds,
    textfileDir: (pick('textfileDir', flags.textfileDir) as string | undefined) ?? null,
    rigUser: (pick('rigUser') as string | undefined) ?? null,
    sysroot: env.SONM_REWARDS_SYSROOT ?? '',
    deliveryTimeoutMs: positive('deliveryTimeoutMs', 15_000),
    tickDeadlineMs: positive('tickDeadlineMs', 90_000),
    tickAttempts: positive('tickAttempts', 4),
    maxStateBytes: positive('maxStateBytes', 50 * 1024 * 1024),
    deadlines: {
      ...DEFAULT_DEADLINES,
      nvidiaMs: positive('nvidiaTimeoutMs', DEFAULT_DEADLINES.nvidiaMs),
      sonmcliMs: positive('sonmcliTimeoutMs', DEFAULT_DEADLINES.sonmcliMs),
    },
  };
}
