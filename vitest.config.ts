import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['*/test/**/*.test.ts'],
    // Integration tests start real brokers, child processes and SQLite files.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
