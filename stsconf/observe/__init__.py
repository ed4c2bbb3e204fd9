"""Observation: DNS answers, the probe pod, the data probe, diagnostics of a namespace, where
pods and volumes are placed, image pulls and the cluster's environment. It imports
stsconf.model and stsconf.access."""
