"""The checks: findings, schema drift, provenance, per-endpoint checks, observed assumptions,
documented behaviour, and the runner.

Layer 2 of contracts: imports targets and mockserver.
"""
