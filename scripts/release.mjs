#!/usr/bin/env node
// `npm run release`: builds release/sonm-rewards_<version>_amd64.deb from a built checkout
// (npm run build first; the npm script does both) and prints its path as the last line.
// Needs: npm (the registry), and Debian's binutils (strip), patchelf, dpkg-deb, xz-utils.
//
// What goes where (README "Install on a rig"):
//   /usr/lib/sonm-rewards/bin/node        Node (runtime.json pins it), stripped, then patchelf'd
//                                         to the bundled loader with RPATH $ORIGIN/../lib, so it
//                                         never uses the host's glibc (deploy-notes.md)
//   /usr/lib/sonm-rewards/lib/            ld-linux, libc, libm, libpthread, libdl, libstdc++,
//                                         libgcc_s, libnss_compat, copied from this machine's
//                                         Debian packages
//   /usr/lib/sonm-rewards/app/            the bundled agent (dist/agent), programs/, package.json,
//                                         and the two modules it loads lazily (undici, systeminformation)
//   /usr/bin/sonm-rewards                 -> ../lib/sonm-rewards/app/bin/sonm-rewards.cjs, whose
//                                         #! names the bundled node
//   /lib/systemd/system/                  the report service and timer, from src/uptime/units.ts
//   /etc/sonm-rewards/config.json         a conffile ({}): the fleet's settings
//   /usr/share/doc/sonm-rewards/          README, copyright, the licences of everything shipped
// The package script is plain Node on purpose: dpkg-deb --build is all Debian needs, and
// nfpm/fpm are not in Debian 12 (deploy-notes.md).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PREFIX = '/usr/lib/sonm-rewards';
const started = Date.now();
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const runtime = JSON.parse(readFileSync(join(ROOT, 'scripts/release/runtime.json'), 'utf8'));
const OUT = join(ROOT, 'release');
const WORK = join(OUT, 'work');
const TREE = join(WORK, 'root');

/** The runtime's libraries and the Debian package each comes from. */
const LIBS = [
  ['libc6', 'ld-linux-x86-64.so.2'],
  ['libc6', 'libc.so.6'],
  ['libc6', 'libm.so.6'],
  ['libc6', 'libpthread.so.0'],
  ['libc6', 'libdl.so.2'],
  ['libc6', 'libnss_compat.so.2'],
  ['libstdc++6', 'libstdc++.so.6'],
  ['libgcc-s1', 'libgcc_s.so.1'],
];
/** Modules the agent bundle leaves external and loads lazily (scripts/bundle.mjs). */
const LAZY_MODULES = ['undici', 'systeminformation'];

const run = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...opts });
const step = (what) => process.stderr.write(`release: ${what}\n`);
const fail = (why) => {
  process.stderr.write(`release: ${why}\n`);
  process.exit(1);
};
const put = (path, text, mode = 0o644) => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text, { mode });
  chmodSync(path, mode);
};

function checkTools() {
  for (const [tool, debPkg] of [
    ['strip', 'binutils'],
    ['patchelf', 'patchelf'],
    ['dpkg-deb', 'dpkg'],
    ['dpkg-query', 'dpkg'],
    ['xz', 'xz-utils'],
  ]) {
    try {
      run('sh', ['-c', `command -v ${tool}`]);
    } catch {
      fail(`${tool} not found: apt-get install -y ${debPkg}`);
    }
  }
  if (!existsSync(join(ROOT, 'dist/agent/main.js')))
    fail('dist/agent is missing: run `npm run build` first (npm run release does)');
}

/** Fetch the pinned runtime with npm and check its SHA-512 against runtime.json. */
function fetchRuntime() {
  const spec = `${runtime.package}@${runtime.version}`;
  step(`fetching ${spec} from the npm registry`);
  const dir = join(WORK, 'runtime');
  mkdirSync(dir, { recursive: true });
  const [packed] = JSON.parse(
    run('npm', ['pack', spec, '--json', '--silent', '--pack-destination', dir], { cwd: dir }),
  );
  const tarball = join(dir, packed.filename);
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  if (integrity !== runtime.integrity)
    fail(`${spec}: SHA-512 ${integrity} is not the pinned ${runtime.integrity}; refusing it`);
  run('tar', ['-xzf', tarball, '-C', dir, 'package/bin/node', 'package/LICENSE']);
  return { node: join(dir, 'package/bin/node'), license: join(dir, 'package/LICENSE'), integrity };
}

/** The path of a file that a Debian package installed, found through `dpkg -L`. */
function debFile(debPkg, name) {
  const hit = run('dpkg', ['-L', debPkg])
    .split('\n')
    .find((p) => basename(p) === name && existsSync(p));
  if (!hit) fail(`${name} not found in the Debian package ${debPkg}`);
  return realpathSync(hit);
}

const debVersion = (debPkg) => run('dpkg-query', ['-W', '-f=${Version}', debPkg]).trim();

/** The licence of the GCC runtime libraries (libgcc-s1, libstdc++6) copied from Debian. */
const GCC_RUNTIME_LICENSE = 'GPL-3+ with the GCC Runtime Library Exception';

function installRuntime(rt) {
  step('making the runtime host-glibc-independent (strip, then patchelf)');
  const node = join(TREE, PREFIX, 'bin/node');
  mkdirSync(dirname(node), { recursive: true });
  copyFileSync(rt.node, node);
  chmodSync(node, 0o755);
  // Order matters: stripping after patchelf breaks symbol versioning (deploy-notes.md).
  run('strip', [node]);
  run('patchelf', [
    '--set-interpreter',
    `${PREFIX}/lib/ld-linux-x86-64.so.2`,
    '--force-rpath',
    '--set-rpath',
    '$ORIGIN/../lib',
    node,
  ]);
  const libDir = join(TREE, PREFIX, 'lib');
  mkdirSync(libDir, { recursive: true });
  for (const [debPkg, name] of LIBS) {
    copyFileSync(debFile(debPkg, name), join(libDir, name));
    chmodSync(join(libDir, name), name.startsWith('ld-linux') ? 0o755 : 0o644);
  }
}

function installApp() {
  step('copying the bundled agent');
  const app = join(TREE, PREFIX, 'app');
  const { name, version, description, license, type } = pkg;
  put(
    join(app, 'package.json'),
    `${JSON.stringify({ name, version, description, license, type }, null, 2)}\n`,
  );
  const cli = readFileSync(join(ROOT, 'bin/sonm-rewards.cjs'), 'utf8').replace(
    /^#!.*\n/,
    `#!${PREFIX}/bin/node\n`,
  );
  put(join(app, 'bin/sonm-rewards.cjs'), cli, 0o755);
  cpSync(join(ROOT, 'dist/agent'), join(app, 'dist/agent'), {
    recursive: true,
    filter: (p) => !p.endsWith('inputs.json'),
  });
  cpSync(join(ROOT, 'programs'), join(app, 'programs'), { recursive: true });
  for (const m of LAZY_MODULES) {
    cpSync(join(ROOT, 'node_modules', m), join(app, 'node_modules', m), {
      recursive: true,
      filter: (p) => !/\/(docs|types)$|\.d\.ts$|\.md$/.test(p),
    });
  }
  mkdirSync(join(TREE, 'usr/bin'), { recursive: true });
  symlinkSync(`../lib/sonm-rewards/app/bin/sonm-rewards.cjs`, join(TREE, 'usr/bin/sonm-rewards'));
}

async function installUnits() {
  const units = await import(join(ROOT, 'dist/uptime/units.js'));
  const o = units.packagedUnitOptions();
  put(join(TREE, units.PACKAGED_UNIT_DIR, units.SERVICE_UNIT), units.renderServiceUnit(o));
  put(join(TREE, units.PACKAGED_UNIT_DIR, units.TIMER_UNIT), units.renderTimerUnit(o));
  put(join(TREE, 'etc/sonm-rewards/config.json'), '{}\n');
}

/** npm packages inlined into the bundle or shipped beside it, each with its licence file. */
function npmLicences() {
  const inputs = JSON.parse(readFileSync(join(ROOT, 'dist/agent/inputs.json'), 'utf8'));
  const names = new Set(LAZY_MODULES);
  for (const p of inputs) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(p);
    if (m) names.add(m[1]);
  }
  return [...names].sort().map((n) => {
    const dir = join(ROOT, 'node_modules', n);
    const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)/i.test(f));
    if (!file) fail(`no licence file in node_modules/${n}`);
    const { version, license } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    return { name: n, version, license, file: join(dir, file) };
  });
}

function installDocs(rt) {
  step('writing docs and licences');
  const doc = join(TREE, 'usr/share/doc/sonm-rewards');
  const lic = join(doc, 'licenses');
  mkdirSync(lic, { recursive: true });
  copyFileSync(join(ROOT, 'README.md'), join(doc, 'README.md'));
  copyFileSync(rt.license, join(lic, 'node.LICENSE'));
  const debs = [...new Set(LIBS.map(([d]) => d))];
  for (const d of debs) copyFileSync(`/usr/share/doc/${d}/copyright`, join(lic, `${d}.copyright`));
  const npm = npmLicences();
  for (const m of npm) copyFileSync(m.file, join(lic, `npm-${m.name.replace('/', '__')}.LICENSE`));
  const libsByDeb = (d) =>
    LIBS.filter(([x]) => x === d)
      .map(([, n]) => `${PREFIX.slice(1)}/lib/${n}`)
      .join('\n       ');
  put(
    join(doc, 'copyright'),
    [
      'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
      'Upstream-Name: sonm-rewards',
      '',
      'Files: *',
      'Copyright: the sonm-rewards authors',
      'License: MIT',
      '',
      `Files: ${PREFIX.slice(1)}/bin/node`,
      `Comment: Node.js ${runtime.version}, ` +
        `from the npm package ${runtime.package}@${runtime.version} (${rt.integrity}).`,
      ' Its licence, with those of the libraries it embeds (V8, OpenSSL, ICU, libuv, …), ' +
        'is in licenses/node.LICENSE.',
      'Copyright: Node.js contributors',
      'License: MIT and others, see licenses/node.LICENSE',
      '',
      ...debs.flatMap((d) => [
        `Files: ${libsByDeb(d)}`,
        `Comment: copied unchanged from Debian's ${d} ${debVersion(d)}; its copyright file is licenses/${d}.copyright.`,
        `License: see licenses/${d}.copyright (${d === 'libc6' ? 'LGPL-2.1+' : GCC_RUNTIME_LICENSE})`,
        '',
      ]),
      `Files: ${PREFIX.slice(1)}/app/*`,
      'Copyright: the sonm-rewards authors and the authors of these npm packages',
      'Comment: the agent, bundled by esbuild with these npm packages (licence texts in licenses/npm-*.LICENSE):',
      ...npm.map((m) => ` ${m.name} ${m.version} (${m.license})`),
      `License: ${[...new Set(npm.map((m) => m.license))].join(' and ')}`,
      '',
      'License: MIT',
      ' Permission is hereby granted, free of charge, to any person obtaining a copy of this software and',
      ' associated documentation files (the "Software"), to deal in the Software without restriction,',
      ' including without limitation the rights to use, copy, modify, merge, publish, distribute,',
      ' sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is',
      ' furnished to do so, subject to the following conditions:',
      ' .',
      ' The above copyright notice and this permission notice shall be included in all copies or',
      ' substantial portions of the Software.',
      ' .',
      ' THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED.',
      '',
    ].join('\n'),
  );
}

function duKiB(dir) {
  let bytes = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (!e.isSymbolicLink()) bytes += statSync(p).size;
    }
  };
  walk(dir);
  return Math.ceil(bytes / 1024);
}

function installControl() {
  const debian = join(TREE, 'DEBIAN');
  mkdirSync(debian, { recursive: true });
  for (const s of ['postinst', 'prerm', 'postrm']) {
    copyFileSync(join(ROOT, 'scripts/release/debian', s), join(debian, s));
    chmodSync(join(debian, s), 0o755);
  }
  put(join(debian, 'conffiles'), '/etc/sonm-rewards/config.json\n');
  // No Depends: the runtime carries its own libraries, and a 16.04 rig has everything else.
  put(
    join(debian, 'control'),
    [
      'Package: sonm-rewards',
      `Version: ${pkg.version}`,
      'Architecture: amd64',
      'Maintainer: sonm-rewards maintainers <sonm-rewards@localhost>',
      `Installed-Size: ${duKiB(TREE)}`,
      'Section: utils',
      'Priority: optional',
      'Description: SONM elevated rewards agent: eligibility checks, safe upgrades, signed uptime',
      ` sonm-rewards checks whether a SONM supplier rig qualifies for the elevated rewards program,`,
      ' upgrades SONM safely, and records and delivers signed hourly uptime reports every 5 minutes',
      ` from a systemd timer. It carries its own Node.js ${runtime.version} runtime and C library, so`,
      ' it runs on Ubuntu 16.04 (glibc 2.23, systemd 229) and later with no Node installed.',
      '',
    ].join('\n'),
  );
  const sums = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory() && p !== debian) walk(p);
      else if (e.isFile())
        sums.push(
          `${createHash('md5').update(readFileSync(p)).digest('hex')}  ${relative(TREE, p)}`,
        );
    }
  };
  walk(TREE);
  put(
    join(debian, 'md5sums'),
    `${sums.sort((a, b) => a.slice(34).localeCompare(b.slice(34))).join('\n')}\n`,
  );
}

rmSync(WORK, { recursive: true, force: true });
mkdirSync(TREE, { recursive: true });
checkTools();
const rt = fetchRuntime();
installRuntime(rt);
installApp();
await installUnits();
installDocs(rt);
installControl();
const deb = join(OUT, `${pkg.name}_${pkg.version}_amd64.deb`);
step('dpkg-deb --build -Zxz (xz: dpkg 1.18 on Ubuntu 16.04 cannot read zstd)');
// umask-independent modes: directories 0755 (the state directory is made by postinst, not shipped).
run('find', [TREE, '-type', 'd', '-exec', 'chmod', '0755', '{}', '+']);
run('dpkg-deb', ['--root-owner-group', '-Zxz', '-z9', '--build', TREE, deb], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
const size = statSync(deb).size;
const seconds = ((Date.now() - started) / 1000).toFixed(1);
step(
  `${(size / 1e6).toFixed(1)} MB, installed ${(duKiB(TREE) / 1024).toFixed(1)} MiB, built in ${seconds} s`,
);
writeFileSync(
  join(OUT, 'build-info.json'),
  `${JSON.stringify(
    {
      deb: basename(deb),
      bytes: size,
      installedKiB: duKiB(TREE),
      seconds: Number(seconds),
      runtime: `${runtime.package}@${runtime.version}`,
    },
    null,
    2,
  )}\n`,
);
if (size > 32e6) fail(`the .deb is ${size} bytes, over the 32 MB limit`);
rmSync(WORK, { recursive: true, force: true }); // 250 MB of unpacked runtime and tree
console.log(deb);
