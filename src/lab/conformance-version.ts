// The istio.io/istio version conformance/istiod pins (its go.mod says the same; a test checks).
export const ISTIO_PSEUDO_VERSION = 'v0.0.0-20260827124520-eed52ebb66ad';
