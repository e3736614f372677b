// A plugin that fails on its first run and passes on the next: exercises --wait.
import { defineCheck } from '../../../src/index.ts';

let runs = 0;

export default defineCheck({
  id: 'network/settles',
  category: 'network',
  scope: 'mesh',
  needs: [],
  meta: {
    description: 'Passes once the rollout has settled',
    docs: 'https://example.com',
    messages: { notYet: { template: 'rollout not settled (attempt {{attempt}})', severity: 'error', hint: 'wait' } },
  },
  async run(ctx) {
    runs += 1;
    if (runs === 1) ctx.report({ messageId: 'notYet', data: { attempt: runs } });
  },
});
