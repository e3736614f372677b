// The typed check contract. The `@ts-expect-error` lines are the assertions: `npm run typecheck`
// (part of `npm test`) fails when one of them stops being an error.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { defineCheck } from '../../src/index.ts';
import type { ClusterInfo, ClusterReader, ContextOf, FindingOf, Placeholders } from '../../src/index.ts';

const HINT_BUILT_AT_RUNTIME = ['Restart', 'istiod in {{namespace}}'].join(' ');

const clusterCheck = defineCheck({
  id: 'control-plane/typed',
  category: 'control-plane',
  scope: 'cluster',
  needs: [],
  meta: {
    description: 'd',
    docs: 'https://istio.io',
    messages: {
      withData: { template: 'istiod {{pod}} of {{ cluster }} is down', severity: 'error', hint: 'kubectl -n {{namespace}} logs {{pod}}' },
      noData: { template: 'nothing to fill', severity: 'info', hint: 'nothing to do' },
      runtimeHint: { template: 'revision {{revision}}', severity: 'warning', hint: HINT_BUILT_AT_RUNTIME },
    },
  },
  async run(ctx) {
    expectTypeOf(ctx.cluster).toEqualTypeOf<ClusterReader>();
    expectTypeOf(ctx.clusterInfo).toEqualTypeOf<ClusterInfo>();
    ctx.report({ messageId: 'withData', data: { pod: 'istiod-1', cluster: 'east', namespace: 'istio-system' } });
    ctx.report({ messageId: 'noData' });
    // Placeholders of a literal template are required even when the hint is built at runtime.
    ctx.report({ messageId: 'runtimeHint', data: { revision: 'stable' } });
    // @ts-expect-error a messageId the check does not declare
    ctx.report({ messageId: 'undeclared' });
    // @ts-expect-error `namespace` (a placeholder of the hint) is missing
    ctx.report({ messageId: 'withData', data: { pod: 'istiod-1', cluster: 'east' } });
    // @ts-expect-error a placeholder may not be undefined: it would render as <pod>
    ctx.report({ messageId: 'withData', data: { pod: undefined, cluster: 'east', namespace: 'istio-system' } });
    // @ts-expect-error data is required when the template has placeholders
    ctx.report({ messageId: 'runtimeHint' });
    helper(ctx);
  },
});

/** A helper of the check gets the same typed context. */
function helper(ctx: ContextOf<typeof clusterCheck>): void {
  const finding: FindingOf<typeof clusterCheck> = { messageId: 'noData' };
  ctx.report(finding);
  // @ts-expect-error helpers are held to the same messageIds
  ctx.report({ messageId: 'fromElsewhere' });
}

const meshCheck = defineCheck({
  id: 'network/typed-mesh',
  category: 'network',
  scope: 'mesh',
  needs: [],
  meta: { description: 'd', docs: 'https://istio.io', messages: { meshWide: { template: '{{count}} clusters', severity: 'warning', hint: 'h' } } },
  async run(ctx) {
    expectTypeOf(ctx.cluster).toEqualTypeOf<undefined>();
    // @ts-expect-error a mesh-scope check has no cluster of its own
    void ctx.cluster.name;
    ctx.report({ messageId: 'meshWide', data: { count: ctx.clusters.length } });
  },
});

describe('defineCheck', () => {
  it('is an identity helper', () => {
    const definition = { ...clusterCheck };
    expect(defineCheck(definition)).toBe(definition);
    expect(meshCheck.scope).toBe('mesh');
  });

  it('extracts the placeholders of a template', () => {
    expectTypeOf<Placeholders<'a {{one}} b {{ two }} c'>>().toEqualTypeOf<'one' | 'two'>();
    expectTypeOf<Placeholders<'none'>>().toEqualTypeOf<never>();
  });
});
