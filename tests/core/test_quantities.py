"""Amounts with the right plural form and number format in both languages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask_babel import force_locale

from lms.quantities import hours_text, minutes_text


@pytest.mark.parametrize(
    ("locale", "value", "expected"),
    [
        ("it", 1, "1 ora"),
        ("it", Decimal("1.0"), "1 ora"),
        ("it", Decimal("1.5"), "1,5 ore"),
        ("it", 2, "2 ore"),
        ("it", 0, "0 ore"),
        ("en", 1, "1 hour"),
        ("en", Decimal("2.50"), "2.5 hours"),
    ],
)
def test_hours(app, locale, value, expected):
    with app.test_request_context(), force_locale(locale):
        assert hours_text(value) == expected


@pytest.mark.parametrize(
    ("locale", "value", "expected"),
    [
        ("it", 1, "1 minuto"),
        ("it", 45, "45 minuti"),
        ("en", 1, "1 minute"),
        ("en", 1200, "1,200 minutes"),
    ],
)
def test_minutes(app, locale, value, expected):
    with app.test_request_context(), force_locale(locale):
        assert minutes_text(value) == expected


def test_templates_get_the_filters(app):
    with app.test_request_context(), force_locale("it"):
        rendered = app.jinja_env.from_string("{{ 1|hours_text }} · {{ 3|minutes_text }}").render()
    assert rendered == "1 ora · 3 minuti"
