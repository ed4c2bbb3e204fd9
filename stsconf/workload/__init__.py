"""The StatefulSet under test and the operations tests compose: deploying, scaling and
replacing it, variants of its manifest, updates, readiness gates, ordinals, ownership,
identity, failed pods, node disruption and the lifecycle's steps. It may import every layer
below it: stsconf.model, stsconf.access, stsconf.observe and stsconf.checks."""
