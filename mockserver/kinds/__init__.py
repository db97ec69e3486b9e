"""The kinds a declaration names: auth schemes, parameters, filters, orderings, paging styles, cursors,
templates, messages.

Layer 3: each kind is one class that carries all its knowledge (serve, probe, walk, draw). Kinds know
nothing of vendors: they import data, documents and the leaves only.
"""
