"""What the emulator keeps between requests: datasets, the journal, faults, rate limits, and the
backends (memory or Redis) that share them between processes.

Layer 5: imports declarations and below; knows nothing of HTTP.
"""
