"""What a vendor declares: the typed model, loading and checking declarations, the served OpenAPI.

Layer 4: builds the model out of kinds; the only place that reads a raw ``x-emulator`` block.
"""
