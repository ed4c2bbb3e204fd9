"""Helpers for asserting StatefulSet guarantees on a real cluster.

Layers, each folder importing only those below it (its __init__ says which; `lint-imports`
checks it, see [tool.importlinter] in pyproject.toml):

    the entry points and pytest wiring (plugin, settings, cli, selftest, soak, ...)
    workload
    observe | checks | report     (none of the three imports another)
    access
    model

checks and report work on plain data: they import stsconf.model alone.
"""
