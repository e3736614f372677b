// ambient checks, sorted by id.
import eastwestGateway from './eastwest-gateway.ts';
import globalServices from './global-services.ts';
import multiNetwork from './multi-network.ts';
import waypoints from './waypoints.ts';
import ztunnelView from './ztunnel-view.ts';

export default [eastwestGateway, globalServices, multiNetwork, waypoints, ztunnelView];
