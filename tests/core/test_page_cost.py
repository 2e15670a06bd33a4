"""What pages do once instead of on every request (issue 21, item 5), and that they still
write the same thing: URLs built by templates, minutes, the login form."""

from __future__ import annotations

import re

import pytest
from flask import Flask, render_template_string, url_for
from flask_babel import force_locale, format_decimal, ngettext

from lms.quantities import minutes_text
from lms.web import TemplateUrlFor
from tests.conftest import csrf_token


def _template_url_for(app: Flask) -> TemplateUrlFor:
    found = app.jinja_env.globals["url_for"]
    assert isinstance(found, TemplateUrlFor)
    return found


@pytest.mark.parametrize(
    ("endpoint", "values"),
    [
        ("lms.home", {}),
        ("lms.static", {"filename": "css/lms.css"}),
        ("courses.course", {"slug": "corso-base"}),
        ("courses.module", {"slug": "corso-base", "module_slug": "m-1"}),
        ("courses.course", {"slug": "àccènti e spazi/?"}),  # quoted as Flask quotes it
        ("quizzes.attempt", {"attempt_id": 42}),
        ("lms.home", {"next": "/a?b=c", "page": 2}),  # unknown keys: the query string
    ],
)
def test_template_urls_are_flasks(app: Flask, endpoint: str, values: dict) -> None:
    cached = _template_url_for(app)
    with app.test_request_context("/"):
        expected = url_for(endpoint, **values)
        assert cached(endpoint, **values) == expected
        assert cached(endpoint, **values) == expected  # remembered, still the same


def test_the_script_root_is_part_of_the_key(app: Flask) -> None:
    cached = _template_url_for(app)
    with app.test_request_context("/"):
        plain = cached("courses.course", slug="x")
    with app.test_request_context("/", base_url="http://localhost/formazione/"):
        mounted = cached("courses.course", slug="x")
        assert mounted == url_for("courses.course", slug="x")
    assert plain == "/courses/x/"
    assert mounted == "/formazione/courses/x/"


def test_what_is_not_remembered_goes_to_flask(app: Flask) -> None:
    cached = _template_url_for(app)
    cached.cache.clear()
    with app.test_request_context("/"):
        assert cached("lms.home", _anchor="main") == "/#main"
        assert cached("lms.home", _external=True) == "http://localhost/"
        assert cached("courses.course", slug=["a"]) == url_for("courses.course", slug=["a"])
        assert cached("lms.home", flag=True) == url_for("lms.home", flag=True)
    assert cached.cache == {}
    with app.app_context():  # no request (e-mails, CLI): Flask decides, as before
        with pytest.raises(RuntimeError):  # no SERVER_NAME in the tests' configuration
            url_for("lms.home")
        with pytest.raises(RuntimeError):
            cached("lms.home")
    assert cached.cache == {}


def test_integers_and_text_are_told_apart(app: Flask) -> None:
    cached = _template_url_for(app)
    with app.test_request_context("/"):
        assert cached("lms.home", page=1) == "/?page=1"
        assert cached("lms.home", page="1") == "/?page=1"
        assert cached("lms.home", page=True) == "/?page=True"


def test_the_cache_starts_again_when_full(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    cached = _template_url_for(app)
    monkeypatch.setattr(TemplateUrlFor, "LIMIT", 3)
    cached.cache.clear()
    with app.test_request_context("/"):
        for n in range(7):
            assert cached("quizzes.attempt", attempt_id=n) == f"/quizzes/attempts/{n}"
    assert 0 < len(cached.cache) <= 3


def test_templates_use_it(app: Flask) -> None:
    with app.test_request_context("/"):
        html = render_template_string("{{ url_for('courses.course', slug='a b') }}")
        assert html == url_for("courses.course", slug="a b")


@pytest.mark.parametrize("locale", ["it", "en"])
def test_minutes_as_babel_writes_them(app: Flask, locale: str) -> None:
    with app.test_request_context(), force_locale(locale):
        for minutes in (*range(0, 1001), 1500, 12345, -1, -5):
            expected = ngettext("%(m)s minuto", "%(m)s minuti", minutes, m=format_decimal(minutes))
            assert minutes_text(minutes) == expected, minutes


def _squeezed(html: str) -> str:
    html = re.sub(r'value="[^"]{40,}"', 'value="TOKEN"', html)  # CSRF tokens differ
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


def _form(html: str) -> str:
    return _squeezed(html[html.index('<form method="post" novalidate>') :].split("</form>")[0])


def _as_the_macro_writes_it(app: Flask, form) -> str:
    """The login form as lms/_macros.html's field() wrote it before it was written out."""
    template = """<form method="post" novalidate>
  {{ form.csrf_token }}{{ form.next }}
  {{ field(form.email, autocomplete="username") }}
  {{ field(form.password, autocomplete="current-password") }}
  {{ field(form.remember) }}
  <button type="submit" class="btn btn-primary">{{ _("Accedi") }}</button>"""
    field = app.jinja_env.get_template("lms/_macros.html").module.field
    return _squeezed(render_template_string(template, form=form, field=field))


@pytest.mark.parametrize(
    "data",
    [
        None,  # the page as first shown
        {"email": 'x"<y>@example.org', "password": "wrong", "next": "/a?b=<c>"},
        {"email": "", "password": "", "remember": "y"},  # errors on both fields
        {"email": "a" * 300 + "@example.org", "password": "p", "remember": "on"},
    ],
)
def test_the_login_form_is_the_macros(app: Flask, data: dict | None) -> None:
    from lms.accounts.forms import LoginForm

    client = app.test_client()
    if data is None:
        response = client.get("/account/login?next=/courses/x%3Cy/")
        query, body = "/account/login?next=/courses/x%3Cy/", None
    else:
        token = csrf_token(client, "/account/login")
        body = {"csrf_token": token, **data}
        response = client.post("/account/login", data=body)
        query = "/account/login"
    page = _form(response.get_data(as_text=True))
    with app.test_request_context(query, method="GET" if body is None else "POST", data=body):
        from flask import request

        form = LoginForm(next=request.args.get("next", ""))  # as the view builds it
        if body is not None:
            form.validate()
        expected = _as_the_macro_writes_it(app, form)
    assert page == expected
