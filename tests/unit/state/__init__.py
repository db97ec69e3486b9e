"""Tests of the state backends."""
