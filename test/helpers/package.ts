/**
 * Helpers for the .deb's tests (test/package/deb.test.ts): the release to test, running commands,
 * the oldkernel wrapper, and the glibc-floor rule applied to the ELF files of a package tree.
 */
import { spawn } from 'node:child_process';
import { collect } from './process.js';
import {
  closeSync,
  existsSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT, tempDir } from './rig.js';

export const VERSION = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
export const PREFIX = '/usr/lib/sonm-rewards';
export const LOADER = `${PREFIX}/lib/ld-linux-x86-64.so.2`;
/** The highest glibc symbol version a file using the host's libc may need: Ubuntu 16.04's. */
export const GLIBC_FLOOR = '2.23';

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a command (argument array, closed stdin, a deadline); never throws on a non-zero exit. */
export function sh(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Ran> {
  const child = spawn(cmd, args, {
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return collect(child, opts.timeoutMs ?? 120_000);
}

/** Why the .deb tests cannot run here, or null: they install a package, so they need root and dpkg. */
export function cannotInstallHere(): string | null {
  if (process.getuid?.() !== 0) return 'not root: installing a .deb needs root';
  for (const tool of ['dpkg', 'dpkg-deb', 'objdump', 'readelf', 'systemd-analyze']) {
    if (!process.env.PATH?.split(':').some((d) => existsSync(join(d, tool))))
      return `no ${tool} on PATH`;
  }
  return null;
}

/**
 * The .deb to test: SONM_REWARDS_DEB (what .ci/run's release step printed), else the one in
 * release/, rebuilt with scripts/release.mjs when missing or older than the built agent.
 */
export async function releaseDeb(): Promise<string> {
  if (process.env.SONM_REWARDS_DEB) return process.env.SONM_REWARDS_DEB;
  const deb = join(ROOT, 'release', `sonm-rewards_${VERSION}_amd64.deb`);
  const built = statSync(join(ROOT, 'dist/agent/main.js')).mtimeMs;
  if (!existsSync(deb) || statSync(deb).mtimeMs < built) {
    const r = await sh(process.execPath, [join(ROOT, 'scripts/release.mjs')], {
      timeoutMs: 600_000,
    });
    if (r.code !== 0) throw new Error(`scripts/release.mjs failed: ${r.stderr}`);
  }
  return deb;
}

/** tools/oldkernel built into .tmp/ (gcc and Debian's libseccomp-dev). */
export async function oldkernel(): Promise<string> {
  const out = join(ROOT, '.tmp', 'oldkernel');
  if (!existsSync(out)) {
    const r = await sh('gcc', ['-O2', '-o', out, join(ROOT, 'tools/oldkernel.c'), '-lseccomp']);
    if (r.code !== 0)
      throw new Error(
        `building oldkernel failed (apt-get install -y gcc libseccomp-dev): ${r.stderr}`,
      );
  }
  return out;
}

function isElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.toString('latin1') === '\x7fELF';
  } finally {
    closeSync(fd);
  }
}

/** Every regular ELF file under dir, as absolute paths. */
export function elfFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && isElf(p)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

const versionKey = (v: string): number[] => v.split('.').map(Number);
const newer = (a: string, b: string): boolean => {
  const [x, y] = [versionKey(a), versionKey(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++)
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
  return false;
};

export interface ElfVerdict {
  file: string;
  kind: 'bundled-lib' | 'private-runtime' | 'host-libc';
  glibc: string | null;
  problem: string | null;
}

/**
 * The glibc floor (README "Install on a rig"): under root (a package tree, or / for the
 * installed package), a file in PREFIX/lib is one of the runtime's own libraries; an executable
 * whose interpreter is the bundled loader, with RPATH $ORIGIN/../lib, is the private runtime;
 * anything else uses the host's libc and may need at most GLIBC_2.23 (objdump -T).
 */
export async function glibcVerdicts(root: string, files: string[]): Promise<ElfVerdict[]> {
  const out: ElfVerdict[] = [];
  for (const file of files) {
    const inTree = `/${relative(root, file)}`;
    const syms = (await sh('objdump', ['-T', file])).stdout;
    const versions = [...new Set([...syms.matchAll(/\bGLIBC_([0-9.]+)\b/g)].map((m) => m[1]!))];
    const glibc = versions.reduce<string | null>(
      (max, v) => (max === null || newer(v, max) ? v : max),
      null,
    );
    if (inTree.startsWith(`${PREFIX}/lib/`)) {
      out.push({ file: inTree, kind: 'bundled-lib', glibc, problem: null });
      continue;
    }
    const interp =
      /Requesting program interpreter: ([^\]]+)\]/.exec(
        (await sh('readelf', ['-l', file])).stdout,
      )?.[1] ?? null;
    const rpath =
      /\((?:RPATH|RUNPATH)\)\s+Library r(?:un)?path: \[([^\]]*)\]/.exec(
        (await sh('readelf', ['-d', file])).stdout,
      )?.[1] ?? null;
    if (interp === LOADER) {
      const problem =
        rpath === '$ORIGIN/../lib'
          ? null
          : `interpreter is the bundled loader but RPATH is ${rpath ?? 'unset'}`;
      out.push({ file: inTree, kind: 'private-runtime', glibc, problem });
      continue;
    }
    const problem =
      glibc && newer(glibc, GLIBC_FLOOR)
        ? `needs GLIBC_${glibc} (interpreter ${interp ?? 'none'}); the floor is GLIBC_${GLIBC_FLOOR}`
        : null;
    out.push({ file: inTree, kind: 'host-libc', glibc, problem });
  }
  return out;
}

/** A directory of links to the few system tools the fake rig tools use, and no node. */
export function pathWithoutNode(fakeBin: string): string {
  const dir = tempDir('nonode-');
  for (const tool of ['cat', 'sleep']) symlinkSync(`/bin/${tool}`, join(dir, tool));
  return `${fakeBin}:${dir}`;
}
