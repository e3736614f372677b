// Authorization in the lab: a user is denied the kinds listed in `forbidden`, and a user with
// `namespaces` may only read inside those namespaces. The same rule answers the self-subject reviews
// a client sends to learn what it may do.
import { RESOURCE_KINDS } from '../../cluster/kinds.ts';
import type { ResourceKindName } from '../../cluster/types.ts';
import type { LabUser } from '../types.ts';
import { kindByGroupResource } from './discovery.ts';

/** May the user act on a kind, in a namespace or (namespace undefined) across the cluster? */
export function isAllowed(user: LabUser, kind: ResourceKindName | undefined, namespace: string | undefined): boolean {
  if (kind && user.forbidden?.includes(kind)) return false;
  if (user.namespaces) return namespace !== undefined && user.namespaces.includes(namespace);
  return true;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/** Answer a SelfSubjectAccessReview (POST body) for the user. */
export function selfSubjectAccessReview(user: LabUser, review: Any): unknown {
  const attrs = review?.spec?.resourceAttributes;
  let allowed: boolean;
  if (attrs) {
    const group = typeof attrs.group === 'string' ? attrs.group : '';
    const kind = typeof attrs.resource === 'string' ? kindByGroupResource(group, attrs.resource) : undefined;
    const namespace = typeof attrs.namespace === 'string' && attrs.namespace !== '' ? attrs.namespace : undefined;
    const namespaced = kind ? RESOURCE_KINDS[kind].namespaced : true;
    // A namespace-limited user reads nothing cluster-scoped.
    allowed = isAllowed(user, kind, namespaced ? namespace : undefined);
  } else {
    // Non-resource URLs (/version, /healthz, /api...) are open to every authenticated user.
    allowed = true;
  }
  // RBAC denials carry no reason on a real cluster (kubectl then prints a bare "no").
  const status = { allowed };
  return {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec: review?.spec ?? {},
    status,
  };
}

/** Answer a SelfSubjectRulesReview (POST body) for the user. */
export function selfSubjectRulesReview(user: LabUser, review: Any): unknown {
  const namespace: string | undefined = review?.spec?.namespace || undefined;
  let resourceRules: { verbs: string[]; apiGroups: string[]; resources: string[] }[];
  if (!user.forbidden?.length && !user.namespaces) {
    resourceRules = [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }];
  } else {
    resourceRules = (Object.entries(RESOURCE_KINDS) as [ResourceKindName, (typeof RESOURCE_KINDS)[ResourceKindName]][])
      .filter(([kind, info]) => isAllowed(user, kind, info.namespaced ? namespace : undefined))
      .map(([, info]) => ({ verbs: ['get', 'list', 'watch'], apiGroups: [info.group], resources: [info.plural] }));
  }
  return {
    kind: 'SelfSubjectRulesReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec: review?.spec ?? {},
    status: {
      resourceRules,
      nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/readyz', '/version', '/version/'] }],
      incomplete: false,
    },
  };
}
