import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // CLI tests run bin/sparsecast.js: rebuild its bundle first when a source is newer (test/setup/cli-bundle.ts).
    globalSetup: ['test/setup/cli-bundle.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
