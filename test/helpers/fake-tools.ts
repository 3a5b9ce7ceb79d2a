/**
 * Fake external tools for end-to-end tests: small sh scripts put first on PATH. Each records its
 * invocation (tool, argv, SUDO_USER, the user sudo switched to, cwd) in calls.log, then prints fixture output, optionally waits or hangs, and exits with a code.
 * Behaviour is chosen by matching the joined arguments against glob patterns, first match wins.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export interface FakeCase {
  /** sh `case` glob over "$*", e.g. "worker status*". Default "*". */
  match?: string;
  stdout?: string;
  stderr?: string;
  exit?: number;
  /** Seconds to sleep before answering (fractions allowed). */
  delay?: number;
  /** Never answer (sleeps for an hour). */
  hang?: boolean;
  /** Extra sh run before printing (has $FAKE_DIR). */
  sh?: string;
}

/**
 * Records one call: fields separated by \x1f (unit separator), the call ended by \x1e (record
 * separator), so arguments may hold anything but those two bytes (a whole script, newlines).
 */
const RECORD = `{ printf '%s\\037%s\\037%s\\037%s' "$TOOL" "$SUDO_USER" "$FAKE_AS_USER" "$(pwd)"; for a in "$@"; do printf '\\037%s' "$a"; done; printf '\\036'; } >> "$FAKE_DIR/calls.log"`;

export interface FakeCall { tool: string; args: string[]; sudoUser: string; asUser: string; cwd: string }

export class FakeTools {
  readonly bin: string;
  readonly dir: string;
  constructor(root: string) {
    this.dir = root;
    this.bin = join(root, 'bin');
    mkdirSync(this.bin, { recursive: true });
    mkdirSync(join(root, 'out'), { recursive: true });
  }

  /** Define a tool; each case's stdout/stderr is written to a file and cat'ed, so any bytes (\r\n) survive. */
  tool(name: string, cases: FakeCase[] | FakeCase): this {
    const list = Array.isArray(cases) ? cases : [cases];
    const lines = [
      '#!/bin/sh',
      `FAKE_DIR='${this.dir}'`,
      `TOOL='${name}'`,
      RECORD,
      'case "$*" in',
    ];
    list.forEach((c, i) => {
      const base = join(this.dir, 'out', `${name}.${i}`);
      if (c.stdout !== undefined) writeFileSync(`${base}.out`, c.stdout);
      if (c.stderr !== undefined) writeFileSync(`${base}.err`, c.stderr);
      lines.push(`  ${(c.match ?? '*').replace(/ /g, '\\ ')})`);
      if (c.sh) lines.push(`    ${c.sh}`);
      if (c.hang) lines.push('    sleep 3600');
      if (c.delay) lines.push(`    sleep ${c.delay}`);
      if (c.stdout !== undefined) lines.push(`    cat '${base}.out'`);
      if (c.stderr !== undefined) lines.push(`    cat '${base}.err' >&2`);
      lines.push(`    exit ${c.exit ?? 0};;`);
    });
    lines.push('esac', 'exit 0', '');
    const path = join(this.bin, name);
    writeFileSync(path, lines.join('\n'));
    chmodSync(path, 0o755);
    return this;
  }

  /**
   * A real tool, recorded and then run with `prefix` before its arguments: for example the real
   * dpkg-query with `--admindir=DIR`, so a fixture dpkg status database answers whatever format
   * the agent asks for. `realPath` is found on the system PATH, never among the fakes.
   */
  passthrough(name: string, prefix: string[]): this {
    const real = ['/usr/local/bin', '/usr/bin', '/bin'].map((d) => join(d, name)).find((p) => existsSync(p));
    if (!real) throw new Error(`${name} is not installed on this machine (apt-get install dpkg)`);
    const quoted = prefix.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const path = join(this.bin, name);
    writeFileSync(path, ['#!/bin/sh', `FAKE_DIR='${this.dir}'`, `TOOL='${name}'`, RECORD, `exec '${real}' ${quoted} "$@"`, ''].join('\n'));
    chmodSync(path, 0o755);
    return this;
  }

  /** A sudo that records and then runs the command, as a user when -u is given (FAKE_AS_USER). */
  sudo(opts: { nonInteractiveOk?: boolean } = {}): this {
    const path = join(this.bin, 'sudo');
    writeFileSync(path, [
      '#!/bin/sh',
      `FAKE_DIR='${this.dir}'`,
      `TOOL=sudo`,
      RECORD,
      'user=""',
      'while [ $# -gt 0 ]; do case "$1" in',
      '  -n|-H|-E) shift;;',
      '  -u) user="$2"; shift 2;;',
      '  --preserve-env=*) shift;;',
      '  --) shift; break;;',
      '  *) break;;',
      'esac; done',
      `if [ "$1" = "true" ]; then exit ${opts.nonInteractiveOk === false ? 1 : 0}; fi`,
      `${opts.nonInteractiveOk === false ? 'echo "sudo: a password is required" >&2; exit 1' : ''}`,
      'FAKE_AS_USER="$user"; export FAKE_AS_USER',
      'SUDO_USER="${SUDO_USER:-rig}"; export SUDO_USER',
      'exec "$@"',
      '',
    ].join('\n'));
    chmodSync(path, 0o755);
    return this;
  }

  calls(): FakeCall[] {
    const p = join(this.dir, 'calls.log');
    if (!existsSync(p)) return [];
    return readFileSync(p, 'utf8').split('\x1e').filter(Boolean).map((rec) => {
      const [tool, sudoUser, asUser, cwd, ...args] = rec.split('\x1f');
      return { tool: tool!, sudoUser: sudoUser!, asUser: asUser!, cwd: cwd!, args };
    });
  }

  callsOf(tool: string): FakeCall[] {
    return this.calls().filter((c) => c.tool === tool);
  }

  /** PATH with the fakes first, then only the system directories (no real nvidia-smi etc. from elsewhere). */
  path(): string {
    return `${this.bin}:/usr/local/bin:/usr/bin:/bin`;
  }
}
