// services checks, sorted by id.
import consistency from './consistency.ts';
import crossClusterDiscovery from './cross-cluster-discovery.ts';
import endpoints from './endpoints.ts';
import legacyGlobal from './legacy-global.ts';
import localityFailover from './locality-failover.ts';
import namespaceSameness from './namespace-sameness.ts';
import remoteOnlyDns from './remote-only-dns.ts';

export default [consistency, crossClusterDiscovery, endpoints, legacyGlobal, localityFailover, namespaceSameness, remoteOnlyDns];
