// Bundle the rig agent with esbuild. Node loads a few bundled files much faster than ~40 small
// ES modules, and the 5-minute tick pays that start-up on every rig, every time.
//   dist/agent/main.js   every command (ESM; commands and heavy libraries stay lazily loaded chunks)
//   dist/agent/tick.cjs  the timer's `report` alone (CommonJS, one file): built-in modules are then
//                        required only when reached, and no ES module loader is set up at all
//   dist/agent/plain-tick.cjs  the rule "is this argv the timer's plain tick" (src/cli/plain-tick.ts),
//                        a few hundred bytes that bin/sonm-rewards.cjs requires to choose its path
// The service is not bundled: it runs from tsc's output in dist/.
import { writeFileSync } from 'node:fs';
import { build } from 'esbuild';

// Loaded lazily from node_modules, as they are: heavy, and CommonJS with exports that a bundle's
// ESM interop would not see (undici's named exports).
const external = ['systeminformation', 'undici', 'better-sqlite3', 'fastify', 'ajv'];
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: false,
  logLevel: 'warning',
  external,
};

const main = await build({
  ...common,
  metafile: true,
  entryPoints: { main: 'src/cli/main.ts' },
  outdir: 'dist/agent',
  splitting: true,
  format: 'esm',
  // Bundled CommonJS dependencies (commander) need require() in an ES module.
  banner: {
    js:
      "import { createRequire as __createRequire } from 'node:module'; " +
      'const require = __createRequire(import.meta.url);',
  },
});

const tick = await build({
  ...common,
  metafile: true,
  entryPoints: ['src/cli/tick.ts'],
  outfile: 'dist/agent/tick.cjs',
  format: 'cjs',
  // Never reached by a tick, or loaded from node_modules if they ever are.
  external: [...external, 'commander', 'chalk', 'ora'],
  // Files next to the package (package.json, programs/) are found from the bundle's own location.
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
});

await build({
  ...common,
  entryPoints: ['src/cli/plain-tick.ts'],
  outfile: 'dist/agent/plain-tick.cjs',
  format: 'cjs',
});

// The files each bundle holds: the release (scripts/release.mjs) ships the licences of the npm
// packages inlined here.
const inputs = [...new Set([main, tick].flatMap((r) => Object.keys(r.metafile.inputs)))].sort();
writeFileSync('dist/agent/inputs.json', `${JSON.stringify(inputs, null, 1)}\n`);
