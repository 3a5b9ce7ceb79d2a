#!/usr/bin/env node
// The reference rewards service. Compiled code lives in dist/ (npm run build).
import { main } from '../dist/service/main.js';

await main();
