// connectivity checks, sorted by id.
import type { Check } from '../../engine/types.ts';
import crossCluster from './cross-cluster.ts';
import dns from './dns.ts';
import gatewayReachability from './gateway-reachability.ts';
import http from './http.ts';

export default [crossCluster, dns, gatewayReachability, http] as Check[];
