"""The paging styles, one module each; every module here is imported and registers its style.

A new style is a new module with a :class:`~mockserver.kinds.paging.Pager` subclass: how it serves a
page, how a client walks it, what its signals promise, its declaration's JSON Schema and its envelope
variables. No other file names a style.
"""
