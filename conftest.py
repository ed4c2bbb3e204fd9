"""The suite's pytest plugin lives in stsconf.plugin; this file only loads it."""

pytest_plugins = ["stsconf.plugin"]
