import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: labs and kubectl processes are heavy; forks isolate servers per file.
    pool: 'forks',
    maxWorkers: 2,
  },
});
