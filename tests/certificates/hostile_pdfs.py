"""Hostile certificate PDFs, built with pypdf as an attacker would: bombs, odd filters,
nested and cyclic attachment trees. Each returns the bytes of a whole file.
"""

from __future__ import annotations

import io
import zlib

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    TextStringObject,
)

BOMB_COPIES = 24
BOMB_UNPACKED = 48 * 1024 * 1024  # per copy


def doubly_compressed(size: int) -> bytes:
    """``size`` zero bytes, deflated twice: a few hundred bytes on disk."""
    return zlib.compress(zlib.compress(bytes(size), 9), 9)


def _stream(writer: PdfWriter, raw: bytes, filters: list[str] | None) -> IndirectObject:
    stream = DecodedStreamObject()
    stream._data = raw  # written as given: the filters below describe these bytes
    stream[NameObject("/Type")] = NameObject("/EmbeddedFile")
    if filters:
        stream[NameObject("/Filter")] = ArrayObject(NameObject(f) for f in filters)
    return writer._add_object(stream)


def _filespec(writer: PdfWriter, name: str, stream: IndirectObject) -> IndirectObject:
    spec = DictionaryObject()
    spec[NameObject("/Type")] = NameObject("/Filespec")
    spec[NameObject("/F")] = TextStringObject(name)
    spec[NameObject("/UF")] = TextStringObject(name)
    ef = DictionaryObject()
    ef[NameObject("/F")] = stream
    spec[NameObject("/EF")] = ef
    return writer._add_object(spec)


def _with_tree(tree: PdfObject, writer: PdfWriter | None = None) -> bytes:
    writer = writer or _blank()
    names = DictionaryObject()
    names[NameObject("/EmbeddedFiles")] = tree
    writer._root_object[NameObject("/Names")] = names
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _blank() -> PdfWriter:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    return writer


def _leaf(writer: PdfWriter, entries: list[tuple[str, IndirectObject]]) -> DictionaryObject:
    leaf = DictionaryObject()
    pairs = ArrayObject()
    for name, spec in entries:
        pairs += [TextStringObject(name), spec]
    leaf[NameObject("/Names")] = pairs
    return leaf


def attachments_pdf(
    entries: list[tuple[str, bytes, list[str] | None]], writer: PdfWriter | None = None
) -> bytes:
    """One leaf holding ``(name, raw stream bytes, filters)`` entries, in that order."""
    writer = writer or _blank()
    specs = [(name, _filespec(writer, name, _stream(writer, raw, f))) for name, raw, f in entries]
    return _with_tree(_leaf(writer, specs), writer)


def bomb(copies: int = BOMB_COPIES, unpacked: int = BOMB_UNPACKED) -> bytes:
    """The finding: many copies of a small, doubly deflated ``certificate.json``."""
    raw = doubly_compressed(unpacked)
    entries = [("certificate.json", raw, ["/FlateDecode", "/FlateDecode"])] * copies
    return attachments_pdf([*entries, ("certificate.sig", b"{}", None)])


def single_flate_bomb(unpacked: int = 64 * 1024 * 1024) -> bytes:
    """One ``certificate.json``, deflated once (a filter chain we accept), unpacking big."""
    raw = zlib.compress(bytes(unpacked), 9)
    return attachments_pdf(
        [("certificate.json", raw, ["/FlateDecode"]), ("certificate.sig", b"{}", None)]
    )


def with_filter(filter_name: str) -> bytes:
    """``certificate.json`` behind a filter we do not decode (JBIG2, DCT, LZW, ...)."""
    return attachments_pdf(
        [
            ("certificate.json", b"\x97JB2\r\n\x1a\n" + bytes(64), [filter_name]),
            ("certificate.sig", b"{}", None),
        ]
    )


def nested(payload: bytes, signature_doc: bytes, depth: int) -> bytes:
    """The two attachments in leaves ``depth`` levels of /Kids below the root."""
    writer = _blank()
    leaves = [
        _leaf(writer, [(name, _filespec(writer, name, _stream(writer, data, None)))])
        for name, data in (("certificate.json", payload), ("certificate.sig", signature_doc))
    ]
    nodes: list[PdfObject] = [writer._add_object(leaf) for leaf in leaves]
    for _level in range(depth - 1):
        node = DictionaryObject()
        node[NameObject("/Kids")] = ArrayObject(nodes)
        nodes = [writer._add_object(node)]
    root = DictionaryObject()
    root[NameObject("/Kids")] = ArrayObject(nodes)
    return _with_tree(writer._add_object(root), writer)


def cyclic() -> bytes:
    """A /Kids array that points back at its own node."""
    writer = _blank()
    node = DictionaryObject()
    ref = writer._add_object(node)
    node[NameObject("/Kids")] = ArrayObject([ref, ref])
    return _with_tree(ref, writer)


def wide(count: int) -> bytes:
    """``count`` small attachments with other names before ours."""
    entries: list[tuple[str, bytes, list[str] | None]] = [
        (f"note-{i:05d}.txt", b"x", None) for i in range(count)
    ]
    return attachments_pdf([*entries, ("certificate.json", b"{}", None)])


def many_kids(count: int) -> bytes:
    """A root whose /Kids lists ``count`` empty leaves."""
    writer = _blank()
    kids = ArrayObject(writer._add_object(_leaf(writer, [])) for _i in range(count))
    root = DictionaryObject()
    root[NameObject("/Kids")] = kids
    return _with_tree(root, writer)


def long_xref(genuine: bytes, rows: int) -> bytes:
    """``genuine`` with an update whose cross-reference table has ``rows`` rows."""
    previous = int(genuine[genuine.rindex(b"startxref") + 9 :].split()[0])
    table = b"xref\n0 %d\n" % rows + b"0000000009 00000 n\r\n" * rows
    trailer = b"trailer\n<< /Size %d /Root 2 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        rows,
        previous,
        len(genuine),
    )
    return genuine + table + trailer


def object_headers(count: int) -> bytes:
    """No index, only object headers: pypdf rebuilds the index by scanning for them."""
    return b"%PDF-1.7\n" + b"1 0 obj\n" * count + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"


def encrypted(genuine: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(genuine)))
    writer.encrypt("", "owner-password", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def not_a_stream() -> bytes:
    """The /EF entry names a number, not a stream."""
    writer = _blank()
    spec = DictionaryObject()
    ef = DictionaryObject()
    ef[NameObject("/F")] = NumberObject(7)
    spec[NameObject("/EF")] = ef
    return _with_tree(_leaf(writer, [("certificate.json", writer._add_object(spec))]), writer)
