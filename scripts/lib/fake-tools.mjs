// Fake external tools (nvidia-smi, sonmcli, dpkg-query, systemctl, sudo …) as small sh scripts
// put first on PATH: the one generator shared by the end-to-end tests (test/helpers/rig.ts), the
// demo and the benchmark. Plain JavaScript so that scripts/*.mjs run it without a build; its
// types are in fake-tools.d.mts.
//
// Each fake records its invocation (tool, SUDO_USER, the user sudo switched to, cwd, argv) in
// calls.log, then answers from the first case whose sh `case` glob matches "$*": fixture
// output (written to a file and cat'ed, so any bytes survive), an optional delay or hang, and an
// exit code.
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures');
const fixture = (p) => readFileSync(join(FIXTURES, p), 'utf8');

// One call: fields separated by \x1f (unit separator), the call ended by \x1e (record
// separator), so arguments may hold anything but those two bytes (a whole script, newlines).
// The record is put together in a file of this process's own, then appended by one `cat`: a
// tool called several times at once (check runs sonmcli calls side by side) wrote its printf
// pieces into the log interleaved, one call's arguments inside another's record.
const RECORD =
  `{ printf '%s\\037%s\\037%s\\037%s' "$TOOL" "$SUDO_USER" "$FAKE_AS_USER" "$(pwd)"; ` +
  `for a in "$@"; do printf '\\037%s' "$a"; done; printf '\\036'; } > "$FAKE_DIR/.call.$$"; ` +
  `cat "$FAKE_DIR/.call.$$" >> "$FAKE_DIR/calls.log"; rm -f "$FAKE_DIR/.call.$$"`;

export class FakeTools {
  /** `root` holds bin/ (the fakes), out/ (their answers) and calls.log. */
  constructor(root) {
    this.dir = root;
    this.bin = join(root, 'bin');
    mkdirSync(this.bin, { recursive: true });
    mkdirSync(join(root, 'out'), { recursive: true });
  }

  /** Define a tool from one case or a list (first match wins). Returns this. */
  tool(name, cases) {
    const list = Array.isArray(cases) ? cases : [cases];
    const lines = ['#!/bin/sh', `FAKE_DIR='${this.dir}'`, `TOOL='${name}'`, RECORD, 'case "$*" in'];
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
    this.#write(name, lines);
    return this;
  }

  /**
   * A real tool, recorded and then run with `prefix` before its arguments: for example the real
   * dpkg-query with `--admindir=DIR`, so a fixture dpkg status database answers whatever format
   * the agent asks for. The real tool is found in the system directories, never among the fakes;
   * throws when it is not installed. Returns this.
   */
  passthrough(name, prefix) {
    const dirs = ['/usr/local/bin', '/usr/bin', '/bin'];
    const real = dirs.map((d) => join(d, name)).find((p) => existsSync(p));
    if (!real) throw new Error(`${name} is not installed on this machine (apt-get install dpkg)`);
    const quoted = prefix.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const head = ['#!/bin/sh', `FAKE_DIR='${this.dir}'`, `TOOL='${name}'`, RECORD];
    this.#write(name, [...head, `exec '${real}' ${quoted} "$@"`, '']);
    return this;
  }

  /**
   * A sudo that records and then runs the command, as a user when -u is given (FAKE_AS_USER).
   * `nonInteractiveOk: false` makes `sudo -n true` fail as it does without a sudoers rule.
   */
  sudo(opts = {}) {
    const refuse = opts.nonInteractiveOk === false;
    this.#write('sudo', [
      '#!/bin/sh',
      `FAKE_DIR='${this.dir}'`,
      'TOOL=sudo',
      RECORD,
      'user=""',
      'while [ $# -gt 0 ]; do case "$1" in',
      '  -n|-H|-E) shift;;',
      '  -u) user="$2"; shift 2;;',
      '  --preserve-env=*) shift;;',
      '  --) shift; break;;',
      '  *) break;;',
      'esac; done',
      `if [ "$1" = "true" ]; then exit ${refuse ? 1 : 0}; fi`,
      refuse ? 'echo "sudo: a password is required" >&2; exit 1' : '',
      'FAKE_AS_USER="$user"; export FAKE_AS_USER',
      'SUDO_USER="${SUDO_USER:-rig}"; export SUDO_USER',
      'exec "$@"',
      '',
    ]);
    return this;
  }

  /** Every recorded call, in order. */
  calls() {
    const p = join(this.dir, 'calls.log');
    if (!existsSync(p)) return [];
    return readFileSync(p, 'utf8')
      .split('\x1e')
      .filter(Boolean)
      .map((rec) => {
        const [tool, sudoUser, asUser, cwd, ...args] = rec.split('\x1f');
        return { tool, sudoUser, asUser, cwd, args };
      });
  }

  /** The recorded calls of one tool. */
  callsOf(tool) {
    return this.calls().filter((c) => c.tool === tool);
  }

  /** PATH with the fakes first, then only the system directories (no real nvidia-smi). */
  path() {
    return `${this.bin}:/usr/local/bin:/usr/bin:/bin`;
  }

  #write(name, lines) {
    const path = join(this.bin, name);
    writeFileSync(path, lines.join('\n'));
    chmodSync(path, 0o755);
  }
}

/** sonmcli on a healthy rig: connected worker, one spot ask plan and its deal, SONM 0.4.25. */
export const HEALTHY_SONMCLI = [
  { match: '*worker status*', stdout: fixture('sonmcli/worker-status-connected.json') },
  { match: '*worker ask-plan list*', stdout: fixture('sonmcli/askplans-spot.json') },
  { match: '*deal status 84117*', stdout: fixture('sonmcli/deal-spot.json') },
  { match: '*version*', stdout: fixture('sonmcli/version.json') },
];

/**
 * The tools of a simulated rig in `root`: six RTX 2080 Ti, SONM 0.4.25, the worker connected,
 * no dmidecode or lscpu. `spec` overrides a tool's cases (`dpkgStatus`: the real dpkg-query on
 * that status database); `delays` (seconds) makes nvidia-smi,
 * sonmcli and dpkg-query as slow as the real ones. Returns the FakeTools.
 */
export function rigTools(root, spec = {}) {
  const slow = (cases, seconds) => {
    const list = Array.isArray(cases) ? cases : [cases];
    return seconds ? list.map((c) => ({ delay: seconds, ...c })) : list;
  };
  const delays = spec.delays ?? {};
  const nvidia = spec.nvidia ?? { stdout: fixture('nvidia-smi/six-2080ti.csv') };
  const tools = new FakeTools(root);
  tools.tool('nvidia-smi', slow(nvidia, delays.nvidia));
  if (spec.dpkgStatus) {
    // The real dpkg-query, answering from a copy of this status database.
    const admin = join(root, 'dpkg');
    mkdirSync(admin, { recursive: true });
    cpSync(spec.dpkgStatus, join(admin, 'status'));
    tools.passthrough('dpkg-query', [`--admindir=${admin}`]);
  } else {
    const dpkg = spec.dpkg ?? { stdout: fixture('dpkg/all-0.4.25.txt') };
    tools.tool('dpkg-query', slow(dpkg, delays.dpkg));
  }
  tools.tool('sonmcli', slow(spec.sonmcli ?? HEALTHY_SONMCLI, delays.sonmcli));
  tools.tool(
    'systemctl',
    spec.systemctl ?? [{ match: 'is-active*', stdout: 'active\n' }, { stdout: '' }],
  );
  tools.tool('service', spec.service ?? [{ stdout: '' }]);
  tools.tool('dmidecode', { exit: 1, stderr: 'dmidecode: not available in tests\n' });
  tools.tool('lscpu', { exit: 1 });
  tools.sudo({ nonInteractiveOk: spec.sudoOk ?? true });
  return tools;
}

/**
 * The environment a simulated rig's sonm-rewards runs with: the fakes first on PATH, the state
 * in `stateDir`, no configuration file, SUDO_USER=rig. `extra` overrides any of it.
 */
export function agentEnv(tools, stateDir, extra = {}) {
  return {
    PATH: tools.path(),
    HOME: stateDir,
    SUDO_USER: 'rig',
    SONM_REWARDS_STATE_DIR: stateDir,
    SONM_REWARDS_CONFIG: join(stateDir, 'no-config.json'),
    SONM_REWARDS_SONM_CONFIG_DIR: join(stateDir, 'etc-sonm'),
    ...extra,
  };
}
