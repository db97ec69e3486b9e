"""The engine: routing (path and host to vendor), the endpoint pipeline, tenancy and keys, the answer
cache, the emulator and its configuration.

Layer 6: imports state and below; the ASGI app of one vendor lives here, the server around it does not.
"""
