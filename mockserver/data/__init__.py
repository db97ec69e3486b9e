"""Data: the in-memory dataset (indexes, orderings, selections) and records drawn from recipes or seeds.

Layer 2: imports documents and the leaves; knows nothing of vendors, kinds or requests.
"""
