// Kubernetes `Status` bodies, shaped like the real API server's so clients print the usual errors
// ("Error from server (NotFound): pods "x" not found") and map reasons the usual way.

/** A metav1.Status as the API server returns it for a failed request. */
export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; causes?: { reason: string; message: string }[] };
  code: number;
}

/** An HTTP answer not yet written: the server writes it to a response or to a raw upgrade socket. */
export interface Reply {
  status: number;
  contentType: string;
  /** Text, or the body's bytes in parts made once, written one after another (a list page). */
  body: string | Buffer[];
  headers?: Record<string, string>;
}

/** A Status failure reply. */
export function statusReply(code: number, reason: string, message: string, details?: KubeStatus['details']): Reply {
  const status: KubeStatus = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) status.details = details;
  return { status: code, contentType: 'application/json', body: JSON.stringify(status) };
}

/** A JSON reply with status 200 unless told. */
export function jsonReply(body: unknown, status = 200, contentType = 'application/json'): Reply {
  return { status, contentType, body: JSON.stringify(body) };
}

/** Details as the API server fills them: the resource plural in `kind`, the group only when not core. */
function resourceDetails(resource: string, group: string, name?: string): KubeStatus['details'] {
  const details: NonNullable<KubeStatus['details']> = { kind: resource };
  if (name !== undefined) details.name = name;
  if (group) details.group = group;
  return details;
}

/** `<resource>.<group>` as Kubernetes names a resource in messages (`gateways.networking.istio.io`). */
export function qualifiedResource(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

export function unauthorized(): Reply {
  return statusReply(401, 'Unauthorized', 'Unauthorized');
}

/** 403 with the real message: `pods "x" is forbidden: User "u" cannot get resource "pods" in API group "" in the namespace "ns"`. */
export function forbidden(opts: { user: string; verb: string; resource: string; group: string; namespace?: string; name?: string; subresource?: string }): Reply {
  const subject = opts.name !== undefined ? `${qualifiedResource(opts.resource, opts.group)} "${opts.name}"` : qualifiedResource(opts.resource, opts.group);
  const resource = opts.subresource ? `${opts.resource}/${opts.subresource}` : opts.resource;
  const scope = opts.namespace ? `in the namespace "${opts.namespace}"` : 'at the cluster scope';
  const message = `${subject} is forbidden: User "${opts.user}" cannot ${opts.verb} resource "${resource}" in API group "${opts.group}" ${scope}`;
  return statusReply(403, 'Forbidden', message, resourceDetails(opts.resource, opts.group, opts.name));
}

export function notFound(resource: string, group: string, name: string): Reply {
  return statusReply(404, 'NotFound', `${qualifiedResource(resource, group)} "${name}" not found`, resourceDetails(resource, group, name));
}

/** What the API server says for a path it does not serve. */
export function resourceNotFound(): Reply {
  return statusReply(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function methodNotAllowed(): Reply {
  return statusReply(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

export function badRequest(message: string): Reply {
  return statusReply(400, 'BadRequest', message);
}

export function internalError(message: string): Reply {
  return statusReply(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ reason: 'UnexpectedServerResponse', message }] });
}

export function serviceUnavailable(message: string): Reply {
  return statusReply(503, 'ServiceUnavailable', message);
}
