// control-plane checks, sorted by id.
import istiodReady from './istiod-ready.ts';

export default [istiodReady];
