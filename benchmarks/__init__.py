"""Benchmarks: a synthetic-data generator and runners (not part of the test suite)."""
