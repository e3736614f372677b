// A plugin as its author ships it: JavaScript importing the API from the package name.
import { defineCheck } from 'meshdoctor';

export default defineCheck({
  id: 'control-plane/self-import',
  category: 'control-plane',
  scope: 'mesh',
  needs: [],
  meta: {
    description: 'A plugin that imports meshdoctor by name',
    docs: 'https://example.com/runbooks/self-import',
    messages: { seen: { template: 'seen', severity: 'info', hint: 'nothing to do' } },
  },
  async run(ctx) {
    ctx.report({ messageId: 'seen' });
  },
});
