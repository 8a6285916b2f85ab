"""Benchmarks: the real engine against the project's simulators over loopback.

Run ``.venv/bin/python -m benchmarks [--quick] [--only NAME]``; see ``benchmarks/RESULTS.md``.
"""
