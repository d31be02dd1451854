import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The real-engine tests run in `npm run test:engines` (vitest.engines.config.mts), never in the fast suite.
    exclude: [...configDefaults.exclude, '**/*.engines.test.ts'],
    // The run gets a private temporary folder and fails if it leaves anything there or in the work tree.
    globalSetup: ['scripts/leftover-guard.ts'],
  },
});
