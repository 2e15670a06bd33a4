"""Benchmark harness (issue 7): ``python -m bench`` seeds, measures and writes the table.

Modules: ``seed`` (synthetic data, deterministic by seed), ``http`` (gunicorn + wrk against
a hello-world ceiling), ``inprocess`` (CPU and SQL statements per request), ``exports``,
``certificates``, ``imports``, ``report``. See docs/performance.md.
"""
