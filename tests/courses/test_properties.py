"""Property-based tests: any course folder or upload gives a course or a clear error."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from courses.format import parse_bundle
from courses.packaging import read_zip
from lms.errors import FormatError
from tests.courses.helpers import course_files

AUDIENCES = {"polizia_locale", "scuola"}
VALID = course_files()

yaml_scalars = st.one_of(
    st.text(max_size=40), st.integers(), st.floats(allow_nan=True), st.booleans(), st.none()
)
yamlish = st.recursive(
    yaml_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


@pytest.fixture(scope="module", autouse=True)
def _app_context(app):  # noqa: ANN001, ANN202
    """Parsing asks the app for its plugins' fenced blocks (one context: no requests here)."""
    with app.app_context():
        yield


def _check(files: dict[str, bytes]) -> None:
    try:
        bundle = parse_bundle(files, AUDIENCES)
    except FormatError as error:
        assert error.issues and all(str(issue) for issue in error.issues)
    else:
        assert bundle.slug and bundle.modules


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400), st.binary(max_size=400))
def test_arbitrary_bytes_as_course_and_module(course: bytes, module: bytes):
    _check({"course.md": course, "01-primo.md": module})


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=600), st.sampled_from(sorted(VALID)))
def test_arbitrary_text_in_any_file(text: str, name: str):
    _check({**VALID, name: text.encode("utf-8", "ignore")})


@settings(max_examples=150, deadline=None)
@given(yamlish, yamlish)
def test_arbitrary_front_matter_values(course_meta, module_meta):
    import yaml

    def with_front(value: object, body: str) -> bytes:
        try:
            dumped = yaml.safe_dump(value, allow_unicode=True)
        except yaml.YAMLError:
            dumped = "x: 1\n"
        return f"---\n{dumped}---\n{body}\n".encode()

    quiz = "Testo\n\n```quiz\n" + str(module_meta) + "\n```"
    _check({"course.md": with_front(course_meta, "Intro"),
            "01-primo.md": with_front(module_meta, quiz)})


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=30), st.binary(max_size=200), max_size=5))
def test_arbitrary_zip_contents(entries: dict[str, bytes]):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            try:
                archive.writestr(name, content)
            except (ValueError, UnicodeEncodeError, IndexError):  # names zipfile refuses
                continue
    try:
        files = read_zip(buffer.getvalue())
    except FormatError as error:
        assert error.issues
        return
    _check(files)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_as_zip(data: bytes):
    try:
        read_zip(data)
    except FormatError as error:
        assert error.issues
