"""The filter kinds, one module each; every module here is imported and registers its kind.

A new kind is a new module with a :class:`~mockserver.kinds.filters.Filter` subclass: how it narrows a
list, how a contract check probes it, which values list everything or must be matched by fixtures, and
its declaration's fields. No other file names a kind.
"""
