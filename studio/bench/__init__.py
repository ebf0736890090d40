"""Benchmarks: the reference loops the engine is measured against (no Qt)."""
