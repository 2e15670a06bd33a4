"""The two signed attachments of an untrusted PDF, read within fixed bounds.

A certificate PDF is checked by anyone, without logging in, so the file is hostile
until proven otherwise. Nothing here asks pypdf for an attachment's content (it would
unpack every copy of every name, through any filter chain, up to 75 MB a stage): pypdf
only parses the file's structure, under tighter limits than its defaults, and this
module walks the ``/EmbeddedFiles`` name tree itself, stops at the two names it needs,
and inflates their streams with a cap on the output. Anything outside the bounds is
``UnreadablePdf``: "not readable as a certificate", before any signature work.
The bounds are listed in docs/limits.md ("Certificate PDFs").

The same parse gives the visible text of the first page (``read``), compared by
``certificates.verification`` with the signed name and title: the page's content is
unpacked within pypdf's lowered limits, refused beyond ``MAX_PAGE_CONTENT_BYTES``, and
the text is cut at ``MAX_TEXT_CHARS``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import io
import re
import zlib
from collections.abc import Iterator
from typing import Any

import pypdf
from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NullObject,
    StreamObject,
)

from certificates.signing import PAYLOAD_NAME, SIGNATURE_NAME

MAX_PDF_BYTES = 2 * 1024 * 1024  # the whole file (ours are far smaller: docs/limits.md)
MAX_ATTACHMENT_BYTES = 32 * 1024  # each attachment, unpacked
MAX_TOTAL_BYTES = 40 * 1024  # both attachments together, unpacked
MAX_TREE_ENTRIES = 8  # name/file pairs seen before both names are found (ours: 2)
MAX_TREE_NODES = 16  # nodes of the name tree visited
MAX_TREE_DEPTH = 4  # levels of /Kids
MAX_STRUCTURE_STREAM_BYTES = 1024 * 1024  # what pypdf may unpack per xref/object stream
MAX_OBJECTS = 2000  # objects and cross-reference rows (ours: about 20)
MAX_XREF_SECTIONS = 64  # cross-reference sections and pointers to them (ours: 2)
MAX_OBJECT_STREAMS = 32  # compressed object streams (ours: none)
MAX_PAGE_CONTENT_BYTES = 512 * 1024  # the first page's content, unpacked (ours: ~15 KB)
MAX_TEXT_CHARS = 20_000  # of the first page's text (ours: ~1,500)

NEEDED = (PAYLOAD_NAME, SIGNATURE_NAME)
FLATE = "/FlateDecode"

# pypdf's own limits, lowered while it parses a certificate; names that the installed
# pypdf does not know are skipped (older releases have fewer of them).
PYPDF_LIMITS: dict[str, Any] = {
    "maximum_declared_stream_length": MAX_PDF_BYTES,
    "array_based_stream_maximum_output_length": MAX_STRUCTURE_STREAM_BYTES,
    "array_maximum_element_count": 4096,
    "dictionary_maximum_element_count": 1024,
    "zlib_maximum_output_length": MAX_STRUCTURE_STREAM_BYTES,
    "zlib_maximum_recovery_input_length": 0,
    "lzw_maximum_output_length": MAX_STRUCTURE_STREAM_BYTES,
    "run_length_maximum_output_length": MAX_STRUCTURE_STREAM_BYTES,
    "brotli_maximum_output_length": MAX_STRUCTURE_STREAM_BYTES,
    "jbig2_maximum_output_length": MAX_STRUCTURE_STREAM_BYTES,
    "jbig2dec_binary": None,
    "image_maximum_buffer_size": MAX_STRUCTURE_STREAM_BYTES,
    "stream_filters_maximum_length": 1,
    "stream_decoding_work_maximum_length": 4 * MAX_STRUCTURE_STREAM_BYTES,
}
READER_LIMITS: dict[str, Any] = {
    "root_object_recovery_limit": 1000,
    "xref_stream_maximum_entries": MAX_OBJECTS,
}
# Raw-byte tokens that bound what pypdf builds or unpacks: each object header (it
# scans for " obj" when a file's index is broken) and each row of a cross-reference
# table becomes an index entry; each section is read and each object stream unpacked.
TOKEN_LIMITS = (
    ("objects", (b" obj",), MAX_OBJECTS),
    ("cross-reference sections", (b"xref", b"/XRef"), MAX_XREF_SECTIONS),
    ("object streams", (b"/ObjStm",), MAX_OBJECT_STREAMS),
)
XREF_ROW = re.compile(rb"\d{10} \d{5} [nf]")


class UnreadablePdf(Exception):
    """Not readable as a certificate; the message says why (for logs and the CLI)."""


@dataclasses.dataclass(frozen=True)
class Contents:
    attachments: dict[str, bytes]
    text: str | None  # the first page's text; None when not asked or not both attachments


def read_signed_attachments(data: bytes) -> dict[str, bytes]:
    """``certificate.json`` and ``certificate.sig``, whichever of them the file holds.

    Raises ``UnreadablePdf`` for a file that is not a PDF, cannot be parsed, or goes
    beyond a bound; reads and unpacks nothing but those two attachments.
    """
    return read(data).attachments


def read(data: bytes, *, text: bool = False) -> Contents:
    """The two attachments and, with ``text`` and when both are there, the text of the
    first page (what a reader sees), within the same bounds."""
    if len(data) > MAX_PDF_BYTES:
        raise UnreadablePdf(f"file larger than {MAX_PDF_BYTES} bytes")
    if b"%PDF-" not in data[:1024]:
        raise UnreadablePdf("not a PDF (no %PDF- header)")
    _count_structure(data)
    try:
        with _pypdf_limits():
            reader = PdfReader(io.BytesIO(data), **_reader_limits())
            if reader.is_encrypted:
                raise UnreadablePdf("encrypted PDF")
            specs = _find_specs(_embedded_files(reader))
            found: dict[str, bytes] = {}
            budget = MAX_TOTAL_BYTES
            for name, spec in specs.items():
                found[name] = _content(spec, min(MAX_ATTACHMENT_BYTES, budget), name)
                budget -= len(found[name])
            page_text = _first_page_text(reader) if text and len(found) == len(NEEDED) else None
            return Contents(found, page_text)
    except UnreadablePdf:
        raise
    except Exception as error:  # noqa: BLE001 - hostile input: pypdf may raise anything
        raise UnreadablePdf(f"{type(error).__name__}: {error}"[:300]) from error


def _first_page_text(reader: PdfReader) -> str:
    """The first page's text; "" for a page that cannot be read within the bounds (its
    content damaged or too large): a page nobody can read shows no name."""
    try:
        page = reader.pages[0]
        contents = page.get_contents()
        size = len(contents.get_data()) if contents is not None else 0
        if size > MAX_PAGE_CONTENT_BYTES:
            return ""
        return str(page.extract_text())[:MAX_TEXT_CHARS]
    except Exception:  # noqa: BLE001 - hostile input: pypdf may raise anything
        return ""


def _count_structure(data: bytes) -> None:
    """Refuse a file whose index pypdf would build too big, or that would have it
    read or unpack too many sections: a count of tokens in the raw bytes, no parsing.
    """
    for what, tokens, limit in TOKEN_LIMITS:
        if sum(data.count(token) for token in tokens) > limit:
            raise UnreadablePdf(f"more than {limit} {what}")
    for seen, _row in enumerate(XREF_ROW.finditer(data), start=1):
        if seen > MAX_OBJECTS:
            raise UnreadablePdf(f"more than {MAX_OBJECTS} cross-reference rows")


@contextlib.contextmanager
def _pypdf_limits() -> Iterator[None]:
    apply = getattr(pypdf, "apply_configuration", None)
    if apply is None:  # pypdf < 6.18: its module-wide defaults apply
        yield
        return
    known = {f.name for f in dataclasses.fields(pypdf.get_configuration())}
    with apply(**{k: v for k, v in PYPDF_LIMITS.items() if k in known}):
        yield


def _reader_limits() -> dict[str, Any]:
    accepted = inspect.signature(PdfReader).parameters
    return {k: v for k, v in READER_LIMITS.items() if k in accepted}


def _resolve(value: Any) -> Any:
    return value.get_object() if isinstance(value, IndirectObject) else value


def _embedded_files(reader: PdfReader) -> DictionaryObject | IndirectObject | None:
    names = _resolve(reader.trailer.get("/Root"))
    if not isinstance(names, DictionaryObject):
        raise UnreadablePdf("no document catalog")
    names = _resolve(names.get("/Names"))
    if names is None or isinstance(names, NullObject):
        return None
    if not isinstance(names, DictionaryObject):
        raise UnreadablePdf("/Names is not a dictionary")
    return names.get("/EmbeddedFiles")


def _find_specs(tree: Any) -> dict[str, Any]:
    """Walk the name tree depth-first, in order, until both names are found.

    A node seen twice (a cycle or a shared subtree), a name given twice, or more
    nodes, levels or entries than the bounds make the file unreadable.
    """
    found: dict[str, Any] = {}
    if tree is None or isinstance(tree, NullObject):
        return found
    stack: list[tuple[Any, int]] = [(tree, 0)]
    seen: set[tuple[int, int]] = set()
    nodes = entries = 0
    while stack and len(found) < len(NEEDED):
        ref, depth = stack.pop()
        if isinstance(ref, IndirectObject):
            if (ref.idnum, ref.generation) in seen:
                raise UnreadablePdf("attachment tree visits a node twice")
            seen.add((ref.idnum, ref.generation))
        nodes += 1
        if nodes > MAX_TREE_NODES or depth > MAX_TREE_DEPTH:
            raise UnreadablePdf("attachment tree too large or too deep")
        node = _resolve(ref)
        if not isinstance(node, DictionaryObject):
            raise UnreadablePdf("attachment tree node is not a dictionary")
        pairs = _resolve(node.get("/Names"))
        if pairs is not None:
            if not isinstance(pairs, ArrayObject) or len(pairs) % 2:
                raise UnreadablePdf("attachment names are not pairs")
            entries += len(pairs) // 2
            if entries > MAX_TREE_ENTRIES:
                raise UnreadablePdf(f"more than {MAX_TREE_ENTRIES} attachments")
            for key, spec in zip(pairs[::2], pairs[1::2], strict=True):
                name = _resolve(key)
                if not isinstance(name, str) or name not in NEEDED:
                    continue
                if name in found:
                    raise UnreadablePdf(f"{name} attached more than once")
                found[name] = spec
        kids = _resolve(node.get("/Kids"))
        if kids is not None:
            if not isinstance(kids, ArrayObject) or len(kids) > MAX_TREE_NODES:
                raise UnreadablePdf("attachment tree /Kids too large")
            stack.extend((kid, depth + 1) for kid in reversed(kids))
    return found


def _content(spec_ref: Any, cap: int, name: str) -> bytes:
    """The attachment's bytes: stored as they are or deflated once, at most ``cap``."""
    spec = _resolve(spec_ref)
    files = _resolve(spec.get("/EF")) if isinstance(spec, DictionaryObject) else None
    if not isinstance(files, DictionaryObject):
        raise UnreadablePdf(f"{name}: no embedded file")
    stream = _resolve(files.get("/F", files.get("/UF")))
    if not isinstance(stream, StreamObject):
        raise UnreadablePdf(f"{name}: not a stream")
    filters = _resolve(stream.get("/Filter"))
    if isinstance(filters, ArrayObject):
        filters = [_resolve(f) for f in filters]
        if len(filters) > 1:
            raise UnreadablePdf(f"{name}: {len(filters)} filters in a chain")
        filters = filters[0] if filters else None
    if filters is not None and not isinstance(filters, NullObject) and filters != FLATE:
        raise UnreadablePdf(f"{name}: filter {filters} not accepted")
    params = _resolve(stream.get("/DecodeParms"))
    if isinstance(params, ArrayObject) and len(params) == 1:
        params = _resolve(params[0])
    if params and not isinstance(params, NullObject):  # predictors and the like
        raise UnreadablePdf(f"{name}: decode parameters not accepted")
    raw: bytes = stream._data  # the stored bytes; pypdf's get_data() would decode them
    if filters != FLATE:
        if len(raw) > cap:
            raise UnreadablePdf(f"{name}: larger than {cap} bytes")
        return bytes(raw)
    return _inflate(raw, cap, name)


def _inflate(raw: bytes, cap: int, name: str) -> bytes:
    inflater = zlib.decompressobj()
    try:
        content = inflater.decompress(raw, cap + 1)  # never more than cap + 1 bytes out
    except zlib.error as error:
        raise UnreadablePdf(f"{name}: {error}") from error
    if len(content) > cap:
        raise UnreadablePdf(f"{name}: unpacks to more than {cap} bytes")
    if not inflater.eof:
        raise UnreadablePdf(f"{name}: compressed data truncated")
    return content
