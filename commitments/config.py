"""The plugin's settings: defaults, ``LMS_COMMITMENTS_*`` environment variables, and
``create_app(config=...)`` overrides (which win, as for the core's settings)."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, current_app

DEFAULTS: dict[str, Any] = {
    "LMS_COMMITMENTS_EXPIRING_DAYS": 90,  # "expiring" this many days before validity ends
    "LMS_COMMITMENTS_IMPORT_MAX_BYTES": 2 * 1024 * 1024,  # staff file upload limit
    "LMS_COMMITMENTS_IMPORT_MAX_ROWS": 5000,  # people per staff file
    "LMS_COMMITMENTS_PAGE_SIZE": 50,  # rows of the staff matrix per page
    # Staff matrix exports of larger organisations are written by a worker (an XLSX of
    # 5,000 people takes ~3 s); smaller ones are answered at once.
    "LMS_COMMITMENTS_EXPORT_INLINE_MAX_STAFF": 1000,
}


def init_config(app: Flask) -> None:
    for key, default in DEFAULTS.items():
        if key in app.config:
            continue
        raw = os.environ.get(key)
        app.config[key] = default if raw is None else int(raw)


def setting(key: str) -> int:
    return int(current_app.config.get(f"LMS_COMMITMENTS_{key}", DEFAULTS[f"LMS_COMMITMENTS_{key}"]))
