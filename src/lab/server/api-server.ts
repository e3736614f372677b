// The lab's Kubernetes API server: HTTPS on 127.0.0.1 with its own CA, bearer-token authentication
// through the backend, read-only REST (get, list, watch, discovery, Tables) and the WebSocket
// subresources (exec, port-forward), plus an audit log. Real kubectl and @kubernetes/client-node
// talk to it as to a small cluster.
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { KubeObject } from '../../cluster/types.ts';
import { createServingIdentity } from '../pki.ts';
import type { AuditEntry, LabApiServer, LabBackend, LabEndpoint, LabTransportFaults, LabUser } from '../types.ts';
import { isAllowed, selfSubjectAccessReview, selfSubjectRulesReview } from './access.ts';
import {
  AGGREGATED_DISCOVERY_V2,
  AUTHORIZATION_GROUP,
  REVIEW_RESOURCES,
  SERVER_VERSION,
  aggregatedDiscovery,
  apiGroupDocument,
  apiGroupList,
  apiResourceList,
  apiVersions,
  isServedGroupVersion,
  kindByPlural,
  wantsAggregatedDiscovery,
  type ServedKind,
} from './discovery.ts';
import { EXEC_PROTOCOLS, runExecSession } from './exec-session.ts';
import { SelectorError, objectKey, pageOf, parseFieldSelector, parseLabelSelector, sortedObjects, type SortedObjects } from './list-query.ts';
import { decodeAccessReview, decodeRulesReview } from './protobuf.ts';
import { PORT_FORWARD_PROTOCOLS, runPortForwardSession } from './port-forward-session.ts';
import { auditVerb, parseRoute, type Route } from './routes.ts';
import {
  badRequest,
  forbidden,
  internalError,
  jsonReply,
  methodNotAllowed,
  notFound,
  resourceNotFound,
  serviceUnavailable,
  statusReply,
  unauthorized,
  type Reply,
} from './status.ts';
import { toTable, wantsTable, type IncludeObject } from './table.ts';

/** istiod's monitoring/debug port: its debug endpoints answer 401 to callers that are not loopback. */
const ISTIOD_DEBUG_PORT = 15014;
const MAX_BODY_BYTES = 1024 * 1024;
/** Default lifetime of a watch when the client gives no timeoutSeconds. */
const DEFAULT_WATCH_SECONDS = 1800;

/** What handling a request produced. */
type Outcome =
  | { type: 'reply'; reply: Reply }
  /** Switch to WebSocket with one of `protocols` (preference order) and run `session`. */
  | { type: 'websocket'; protocols: string[]; session: (ws: WebSocket) => void }
  /** The response is written by `respond` (watch streams, proxied handlers); audit reads its status. */
  | { type: 'stream'; respond: (res: ServerResponse) => void };

/** One request being handled: what was parsed from it and who sent it. */
interface RequestInfo {
  req: IncomingMessage;
  url: URL;
  route: Route;
  verb: string;
  user?: LabUser;
  upgrade: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

function isTrue(value: string | null): boolean {
  return value === 'true' || value === '1';
}

function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m ? m[1] : undefined;
}

function groupVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

/** The object as served at a group/version: apiVersion rewritten when stored at another version. */
function servedAs(obj: KubeObject, apiVersion: string, kind: string): KubeObject {
  return obj.apiVersion === apiVersion && obj.kind === kind ? obj : { ...obj, apiVersion, kind };
}

/**
 * UTF-8 JSON of an object as a list serves it, made once per object, kind and version (issue 19): a
 * 10,000-pod cluster's pod list is 80 MB of JSON, and serializing it again on every list request
 * was the lab's largest cost, on the cores meshdoctor runs on; encoding the page's text on every
 * request (measuring, flattening, converting it) was the next. Cached per sorted list, which is
 * itself cached per backend list (sortedObjects): a backend that hands out a new list gets new JSON
 * (LabBackend.list: the objects handed out are never changed in place).
 */
const servedJsonCache = new WeakMap<SortedObjects, Map<string, WeakMap<KubeObject, Buffer>>>();
/** `,` and the object's JSON (the comma that precedes it in a list, so that an item is one write). */
function servedJson(sorted: SortedObjects, obj: KubeObject, apiVersion: string, kind: string): Buffer {
  let byType = servedJsonCache.get(sorted);
  if (!byType) servedJsonCache.set(sorted, (byType = new Map()));
  let byObject = byType.get(`${apiVersion}|${kind}`);
  if (!byObject) byType.set(`${apiVersion}|${kind}`, (byObject = new WeakMap()));
  let json = byObject.get(obj);
  if (json === undefined) byObject.set(obj, (json = Buffer.from(`,${JSON.stringify(servedAs(obj, apiVersion, kind))}`)));
  return json;
}

const LIST_END = Buffer.from(']}');

/**
 * A list's body, byte for byte what JSON.stringify of the whole list would give, in parts: the head,
 * the items' cached JSON, the first without its comma, and `]}`. Written part by part as the socket
 * drains (writeBody), so that neither the whole page (80 MB of pods) nor its encrypted copy is ever
 * allocated at once.
 */
function listBody(sorted: SortedObjects, items: KubeObject[], apiVersion: string, kind: string, metadata: Record<string, unknown>): Buffer[] {
  const parts: Buffer[] = [Buffer.from(`{"kind":${JSON.stringify(`${kind}List`)},"apiVersion":${JSON.stringify(apiVersion)},"metadata":${JSON.stringify(metadata)},"items":[`)];
  for (let i = 0; i < items.length; i++) {
    const json = servedJson(sorted, items[i], apiVersion, kind);
    parts.push(i === 0 ? json.subarray(1) : json);
  }
  parts.push(LIST_END);
  return parts;
}

function bodyLength(body: string | Buffer[]): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  let length = 0;
  for (const part of body) length += part.length;
  return length;
}

/**
 * Write a body and end the response. Parts go out as the socket takes them (issue 19): handed to
 * the TLS socket all at once, a page was copied into one buffer and encrypted into another before
 * any of it was sent, and those hundreds of megabytes per run made V8 collect garbage over and over.
 */
function writeBody(res: ServerResponse, body: string | Buffer[]): void {
  if (typeof body === 'string') {
    res.end(body);
    return;
  }
  let next = 0;
  const pump = (): void => {
    while (next < body.length) {
      if (!res.write(body[next++])) {
        if (!res.destroyed) res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Pick the first of our protocols (in our preference order) that the client offers. */
function chooseProtocol(req: IncomingMessage, ours: string[]): string | undefined {
  const offered = (req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  return ours.find((p) => offered.includes(p));
}

class KubeApiServer implements LabApiServer {
  readonly cluster: string;
  readonly endpoint: LabEndpoint;
  readonly audit: AuditEntry[] = [];
  received = 0;
  private backend: LabBackend | undefined;
  private faults: LabTransportFaults;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly websockets = new Set<WebSocket>();
  private readonly wss: WebSocketServer;
  private readonly chosenProtocol = new WeakMap<IncomingMessage, string>();
  private readonly stopping = new AbortController();

  constructor(cluster: string, server: Server, endpoint: LabEndpoint, faults: LabTransportFaults) {
    this.cluster = cluster;
    this.server = server;
    this.endpoint = endpoint;
    this.faults = faults;
    this.wss = new WebSocketServer({
      noServer: true,
      handleProtocols: (_offered, req) => this.chosenProtocol.get(req) ?? false,
    });
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.onRequest(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.onUpgrade(req, socket, head));
  }

  setBackend(backend: LabBackend): void {
    this.backend = backend;
  }

  setTransportFaults(faults: LabTransportFaults): void {
    this.faults = faults;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    for (const ws of this.websockets) ws.terminate();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.wss.close();
    await closed;
  }

  private record(info: RequestInfo, time: string, status: number): void {
    this.audit.push({
      time,
      cluster: this.cluster,
      method: info.req.method ?? 'GET',
      path: info.req.url ?? '/',
      user: info.user?.name ?? 'system:anonymous',
      status,
      verb: info.verb,
      userAgent: info.req.headers['user-agent'] ?? '',
    });
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.received += 1;
    const time = new Date().toISOString();
    const info = this.describe(req, false);
    let outcome: Outcome;
    try {
      outcome = await this.handle(info);
    } catch (err) {
      outcome = { type: 'reply', reply: internalError(err instanceof Error ? err.message : String(err)) };
    }
    if (this.stopping.signal.aborted) return;
    if (outcome.type === 'websocket') outcome = { type: 'reply', reply: badRequest('Upgrade request required') };
    if (outcome.type === 'stream') {
      outcome.respond(res);
      // A watch has its status once headers are out; a proxied handler may answer later.
      if (res.headersSent) this.record(info, time, res.statusCode);
      else res.on('finish', () => this.record(info, time, res.statusCode));
      return;
    }
    const { reply } = outcome;
    res.writeHead(reply.status, {
      'Content-Type': reply.contentType,
      'Content-Length': bodyLength(reply.body),
      'Cache-Control': 'no-cache, private',
      ...reply.headers,
    });
    writeBody(res, reply.body);
    this.record(info, time, reply.status);
  }

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const time = new Date().toISOString();
    const info = this.describe(req, true);
    let outcome: Outcome;
    try {
      outcome = await this.handle(info);
    } catch (err) {
      outcome = { type: 'reply', reply: internalError(err instanceof Error ? err.message : String(err)) };
    }
    if (this.stopping.signal.aborted) {
      socket.destroy();
      return;
    }
    if (outcome.type === 'stream') {
      outcome = { type: 'reply', reply: badRequest('this resource cannot be upgraded') };
    }
    if (outcome.type === 'websocket') {
      const protocol = chooseProtocol(req, outcome.protocols);
      if (req.headers.upgrade?.toLowerCase() !== 'websocket') {
        // kubectl falls back to SPDY only when its WebSocket attempt failed; the lab speaks WebSocket.
        outcome = { type: 'reply', reply: badRequest('the lab serves streaming subresources over WebSocket only (SPDY is not supported)') };
      } else if (!protocol) {
        outcome = { type: 'reply', reply: badRequest(`none of the offered subprotocols is supported; supported: ${outcome.protocols.join(', ')}`) };
      } else {
        const { session } = outcome;
        this.chosenProtocol.set(req, protocol);
        this.wss.handleUpgrade(req, socket, head, (ws) => {
          this.websockets.add(ws);
          ws.on('close', () => this.websockets.delete(ws));
          ws.on('error', () => ws.terminate());
          this.record(info, time, 101);
          session(ws);
        });
        return;
      }
    }
    const { reply } = outcome;
    const headers = [
      `HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status] ?? ''}`,
      `Content-Type: ${reply.contentType}`,
      `Content-Length: ${bodyLength(reply.body)}`,
      'Connection: close',
    ];
    const body = typeof reply.body === 'string' ? [Buffer.from(reply.body)] : reply.body;
    socket.end(Buffer.concat([Buffer.from(`${headers.join('\r\n')}\r\n\r\n`), ...body]));
    this.record(info, time, reply.status);
  }

  private describe(req: IncomingMessage, upgrade: boolean): RequestInfo {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const route = parseRoute(url.pathname);
    return { req, url, route, verb: auditVerb(req.method ?? 'GET', route, isTrue(url.searchParams.get('watch'))), upgrade };
  }

  /** Wait `ms`, or less if the server stops meanwhile. */
  private delay(ms: number): Promise<void> {
    const signal = this.stopping.signal;
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done);
    });
  }

  /** Transport faults, authentication, then the route. */
  private async handle(info: RequestInfo): Promise<Outcome> {
    const faults = this.faults;
    if (faults.latencyMs) await this.delay(faults.latencyMs);
    const path = info.url.pathname;
    if (faults.failPaths?.some((p) => (typeof p === 'string' ? p === path : p.test(path)))) {
      return { type: 'reply', reply: internalError(`the lab injected a failure on ${path}`) };
    }
    const backend = this.backend;
    if (!backend) return { type: 'reply', reply: serviceUnavailable(`the lab API server of cluster ${this.cluster} is starting`) };

    const token = bearerToken(info.req);
    if (token !== undefined) {
      info.user = backend.authenticate(token);
      // A presented but invalid token is rejected everywhere; no token at all is `system:anonymous`.
      if (!info.user) return { type: 'reply', reply: unauthorized() };
    }
    const { route } = info;
    // Version and health are public, as the system:public-info-viewer role makes them.
    if (route.type === 'version') return { type: 'reply', reply: jsonReply(SERVER_VERSION) };
    if (route.type === 'health') return { type: 'reply', reply: { status: 200, contentType: 'text/plain; charset=utf-8', body: 'ok' } };
    if (!info.user) return { type: 'reply', reply: unauthorized() };
    return this.route(info, backend, info.user);
  }

  private route(info: RequestInfo, backend: LabBackend, user: LabUser): Promise<Outcome> | Outcome {
    const { route, req } = info;
    const method = req.method ?? 'GET';
    const reply = (r: Reply): Outcome => ({ type: 'reply', reply: r });
    const accept = req.headers.accept;
    switch (route.type) {
      case 'api':
        if (wantsAggregatedDiscovery(accept)) return reply(jsonReply(aggregatedDiscovery(true), 200, AGGREGATED_DISCOVERY_V2));
        return reply(jsonReply(apiVersions(new URL(this.endpoint.server).host)));
      case 'apis':
        if (wantsAggregatedDiscovery(accept)) return reply(jsonReply(aggregatedDiscovery(false), 200, AGGREGATED_DISCOVERY_V2));
        return reply(jsonReply(apiGroupList()));
      case 'group': {
        const doc = apiGroupDocument(route.group);
        return reply(doc ? jsonReply(doc) : resourceNotFound());
      }
      case 'groupVersion': {
        const doc = apiResourceList(route.group, route.version);
        return reply(doc ? jsonReply(doc) : resourceNotFound());
      }
      case 'resource':
        break;
      default:
        return reply(resourceNotFound());
    }
    if (!isServedGroupVersion(route.group, route.version)) return reply(resourceNotFound());
    if (route.group === AUTHORIZATION_GROUP && REVIEW_RESOURCES.some((r) => r.plural === route.plural)) {
      return this.review(info, user, route.plural);
    }
    const served = kindByPlural(route.group, route.version, route.plural);
    if (!served || (route.namespace !== undefined && !served.info.namespaced)) return reply(resourceNotFound());

    if (route.subresource !== undefined) {
      const sub = route.subresource;
      if (served.name === 'pods' && sub === 'exec') return this.exec(info, backend, user);
      if (served.name === 'pods' && sub === 'portforward') return this.portForward(info, backend, user);
      if ((served.name === 'pods' || served.name === 'services') && sub === 'proxy') return this.proxy(info, backend, user, served.name);
      if (served.name === 'pods' && sub === 'log' && (method === 'GET' || method === 'HEAD')) return this.log(info, backend, user);
      if (sub !== 'status' || route.subpath !== undefined) return reply(resourceNotFound());
    }
    if (method !== 'GET' && method !== 'HEAD') return reply(methodNotAllowed());
    return this.read(info, backend, user, served);
  }

  /** get, list and watch of a kind. */
  private read(info: RequestInfo, backend: LabBackend, user: LabUser, served: ServedKind): Outcome {
    const route = info.route as Extract<Route, { type: 'resource' }>;
    const { url } = info;
    const apiVersion = groupVersionOf(route.group, route.version);
    const namespace = served.info.namespaced ? route.namespace : undefined;
    const verb = route.name !== undefined ? 'get' : info.verb === 'watch' ? 'watch' : 'list';
    if (!isAllowed(user, served.name, namespace)) {
      return { type: 'reply', reply: forbidden({ user: user.name, verb, resource: served.info.plural, group: served.info.group, namespace, name: route.name }) };
    }
    const sorted = sortedObjects(backend.list(served.name));
    const table = wantsTable(info.req.headers.accept);
    const includeObject = (url.searchParams.get('includeObject') ?? 'Metadata') as IncludeObject;
    const render = (objects: KubeObject[], meta: { continueToken?: string; remainingItemCount?: number }): unknown => {
      const items = objects.map((o) => servedAs(o, apiVersion, served.info.kind));
      if (table) return toTable(served.name, items, { includeObject, resourceVersion: sorted.resourceVersion, ...meta });
      return undefined;
    };

    if (route.name !== undefined) {
      // A namespaced kind is only addressable inside its namespace.
      if (served.info.namespaced && namespace === undefined) return { type: 'reply', reply: resourceNotFound() };
      const obj = sorted.byKey.get(objectKey(namespace, route.name));
      if (!obj) return { type: 'reply', reply: notFound(served.info.plural, served.info.group, route.name) };
      return { type: 'reply', reply: jsonReply(render([obj], {}) ?? servedAs(obj, apiVersion, served.info.kind)) };
    }

    let page;
    try {
      const labelSelector = url.searchParams.get('labelSelector');
      const fieldSelector = url.searchParams.get('fieldSelector');
      const query = {
        namespace,
        labels: labelSelector ? parseLabelSelector(labelSelector) : [],
        fields: fieldSelector ? parseFieldSelector(fieldSelector, served.name) : [],
      };
      if (verb === 'watch') return this.watch(info, sorted, query, render, apiVersion, served);
      const limit = Number(url.searchParams.get('limit') ?? 0);
      page = pageOf(sorted, { ...query, limit: Number.isFinite(limit) ? limit : 0, continueToken: url.searchParams.get('continue') ?? undefined });
    } catch (err) {
      if (err instanceof SelectorError) return { type: 'reply', reply: badRequest(err.message) };
      throw err;
    }
    const meta = { continueToken: page.continueToken, remainingItemCount: page.remainingItemCount };
    const asTable = render(page.items, meta);
    if (asTable) return { type: 'reply', reply: jsonReply(asTable) };
    const metadata: Record<string, unknown> = { resourceVersion: sorted.resourceVersion };
    if (page.continueToken) metadata.continue = page.continueToken;
    if (page.remainingItemCount !== undefined) metadata.remainingItemCount = page.remainingItemCount;
    return { type: 'reply', reply: { status: 200, contentType: 'application/json', body: listBody(sorted, page.items, apiVersion, served.info.kind, metadata) } };
  }

  /**
   * A watch on static state: ADDED for every matching object unless the client resumes from a
   * resourceVersion, then nothing until timeoutSeconds (or stop()).
   */
  private watch(
    info: RequestInfo,
    sorted: SortedObjects,
    query: Parameters<typeof pageOf>[1],
    render: (objects: KubeObject[], meta: object) => unknown,
    apiVersion: string,
    served: ServedKind,
  ): Outcome {
    const { url } = info;
    const resumeFrom = url.searchParams.get('resourceVersion');
    const timeoutSeconds = Number(url.searchParams.get('timeoutSeconds') ?? DEFAULT_WATCH_SECONDS);
    const initial = resumeFrom && resumeFrom !== '0' ? [] : pageOf(sorted, query).items;
    return {
      type: 'stream',
      respond: (res) => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
        for (const obj of initial) {
          const object = render([obj], {}) ?? servedAs(obj, apiVersion, served.info.kind);
          res.write(`${JSON.stringify({ type: 'ADDED', object })}\n`);
        }
        const timer = setTimeout(() => res.end(), (Number.isFinite(timeoutSeconds) ? timeoutSeconds : DEFAULT_WATCH_SECONDS) * 1000);
        timer.unref();
        res.on('close', () => clearTimeout(timer));
      },
    };
  }

  private async review(info: RequestInfo, user: LabUser, plural: string): Promise<Outcome> {
    if (info.req.method !== 'POST') return { type: 'reply', reply: methodNotAllowed() };
    const accessReview = plural === 'selfsubjectaccessreviews';
    const contentType = info.req.headers['content-type'] ?? 'application/json';
    let body: Any;
    try {
      const raw = await readBody(info.req);
      if (contentType.startsWith('application/vnd.kubernetes.protobuf')) body = accessReview ? decodeAccessReview(raw) : decodeRulesReview(raw);
      else if (contentType.startsWith('application/json')) body = JSON.parse(raw.toString('utf8') || '{}');
      else return { type: 'reply', reply: statusReply(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/vnd.kubernetes.protobuf`) };
    } catch (err) {
      return { type: 'reply', reply: badRequest(`the request body could not be decoded: ${err instanceof Error ? err.message : String(err)}`) };
    }
    const answer = accessReview ? selfSubjectAccessReview(user, body) : selfSubjectRulesReview(user, body);
    return { type: 'reply', reply: jsonReply(answer, 201) };
  }

  /** The pod a subresource addresses, or the error reply (404, 403). */
  private podFor(info: RequestInfo, backend: LabBackend, user: LabUser, subresource: string, verb: string): { pod: KubeObject } | { error: Outcome } {
    const route = info.route as Extract<Route, { type: 'resource' }>;
    const name = route.name ?? '';
    const fail = (reply: Reply) => ({ error: { type: 'reply', reply } as Outcome });
    if (route.namespace === undefined) return fail(resourceNotFound());
    if (!isAllowed(user, 'pods', route.namespace)) {
      return fail(forbidden({ user: user.name, verb, resource: 'pods', group: '', namespace: route.namespace, name, subresource }));
    }
    const pod = sortedObjects(backend.list('pods')).byKey.get(objectKey(route.namespace, name));
    return pod ? { pod } : fail(notFound('pods', '', name));
  }

  /**
   * pods/log: what the backend says the container logged (istiod's discovery log; other containers
   * log nothing), answered the way a real API server answers (404 for an unknown pod, 400 for a bad container).
   */
  private log(info: RequestInfo, backend: LabBackend, user: LabUser): Outcome {
    const found = this.podFor(info, backend, user, 'log', 'get');
    if ('error' in found) return found.error;
    const container = info.url.searchParams.get('container');
    const names = [...(found.pod.spec?.containers ?? []), ...(found.pod.spec?.initContainers ?? [])].map((c: Any) => c.name as string);
    if (container && !names.includes(container)) {
      return { type: 'reply', reply: badRequest(`container ${container} is not valid for pod ${found.pod.metadata.name}`) };
    }
    if (!container && (found.pod.spec?.containers ?? []).length > 1) {
      const choices = names.join(' ');
      return { type: 'reply', reply: badRequest(`a container name must be specified for pod ${found.pod.metadata.name}, choose one of: [${choices}]`) };
    }
    // The window a reader asks for, applied as the kubelet does: sinceSeconds, then tailLines, then limitBytes.
    const params = info.url.searchParams;
    const since = Number(params.get('sinceSeconds') ?? NaN);
    let lines = backend.log?.(found.pod.metadata.namespace ?? '', found.pod.metadata.name, container || names[0], Number.isFinite(since) && since > 0 ? since : undefined) ?? [];
    const tail = Number(params.get('tailLines') ?? NaN);
    if (Number.isInteger(tail) && tail >= 0) lines = tail === 0 ? [] : lines.slice(-tail);
    let body = lines.map((l) => `${l}\n`).join('');
    const limit = Number(params.get('limitBytes') ?? NaN);
    if (Number.isInteger(limit) && limit > 0 && Buffer.byteLength(body) > limit) body = Buffer.from(body).subarray(0, limit).toString('utf8');
    return { type: 'reply', reply: { status: 200, contentType: 'text/plain', body } };
  }

  private exec(info: RequestInfo, backend: LabBackend, user: LabUser): Outcome {
    const found = this.podFor(info, backend, user, 'exec', 'create');
    if ('error' in found) return found.error;
    const { pod } = found;
    const params = info.url.searchParams;
    const command = params.getAll('command');
    if (command.length === 0) return { type: 'reply', reply: badRequest('you must specify at least 1 command') };
    const containers: string[] = (pod.spec?.containers ?? []).map((c: Any) => c.name);
    const initContainers: string[] = (pod.spec?.initContainers ?? []).map((c: Any) => c.name);
    let container = params.get('container') ?? '';
    if (container === '') {
      if (containers.length !== 1) {
        return {
          type: 'reply',
          reply: badRequest(`a container name must be specified for pod ${pod.metadata.name}, choose one of: [${containers.join(' ')}] or one of the init containers: [${initContainers.join(' ')}]`),
        };
      }
      container = containers[0];
    }
    if (!containers.includes(container) && !initContainers.includes(container)) {
      return { type: 'reply', reply: badRequest(`container ${container} is not valid for pod ${pod.metadata.name}`) };
    }
    const streams = { stdin: isTrue(params.get('stdin')), stdout: isTrue(params.get('stdout')), stderr: isTrue(params.get('stderr')) };
    const request = { namespace: pod.metadata.namespace ?? '', pod: pod.metadata.name, container, command, user };
    return { type: 'websocket', protocols: EXEC_PROTOCOLS, session: (ws) => runExecSession(ws, backend, request, streams) };
  }

  private portForward(info: RequestInfo, backend: LabBackend, user: LabUser): Outcome {
    const found = this.podFor(info, backend, user, 'portforward', 'create');
    if ('error' in found) return found.error;
    const { pod } = found;
    const ports = info.url.searchParams
      .getAll('ports')
      .flatMap((p) => p.split(','))
      .map((p) => p.trim());
    const numbers = ports.map(Number);
    if (numbers.length === 0 || numbers.some((n) => !Number.isInteger(n) || n < 1 || n > 65535)) {
      return { type: 'reply', reply: badRequest(`invalid port in "${ports.join(',')}": ports must be between 1 and 65535`) };
    }
    const namespace = pod.metadata.namespace ?? '';
    return {
      type: 'websocket',
      protocols: PORT_FORWARD_PROTOCOLS,
      session: (ws) =>
        runPortForwardSession(ws, numbers, (port) => (this.faults.portForwardRefused ? undefined : backend.portForward(namespace, pod.metadata.name, port)), `${namespace}/${pod.metadata.name}`),
    };
  }

  /**
   * pods/proxy and services/proxy. istiod's debug port answers 401 with an empty body, as istiod does
   * for any caller that is not loopback; other ports with a backend handler are served by it.
   */
  private proxy(info: RequestInfo, backend: LabBackend, user: LabUser, kind: 'pods' | 'services'): Outcome {
    const route = info.route as Extract<Route, { type: 'resource' }>;
    const namespace = route.namespace;
    if (namespace === undefined) return { type: 'reply', reply: resourceNotFound() };
    // `name`, `name:port` or `scheme:name:port`.
    const parts = (route.name ?? '').split(':');
    const name = parts.length === 3 ? parts[1] : parts[0];
    const portSpec = parts.length === 3 ? parts[2] : parts[1];
    if (!isAllowed(user, kind, namespace)) {
      return { type: 'reply', reply: forbidden({ user: user.name, verb: 'get', resource: kind, group: '', namespace, name, subresource: 'proxy' }) };
    }
    const obj = sortedObjects(backend.list(kind)).byKey.get(objectKey(namespace, name));
    if (!obj) return { type: 'reply', reply: notFound(kind, '', name) };

    let pod: KubeObject | undefined;
    let port: number | undefined;
    if (kind === 'pods') {
      pod = obj;
      port = portSpec ? Number(portSpec) : undefined;
      if (port === undefined && backend.portForward(namespace, name, ISTIOD_DEBUG_PORT)) port = ISTIOD_DEBUG_PORT;
      port ??= 80;
    } else {
      const ports: Any[] = obj.spec?.ports ?? [];
      const svcPort = portSpec ? ports.find((p) => p.name === portSpec || String(p.port) === portSpec) : ports[0];
      if (!svcPort) return { type: 'reply', reply: serviceUnavailable(`no endpoints available for service "${name}"`) };
      port = typeof svcPort.targetPort === 'number' ? svcPort.targetPort : Number(svcPort.port);
      if (port !== ISTIOD_DEBUG_PORT) return { type: 'reply', reply: serviceUnavailable(`no endpoints available for service "${name}"`) };
    }
    if (port === ISTIOD_DEBUG_PORT) return { type: 'reply', reply: { status: 401, contentType: 'text/plain; charset=utf-8', body: '' } };
    const handler = pod ? backend.portForward(namespace, name, port) : undefined;
    if (!handler || info.upgrade) {
      const ip = pod?.status?.podIP ?? '0.0.0.0';
      return { type: 'reply', reply: serviceUnavailable(`error trying to reach service: dial tcp ${ip}:${port}: connect: connection refused`) };
    }
    return {
      type: 'stream',
      respond: (res) => {
        info.req.url = `/${route.subpath ?? ''}${info.url.search}`;
        handler(info.req, res);
      },
    };
  }
}

/** Options of a lab API server. */
export interface StartApiServerOptions {
  cluster: string;
  transportFaults?: LabTransportFaults;
}

/**
 * Start a lab API server for one cluster on 127.0.0.1 (ephemeral port) with its own serving CA.
 * Requests answer 503 until `setBackend()`; `stop()` closes every connection and the listener.
 */
export async function startApiServer(opts: StartApiServerOptions): Promise<LabApiServer> {
  const { ca, serving } = await createServingIdentity(opts.cluster);
  const server = createServer({ key: serving.keyPem, cert: serving.certPem });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('lab API server has no TCP address');
  const endpoint: LabEndpoint = { cluster: opts.cluster, server: `https://127.0.0.1:${address.port}`, caPem: ca.certPem };
  return new KubeApiServer(opts.cluster, server, endpoint, opts.transportFaults ?? {});
}
