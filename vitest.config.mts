import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The run gets a private temporary folder and fails if it leaves anything there or in the work tree.
    globalSetup: ['scripts/leftover-guard.ts'],
  },
});
