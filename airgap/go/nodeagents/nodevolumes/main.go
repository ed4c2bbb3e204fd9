// Command nodevolumes provisions the default StorageClass's volumes as directories on the node
// that runs the claim's first pod, and removes them when their claim is gone.
//
// It runs on every node (a DaemonSet). The class binds when a pod uses the claim
// (WaitForFirstConsumer): the scheduler names the node in the claim's selected-node
// annotation, and the controller manager names the class's provisioner in its
// storage-provisioner annotation. The nodevolumes of that node makes the directory under
// VOLUMES_ROOT and creates a PersistentVolume for the claim, pinned to the node. When the
// claim is deleted, the volume is released: with the reclaim policy Delete, the nodevolumes of
// its node removes the directory and deletes the volume.
//
// kind's local-path-provisioner does the same with a helper pod for each directory made and
// each removed; here those were about as many pods as the suite's own.
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"stsconf.local/airgap/nodeagents/kube"
)

const (
	provisioner        = "stsconf.io/node-volumes"
	selectedNode       = "volume.kubernetes.io/selected-node"
	storageProvisioner = "volume.kubernetes.io/storage-provisioner"
	betaProvisioner    = "volume.beta.kubernetes.io/storage-provisioner"
	provisionedBy      = "pv.kubernetes.io/provisioned-by"
	nodeLabel          = "stsconf.io/volume-node"
	retryAfter         = 2 * time.Second
)

type meta struct {
	Name              string            `json:"name"`
	Namespace         string            `json:"namespace,omitempty"`
	UID               string            `json:"uid,omitempty"`
	Labels            map[string]string `json:"labels,omitempty"`
	Annotations       map[string]string `json:"annotations,omitempty"`
	DeletionTimestamp *string           `json:"deletionTimestamp,omitempty"`
}

type claim struct {
	Metadata meta `json:"metadata"`
	Spec     struct {
		AccessModes []string `json:"accessModes"`
		Resources   struct {
			Requests map[string]string `json:"requests"`
		} `json:"resources"`
		StorageClassName *string `json:"storageClassName"`
		VolumeName       string  `json:"volumeName"`
		VolumeMode       *string `json:"volumeMode"`
	} `json:"spec"`
}

type volume struct {
	Metadata meta `json:"metadata"`
	Spec     struct {
		ReclaimPolicy string `json:"persistentVolumeReclaimPolicy"`
		HostPath      *struct {
			Path string `json:"path"`
		} `json:"hostPath"`
	} `json:"spec"`
	Status struct {
		Phase string `json:"phase"`
	} `json:"status"`
}

type storageClass struct {
	Provisioner   string `json:"provisioner"`
	ReclaimPolicy string `json:"reclaimPolicy"`
}

type agent struct {
	api  *kube.API
	node string
	root string
}

func main() {
	node, root := os.Getenv("NODE_NAME"), os.Getenv("VOLUMES_ROOT")
	if node == "" || !filepath.IsAbs(root) {
		log.Fatal("NODE_NAME and VOLUMES_ROOT (an absolute path) must be set")
	}
	api, err := kube.New()
	if err != nil {
		log.Fatal(err)
	}
	a := &agent{api, node, filepath.Clean(root)}
	log.Printf("nodevolumes on %s: volumes of %s under %s, API server %s", node, provisioner, root, api.Server)
	go a.keep("/api/v1/persistentvolumes", a.volumeChanged)
	a.keep("/api/v1/persistentvolumeclaims", a.claimChanged)
}

// keep lists and watches the collection at path for good, again after any error.
func (a *agent) keep(path string, changed func(json.RawMessage)) {
	for {
		err := a.api.ListAndWatch(path, func(kind string, object json.RawMessage) {
			if kind != "DELETED" {
				changed(object)
			}
		})
		log.Printf("%s: %v; again in %s", path, err, retryAfter)
		time.Sleep(retryAfter)
	}
}

func (a *agent) claimChanged(object json.RawMessage) {
	var c claim
	if err := json.Unmarshal(object, &c); err != nil {
		log.Printf("a claim: %v", err)
		return
	}
	if !a.mine(c) {
		return
	}
	if err := a.provision(c); err != nil {
		log.Printf("claim %s/%s: %v", c.Metadata.Namespace, c.Metadata.Name, err)
	}
}

// mine: an unbound claim of this provisioner whose first pod is on this node.
func (a *agent) mine(c claim) bool {
	named := c.Metadata.Annotations[storageProvisioner]
	if named == "" {
		named = c.Metadata.Annotations[betaProvisioner]
	}
	return named == provisioner && c.Metadata.Annotations[selectedNode] == a.node &&
		c.Spec.VolumeName == "" && c.Metadata.DeletionTimestamp == nil
}

func (a *agent) provision(c claim) error {
	if c.Spec.VolumeMode != nil && *c.Spec.VolumeMode == "Block" {
		return fmt.Errorf("block volumes are not provided, only directories")
	}
	if c.Spec.StorageClassName == nil {
		return fmt.Errorf("no storage class named")
	}
	var class storageClass
	if err := a.api.Do(http.MethodGet, "/apis/storage.k8s.io/v1/storageclasses/"+*c.Spec.StorageClassName, nil, &class); err != nil {
		return err
	}
	if class.Provisioner != provisioner {
		return nil
	}
	if class.ReclaimPolicy == "" {
		class.ReclaimPolicy = "Delete"
	}
	name := "pvc-" + c.Metadata.UID
	dir := filepath.Join(a.root, name)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o777); err != nil { // as the local-path provisioner leaves it
		return err
	}
	err := a.api.Do(http.MethodPost, "/api/v1/persistentvolumes", persistentVolume(c, name, dir, a.node, class), nil)
	if kube.IsStatus(err, http.StatusConflict) { // made already, on an earlier change of the claim
		return nil
	}
	if err == nil {
		log.Printf("claim %s/%s: volume %s at %s", c.Metadata.Namespace, c.Metadata.Name, name, dir)
	}
	return err
}

func persistentVolume(c claim, name, dir, node string, class storageClass) map[string]any {
	directory := "DirectoryOrCreate"
	return map[string]any{
		"apiVersion": "v1",
		"kind":       "PersistentVolume",
		"metadata": map[string]any{
			"name":        name,
			"labels":      map[string]string{nodeLabel: node},
			"annotations": map[string]string{provisionedBy: provisioner},
		},
		"spec": map[string]any{
			"capacity":                      map[string]string{"storage": c.Spec.Resources.Requests["storage"]},
			"accessModes":                   c.Spec.AccessModes,
			"persistentVolumeReclaimPolicy": class.ReclaimPolicy,
			"storageClassName":              *c.Spec.StorageClassName,
			"volumeMode":                    "Filesystem",
			"hostPath":                      map[string]any{"path": dir, "type": directory},
			"claimRef": map[string]string{
				"apiVersion": "v1", "kind": "PersistentVolumeClaim",
				"namespace": c.Metadata.Namespace, "name": c.Metadata.Name, "uid": c.Metadata.UID,
			},
			"nodeAffinity": map[string]any{"required": map[string]any{"nodeSelectorTerms": []any{
				map[string]any{"matchExpressions": []any{map[string]any{
					"key": "kubernetes.io/hostname", "operator": "In", "values": []string{node},
				}}},
			}}},
		},
	}
}

func (a *agent) volumeChanged(object json.RawMessage) {
	var v volume
	if err := json.Unmarshal(object, &v); err != nil {
		log.Printf("a volume: %v", err)
		return
	}
	released := v.Status.Phase == "Released" && v.Spec.ReclaimPolicy == "Delete"
	if !released || v.Metadata.Annotations[provisionedBy] != provisioner ||
		v.Metadata.Labels[nodeLabel] != a.node || v.Metadata.DeletionTimestamp != nil {
		return
	}
	if err := a.remove(v); err != nil {
		log.Printf("volume %s: %v", v.Metadata.Name, err)
	}
}

func (a *agent) remove(v volume) error {
	if v.Spec.HostPath == nil {
		return fmt.Errorf("no hostPath")
	}
	dir := filepath.Clean(v.Spec.HostPath.Path)
	if filepath.Dir(dir) != a.root || !strings.HasPrefix(filepath.Base(dir), "pvc-") {
		return fmt.Errorf("%s is not a volume directory under %s: left alone", dir, a.root)
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	preconditions := map[string]any{
		"apiVersion": "v1", "kind": "DeleteOptions",
		"preconditions": map[string]string{"uid": v.Metadata.UID},
	}
	err := a.api.Do(http.MethodDelete, "/api/v1/persistentvolumes/"+v.Metadata.Name, preconditions, nil)
	if kube.IsStatus(err, http.StatusNotFound) || kube.IsStatus(err, http.StatusConflict) {
		return nil // gone already, or another volume by that name
	}
	if err == nil {
		log.Printf("volume %s released: %s removed", v.Metadata.Name, dir)
	}
	return err
}
