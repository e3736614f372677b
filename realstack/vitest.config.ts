// `npm run test:realstack`: the tests against the real stack (realstack/stack.ts). One stack at a time
// (its ports are fixed), files in sequence; a cold build of the components can take most of an hour.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['realstack/test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60 * 60_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
  },
});
