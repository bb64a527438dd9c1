import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Worker threads crash with the Temporal native bridge on Node 20 (exit 139); forks are stable.
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    setupFiles: ['test/helpers/tsx-require.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Workflow suites share one dev server; keep files from starving each other on 2 cores.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
