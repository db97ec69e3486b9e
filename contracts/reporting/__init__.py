"""Reports of a run: JSON, JUnit, Markdown, HTML, the history file, the baseline of acknowledged findings.

Layer 3 of contracts: imports checks, targets and mockserver.
"""
