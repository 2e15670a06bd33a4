"""Locale choice: the user's stored preference, then the session's, then Italian."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, has_app_context, has_request_context, session
from flask_babel import get_translations, lazy_gettext
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from lms.accounts.models import SUPPORTED_LOCALES

__all__ = [
    "DATE_FORMATS",
    "SUPPORTED_LOCALES",
    "current_translations",
    "file_size",
    "install_template_gettext",
    "lazy_gettext",
    "select_locale",
    "select_timezone",
]

LANGUAGE_NAMES = {"it": "Italiano", "en": "English"}

# One way to write a date in every page, whatever style a template asks for: day, month in
# words, year ("5 dicembre 2026", "5 December 2026"), times on the 24-hour clock. Babel's
# "short" and "medium" styles differ between locales (12/5/26 in English, 05/12/26 in
# Italian) and read as three styles side by side; the full style (with the weekday) stays.
_DATE = "d MMMM y"
_DATETIME = "d MMMM y, HH:mm"
DATE_FORMATS = {
    "date": _DATE,
    "date.short": _DATE,
    "date.medium": _DATE,
    "date.long": _DATE,
    "date.full": None,
    "datetime": _DATETIME,
    "datetime.short": _DATETIME,
    "datetime.medium": _DATETIME,
    "datetime.long": _DATETIME,
    "datetime.full": None,
    "time": "HH:mm",
    "time.short": "HH:mm",
    "time.medium": "HH:mm",
    "time.long": None,
    "time.full": None,
}


def select_locale() -> str:
    if not has_request_context():
        return "it"
    if current_user and current_user.is_authenticated:
        return current_user.locale
    chosen = session.get("locale")
    return chosen if chosen in SUPPORTED_LOCALES else "it"


def select_timezone() -> str:
    return "Europe/Rome"


_REMEMBERED = "_lms_translations"


def current_translations() -> Any:
    """``flask_babel.get_translations()``, remembered in ``g`` for the current locale.

    Flask-Babel looks up the application context three times per string, and a page
    translates dozens. The catalogue is remembered with the locale and domain objects
    Flask-Babel chose for this context: ``force_locale`` and ``refresh`` replace or
    drop those objects, so they fall back to Flask-Babel.
    """
    if not has_app_context():
        return get_translations()
    store = g._get_current_object()
    chosen = getattr(store, "_flask_babel", None)
    remembered = getattr(store, _REMEMBERED, None)
    if (
        chosen is not None
        and remembered is not None
        and getattr(chosen, "babel_locale", None) is remembered[0] is not None
        and getattr(chosen, "babel_domain", None) is remembered[1]
    ):
        return remembered[2]
    translations = get_translations()
    chosen = getattr(store, "_flask_babel", None)
    setattr(
        store,
        _REMEMBERED,
        (
            getattr(chosen, "babel_locale", None),
            getattr(chosen, "babel_domain", None),
            translations,
        ),
    )
    return translations


# (catalogue, string) -> the escaped result of a translation without variables. Keyed
# by the catalogue itself (kept alive: Flask-Babel keeps it anyway), bounded in case
# a template ever translates strings that are not literals.
_PLAIN: dict[tuple[Any, str], Markup] = {}
_PLAIN_MAX = 10_000


@pass_context
def _template_gettext(context: Context, string: str, /, **variables: Any) -> str:
    # Jinja's new-style gettext (jinja2.ext._make_new_gettext), without its second
    # Context.call per string: a page translates some forty, most without variables,
    # whose result only depends on the catalogue and is remembered.
    translations = current_translations()
    if not variables and context.eval_ctx.autoescape:
        key = (translations, string)
        found = _PLAIN.get(key)
        if found is None:
            found = Markup(translations.ugettext(string)) % variables
            if len(_PLAIN) < _PLAIN_MAX:
                _PLAIN[key] = found
        return found
    translated = translations.ugettext(string)
    if context.eval_ctx.autoescape:
        translated = Markup(translated)
    return translated % variables  # always a format string, as Jinja does


def install_template_gettext(app: Flask) -> None:
    """Templates' ``_``, ``gettext``, ``ngettext`` through :func:`current_translations`.

    Same behaviour as Flask-Babel's callables (new-style gettext, autoescaped);
    ``_`` is bound to ``gettext`` itself rather than resolved again on each call.
    """
    env = app.jinja_env
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: current_translations().ugettext(s),
        ngettext=lambda s, p, n: current_translations().ungettext(s, p, n),
        pgettext=lambda c, s: current_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: current_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    env.globals["gettext"] = env.globals["_"] = _template_gettext


def file_size(n: int) -> str:
    """A size as people read it, in the page's language: "2 MB", "1,5 MB", "256 KB"."""
    from flask_babel import format_decimal

    if n >= 1024 * 1024:
        return f"{format_decimal(round(n / (1024 * 1024), 1), format='#,##0.#')} MB"
    if n >= 1024:
        return f"{format_decimal(round(n / 1024), format='#,##0')} KB"
    return f"{n} byte"
