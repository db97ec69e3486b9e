"""Tests of intercept."""
