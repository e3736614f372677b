// certificates checks, sorted by id.
import cacerts from './cacerts.ts';
import chain from './chain.ts';
import expiry from './expiry.ts';
import rootDistribution from './root-distribution.ts';
import sharedRoot from './shared-root.ts';
import workload from './workload.ts';

export default [cacerts, chain, expiry, rootDistribution, sharedRoot, workload];
