"""Baked badges (Open Badges 3.0, "Baked Badge"): the credential in a PNG iTXt chunk and
in an SVG element, read back by bounded parsers that refuse what is not a badge."""

from __future__ import annotations

import io
import struct
import xml.etree.ElementTree as ET
import zlib

import pytest
from PIL import Image

from certificates import baking
from lms import fonts

JWT = "eyJhbGciOiJFZERTQSIsImtpZCI6ImFiYyJ9.eyJ2YyI6e319.c2lnbmF0dXJl"
JSON = '{"@context": ["https://www.w3.org/ns/credentials/v2"], "name": "a ]]> b"}'
TITLE = "Accoglienza e orientamento delle donne <con> «segni» & accenti: àèìòù"
ISSUER = "Comune di Milano – Area Diritti e Inclusione, Rete antiviolenza di Milano"


@pytest.fixture(scope="module")
def png() -> bytes:
    font = fonts.source_font()
    assert font is not None
    return baking.badge_png(TITLE, "2026.1", ISSUER, font)


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    out, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        out.append((data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    return out


def _itxt(text: bytes, *, keyword: bytes = b"openbadgecredential", compressed: bool = False):
    flag = b"\x01\x00" if compressed else b"\x00\x00"
    body = keyword + b"\x00" + flag + b"\x00\x00" + (zlib.compress(text) if compressed else text)
    return (
        struct.pack(">I", len(body))
        + b"iTXt"
        + body
        + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    )


def test_png_badge_is_a_512_pixel_image(png):
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (512, 512)


@pytest.mark.parametrize("credential", [JWT, JSON])
def test_png_round_trip_in_one_uncompressed_itxt_chunk_before_iend(png, credential):
    baked = baking.bake_png(png, credential)
    assert baking.unbake_png(baked) == credential
    chunks = _chunks(baked)
    assert chunks[-1][0] == b"IEND" and chunks[-2][0] == b"iTXt"
    keyword, _sep, rest = chunks[-2][1].partition(b"\x00")
    assert keyword == b"openbadgecredential" and rest[:2] == b"\x00\x00"  # not compressed
    Image.open(io.BytesIO(baked)).verify()  # still a valid PNG (CRCs right)
    with pytest.raises(baking.BakingError):
        baking.bake_png(baked, credential)  # the keyword must not appear twice


def test_png_unbake_refuses_what_is_not_a_baked_badge(png):
    assert baking.unbake_png(png) is None  # nothing baked
    assert baking.unbake_png(b"") is None
    assert baking.unbake_png(b"GIF89a" + b"\x00" * 100) is None
    assert baking.unbake_png(png[:-20]) is None  # truncated
    iend = png.rindex(b"IEND") - 4
    # A chunk that claims more bytes than there are.
    lying = png[:iend] + struct.pack(">I", 1 << 30) + b"iTXt" + b"x" * 10
    assert baking.unbake_png(lying) is None
    compressed = png[:iend] + _itxt(JWT.encode(), compressed=True) + png[iend:]
    assert baking.unbake_png(compressed) is None  # the specification forbids compression
    other = png[:iend] + _itxt(JWT.encode(), keyword=b"openbadges") + png[iend:]
    assert baking.unbake_png(other) is None  # Open Badges 2.0's keyword is not ours
    too_big = png + b"\x00" * baking.MAX_IMAGE_BYTES
    assert baking.unbake_png(too_big) is None
    with pytest.raises(baking.BakingError):
        baking.bake_png(b"not a png", JWT)


def test_png_first_credential_chunk_wins(png):
    iend = png.rindex(b"IEND") - 4
    two = png[:iend] + _itxt(b"first") + _itxt(b"second") + png[iend:]
    assert baking.unbake_png(two) == "first"


@pytest.mark.parametrize("credential", [JWT, JSON])
def test_svg_round_trip_directly_after_the_svg_tag(credential):
    svg = baking.badge_svg(TITLE, "2026.1", ISSUER, credential)
    assert baking.unbake_svg(svg) == credential
    assert baking.unbake_svg(svg.encode()) == credential
    root = ET.fromstring(svg.encode())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert 'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"' in svg
    first = root[0]
    assert first.tag == "{https://purl.imsglobal.org/ob/v3p0}credential"
    if credential is JWT:
        assert first.get("verify") == JWT  # VC-JWT: the verify attribute
    else:
        assert first.get("verify") is None and "<![CDATA[" in svg  # JSON: CDATA
    # Accessible: a title and a description the image is labelled by.
    assert root.get("role") == "img"
    assert root.find("{http://www.w3.org/2000/svg}title").text == TITLE
    assert ISSUER in root.find("{http://www.w3.org/2000/svg}desc").text


def test_svg_unbake_refuses_entities_and_other_documents():
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">'
        "<openbadges:credential>&b;</openbadges:credential></svg>"
    )
    assert baking.unbake_svg(laughs) is None
    external = laughs.replace('<!ENTITY a "aaaaaaaaaa">', '<!ENTITY a SYSTEM "file:///etc/passwd">')
    assert baking.unbake_svg(external) is None
    utf16 = baking.badge_svg("T", "1", "R", JWT).replace('encoding="UTF-8"', 'encoding="UTF-16"')
    assert baking.unbake_svg(utf16.encode("utf-16")) is None
    assert baking.unbake_svg(utf16.encode("utf-16-le")) is None
    assert baking.unbake_svg(b"<svg") is None  # not well-formed
    assert baking.unbake_svg(b"\xff\xfe\x00") is None
    html = (
        '<html xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">'
        '<openbadges:credential verify="x"/></html>'
    )
    assert baking.unbake_svg(html) is None  # not an SVG
    plain = '<svg xmlns="http://www.w3.org/2000/svg"><title>x</title></svg>'
    assert baking.unbake_svg(plain) is None  # nothing baked
    huge = baking.badge_svg("T", "1", "R", JWT) + " " * baking.MAX_IMAGE_BYTES
    assert baking.unbake_svg(huge) is None


def test_long_titles_are_shortened_not_overflowing(png):
    svg = baking.badge_svg("parola " * 80, "v" * 100, "ente " * 60, JWT)
    root = ET.fromstring(svg.encode())
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert len(texts) <= 1 + 4 + 1 + 3 and any(t.endswith("…") for t in texts)
