"""Open Badges 3.0 baking: the credential carried inside its badge image.

The image is the badge a wallet or a profile shows (the course's title, its version and
the Rete's name); the credential rides inside it as the Open Badges 3.0 specification
says (section "Baked Badge"):

- PNG: one uncompressed ``iTXt`` chunk with keyword ``openbadgecredential`` whose text is
  the VC-JWT (compact JWS) or the credential's JSON;
- SVG: ``xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"`` on the ``<svg>`` tag and,
  directly after it, one ``<openbadges:credential>`` element with the JWT in its
  ``verify`` attribute, or the JSON in a CDATA section.

Reading a baked image back (:func:`unbake_png`, :func:`unbake_svg`) is bounded: the size
is checked before parsing, PNG chunks are walked by their declared lengths within the
data, and an SVG with a document type declaration (where entities would be defined) is
refused before the XML parser sees it. Nothing here needs Flask or the database.
"""

from __future__ import annotations

import functools
import io
import struct
import textwrap
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont

PNG_KEYWORD = b"openbadgecredential"
SVG_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
SVG_CREDENTIAL_TAG = f"{{{SVG_NAMESPACE}}}credential"

# A baked badge is an image of a few tens of KB and a credential of a few KB: anything
# far larger is not one of ours, nor a reasonable badge from elsewhere.
MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_CREDENTIAL_BYTES = 512 * 1024
MAX_PNG_CHUNKS = 4096

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SIZE = 512
_BACKGROUND = (106, 27, 77)  # the certificate's accent (pdf.ACCENT): white on it is above 10:1
_RING = (255, 255, 255)
_TEXT = (255, 255, 255)


class BakingError(ValueError):
    """The image cannot carry the credential (not a PNG, or one already baked)."""


# --- Drawing ---------------------------------------------------------------------------


def _lines(text: str, width: int, most: int) -> list[str]:
    lines = textwrap.wrap(" ".join(text.split()), width=width) or [""]
    if len(lines) > most:
        lines = lines[:most]
        lines[-1] = lines[-1][: max(width - 1, 1)].rstrip() + "…"
    return lines


@functools.lru_cache(maxsize=8)
def _font(path: str, size: int) -> FreeTypeFont:
    from PIL import ImageFont

    return ImageFont.truetype(path, size)


@functools.lru_cache(maxsize=32)  # a few hundred KB: the same courses are downloaded often
def badge_png(title: str, version: str, issuer: str, font_path: str | Path) -> bytes:
    """The badge as a PNG (512 px square): a ring, the course and the Rete's name."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (SIZE, SIZE), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.ellipse((16, 16, SIZE - 16, SIZE - 16), outline=_RING, width=8)
    draw.ellipse((36, 36, SIZE - 36, SIZE - 36), outline=_RING, width=2)

    def centred(lines: list[str], size: int, top: int, gap: int) -> int:
        font = _font(str(font_path), size)
        for line in lines:
            draw.text((SIZE / 2, top), line, font=font, fill=_TEXT, anchor="ma")
            top += size + gap
        return top

    centred(["ATTESTATO"], 22, 92, 0)
    top = centred(_lines(title, 22, 4), 34, 150, 8)
    centred(_lines(version, 30, 1), 22, top + 10, 0)
    centred(_lines(issuer, 36, 3), 18, 372, 4)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def badge_svg(title: str, version: str, issuer: str, credential: str) -> str:
    """The badge as an SVG with the credential baked in (a JWT or the JSON)."""
    if credential.lstrip().startswith("{"):
        # CDATA cannot hold "]]>": split it across two sections (the text is the same).
        data = credential.replace("]]>", "]]]]><![CDATA[>")
        baked = f"<openbadges:credential><![CDATA[{data}]]></openbadges:credential>"
    else:
        baked = f"<openbadges:credential verify={quoteattr(credential)}></openbadges:credential>"

    def texts(lines: list[str], size: int, top: int, gap: int) -> tuple[str, int]:
        parts = []
        for line in lines:
            parts.append(
                f'<text x="{SIZE // 2}" y="{top + size}" font-size="{size}" '
                f'text-anchor="middle">{escape(line)}</text>'
            )
            top += size + gap
        return "".join(parts), top

    head, _top = texts(["ATTESTATO"], 22, 92, 0)
    body, top = texts(_lines(title, 22, 4), 34, 150, 8)
    label, _top = texts(_lines(version, 30, 1), 22, top + 10, 0)
    foot, _top = texts(_lines(issuer, 36, 3), 18, 372, 4)
    description = f"{title} ({version}) — {issuer}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" '
        f'xmlns:openbadges="{SVG_NAMESPACE}" '
        f'viewBox="0 0 {SIZE} {SIZE}" width="{SIZE}" height="{SIZE}" '
        'role="img" aria-labelledby="badge-title badge-desc">'
        f"{baked}\n"
        f'<title id="badge-title">{escape(title)}</title>'
        f'<desc id="badge-desc">{escape(description)}</desc>'
        f'<rect width="{SIZE}" height="{SIZE}" fill="rgb{_BACKGROUND}"/>'
        f'<circle cx="{SIZE // 2}" cy="{SIZE // 2}" r="{SIZE // 2 - 20}" fill="none" '
        'stroke="#fff" stroke-width="8"/>'
        f'<circle cx="{SIZE // 2}" cy="{SIZE // 2}" r="{SIZE // 2 - 36}" fill="none" '
        'stroke="#fff" stroke-width="2"/>'
        "<g fill=\"#fff\" font-family=\"'Noto Sans', 'Titillium Web', sans-serif\">"
        f"{head}{body}{label}{foot}</g>"
        "</svg>\n"
    )


# --- PNG -------------------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _chunks(data: bytes) -> list[tuple[bytes, bytes, int]]:
    """``(type, data, offset)`` of each chunk up to IEND; ValueError if malformed."""
    if len(data) > MAX_IMAGE_BYTES or not data.startswith(_PNG_SIGNATURE):
        raise ValueError("not a PNG of a badge's size")
    chunks, offset = [], len(_PNG_SIGNATURE)
    while len(chunks) < MAX_PNG_CHUNKS:
        if offset + 12 > len(data):
            raise ValueError("truncated PNG")
        (length,) = struct.unpack_from(">I", data, offset)
        kind = data[offset + 4 : offset + 8]
        end = offset + 12 + length
        if end > len(data):
            raise ValueError("a PNG chunk runs past the end")
        chunks.append((kind, data[offset + 8 : offset + 8 + length], offset))
        if kind == b"IEND":
            return chunks
        offset = end
    raise ValueError("too many PNG chunks")


def _itxt_credential(body: bytes) -> str | None:
    """The text of an ``openbadgecredential`` iTXt chunk, None for another keyword."""
    keyword, sep, rest = body.partition(b"\x00")
    if not sep or keyword != PNG_KEYWORD:
        return None
    if len(rest) < 2 or rest[0] != 0:  # compressed: the specification forbids it
        raise ValueError("compressed openbadgecredential chunk")
    _language, sep1, rest = rest[2:].partition(b"\x00")
    _translated, sep2, text = rest.partition(b"\x00")
    if not (sep1 and sep2) or len(text) > MAX_CREDENTIAL_BYTES:
        raise ValueError("malformed openbadgecredential chunk")
    return text.decode("utf-8")


def bake_png(image: bytes, credential: str) -> bytes:
    """``image`` with the credential in an uncompressed iTXt chunk before IEND."""
    try:
        chunks = _chunks(image)
    except ValueError as error:
        raise BakingError(str(error)) from error
    for kind, body, _offset in chunks:
        if kind == b"iTXt" and body.partition(b"\x00")[0] == PNG_KEYWORD:
            raise BakingError("the image already carries a credential")
    text = credential.encode("utf-8")
    if len(text) > MAX_CREDENTIAL_BYTES:
        raise BakingError("credential too large to bake")
    itxt = _chunk(b"iTXt", PNG_KEYWORD + b"\x00\x00\x00" + b"\x00" + b"\x00" + text)
    iend = chunks[-1][2]
    return image[:iend] + itxt + image[iend:]


def unbake_png(data: bytes) -> str | None:
    """The credential (JWT or JSON text) of the first ``openbadgecredential`` iTXt chunk,
    or None for anything else: not a PNG, too large, malformed, compressed, none baked."""
    try:
        for kind, body, _offset in _chunks(bytes(data)):
            if kind == b"iTXt":
                text = _itxt_credential(body)
                if text is not None:
                    return text
    except (ValueError, UnicodeDecodeError):
        return None
    return None


# --- SVG -------------------------------------------------------------------------------


def unbake_svg(data: bytes | str) -> str | None:
    """The credential of the first ``<openbadges:credential>`` element: its ``verify``
    attribute (a JWT) or its text (the JSON). None for anything else.

    No document type declaration is accepted (entities could only be declared there), so
    the parser expands nothing but XML's five predefined entities.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > MAX_IMAGE_BYTES:
        return None
    # UTF-8 only (the specification's encoding): a UTF-16 or other multi-byte document
    # could hide a declaration from the check below.
    if b"\x00" in raw:
        return None
    try:
        head = raw.decode("utf-8").upper()
    except UnicodeDecodeError:
        return None
    if "<!DOCTYPE" in head or "<!ENTITY" in head:
        return None
    try:
        root = ET.fromstring(raw)
    except ET.ParseError:
        return None
    if root.tag != "{http://www.w3.org/2000/svg}svg":
        return None
    element = next(root.iter(SVG_CREDENTIAL_TAG), None)
    if element is None:
        return None
    text = element.get("verify") or (element.text or "").strip()
    if not text or len(text.encode("utf-8")) > MAX_CREDENTIAL_BYTES:
        return None
    return text
