"""Unit tests, one folder per package of mockserver and contracts."""
