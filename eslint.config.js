// Lint: recommended JS + typescript-eslint rules; type-aware rules stay off to keep `npm test` fast.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules/', 'coverage/', 'dist/', 'release/', '**/*.d.ts'] },
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
    // Checks, and the mesh helpers they call, never talk to a cluster directly (STYLE.md anti-pattern 1):
    // every read goes through the ClusterReader the engine hands them. isIP is a pure function.
    files: ['src/checks/**/*.ts', 'src/mesh/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          '@kubernetes/client-node', 'ws', 'node:child_process', 'child_process', 'undici', 'node:https', 'node:http', 'https', 'http', 'net',
          { name: 'node:net', allowImportNames: ['isIP'], message: 'only isIP: sockets belong in src/cluster' },
        ],
        patterns: ['**/cluster/kube*', '**/cluster/live-*', '**/cluster/exec*', '**/cluster/port-forward*', '**/cluster/connect*', '**/cluster/remote-probe*', '**/cluster/prometheus*', '**/lab/**'],
      }],
    },
  },
);
