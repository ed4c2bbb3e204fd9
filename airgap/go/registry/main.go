// Command registry is distribution's registry with only what the suite's private registry
// configures (stsconf/access/registry.py): filesystem storage and htpasswd authentication.
// The cloud storage drivers, the pull-through proxy and token authentication of its own
// cmd/registry took most of its cold build.
package main

import (
	"os"

	"github.com/distribution/distribution/v3/registry"
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
)

func main() {
	if err := registry.RootCmd.Execute(); err != nil {
		os.Exit(1)
	}
}
