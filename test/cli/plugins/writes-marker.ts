// A plugin whose top-level code has an effect (as any module can): it writes the file named by
// MESHDOCTOR_TEST_PLUGIN_MARKER when it is loaded. Used to prove which commands load plugins.
import { writeFileSync } from 'node:fs';
import { defineCheck } from '../../../src/index.ts';

if (process.env.MESHDOCTOR_TEST_PLUGIN_MARKER) writeFileSync(process.env.MESHDOCTOR_TEST_PLUGIN_MARKER, 'loaded\n');

export default defineCheck({
  id: 'control-plane/plugin-loaded',
  category: 'control-plane',
  scope: 'mesh',
  needs: [],
  meta: {
    description: 'A check that finds nothing',
    docs: 'https://example.com/runbooks/plugin-loaded',
    messages: { never: { template: 'never reported', severity: 'info', hint: 'none' } },
  },
  async run() {},
});
