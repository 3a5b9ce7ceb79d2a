#!/usr/bin/env node
// The rig agent. Compiled code lives in dist/ (npm run build).
// `--version` is answered here, before anything else is loaded: it must start as fast as node.
if (process.argv.length === 3 && process.argv[2] === '--version') {
  const { readFileSync } = await import('node:fs');
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  const { main } = await import('../dist/cli/main.js');
  await main();
}
