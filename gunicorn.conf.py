"""Serving defaults, read by gunicorn from the working directory: ``make run``, the
benchmarks (bench/http.py) and the browser tests all serve the platform this way.

gthread workers: the arbiter's heartbeat runs beside the request threads, so a long
streamed download — a referent's ZIP of 5,000 certificates, about a minute — is not
killed by the worker timeout, as a sync worker's is (seen: cut at 7.5 MB after 30 s).
The timeout still catches a worker that hangs. Workers and hosts share nothing in
memory (throttling, rate limits, job state live in the database): scale out with
``LMS_WORKERS`` and more hosts.

Request threads per worker (``LMS_THREADS``): the pages are CPU-bound Python, so
threads only help where a request waits on the database server. On PostgreSQL 4
threads doubled the benchmark's quiz starts (60 -> 119 per second); on SQLite, whose
single writer makes concurrent writes queue and retry, they cut them from 145 to 66:
the default is 4 on a database server, 1 on SQLite.
"""

import os

_sqlite = os.environ.get("LMS_DATABASE_URL", "sqlite").startswith("sqlite")

workers = int(os.environ.get("LMS_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("LMS_THREADS", "1" if _sqlite else "4"))
timeout = 30
