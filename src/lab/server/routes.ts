// Parsing of Kubernetes API paths into what is asked, and the verb the audit log records for it.

/** What a request path addresses. */
export type Route =
  | { type: 'version' }
  | { type: 'health' }
  | { type: 'api' }
  | { type: 'apis' }
  | { type: 'group'; group: string }
  | { type: 'groupVersion'; group: string; version: string }
  | {
      type: 'resource';
      group: string;
      version: string;
      plural: string;
      namespace?: string;
      name?: string;
      subresource?: string;
      /** Path after `<subresource>/` (pods/proxy), without the leading slash. */
      subpath?: string;
    }
  | { type: 'unknown' };

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Parse a path (no query string). */
export function parseRoute(pathname: string): Route {
  const trimmed = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  if (trimmed === '/version') return { type: 'version' };
  if (['/healthz', '/livez', '/readyz'].includes(trimmed)) return { type: 'health' };
  if (trimmed === '/api') return { type: 'api' };
  if (trimmed === '/apis') return { type: 'apis' };
  const raw = trimmed.split('/').slice(1);
  const parts = raw.map(decode);
  let group: string;
  let version: string;
  let rest: string[];
  let rawRest: string[];
  if (parts[0] === 'api' && parts.length >= 2) {
    group = '';
    version = parts[1];
    rest = parts.slice(2);
    rawRest = raw.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 2) {
    group = parts[1];
    if (parts.length === 2) return { type: 'group', group };
    version = parts[2];
    rest = parts.slice(3);
    rawRest = raw.slice(3);
  } else {
    return { type: 'unknown' };
  }
  if (rest.length === 0) return { type: 'groupVersion', group, version };

  let namespace: string | undefined;
  let offset = 0;
  // `/namespaces/<ns>/<plural>...` is namespaced; `/namespaces/<ns>` alone is the Namespace object.
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    offset = 2;
  }
  const [plural, name, subresource] = rest.slice(offset);
  const subpath = rawRest.length > offset + 3 ? rawRest.slice(offset + 3).join('/') : undefined;
  if (name === '' || subresource === '') return { type: 'unknown' };
  return { type: 'resource', group, version, plural, namespace, name, subresource, subpath };
}

/** The audit verb of a request: get, list, watch, create, update, patch, delete, exec, proxy, discovery... */
export function auditVerb(method: string, route: Route, watch: boolean): string {
  switch (route.type) {
    case 'api':
    case 'apis':
    case 'group':
    case 'groupVersion':
      return 'discovery';
    case 'version':
    case 'health':
    case 'unknown':
      return method === 'GET' ? 'get' : method.toLowerCase();
    case 'resource':
      break;
  }
  if (route.subresource === 'exec' || route.subresource === 'portforward' || route.subresource === 'proxy') return route.subresource;
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (route.name !== undefined) return 'get';
      return watch ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return route.name !== undefined ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}
