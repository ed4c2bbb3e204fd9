"""The report: what each test observed (observations), the property matrix, SVG timelines, and
the matrix as Markdown for a CI job summary (from a run's JUnit file, read as the self-tests
read it, with stsconf.selftest). It imports stsconf.model and stsconf.report's own modules."""
