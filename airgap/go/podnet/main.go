// Command podnet gives one node of a kind cluster its share of the pod network.
//
// kind's nodes are containers on one Docker network (one L2 segment), and the controller
// manager gives every node a pod range (spec.podCIDR). That is all a pod network needs
// here, as in kind's own kindnetd: on each node, a CNI configuration for a bridge whose
// addresses come from that node's own range, and a route to every other node's range via
// that node's InternalIP. podnet runs on every node (a hostNetwork DaemonSet), lists and
// watches the Node objects and keeps both in place.
//
// It talks to the API server with the standard library alone (a list, then a watch from
// its resourceVersion, again on any error), so that it builds in seconds.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
)

const (
	accountDir   = "/var/run/secrets/kubernetes.io/serviceaccount"
	watchSeconds = 300
	retryAfter   = 2 * time.Second
)

const confTemplate = `{
  "cniVersion": "0.4.0",
  "name": "podnet",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "%s"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`

type node struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		PodCIDR string `json:"podCIDR"`
	} `json:"spec"`
	Status struct {
		Addresses []struct {
			Type    string `json:"type"`
			Address string `json:"address"`
		} `json:"addresses"`
	} `json:"status"`
}

type nodeList struct {
	Metadata struct {
		ResourceVersion string `json:"resourceVersion"`
	} `json:"metadata"`
	Items []node `json:"items"`
}

type watchEvent struct {
	Type   string `json:"type"`
	Object struct {
		node
		Metadata struct {
			Name            string `json:"name"`
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	} `json:"object"`
}

type api struct {
	server string
	client *http.Client
}

func main() {
	self, confFile := os.Getenv("NODE_NAME"), os.Getenv("CNI_CONFIG")
	if self == "" || confFile == "" {
		log.Fatal("NODE_NAME and CNI_CONFIG must be set")
	}
	server, err := newAPI()
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("podnet on %s: watching nodes at %s", self, server.server)
	for {
		if err := server.listAndWatch(func(n node) { apply(n, self, confFile) }); err != nil {
			log.Printf("nodes: %v; again in %s", err, retryAfter)
			time.Sleep(retryAfter)
		}
	}
}

// newAPI reaches the API server with the pod's service account, at the control plane
// directly when kind says where it is (so podnet need not wait for kube-proxy's routes).
func newAPI() (*api, error) {
	ca, err := os.ReadFile(filepath.Join(accountDir, "ca.crt"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("no certificate in %s/ca.crt", accountDir)
	}
	host := os.Getenv("CONTROL_PLANE_ENDPOINT")
	if host == "" {
		host = net.JoinHostPort(os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT"))
	}
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	// the timeout ends a watch whose connection died silently (the server ends it earlier)
	timeout := (watchSeconds + 30) * time.Second
	return &api{"https://" + host, &http.Client{Transport: transport, Timeout: timeout}}, nil
}

func (a *api) get(path string) (*http.Response, error) {
	token, err := os.ReadFile(filepath.Join(accountDir, "token")) // bound tokens rotate
	if err != nil {
		return nil, err
	}
	request, err := http.NewRequest(http.MethodGet, a.server+path, nil)
	if err != nil {
		return nil, err
	}
	request.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	response, err := a.client.Do(request)
	if err == nil && response.StatusCode != http.StatusOK {
		response.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", path, response.Status)
	}
	return response, err
}

// listAndWatch applies every node, then every change, until the watch ends.
func (a *api) listAndWatch(apply func(node)) error {
	response, err := a.get("/api/v1/nodes")
	if err != nil {
		return err
	}
	var list nodeList
	err = json.NewDecoder(response.Body).Decode(&list)
	response.Body.Close()
	if err != nil {
		return err
	}
	for _, n := range list.Items {
		apply(n)
	}
	path := fmt.Sprintf("/api/v1/nodes?watch=1&resourceVersion=%s&timeoutSeconds=%d",
		list.Metadata.ResourceVersion, watchSeconds)
	response, err = a.get(path)
	if err != nil {
		return err
	}
	defer response.Body.Close()
	decoder := json.NewDecoder(response.Body)
	for {
		var event watchEvent
		if err := decoder.Decode(&event); err != nil {
			return fmt.Errorf("watch ended: %v", err)
		}
		switch event.Type {
		case "ADDED", "MODIFIED":
			n := event.Object.node
			n.Metadata.Name = event.Object.Metadata.Name
			apply(n)
		case "ERROR":
			return fmt.Errorf("watch error (relisting)")
		}
	}
}

func apply(n node, self, confFile string) {
	if n.Spec.PodCIDR == "" {
		return
	}
	if n.Metadata.Name == self {
		if err := writeConf(confFile, n.Spec.PodCIDR); err != nil {
			log.Printf("writing %s: %v", confFile, err)
		}
		return
	}
	if err := routeTo(n); err != nil {
		log.Printf("route to %s: %v", n.Metadata.Name, err)
	}
}

func writeConf(path, podCIDR string) error {
	content := []byte(fmt.Sprintf(confTemplate, podCIDR))
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, content) {
		return nil
	}
	scratch := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(scratch, content, 0o644); err != nil {
		return err
	}
	log.Printf("pod range %s: writing %s", podCIDR, path)
	return os.Rename(scratch, path)
}

func routeTo(n node) error {
	_, dst, err := net.ParseCIDR(n.Spec.PodCIDR)
	if err != nil {
		return err
	}
	gw := internalIP(n)
	if gw == nil {
		return fmt.Errorf("no InternalIP yet")
	}
	existing, err := netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Dst: dst}, netlink.RT_FILTER_DST)
	if err == nil && len(existing) == 1 && existing[0].Gw.Equal(gw) {
		return nil
	}
	log.Printf("route %s via %s (%s)", dst, gw, n.Metadata.Name)
	return netlink.RouteReplace(&netlink.Route{Dst: dst, Gw: gw})
}

func internalIP(n node) net.IP {
	for _, address := range n.Status.Addresses {
		if address.Type == "InternalIP" {
			if ip := net.ParseIP(address.Address).To4(); ip != nil {
				return ip
			}
		}
	}
	return nil
}
