"""Cluster access: the Kubernetes API client, kind clusters (their configuration, creation and
set-up progress), namespaces, the air-gapped build's files, the private registry and its pull
secret, keeping secrets out of output, and where the suite's own files are. It imports
stsconf.model, and stsconf.observe's bounded waits (wait, watching) for the namespaces and the
registry it sets up."""
