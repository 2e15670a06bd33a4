"""Request-body limits per class of endpoint, in force before anything reads the body.

Flask's own ``MAX_CONTENT_LENGTH`` is one number for the whole app; the platform
needs three: ordinary forms (login, quiz answers, settings) are small, Markdown
editors are larger, and each upload accepts what its feature allows. A view
declares its class with :func:`body_limit`; everything else is a form. The hook
is installed before CSRF protection, which is the first thing to read a form, so
an oversized body is refused with 413 from its ``Content-Length`` without being
read (and a chunked body stops being read at the limit). Limits: ``docs/limits.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request

F = TypeVar("F", bound=Callable[..., Any])
LIMIT_ATTR = "lms_body_limit"
# A multipart envelope around an uploaded file: boundaries, part headers, the CSRF field.
MULTIPART_ALLOWANCE = 64 * 1024

FORM = "LMS_MAX_FORM_BYTES"
EDITOR = "LMS_MAX_EDITOR_BYTES"

Limit = int | str | Callable[[], int]


def body_limit(limit: Limit) -> Callable[[F], F]:
    """Declare what a view accepts: ``EDITOR``, a config key, a byte count, or a
    callable giving the bytes of an uploaded file (the envelope is added here)."""

    def decorator(view: F) -> F:
        setattr(view, LIMIT_ATTR, limit)
        return view

    return decorator


def resolve(limit: Limit, *, envelope: bool = True) -> int:
    """The body size in bytes that ``limit`` allows in the current app; without the
    multipart ``envelope``, the size of the file itself (what a person is told)."""
    if isinstance(limit, str):
        return int(current_app.config[limit])
    allowance = MULTIPART_ALLOWANCE if envelope else 0
    return int(limit() if callable(limit) else limit) + allowance


def current_limit() -> int | None:
    """What the current request's view accepts, as a person understands it."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None:
        return request.max_content_length
    return resolve(getattr(view, LIMIT_ATTR, FORM), envelope=False)


def install(app: Flask, blueprint_names: set[str], *, standalone: bool) -> None:
    """Apply each view's declared limit (forms by default) to the platform's requests.

    In a host application only the platform's blueprints are limited; standalone,
    the app-wide ceiling is the form limit too, so unknown URLs read nothing big.
    """
    if standalone:
        app.config["MAX_CONTENT_LENGTH"] = int(app.config[FORM])

    @app.before_request
    def _limit_body() -> None:
        if request.blueprint not in blueprint_names:
            return
        view = app.view_functions.get(request.endpoint or "")
        allowed = resolve(getattr(view, LIMIT_ATTR, FORM))
        request.max_content_length = allowed
        # Werkzeug also caps each non-file field (URL-encoded bodies included).
        request.max_form_memory_size = allowed


__all__ = ["EDITOR", "FORM", "body_limit", "current_limit", "install", "resolve"]
