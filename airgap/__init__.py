"""Air-gapped kind: builds kind, a node image and every image a cluster needs from
package registries alone (Debian packages and the Go module proxy).

`python -m airgap build` runs the steps; each module below does one of them.
"""
