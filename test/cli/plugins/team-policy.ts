// An example plugin, as a team would write one: every cluster must run istiod revision "stable".
import { defineCheck } from '../../../src/index.ts';

export default defineCheck({
  id: 'control-plane/team-revision',
  category: 'control-plane',
  scope: 'cluster',
  needs: ['deployments'],
  meta: {
    description: 'Our team runs istiod revision "stable" everywhere',
    docs: 'https://example.com/runbooks/istio-revisions',
    messages: {
      wrongRevision: { template: 'cluster runs revision(s) {{revisions}}, not "stable"', severity: 'warning', hint: 'migrate with istioctl install --revision stable' },
    },
  },
  async run(ctx) {
    const revisions = ctx.clusterInfo.revisions;
    if (ctx.clusterInfo.role === 'primary' && !revisions.includes('stable')) {
      ctx.report({ messageId: 'wrongRevision', data: { revisions: revisions.join(', ') || 'none' } });
    }
  },
});
