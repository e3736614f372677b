// The lab's Kubernetes API server (HTTPS + WebSocket) for one LabBackend.
export { startApiServer, type StartApiServerOptions } from './api-server.ts';
export { SERVER_VERSION } from './discovery.ts';
