#!/usr/bin/env node
// The rig agent. Compiled code lives in dist/ (npm run build).
import { main } from '../dist/cli/main.js';

await main();
