#!/usr/bin/env node
// Fails when an import in src/ points up the layering that README's "Layout" section draws:
//
//   cli → commands → probe, program, upgrade, uptime, protocol → lib
//   service → program, protocol, lib
//
// Each folder may import itself and the folders listed for it below, nothing else.
// Written here rather than taken from a library (dependency-cruiser, madge) because the whole
// rule is this one table and a regular expression over relative imports; a library would add
// hundreds of files for it.
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
const SRC = join(ROOT, 'src');

/** Which folders each folder may import (besides itself). */
const ALLOWED = {
  cli: ['commands', 'lib'],
  commands: ['probe', 'program', 'upgrade', 'uptime', 'protocol', 'lib'],
  probe: ['lib'],
  program: ['probe', 'lib'],
  upgrade: ['probe', 'program', 'lib'],
  uptime: ['probe', 'program', 'protocol', 'lib'],
  protocol: ['lib'],
  service: ['program', 'protocol', 'lib'],
  lib: [],
};

function* files(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (/\.(ts|mts|js|mjs)$/.test(e.name)) yield p;
  }
}

const IMPORT =
  /(?:import|export)[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;
const bad = [];
for (const file of files(SRC)) {
  const from = relative(SRC, file).split('/')[0];
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    const target = relative(SRC, resolve(dirname(file), spec)).split('/')[0];
    if (target === from) continue;
    const allowed = ALLOWED[from];
    if (!allowed)
      bad.push(`${relative(ROOT, file)}: folder src/${from}/ is not in scripts/check-imports.mjs`);
    else if (!allowed.includes(target))
      bad.push(
        `${relative(ROOT, file)}: imports src/${target}/ (${spec}); ` +
          `src/${from}/ may import only ${allowed.join(', ') || 'nothing'}`,
      );
  }
}
for (const line of bad) console.error(line);
if (bad.length) {
  console.error(
    `check-imports: ${bad.length} import(s) point up the layering; see README "Layout"`,
  );
  process.exit(1);
}
console.log('check-imports: every import points down');
