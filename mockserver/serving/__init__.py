"""Serving over HTTP: the Starlette app, the guarded uvicorn server, the access log, the admin API and
the inspector.

Layer 7: imports the engine and below.
"""
