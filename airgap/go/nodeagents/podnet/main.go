// Command podnet gives one node of a kind cluster its share of the pod network.
//
// kind's nodes are containers on one Docker network (one L2 segment), and the controller
// manager gives every node a pod range (spec.podCIDR). That is all a pod network needs
// here, as in kind's own kindnetd: on each node, a CNI configuration for a bridge whose
// addresses come from that node's own range, and a route to every other node's range via
// that node's InternalIP. podnet runs on every node (a hostNetwork DaemonSet), lists and
// watches the Node objects and keeps both in place.
//
// It talks to the API server through the kube package (the standard library alone: a list,
// then a watch from its resourceVersion, again on any error), so that it builds in seconds.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/vishvananda/netlink"

	"stsconf.local/airgap/nodeagents/kube"
)

const retryAfter = 2 * time.Second

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

func main() {
	self, confFile := os.Getenv("NODE_NAME"), os.Getenv("CNI_CONFIG")
	if self == "" || confFile == "" {
		log.Fatal("NODE_NAME and CNI_CONFIG must be set")
	}
	server, err := kube.New()
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("podnet on %s: watching nodes at %s", self, server.Server)
	for {
		err := server.ListAndWatch("/api/v1/nodes", func(kind string, object json.RawMessage) {
			if kind == "DELETED" {
				return
			}
			var n node
			if err := json.Unmarshal(object, &n); err != nil {
				log.Printf("a node: %v", err)
				return
			}
			apply(n, self, confFile)
		})
		log.Printf("nodes: %v; again in %s", err, retryAfter)
		time.Sleep(retryAfter)
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
