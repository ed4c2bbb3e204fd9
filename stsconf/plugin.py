"""The suite's pytest plugin: it only wires the parts together (each a plugin of its own).

Each part is imported here first, by pytest, so that none is imported before pytest sees it.
"""

pytest_plugins = [
    "stsconf.settings",  # the options, read into Settings; the `settings` fixture
    "stsconf.run_plugin",  # the run: its workers, its one cluster, --reuse-cluster
    "stsconf.cluster_fixture",  # the cluster under test
    "stsconf.report_hooks",  # the matrix, observations and diagnostics in the report
    "stsconf.fixtures",  # namespaces, the StatefulSet under test, the probe pod
    "stsconf.registry_plugin",  # --registry-* options, password leak check
    "stsconf.lifecycle_plugin",  # --lifecycle-* options
    "stsconf.nodes_plugin",  # --nodes
]
