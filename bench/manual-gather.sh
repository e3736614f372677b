#!/bin/bash
# Baseline for `npm run bench` (issue 19): gather by hand, with kubectl, the evidence meshdoctor reads
# (the same lists, istiod debug endpoints, sidecar admin output, curl and DNS probes via exec), one
# call after another per cluster as istio.io's troubleshooting guide does.
# Usage: manual-gather.sh [--parallel] CONTEXT...   (KUBECONFIG set by the caller). Output is discarded
# by the bench; it only times the gathering.
parallel=0
if [ "$1" = "--parallel" ]; then parallel=1; shift; fi
gather() {
  local k="kubectl --context $1"
  for r in namespaces pods services endpoints endpointslices.discovery.k8s.io configmaps secrets nodes \
    deployments.apps serviceentries.networking.istio.io destinationrules.networking.istio.io \
    virtualservices.networking.istio.io gateways.networking.istio.io networkpolicies.networking.k8s.io \
    gateways.gateway.networking.k8s.io; do
    $k get "$r" -A -o json >/dev/null 2>&1
  done
  $k get mutatingwebhookconfigurations -o json >/dev/null 2>&1
  local istiod
  istiod=$($k get pods -n istio-system -l app=istiod -o jsonpath='{.items[0].metadata.name}' 2>/dev/null)
  for p in syncz clusterz registryz endpointShardz endpointz networkz; do
    $k exec -n istio-system "$istiod" -c discovery -- pilot-discovery request GET "/debug/$p" >/dev/null 2>&1
  done
  local curl
  curl=$($k get pods -n sample -l app=curl -o jsonpath='{.items[0].metadata.name}' 2>/dev/null)
  for a in certs clusters 'config_dump?resource=dynamic_active_secrets'; do
    $k exec -n sample "$curl" -c istio-proxy -- pilot-agent request GET "$a" >/dev/null 2>&1
  done
  $k exec -n sample "$curl" -c curl -- getent hosts helloworld.sample.svc.cluster.local >/dev/null 2>&1
  for _ in 1 2 3 4; do
    $k exec -n sample "$curl" -c curl -- curl -sS -m 3 http://helloworld.sample.svc.cluster.local:5000/ >/dev/null 2>&1
  done
}
for c in "$@"; do
  if [ $parallel = 1 ]; then gather "$c" & else gather "$c"; fi
done
wait
