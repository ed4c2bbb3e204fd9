"""The report: what each test observed (observations), the property matrix, SVG timelines, a
run's outcomes read from its JUnit file (junit), and the matrix as Markdown for a CI job
summary. It imports stsconf.model and stsconf.report's own modules."""
