"""Structured (JSON lines) logging with the request's context."""

from __future__ import annotations

import json
import logging
import sys

from flask import g, has_request_context, request


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["method"] = request.method
            entry["path"] = request.path
            user_id = getattr(g, "lms_user_id", None)
            if user_id is not None:
                entry["user_id"] = user_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(json_lines: bool) -> None:
    """Configure the ``lms`` logger tree once; host apps keep their own root logger."""
    logger = logging.getLogger("lms")
    if any(getattr(h, "_lms", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._lms = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(logging.BASIC_FORMAT))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
