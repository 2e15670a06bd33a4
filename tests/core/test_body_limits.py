"""Request bodies: each class of endpoint has a cap, refused with 413 before the body is read."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask

from lms import limits
from lms.accounts.models import Role
from tests.conftest import csrf_token, login

MB = 1024 * 1024


class CountingStream(io.RawIOBase):
    """A body of ``size`` bytes produced on demand, remembering how much was read."""

    def __init__(self, size: int, byte: bytes = b"a") -> None:
        self.size, self.byte, self.position, self.consumed = size, byte, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # the test client measures the body by seeking
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = base + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer: Any) -> int:
        n = max(0, min(len(buffer), self.size - self.position))
        buffer[:n] = self.byte * n
        self.position += n
        self.consumed += n
        return n


def post_stream(client: Any, url: str, stream: CountingStream, *, chunked: bool = False) -> Any:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    overrides: dict[str, Any] = {}
    if chunked:  # no Content-Length: the server must stop reading at the cap
        overrides.update({"wsgi.input_terminated": True, "CONTENT_LENGTH": ""})
    else:
        headers["Content-Length"] = str(stream.size)
    return client.post(
        url, input_stream=stream, headers=headers, environ_overrides=overrides
    )


def test_a_60_mb_login_body_is_refused_without_being_read(client) -> None:
    body = CountingStream(60 * MB)
    response = post_stream(client, "/account/login", body)
    assert response.status_code == 413
    assert body.consumed == 0
    page = response.get_data(as_text=True)
    assert "supera la dimensione massima consentita" in page
    assert "(256 KB)" in page  # the page says what the limit is


def test_a_body_without_length_stops_being_read_at_the_cap(client) -> None:
    body = CountingStream(60 * MB)
    response = post_stream(client, "/account/login", body, chunked=True)
    # Werkzeug stops at the cap and parses what it has (a chunked body exactly at the cap
    # cannot be told from a longer one), so the truncated form fails its CSRF check.
    assert response.status_code == 400
    assert body.consumed == 256 * 1024


def test_a_form_under_the_cap_is_read_as_usual(client, make_user) -> None:
    user = make_user()
    response = login(client, user.email)
    assert response.status_code == 302


def test_every_platform_view_has_a_cap_and_only_declared_views_exceed_the_form_cap(
    app: Flask,
) -> None:
    declared = {}
    with app.test_request_context():
        for endpoint, view in app.view_functions.items():
            declaration = getattr(view, limits.LIMIT_ATTR, limits.FORM)
            declared[endpoint] = limits.resolve(declaration)
        form_cap = app.config["LMS_MAX_FORM_BYTES"]
    larger = {endpoint for endpoint, cap in declared.items() if cap > form_cap}
    assert larger == {
        "courses.author_upload",
        "courses.author_new",
        "courses.author_meta",
        "courses.author_module",
        "courses.author_preview",
        "courses.author_source",  # the raw editor of course.md and modules
        "courses.author_question",  # a question's text and feedback, as long as a lesson's
        "certificates.verify_upload",
        "commitments.staff_import_page",
        "commitments.manage",
        "live_sessions.import_attendance",
        "admin.privacy_notice",
    }, "a new upload or editor must declare its limit with lms.limits.body_limit"
    assert app.config["MAX_CONTENT_LENGTH"] == form_cap  # standalone: the app-wide ceiling


def test_an_editor_takes_a_long_lesson_but_not_more_than_its_cap(
    app: Flask, client, make_user
) -> None:
    trainer = make_user(roles=(Role.TRAINER,))
    login(client, trainer.email)
    token = csrf_token(client, "/courses/author/")
    lesson = "Paragrafo di prova. " * 50_000  # 1 MB of Markdown: four times the form cap
    response = client.post(
        "/courses/author/preview", data={"csrf_token": token, "body": lesson}
    )
    assert response.status_code == 200
    too_long = CountingStream(app.config["LMS_MAX_EDITOR_BYTES"] + 1)
    assert post_stream(client, "/courses/author/preview", too_long).status_code == 413
    assert too_long.consumed == 0


@pytest.mark.parametrize(
    ("url", "cap"),
    [
        ("/certificates/verify/upload", 2 * MB),
        ("/courses/author/upload", 50 * MB),
    ],
)
def test_uploads_are_capped_at_what_their_feature_accepts(client, make_user, url, cap) -> None:
    login(client, make_user(roles=(Role.TRAINER,)).email)
    body = CountingStream(cap + limits.MULTIPART_ALLOWANCE + 1)
    response = post_stream(client, url, body)
    assert response.status_code == 413
    assert body.consumed == 0


def test_a_host_application_keeps_its_own_limits_on_its_own_routes(tmp_path) -> None:
    from lms import LMS

    host = Flask("host", instance_path=str(tmp_path / "instance"))

    @host.post("/host-upload")
    def host_upload() -> str:
        from flask import request

        return str(len(request.get_data()))

    LMS().init_app(
        host,
        url_prefix="/formazione",
        config={
            "LMS_DATABASE_URL": f"sqlite:///{tmp_path / 'host.sqlite3'}",
            "LMS_SECRET_KEY": "host-test-secret",
            "LMS_LOG_JSON": False,
            "LMS_BASE_URL": "http://host.test/formazione",
        },
    )
    assert host.config["MAX_CONTENT_LENGTH"] is None  # the host's setting, untouched
    client = host.test_client()
    response = client.post("/host-upload", data=b"x" * (2 * MB))
    assert response.get_data(as_text=True) == str(2 * MB)
    body = CountingStream(60 * MB)
    assert post_stream(client, "/formazione/account/login", body).status_code == 413
    assert body.consumed == 0


def test_the_page_states_the_file_limit_in_the_readers_language(client, make_user) -> None:
    body = CountingStream(3 * MB)
    response = post_stream(client, "/certificates/verify/upload", body)
    assert response.status_code == 413
    assert "(2 MB)" in response.get_data(as_text=True)  # the file's limit, not the envelope's
    token = csrf_token(client, "/account/login")
    client.post("/language", data={"csrf_token": token, "locale": "en", "next": "/"})
    response = post_stream(client, "/account/login", CountingStream(300 * 1024))
    assert "(256 KB)" in response.get_data(as_text=True)
    big = post_stream(client, "/courses/author/preview", CountingStream(9 * MB))
    assert "(8 MB)" in big.get_data(as_text=True)


def test_sizes_read_as_people_write_them(app) -> None:
    from lms.i18n import file_size

    with app.test_request_context():
        assert [file_size(n) for n in (900, 256 * 1024, 2 * MB, 1536 * 1024)] == [
            "900 byte",
            "256 KB",
            "2 MB",
            "1,5 MB",
        ]
