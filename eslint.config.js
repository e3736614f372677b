// Lint: recommended JS + typescript-eslint rules; type-aware rules stay off to keep `npm test` fast.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules/', 'coverage/', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-imports': 'off',
    },
  },
  {
    // Checks never talk to a cluster directly (STYLE.md anti-pattern 1).
    files: ['src/checks/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: ['@kubernetes/client-node', 'ws', 'node:child_process', 'child_process', 'undici', 'node:https', 'node:http', 'node:net'],
        patterns: ['**/cluster/kube*', '**/cluster/live-*', '**/cluster/exec*', '**/cluster/port-forward*', '**/cluster/connect*', '**/lab/**'],
      }],
    },
  },
);
