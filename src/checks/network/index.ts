// network checks, sorted by id.
import crossNetworkGateway from './cross-network-gateway.ts';
import eastwestGateway from './eastwest-gateway.ts';
import gatewayView from './gateway-view.ts';
import istiodExposure from './istiod-exposure.ts';
import policies from './policies.ts';
import topology from './topology.ts';

export default [crossNetworkGateway, eastwestGateway, gatewayView, istiodExposure, policies, topology];
