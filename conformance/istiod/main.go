// conformance-istiod: the real istiod (Istio's pilot/test/xds FakeDiscoveryServer) run over a lab
// export, writing per primary the debug JSON istiod serves and the EDS a fake sidecar would get.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"time"
	_ "unsafe" // go:linkname

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	v1 "k8s.io/api/core/v1"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/serviceregistry"
	"istio.io/istio/pilot/pkg/serviceregistry/aggregate"
	"istio.io/istio/pilot/pkg/serviceregistry/kube/controller"
	"istio.io/istio/pilot/pkg/serviceregistry/provider"
	v3 "istio.io/istio/pilot/pkg/xds/v3"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pkg/adsc"
	"istio.io/istio/pkg/cluster"
	"istio.io/istio/pkg/config/mesh"
	"istio.io/istio/pkg/config/mesh/meshwatcher"
	"istio.io/istio/pkg/network"
	"istio.io/istio/pkg/test"
)

// The fake builds its kube controllers without a SystemNamespace, so it never reads the
// topology.istio.io/network label of istio-system as production istiod does (kube controller's
// namespace handler, controller.go NewController). We hand each controller its cluster's
// istio-system Namespace through that same handler (Istio's code, not ours).
//
//go:linkname onSystemNamespaceEvent istio.io/istio/pilot/pkg/serviceregistry/kube/controller.(*Controller).onSystemNamespaceEvent
func onSystemNamespaceEvent(c *controller.Controller, old, ns *v1.Namespace, ev model.Event) error

type manifest struct {
	Primaries []primary `json:"primaries"`
}

type registry struct {
	ID      string `json:"id"`
	Cluster string `json:"cluster"`
}

type proxy struct {
	Cluster      string            `json:"cluster"`
	ClusterID    string            `json:"clusterId"`
	Namespace    string            `json:"namespace"`
	Pod          string            `json:"pod"`
	IP           string            `json:"ip"`
	Network      string            `json:"network"`
	Labels       map[string]string `json:"labels"`
	IstioVersion string            `json:"istioVersion"`
	// Connected: the sidecar connects to this istiod over ADS (it shows in syncz).
	Connected bool `json:"connected"`
}

type primary struct {
	Name           string     `json:"name"`
	ClusterID      string     `json:"clusterId"`
	IstioNamespace string     `json:"istioNamespace"`
	Registries     []registry `json:"registries"`
	Proxies        []proxy    `json:"proxies"`
}

var debugPaths = []string{"registryz", "endpointShardz", "networkz", "configz", "syncz"}

func main() {
	in := flag.String("in", "", "lab export directory (mesh.json, <cluster>/objects.yaml, istio.yaml, mesh.yaml, meshNetworks.yaml)")
	out := flag.String("out", "", "output directory (one directory per primary)")
	flag.Parse()
	if *in == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: conformance-istiod -in DIR -out DIR")
		os.Exit(2)
	}
	var m manifest
	if err := readJSON(filepath.Join(*in, "mesh.json"), &m); err != nil {
		fail(err)
	}
	for _, p := range m.Primaries {
		if err := runPrimary(*in, filepath.Join(*out, p.Name), p); err != nil {
			fail(fmt.Errorf("primary %s: %w", p.Name, err))
		}
	}
}

func runPrimary(in, out string, p primary) error {
	objects := map[cluster.ID]string{}
	for _, r := range p.Registries {
		text, err := os.ReadFile(filepath.Join(in, r.Cluster, "objects.yaml"))
		if err != nil {
			return err
		}
		objects[cluster.ID(r.ID)] = string(text)
	}
	configs, err := os.ReadFile(filepath.Join(in, p.Name, "istio.yaml"))
	if err != nil {
		return err
	}
	meshText, err := os.ReadFile(filepath.Join(in, p.Name, "mesh.yaml"))
	if err != nil {
		return err
	}
	mc, err := mesh.ApplyMeshConfigDefaults(string(meshText))
	if err != nil {
		return fmt.Errorf("mesh config: %w", err)
	}
	networks := mesh.DefaultMeshNetworks()
	if text, err := os.ReadFile(filepath.Join(in, p.Name, "meshNetworks.yaml")); err == nil && len(text) > 0 {
		if networks, err = mesh.ParseMeshNetworks(string(text)); err != nil {
			return fmt.Errorf("meshNetworks: %w", err)
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	return test.Wrap(func(t test.Failer) {
		if err := serve(t, in, out, p, objects, string(configs), mc, networks); err != nil {
			t.Fatal(err)
		}
	})
}

func serve(t test.Failer, in, out string, p primary, objects map[cluster.ID]string, configs string, mc *meshconfig.MeshConfig, networks *meshconfig.MeshNetworks) error {
	s := xds.NewFakeDiscoveryServer(t, xds.FakeOptions{
		DefaultClusterName:              cluster.ID(p.ClusterID),
		KubernetesObjectStringByCluster: objects,
		ConfigString:                    configs,
		MeshConfig:                      mc,
		NetworksWatcher:                 meshwatcher.NewFixedNetworksWatcher(networks),
	})
	if err := orderRegistries(s, p); err != nil {
		return err
	}
	if err := applySystemNamespaces(s, in, p); err != nil {
		return err
	}
	// Sidecars connect over ADS (syncz lists them) and wait for their endpoints.
	for _, px := range p.Proxies {
		if px.Connected {
			connect(t, s, px)
		}
	}
	if err := waitAcked(s); err != nil {
		return err
	}
	for _, name := range debugPaths {
		rr := httptest.NewRecorder()
		s.DiscoveryDebug.ServeHTTP(rr, httptest.NewRequest("GET", "/debug/"+name, nil))
		if rr.Code != 200 {
			return fmt.Errorf("/debug/%s answered %d: %s", name, rr.Code, rr.Body.String())
		}
		if err := os.WriteFile(filepath.Join(out, name+".json"), rr.Body.Bytes(), 0o644); err != nil {
			return err
		}
	}
	eds := map[string]json.RawMessage{}
	for _, px := range p.Proxies {
		var list []json.RawMessage
		for _, cla := range s.Endpoints(s.SetupProxy(proxyModel(px))) {
			b, err := protojson.MarshalOptions{UseProtoNames: false}.Marshal(cla)
			if err != nil {
				return err
			}
			list = append(list, b)
		}
		sort.Slice(list, func(i, j int) bool { return string(list[i]) < string(list[j]) })
		b, _ := json.Marshal(list)
		eds[px.Cluster+"/"+px.Namespace+"/"+px.Pod] = b
	}
	b, err := json.MarshalIndent(eds, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "eds.json"), b, 0o644)
}

func aggregateOf(s *xds.FakeDiscoveryServer) (*aggregate.Controller, error) {
	agg, ok := s.Discovery.Env.ServiceDiscovery.(*aggregate.Controller)
	if !ok {
		return nil, fmt.Errorf("service discovery is %T, not the aggregate controller", s.Env().ServiceDiscovery)
	}
	return agg, nil
}

// orderRegistries puts the kube registries in the order production istiod has them: its own
// cluster first (added at start), then the peers as their remote secrets come (the manifest's
// order). The fake adds them in Go map order, and the first registry of a hostname gives the merged
// service its attributes (aggregate Controller.Services). Re-adding a registry appends its handlers
// once more, which only repeats notifications.
func orderRegistries(s *xds.FakeDiscoveryServer, p primary) error {
	agg, err := aggregateOf(s)
	if err != nil {
		return err
	}
	byID := map[cluster.ID]serviceregistry.Instance{}
	for _, reg := range agg.GetRegistries() {
		inner := unwrap(reg).(serviceregistry.Instance)
		if inner.Provider() == provider.Kubernetes {
			byID[inner.Cluster()] = inner
		}
	}
	for _, r := range p.Registries {
		if reg, ok := byID[cluster.ID(r.ID)]; ok {
			agg.DeleteRegistry(reg.Cluster(), reg.Provider())
			agg.AddRegistry(reg)
		}
	}
	return nil
}

// waitAcked waits until every connected sidecar acked the last push of every type it watches,
// the settled state the lab's syncz shows (a push still in flight would read STALE).
func waitAcked(s *xds.FakeDiscoveryServer) error {
	s.EnsureSynced(s.T())
	deadline := time.Now().Add(20 * time.Second)
	for {
		rr := httptest.NewRecorder()
		s.DiscoveryDebug.ServeHTTP(rr, httptest.NewRequest("GET", "/debug/syncz", nil))
		var entries []struct {
			Proxy     string `json:"proxy"`
			Resources map[string]struct {
				Sent  string `json:"sent"`
				Acked string `json:"acked"`
			} `json:"resources"`
		}
		if err := json.Unmarshal(rr.Body.Bytes(), &entries); err != nil {
			return fmt.Errorf("syncz: %w", err)
		}
		pending := ""
		for _, e := range entries {
			for typ, r := range e.Resources {
				if r.Sent != r.Acked {
					pending = e.Proxy + " " + typ
				}
			}
		}
		if pending == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sidecar %s never acked its last push", pending)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// applySystemNamespaces gives every kube registry its cluster's istio-system Namespace (see
// onSystemNamespaceEvent), then waits for the push that follows.
func applySystemNamespaces(s *xds.FakeDiscoveryServer, in string, p primary) error {
	byID := map[string]string{}
	for _, r := range p.Registries {
		byID[r.ID] = r.Cluster
	}
	agg, err := aggregateOf(s)
	if err != nil {
		return err
	}
	for _, reg := range agg.GetRegistries() {
		fc, ok := unwrap(reg).(*controller.FakeController)
		if !ok {
			continue
		}
		dir := byID[string(fc.Cluster())]
		var ns v1.Namespace
		if err := readJSON(filepath.Join(in, dir, "system-namespace.json"), &ns); err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return err
		}
		if err := onSystemNamespaceEvent(fc.Controller, nil, &ns, model.EventAdd); err != nil {
			return err
		}
	}
	s.Discovery.ConfigUpdate(&model.PushRequest{Forced: true})
	s.EnsureSynced(s.T())
	return nil
}

// unwrap returns the registry inside the aggregate controller's entry (an embedded Instance).
func unwrap(reg any) any {
	v := reflect.ValueOf(reg)
	if v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Struct {
		if f := v.Elem().FieldByName("Instance"); f.IsValid() && f.CanInterface() {
			return f.Interface()
		}
	}
	return reg
}

func proxyModel(px proxy) *model.Proxy {
	return &model.Proxy{
		Type:            model.SidecarProxy,
		IPAddresses:     []string{px.IP},
		ID:              px.Pod + "." + px.Namespace,
		ConfigNamespace: px.Namespace,
		Labels:          px.Labels,
		Metadata: &model.NodeMetadata{
			ClusterID:    cluster.ID(px.ClusterID),
			Network:      network.ID(px.Network),
			Namespace:    px.Namespace,
			Labels:       px.Labels,
			IstioVersion: px.IstioVersion,
		},
	}
}

// connect is FakeDiscoveryServer.Connect with the pod's name as the workload, so syncz shows the
// proxy as <pod>.<namespace> the way a real sidecar's node id does.
func connect(t test.Failer, s *xds.FakeDiscoveryServer, px proxy) {
	p := s.SetupProxy(proxyModel(px))
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if s.BufListener != nil {
		opts = append(opts, grpc.WithContextDialer(func(context.Context, string) (net.Conn, error) { return s.BufListener.Dial() }))
	}
	conn, err := adsc.New(s.Listener.Addr().String(), &adsc.ADSConfig{
		Config: adsc.Config{
			IP: px.IP, NodeType: model.SidecarProxy, Meta: p.Metadata.ToStruct(), Namespace: px.Namespace,
			Workload: px.Pod, GrpcOpts: opts,
		},
		InitialDiscoveryRequests: []*discovery.DiscoveryRequest{{TypeUrl: v3.ClusterType}, {TypeUrl: v3.ListenerType}},
	})
	if err != nil {
		t.Fatalf("connect %s: %v", px.Pod, err)
	}
	t.Cleanup(conn.Close)
	if err := conn.Run(); err != nil {
		t.Fatalf("connect %s: %v", px.Pod, err)
	}
	if _, err := conn.Wait(10*time.Second, v3.ClusterType, v3.ListenerType, v3.EndpointType, v3.RouteType); err != nil {
		t.Fatalf("sidecar %s: %v", px.Pod, err)
	}
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "conformance-istiod:", err)
	os.Exit(1)
}
