// A plugin whose probe breaks: the engine must report outcome `error` (exit code 3), not crash.
import { defineCheck } from '../../../src/index.ts';

export default defineCheck({
  id: 'connectivity/broken-probe',
  category: 'connectivity',
  scope: 'mesh',
  needs: [],
  meta: {
    description: 'A probe that cannot run',
    docs: 'https://example.com',
    messages: {},
  },
  async run() {
    throw new Error('probe pod has no shell');
  },
});
