"""Serving defaults, read by gunicorn from the working directory: ``make run``, the
benchmarks (bench/http.py) and the browser tests all serve the platform this way.

Requests are short: work longer than a page view (imports, archives, large exports,
e-mail) runs in the job worker (``lms worker``, lms/jobs), so a request never holds a
worker while another person waits. gthread workers keep the arbiter's heartbeat beside
the request threads; the timeout catches a worker that hangs. Workers and hosts share
nothing in memory (throttling, rate limits, jobs live in the database): scale out with
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
