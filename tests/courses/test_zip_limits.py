"""Zip uploads of a course: every bound has a test (encrypted zips answered 500, issue 16).

``tests/courses/test_import.py`` covers path traversal, the declared total size, symlinks
and a file that is not a zip; these cover the rest.
"""

from __future__ import annotations

import io
import struct
import zipfile

import pytest
from flask import Flask

from courses import authoring, packaging
from courses.format import MAX_FILES
from lms import db
from lms.accounts.models import Role
from lms.errors import FormatError
from tests.conftest import csrf_token, login
from tests.courses.helpers import course_files

LOCAL = b"PK\x03\x04"
CENTRAL = b"PK\x01\x02"


def zipped(files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def patched(data: bytes, *, local_offset: int, central_offset: int, fmt: str, value: int) -> bytes:
    """Set one field in every local and central header (zipfile cannot write these)."""
    out = bytearray(data)
    for signature, offset in ((LOCAL, local_offset), (CENTRAL, central_offset)):
        start = out.find(signature)
        while start != -1:
            struct.pack_into(fmt, out, start + offset, value)
            start = out.find(signature, start + 4)
    return bytes(out)


def encrypted(data: bytes) -> bytes:
    """Bit 0 of the general purpose flags: "encrypted" (traditional PKWARE or AES)."""
    return patched(data, local_offset=6, central_offset=8, fmt="<H", value=0x1)


def test_an_encrypted_zip_is_refused_with_a_clear_message():
    data = encrypted(zipped(course_files(), zipfile.ZIP_STORED))
    assert all(info.flag_bits & 0x1 for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
    with pytest.raises(FormatError, match="protetto da password"):
        packaging.read_zip(data)


def test_an_unsupported_compression_method_is_refused():
    """99 is WinZip's AES; zipfile raises NotImplementedError when opening such an entry."""
    data = patched(
        zipped(course_files(), zipfile.ZIP_STORED),
        local_offset=8,
        central_offset=10,
        fmt="<H",
        value=99,
    )
    with pytest.raises(FormatError, match="metodo di compressione non supportato"):
        packaging.read_zip(data)


def test_a_corrupt_entry_is_refused_not_a_crash():
    data = bytearray(zipped({"course.md": b"---\nslug: x\n---\n" * 10}, zipfile.ZIP_STORED))
    data[data.find(b"slug")] ^= 0xFF  # the stored bytes no longer match their CRC-32
    with pytest.raises(FormatError, match="danneggiato"):
        packaging.read_zip(bytes(data))


def test_a_declared_size_smaller_than_the_content_is_refused():
    data = zipped({"course.md": b"x" * 1000}, zipfile.ZIP_STORED)
    lying = patched(data, local_offset=22, central_offset=24, fmt="<I", value=10)
    with pytest.raises(FormatError):
        packaging.read_zip(lying)


def test_too_many_entries_are_refused():
    files = {f"images/{n}.png": b"x" for n in range(MAX_FILES)}
    with pytest.raises(FormatError, match=f"troppi file nello zip: {MAX_FILES + 1}"):
        packaging.read_zip(zipped({"course.md": b"x", **files}))


@pytest.mark.parametrize("entries", [5000, 70_000])  # 70,000: the count is in the zip64 record
def test_the_entry_count_is_read_before_the_central_directory(monkeypatch, entries: int):
    """600,000 empty entries fit in a 50 MB upload (zipfile took 3 s and 300 MB to list
    them); their declared count stops the zip before zipfile builds an object for each."""
    data = zipped({f"{n:x}": b"" for n in range(entries)}, zipfile.ZIP_STORED)

    def not_opened(*args, **kwargs):
        raise AssertionError("the central directory was parsed")

    monkeypatch.setattr(packaging.zipfile, "ZipFile", not_opened)
    with pytest.raises(FormatError, match=f"troppi file nello zip: {entries}"):
        packaging.read_zip(data)


def test_a_suspicious_compression_ratio_is_refused():
    data = zipped({"course.md": b"x", "01-a.md": b"0" * (10 * 1024 * 1024)})
    assert len(data) < 100_000
    with pytest.raises(FormatError, match="rapporto di compressione sospetto"):
        packaging.read_zip(data)


@pytest.mark.usefixtures("in_app_context")
def test_a_zip_inside_the_zip_is_not_opened_and_is_refused():
    inner = zipped({"altro.md": b"x"})
    files = packaging.read_zip(zipped({**course_files(), "materiali/altro.zip": inner}))
    assert files["materiali/altro.zip"] == inner  # a file like any other, never extracted
    with pytest.raises(FormatError, match="tipo di file non ammesso"):
        authoring.import_files(db.session, files, user=None, publish=True)


def test_trainer_upload_of_an_encrypted_zip_answers_422(app: Flask, make_user):
    trainer = make_user(roles=(Role.TRAINER,))
    client = app.test_client()
    login(client, trainer.email)
    data = encrypted(zipped(course_files(), zipfile.ZIP_STORED))
    response = client.post(
        "/courses/author/upload",
        data={
            "csrf_token": csrf_token(client, "/courses/author/"),
            "archive": (io.BytesIO(data), "corso.zip"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "protetto da password" in response.get_data(as_text=True)
