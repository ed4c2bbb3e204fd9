"""How long a pytest run started by a unit test may print nothing before it counts as stopped
(stsconf.selftest.run_until_silent): a limit on its silence, not its length, which load on 2
cores stretches (a run that took 10 s on a quiet machine took over 120 s at load 47)."""

SILENT_FOR = 300.0
