"""Noto Sans for the platform's PDFs: prepared once per instance, parsed once per process.

The packaged variable font is instanced once into a static Regular copy in the instance
folder (published with ``os.replace``: concurrent workers never read half a file).
``PDF`` parses each font file once per process and writes the subset itself at output
(glyph id = character id, TrueType outlines only) instead of fpdf2 parsing and
subsetting it for every document. It hooks fpdf2's ``OutputProducer._add_fonts``;
``tests/certificates/test_fonts.py`` checks that against the installed fpdf2.
Figures: docs/performance.md, "Figures moved out of the code".
"""

from __future__ import annotations

import copy
import functools
import hashlib
import logging
import os
import secrets
import struct
import threading
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import fpdf
from fpdf.enums import TextEmphasis
from fpdf.fonts import SubsetMap, TTFFont
from fpdf.output import CIDSystemInfo, OutputProducer, PDFFont, PDFFontStream
from fpdf.syntax import Name, PDFArray, PDFContentStream

log = logging.getLogger(__name__)

FONT_PACKAGE = "fontpkg-noto-sans"
FONT_MODULE = "fontpkg_noto_sans"
FONT_FILE = "NotoSans[wdth,wght].ttf"
CACHE_DIR_NAME = "fonts"

# Latin (with Latin Extended Additional for Vietnamese), combining marks,
# Greek, Cyrillic, punctuation, currency, letter-like symbols and arrows.
UNICODE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0020, 0x007E),
    (0x00A0, 0x024F),
    (0x0250, 0x02FF),
    (0x0300, 0x036F),
    (0x0370, 0x03FF),
    (0x0400, 0x052F),
    (0x1E00, 0x1EFF),
    (0x2000, 0x206F),
    (0x20A0, 0x20CF),
    (0x2100, 0x214F),
    (0x2190, 0x21FF),
    (0x2C60, 0x2C7F),
    (0xA720, 0xA7FF),
)
_VARIATION_TABLES = ("fvar", "gvar", "avar", "HVAR", "MVAR", "STAT", "cvar")


# -- preparation ---------------------------------------------------------------------


def source_font() -> Path | None:
    """The packaged variable font, or None if the package is not installed."""
    try:
        path = Path(str(resources.files(FONT_MODULE) / "files" / FONT_FILE))
    except (ImportError, FileNotFoundError):
        return None
    return path if path.is_file() else None


@functools.cache
def _stamp() -> str:
    ranges = ",".join(f"{a:x}-{b:x}" for a, b in UNICODE_RANGES)
    text = f"{metadata.version(FONT_PACKAGE)}|{ranges}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _build(source: Path, target: Path) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    with TTFont(source) as font:
        for tag in _VARIATION_TABLES:
            if tag in font:
                del font[tag]
        options = subset.Options()
        options.layout_features = []
        options.drop_tables += ["GSUB", "GPOS", "GDEF"]
        options.name_IDs = ["*"]
        options.notdef_outline = True
        options.hinting = False
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=[cp for a, b in UNICODE_RANGES for cp in range(a, b + 1)])
        subsetter.subset(font)
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        font.save(str(tmp))
    os.replace(tmp, target)


def prepared_font(instance_path: str | Path) -> Path | None:
    """Static Noto Sans Regular in the instance folder (built on first use), or None."""
    source = source_font()
    if source is None:
        return None
    target = Path(instance_path) / CACHE_DIR_NAME / f"NotoSans-Regular-{_stamp()}.ttf"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        _build(source, target)
    return target


# -- the font file, read once ---------------------------------------------------------

_COMPOSITE_WORDS, _COMPOSITE_SCALE, _COMPOSITE_MORE = 0x0001, 0x0008, 0x0020
_COMPOSITE_XY_SCALE, _COMPOSITE_2X2 = 0x0040, 0x0080
_COPIED_TABLES = (b"OS/2", b"name", b"cvt ", b"fpgm", b"prep")


def _pad4(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def _checksum(data: bytes) -> int:
    padded = _pad4(data)
    return sum(struct.unpack(f">{len(padded) // 4}I", padded)) & 0xFFFFFFFF


def _components(glyph: bytes) -> list[tuple[int, int]]:
    """(offset of the glyph index, glyph id) of each component of a composite glyph."""
    if len(glyph) < 10 or struct.unpack_from(">h", glyph)[0] >= 0:
        return []
    found, pos = [], 10
    while True:
        flags, gid = struct.unpack_from(">HH", glyph, pos)
        found.append((pos + 2, gid))
        pos += 4 + (4 if flags & _COMPOSITE_WORDS else 2)
        if flags & _COMPOSITE_SCALE:
            pos += 2
        elif flags & _COMPOSITE_XY_SCALE:
            pos += 4
        elif flags & _COMPOSITE_2X2:
            pos += 8
        if not flags & _COMPOSITE_MORE:
            return found


def _cmap_table(codes: dict[int, int]) -> bytes:
    """A (3,1) format 4 cmap, one segment per character (BMP only)."""
    keys = sorted(c for c in codes if c < 0xFFFF)
    ends = [*keys, 0xFFFF]
    deltas = [(codes[c] - c) & 0xFFFF for c in keys] + [1]
    seg = len(ends)
    entry = seg.bit_length() - 1
    search = 2 << entry
    arrays = struct.pack(f">{seg}H", *ends) + b"\0\0" + struct.pack(f">{seg}H", *ends)
    arrays += struct.pack(f">{seg}H", *deltas) + b"\0\0" * seg
    head = struct.pack(">7H", 4, 14 + len(arrays), 0, 2 * seg, search, entry, 2 * seg - search)
    return struct.pack(">HHHHI", 0, 1, 3, 1, 12) + head + arrays


def _sfnt(tables: dict[bytes, bytes]) -> bytes:
    """A TrueType file from its tables, with checksums and head.checkSumAdjustment."""
    tags = sorted(tables)
    entry = len(tags).bit_length() - 1
    search = 16 << entry
    header = struct.pack(">IHHHH", 0x00010000, len(tags), search, entry, 16 * len(tags) - search)
    offset = 12 + 16 * len(tags)
    records, body = [], []
    for tag in tags:
        data = tables[tag]
        records.append(struct.pack(">4sIII", tag, _checksum(data), offset, len(data)))
        body.append(_pad4(data))
        offset += len(body[-1])
    out = bytearray(header + b"".join(records) + b"".join(body))
    head_at = 12 + 16 * len(tags) + sum(len(b) for b in body[: tags.index(b"head")])
    struct.pack_into(">I", out, head_at + 8, (0xB1B0AFBA - _checksum(bytes(out))) & 0xFFFFFFFF)
    return bytes(out)


@dataclass(frozen=True)
class _FontFile:
    tables: dict[bytes, bytes]
    offsets: tuple[int, ...]  # loca
    metrics: tuple[tuple[int, int], ...]  # hmtx: (advance, left side bearing) per glyph

    @classmethod
    def read(cls, data: bytes) -> _FontFile:
        count = struct.unpack_from(">H", data, 4)[0]
        tables = {}
        for i in range(count):
            tag, _sum, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
            tables[tag] = data[offset : offset + length]
        if b"glyf" not in tables:
            raise ValueError("only TrueType outlines (glyf) are supported")
        glyphs = struct.unpack_from(">H", tables[b"maxp"], 4)[0]
        long_loca = struct.unpack_from(">h", tables[b"head"], 50)[0] == 1
        if long_loca:
            offsets = struct.unpack(f">{glyphs + 1}I", tables[b"loca"][: 4 * (glyphs + 1)])
        else:
            short = struct.unpack(f">{glyphs + 1}H", tables[b"loca"][: 2 * (glyphs + 1)])
            offsets = tuple(2 * o for o in short)
        long_metrics = struct.unpack_from(">H", tables[b"hhea"], 34)[0]
        hmtx = tables[b"hmtx"]
        pairs = struct.unpack_from(f">{2 * long_metrics}h", hmtx)
        metrics = [(pairs[2 * i] & 0xFFFF, pairs[2 * i + 1]) for i in range(long_metrics)]
        last = metrics[-1][0]
        bearings = struct.unpack_from(f">{glyphs - long_metrics}h", hmtx, 4 * long_metrics)
        metrics += [(last, lsb) for lsb in bearings]
        return cls(tables, tuple(offsets), tuple(metrics))

    def glyph(self, gid: int) -> bytes:
        if not 0 <= gid < len(self.metrics):
            return b""
        return self.tables[b"glyf"][self.offsets[gid] : self.offsets[gid + 1]]

    def subset(self, gid_per_cid: dict[int, int], unicode_per_cid: dict[int, int]) -> bytes:
        """A font whose glyph n is the original glyph ``gid_per_cid[n]``.

        Components of composite glyphs come along, after the highest character id.
        """
        size = max(gid_per_cid, default=0) + 1
        source = [0] * size  # new glyph id -> original glyph id (0 = empty slot)
        placed: dict[int, int] = {}
        for cid, gid in gid_per_cid.items():
            source[cid] = gid
            placed.setdefault(gid, cid)
        data: list[bytes] = []
        filled = {0} | set(gid_per_cid)
        index = 0
        while index < len(source):
            gid = source[index]
            glyph = self.glyph(gid) if index in filled else b""
            parts = _components(glyph)
            if parts:
                patched = bytearray(glyph)
                for offset, component in parts:
                    if component not in placed:
                        placed[component] = len(source)
                        filled.add(len(source))
                        source.append(component)
                    struct.pack_into(">H", patched, offset, placed[component])
                glyph = bytes(patched)
            data.append(_pad4(glyph))
            index += 1
        loca, position = [], 0
        for glyph in data:
            loca.append(position)
            position += len(glyph)
        loca.append(position)
        count = len(source)
        hmtx = b"".join(
            struct.pack(">Hh", *(self.metrics[gid] if i in filled else (0, 0)))
            for i, gid in enumerate(source)
        )
        head = bytearray(self.tables[b"head"])
        struct.pack_into(">I", head, 8, 0)
        struct.pack_into(">h", head, 50, 1)
        hhea = bytearray(self.tables[b"hhea"])
        struct.pack_into(">H", hhea, 34, count)
        maxp = bytearray(self.tables[b"maxp"])
        struct.pack_into(">H", maxp, 4, count)
        post = bytearray(self.tables[b"post"][:32])
        struct.pack_into(">I", post, 0, 0x00030000)
        tables = {tag: self.tables[tag] for tag in _COPIED_TABLES if tag in self.tables}
        tables.update(
            {
                b"head": bytes(head),
                b"hhea": bytes(hhea),
                b"maxp": bytes(maxp),
                b"post": bytes(post),
                b"hmtx": hmtx,
                b"loca": struct.pack(f">{len(loca)}I", *loca),
                b"glyf": b"".join(data),
                b"cmap": _cmap_table({u: cid for cid, u in unicode_per_cid.items()}),
            }
        )
        return _sfnt(tables)


# -- fonts shared between documents ---------------------------------------------------


class _SharedFont(TTFFont):
    """fpdf2's TrueType font for one document, sharing the parsed font file.

    Per document: the subset map, missing glyphs, largest size and descriptor
    object (which the output numbers). Shared and never written: the
    fontTools object, cmap, glyph ids and widths (a lookup of an unknown
    character only adds the default width to ``cw``).
    """

    def close(self) -> None:  # the shared fontTools object stays open for the next document
        self._hbfont = None

    def for_document(self, pdf: fpdf.FPDF, fontkey: str, style: str) -> _SharedFont:
        font = copy.copy(self)
        font.i = len(pdf.fonts) + 1
        font.fontkey = fontkey
        font.emphasis = TextEmphasis.coerce(style)
        font.desc = copy.copy(self.desc)
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        font._hbfont = None
        font.subset = SubsetMap(font)
        return font

    def __deepcopy__(self, memo: dict[int, Any]) -> _SharedFont:
        # fpdf2's TTFFont.__deepcopy__ would hand back a plain TTFFont, whose
        # output subsets the shared fontTools object in place.
        clone = copy.copy(self)
        memo[id(self)] = clone
        clone.desc = copy.copy(self.desc)
        clone.missing_glyphs = list(self.missing_glyphs)
        clone.subset = copy.deepcopy(self.subset, memo)
        return clone


@dataclass(frozen=True)
class _Loaded:
    template: _SharedFont
    file: _FontFile
    gid_per_name: dict[str, int]


_loaded: dict[str, _Loaded] = {}
_loading = threading.Lock()


def _load(path: Path) -> _Loaded:
    key = str(path.resolve())
    found = _loaded.get(key)
    if found is None:
        with _loading:
            found = _loaded.get(key)
            if found is None:
                template = _SharedFont(fpdf.FPDF(), path, "template", "")
                found = _Loaded(
                    template,
                    _FontFile.read(path.read_bytes()),
                    dict(template.ttfont.getReverseGlyphMap()),
                )
                _loaded[key] = found
    return found


def _widths(width_per_cid: dict[int, int]) -> str:
    """The CIDFont /W array, one ``first [w1 w2 ...]`` run per consecutive ids."""
    runs: list[str] = []
    start, current = -2, []
    for cid in sorted(width_per_cid):
        if cid != start + len(current):
            if current:
                runs.append(f"{start} [{' '.join(current)}]")
            start, current = cid, []
        current.append(str(width_per_cid[cid]))
    if current:
        runs.append(f"{start} [{' '.join(current)}]")
    return f"[{' '.join(runs)}]"


def _to_unicode(unicode_per_cid: dict[int, tuple[int, ...]]) -> bytes:
    def utf16(codes: tuple[int, ...]) -> str:
        return "".join(chr(c) for c in codes).encode("utf-16-be").hex().upper()

    entries = [f"<{cid:04X}> <{utf16(u)}>\n" for cid, u in sorted(unicode_per_cid.items())]
    blocks = "".join(
        f"{len(chunk)} beginbfchar\n{''.join(chunk)}endbfchar\n"
        for chunk in (entries[i : i + 100] for i in range(0, len(entries), 100))
    )
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo\n<</Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"{blocks}endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
    ).encode("latin-1")


class _Producer(OutputProducer):
    """fpdf2's output, with shared fonts written by ``_FontFile.subset``."""

    def _add_fonts(self, *resources: Any) -> dict[int, Any]:
        fonts = self.fpdf.fonts
        shared = sorted(
            (f for f in fonts.values() if isinstance(f, _SharedFont)), key=lambda f: f.i
        )
        if not shared:
            return super()._add_fonts(*resources)
        everything = dict(fonts)
        for key, font in everything.items():
            if isinstance(font, _SharedFont):
                del fonts[key]
        try:
            objects = super()._add_fonts(*resources)
        finally:
            fonts.clear()
            fonts.update(everything)
        for font in shared:
            objects[font.i] = self._add_shared_font(font)
        return objects

    def _add_shared_font(self, font: _SharedFont) -> PDFFont:
        loaded = _load(Path(font.ttffile))
        glyphs = [(glyph, cid) for glyph, cid in font.subset.items() if glyph is not None]
        if font.missing_glyphs:
            missing = ", ".join(f"U+{cp:04X}" for cp in font.missing_glyphs[:10])
            log.warning("font %s has no glyph for %s", font.name, missing)
        gid_per_cid = {cid: loaded.gid_per_name.get(g.glyph_name, 0) for g, cid in glyphs}
        unicode_per_cid = {
            cid: g.unicode
            for g, cid in glyphs
            if isinstance(g.unicode, tuple) and g.unicode and g.unicode != (0,)
        }
        program = loaded.file.subset(
            gid_per_cid, {cid: u[0] for cid, u in unicode_per_cid.items() if len(u) == 1}
        )
        digest = hashlib.sha256(program).digest()
        tag = "".join(chr(ord("A") + b % 26) for b in digest[:6])
        name = f"{tag}+{font.name}"

        composite = PDFFont(subtype="Type0", base_font=name, encoding="Identity-H")
        self._add_pdf_obj(composite, "fonts")
        cid_font = PDFFont(
            subtype="CIDFontType2",
            base_font=name,
            d_w=font.desc.missing_width,
            w=_widths({cid: g.glyph_width for g, cid in glyphs}),
        )
        self._add_pdf_obj(cid_font, "fonts")
        composite.descendant_fonts = PDFArray([cid_font])
        to_unicode = PDFContentStream(_to_unicode(unicode_per_cid), compress=True)
        self._add_pdf_obj(to_unicode, "fonts")
        composite.to_unicode = to_unicode
        system_info = CIDSystemInfo()
        self._add_pdf_obj(system_info, "fonts")
        cid_font.c_i_d_system_info = system_info
        descriptor = font.desc
        descriptor.font_name = Name(name)
        self._add_pdf_obj(descriptor, "fonts")
        cid_font.font_descriptor = descriptor
        cid_font.c_i_d_to_g_i_d_map = Name("Identity")  # type: ignore[assignment]
        stream = PDFFontStream(contents=program)
        self._add_pdf_obj(stream, "fonts")
        descriptor.font_file2 = stream  # type: ignore[attr-defined]
        # fpdf2 memoizes glyph look-ups per subset map in process-wide caches
        font.subset.pick.cache_clear()
        font.subset.get_glyph.cache_clear()
        return composite


class PDF(fpdf.FPDF):
    """FPDF whose ``add_shared_font`` fonts are parsed once per process."""

    def add_shared_font(self, family: str, fname: str | Path, style: str = "") -> None:
        """Like ``add_font`` for a TrueType (glyf) font, without parsing it again.

        PDF/A documents get fpdf2's own font embedding (parsed per document), which
        writes what the standard requires; the shared path is for everything else.
        """
        if self._compliance is not None:
            self.add_font(family, style, str(fname))
            return
        style = "".join(sorted(style.upper()))
        fontkey = f"{family.lower()}{style}"
        if fontkey in self.fonts:
            return
        self.fonts[fontkey] = _load(Path(fname)).template.for_document(self, fontkey, style)

    def output(self, *args: Any, **kwargs: Any) -> Any:
        if any(isinstance(font, _SharedFont) for font in self.fonts.values()):
            kwargs.setdefault("output_producer_class", _Producer)
        return super().output(*args, **kwargs)
