/**
 * Prints the plain closing line CI reads: "N passed, N failed", and above it one line per
 * failure, "failed: <file> > <test>", so the names are next to the count (.ci/run repeats
 * those lines above its own summary). A module that failed to load counts as one failure, so
 * a broken import can never pass as "0 failed".
 */
import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = unhandled.length;
    let skipped = 0;
    const names: string[] = unhandled.map(
      (e) => `an error outside any test: ${String(e).split('\n')[0]}`,
    );
    for (const m of modules) {
      const file = relative(process.cwd(), m.moduleId);
      let tests = 0;
      let testFailed = false;
      for (const t of m.children.allTests()) {
        tests++;
        const state = t.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') {
          failed++;
          testFailed = true;
          names.push(`${file} > ${t.fullName}`);
        } else skipped++;
      }
      const loadFailed = m.state() === 'failed' && tests === 0;
      const moduleErrors = m.errors().length > 0 && tests > 0 && !testFailed;
      if (loadFailed || moduleErrors) {
        failed++;
        names.push(`${file} (${loadFailed ? 'did not load' : 'an error outside its tests'})`);
      }
    }
    const lines = names.map((n) => `failed: ${n}\n`).join('');
    const tail = skipped ? `, ${skipped} skipped` : '';
    process.stdout.write(`\n${lines}${passed} passed, ${failed} failed${tail}\n`);
  }
}
