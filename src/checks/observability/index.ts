// observability checks, sorted by id.
import crossClusterTraffic from './cross-cluster-traffic.ts';

export default [crossClusterTraffic];
