import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // End-to-end tests spawn the built binaries and servers; two cores here.
    maxWorkers: 2,
    // Removes the /dev/shm names that libfaketime leaks from killed or exec'd processes.
    globalSetup: ['./test/helpers/global-teardown.ts'],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
