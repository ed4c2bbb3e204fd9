// Package kube reaches the API server from a pod with the standard library alone: requests
// with the pod's service account, and a list followed by a watch from its resourceVersion.
// The node agents (podnet, nodevolumes) use it, so that each builds in seconds.
package kube

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	accountDir     = "/var/run/secrets/kubernetes.io/serviceaccount"
	watchSeconds   = 300
	requestTimeout = 30 * time.Second
)

// API is the API server, as the pod's service account sees it.
type API struct {
	Server  string
	watches *http.Client
	calls   *http.Client
}

// StatusError is an answer other than 2xx.
type StatusError struct {
	Method, Path string
	Code         int
	Body         string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Code, strings.TrimSpace(e.Body))
}

// IsStatus says whether err is the API server answering with this HTTP status code.
func IsStatus(err error, code int) bool {
	status, ok := err.(*StatusError)
	return ok && status.Code == code
}

// New reaches the API server at the control plane directly when kind says where it is
// (CONTROL_PLANE_ENDPOINT: podnet need not wait for kube-proxy's routes), else through the
// kubernetes Service.
func New() (*API, error) {
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
	watches := &http.Client{Transport: transport, Timeout: (watchSeconds + 30) * time.Second}
	calls := &http.Client{Transport: transport, Timeout: requestTimeout}
	return &API{"https://" + host, watches, calls}, nil
}

// Do sends body (JSON, when not nil) and decodes the answer into `into` (when not nil).
func (a *API) Do(method, path string, body, into any) error {
	response, err := a.send(a.calls, method, path, body)
	if err != nil {
		return err
	}
	defer response.Body.Close()
	if into == nil {
		return nil
	}
	return json.NewDecoder(response.Body).Decode(into)
}

func (a *API) send(client *http.Client, method, path string, body any) (*http.Response, error) {
	var content io.Reader
	if body != nil {
		encoded, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		content = bytes.NewReader(encoded)
	}
	token, err := os.ReadFile(filepath.Join(accountDir, "token")) // bound tokens rotate
	if err != nil {
		return nil, err
	}
	request, err := http.NewRequest(method, a.Server+path, content)
	if err != nil {
		return nil, err
	}
	request.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	if body != nil {
		request.Header.Set("Content-Type", "application/json")
	}
	response, err := client.Do(request)
	if err != nil {
		return nil, err
	}
	if response.StatusCode/100 != 2 {
		defer response.Body.Close()
		text, _ := io.ReadAll(io.LimitReader(response.Body, 2000))
		return nil, &StatusError{method, path, response.StatusCode, string(text)}
	}
	return response, nil
}

type list struct {
	Metadata struct {
		ResourceVersion string `json:"resourceVersion"`
	} `json:"metadata"`
	Items []json.RawMessage `json:"items"`
}

type event struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

// ListAndWatch hands every object of the collection at path to handle (as "ADDED"), then
// every change (ADDED, MODIFIED, DELETED), until the watch ends; it returns why it ended.
func (a *API) ListAndWatch(path string, handle func(kind string, object json.RawMessage)) error {
	var items list
	if err := a.Do(http.MethodGet, path, nil, &items); err != nil {
		return err
	}
	for _, item := range items.Items {
		handle("ADDED", item)
	}
	watch := fmt.Sprintf("%s?watch=1&resourceVersion=%s&timeoutSeconds=%d",
		path, items.Metadata.ResourceVersion, watchSeconds)
	response, err := a.send(a.watches, http.MethodGet, watch, nil)
	if err != nil {
		return err
	}
	defer response.Body.Close()
	decoder := json.NewDecoder(response.Body)
	for {
		var change event
		if err := decoder.Decode(&change); err != nil {
			return fmt.Errorf("watch ended: %v", err)
		}
		if change.Type == "ERROR" {
			return fmt.Errorf("watch error (relisting): %s", change.Object)
		}
		handle(change.Type, change.Object)
	}
}
