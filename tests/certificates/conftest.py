"""Helpers for the certificates tests: completions sent as the courses plugin sends them."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from flask import Flask
from pypdf import PdfReader, PdfWriter
from sqlalchemy import select

from certificates.documents import certificate_pdf
from certificates.models import Certificate
from lms import clock, db
from lms.accounts.models import User
from lms.signals import CompletionEvent, completion_recorded

_refs = itertools.count(1)


def event_for(user: User, **overrides: Any) -> CompletionEvent:
    values: dict[str, Any] = {
        "user_id": user.id,
        "kind": "course",
        "key": "course:accoglienza",
        "completion_ref": f"course-completion:{next(_refs)}-{user.id}",
        "title": "Accoglienza e orientamento delle donne",
        "version_label": "2026.1",
        "hours": 8,
        "completed_at": clock.now() - dt.timedelta(days=1),
        "renewal_months": 24,
        "credits": None,
    }
    values.update(overrides)
    return CompletionEvent(**values)


@pytest.fixture
def complete(app: Flask) -> Callable[..., Certificate]:
    """Record a completion through the signal, commit, return its certificate."""

    def send(user: User, **overrides: Any) -> Certificate:
        event = event_for(user, **overrides)
        completion_recorded.send(app, session=db.session, event=event)
        db.session.commit()
        cert = db.session.scalar(
            select(Certificate).where(
                Certificate.completion_ref == event.completion_ref, Certificate.reissue == 0
            )
        )
        assert cert is not None
        return cert

    return send


def pdf_bytes(app: Flask, cert: Certificate) -> bytes:
    with app.test_request_context():
        return certificate_pdf(cert)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def replace_attachments(data: bytes, payload: bytes, signature_doc: bytes) -> bytes:
    """The same page with other attachments (what a forger would produce)."""
    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    writer.add_attachment("certificate.json", payload)
    writer.add_attachment("certificate.sig", signature_doc)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


T = TypeVar("T")


def race_hosts(hosts: list[Flask], work: Callable[[Flask], T], count: int) -> list[T]:
    """``count`` threads, alternating between ``hosts`` (apps on one database), start
    ``work`` together, each in its host's request context; their results, in finishing
    order. Any error raised in a thread fails the test."""
    results: list[T] = []
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(host: Flask) -> None:
        try:
            with host.test_request_context():
                start.wait()
                results.append(work(host))
        except BaseException as error:  # noqa: BLE001 (reported by the assertion)
            errors.append(error)

    threads = [threading.Thread(target=run, args=(hosts[n % len(hosts)],)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(results) == count
    return results
