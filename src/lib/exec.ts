/**
 * Run an external tool the safe way: an argument array (never a shell string), found through
 * PATH, stdin closed, a minimal environment and a hard deadline.
 *
 * A process stuck on a lost GPU may not die even on SIGKILL, so the deadline is enforced by a
 * race, not by waiting for the child: when time is up we send SIGKILL, stop listening to its
 * pipes, unref it and resolve. The caller never waits on a hung tool.
 */
import { spawn } from 'node:child_process';

export interface ExecOptions {
  /** Milliseconds before the child is killed and abandoned. */
  timeoutMs: number;
  /** Extra variables on top of the minimal environment (PATH, LANG, LC_ALL). */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Largest stdout/stderr kept, per stream (bytes). Output beyond is dropped. */
  maxOutputBytes?: number;
  uid?: number;
  gid?: number;
}

export interface ExecResult {
  command: string;
  args: readonly string[];
  /** Exit code, or null when killed or never started. */
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** The executable was not found on PATH. */
  notFound: boolean;
  /** Spawn failed for another reason (permissions, ...). */
  spawnError?: string;
  durationMs: number;
}

/**
 * The only variables a child sees unless the caller adds more: this process's PATH (so tools
 * are found as the user's shell finds them), LANG=C and LC_ALL=C (stable, parseable output),
 * plus `extra` (undefined values are left out). Returns a new object.
 */
export function minimalEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    LANG: 'C',
    LC_ALL: 'C',
  };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

/**
 * Run `command` (found on PATH) with `args`, stdin closed, minimalEnv(options.env), killed and
 * abandoned after `options.timeoutMs` ms (see the header). Output beyond maxOutputBytes (default
 * 4 MiB) per stream is dropped. Resolves with what happened, whatever it was: notFound,
 * spawnError, timedOut, or the exit code/signal with the output. Never rejects.
 */
export function execTool(
  command: string,
  args: readonly string[],
  options: ExecOptions,
): Promise<ExecResult> {
  const started = Date.now();
  const max = options.maxOutputBytes ?? 4 * 1024 * 1024;
  return new Promise((resolve) => {
    let settled = false;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    const finish = (partial: Partial<ExecResult>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        command,
        args,
        exitCode: null,
        signal: null,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut: false,
        notFound: false,
        durationMs: Date.now() - started,
        ...partial,
      });
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(command, [...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: minimalEnv(options.env),
        cwd: options.cwd,
        uid: options.uid,
        gid: options.gid,
        windowsHide: true,
      });
    } catch (e) {
      resolve({
        command,
        args,
        exitCode: null,
        signal: null,
        stdout: '',
        stderr: '',
        timedOut: false,
        notFound: false,
        spawnError: (e as Error).message,
        durationMs: Date.now() - started,
      });
      return;
    }
    const timer = setTimeout(() => {
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
      // Abandon it: a child in uninterruptible sleep may never exit.
      child.stdout?.destroy();
      child.stderr?.destroy();
      child.unref();
      finish({ timedOut: true });
    }, options.timeoutMs);
    child.stdout?.on('data', (b: Buffer) => {
      if (outLen < max) {
        out.push(b);
        outLen += b.length;
      }
    });
    child.stderr?.on('data', (b: Buffer) => {
      if (errLen < max) {
        err.push(b);
        errLen += b.length;
      }
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') finish({ notFound: true, spawnError: e.message });
      else finish({ spawnError: e.message });
    });
    child.on('close', (code, signal) => finish({ exitCode: code, signal }));
  });
}

/** A one-line description of what happened, for messages and logs. */
export function describeExec(r: ExecResult): string {
  const cmd = [r.command, ...r.args].join(' ');
  if (r.notFound) return `${r.command} not found on PATH`;
  if (r.spawnError) return `${cmd}: ${r.spawnError}`;
  if (r.timedOut) return `${cmd} did not finish within its deadline and was killed`;
  if (r.signal) return `${cmd} was killed by ${r.signal}`;
  return `${cmd} exited with ${r.exitCode}`;
}
