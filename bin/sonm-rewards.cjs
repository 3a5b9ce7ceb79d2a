#!/usr/bin/env node
// The rig agent (npm run build bundles it into dist/agent/; see scripts/bundle.mjs).
// CommonJS on purpose: the timer's tick starts every five minutes, and a CommonJS start skips
// setting up Node's ES module loader. Three paths, fastest first:
'use strict';
const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  // --version must start as fast as node itself.
  process.stdout.write(`${require('../package.json').version}\n`);
} else if (require('../dist/agent/plain-tick.cjs').isPlainTick(argv)) {
  // The timer's `sonm-rewards report` (the rule is src/cli/plain-tick.ts).
  require('../dist/agent/tick.cjs').tick(argv);
} else {
  import('../dist/agent/main.js').then((m) => m.main(argv));
}
