"""Serving defaults, read by gunicorn from the working directory: ``make run``, the
benchmarks (bench/http.py) and the browser tests all serve the platform this way.

gthread workers: the arbiter's heartbeat runs beside the request threads, so a long
streamed download — a referent's ZIP of 5,000 certificates, about 40 s — is not
killed by the worker timeout, as a sync worker's is (seen: cut at 7.5 MB after
30 s). The timeout still catches a worker that hangs. Several workers on several
hosts share nothing in memory (throttling, rate limits, job state live in the
database), so scale with ``LMS_WORKERS`` and more hosts, not threads.
"""

import os

workers = int(os.environ.get("LMS_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("LMS_THREADS", "4"))
timeout = 30
