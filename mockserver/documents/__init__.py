"""Documents on disk: JSON files, JSON pointers, JSON Schemas and the fields they declare.

Layer 1: imports nothing of mockserver but the top-level leaves (errors, limits).
"""
