"""Cluster access: the Kubernetes API client, watches and bounded waits on what they show
(watching, wait), kind clusters (their configuration, creation and set-up progress),
namespaces, the air-gapped build's files, the private registry and its pull secret, keeping
secrets out of output, and where the suite's own files are. It imports stsconf.model only."""
