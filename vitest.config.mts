import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The run gets a private temporary folder and fails if it leaves anything there or in the work tree.
    globalSetup: ['scripts/leftover-guard.ts'],
    // Tests on the real engines need what `npm ci` does not install; vitest.engines.config.mts runs them.
    exclude: [...configDefaults.exclude, '**/*.engines.test.ts'],
  },
});
