"""The shared Noto Sans (``lms.fonts``): one parse per process, our own subset at output."""

from __future__ import annotations

import io
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from lms import fonts

TEXTS = [
    "Łukasz Wójcik",
    "Şükrü Öztürk",
    "Nguyễn Thị Minh",
    "Αθηνά Παπαδοπούλου",
    "Ольга Иванова",
    "Zoë D'Angelo – «attestato»",
]


@pytest.fixture(scope="module")
def font_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = fonts.prepared_font(tmp_path_factory.mktemp("instance"))
    assert path is not None
    return path


def document(font_path: Path, lines: list[str], *, rewind: bool = False) -> bytes:
    pdf = fonts.PDF()
    pdf.add_shared_font("noto", font_path)
    pdf.add_page()
    pdf.set_font("noto", size=14)
    if rewind:  # fpdf2 deep-copies the document, fonts included, and restores it
        with pdf.offset_rendering() as dry_run:
            dry_run.cell(text="Ǻ ignored")
        with pdf.unbreakable() as same:
            same.cell(text=lines[0], new_x="LMARGIN", new_y="NEXT")
        lines = lines[1:]
    for line in lines:
        pdf.cell(text=line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def text_and_program(data: bytes) -> tuple[str, TTFont]:
    page = PdfReader(io.BytesIO(data)).pages[0]
    (font,) = page["/Resources"]["/Font"].values()
    cid_font = font.get_object()["/DescendantFonts"][0].get_object()
    assert cid_font["/CIDToGIDMap"] == "/Identity"
    program = cid_font["/FontDescriptor"]["/FontFile2"].get_object().get_data()
    text = unicodedata.normalize("NFC", page.extract_text())
    return text, TTFont(io.BytesIO(program))


def test_subset_glyphs_are_the_original_outlines(font_path: Path):
    text, program = text_and_program(document(font_path, TEXTS))
    assert text.splitlines() == TEXTS
    original = TTFont(font_path)
    cmap, original_cmap = program.getBestCmap(), original.getBestCmap()
    glyf, original_glyf = program["glyf"], original["glyf"]
    for char in set("".join(TEXTS)) - {" "}:
        new, old = cmap[ord(char)], original_cmap[ord(char)]
        assert program["hmtx"][new] == original["hmtx"][old], char
        # composite glyphs (ễ, ị, ...) resolve to the same points through renumbered parts
        assert (
            glyf[new].getCoordinates(glyf)[0] == original_glyf[old].getCoordinates(original_glyf)[0]
        ), char
    assert program["maxp"].numGlyphs < 150  # a subset, not the 1,900-glyph font


def test_documents_in_threads_keep_their_own_glyphs(font_path: Path):
    def one(i: int) -> tuple[int, bytes]:
        lines = [TEXTS[i % len(TEXTS)], f"#{i}"]
        return i, document(font_path, lines, rewind=i % 3 == 0)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(one, range(24)))
    for i, data in results:
        text, program = text_and_program(data)
        assert text.splitlines() == [TEXTS[i % len(TEXTS)], f"#{i}"]
        assert ord("Ǻ") not in program.getBestCmap()  # the dry run drew nothing
    # the parsed font shared by every document was never subset in place
    shared = fonts._load(font_path).template.ttfont
    assert len(shared.getGlyphOrder()) == len(TTFont(font_path).getGlyphOrder())


def test_prepared_font_is_built_once(tmp_path: Path):
    first = fonts.prepared_font(tmp_path)
    assert first is not None and first.parent == tmp_path / fonts.CACHE_DIR_NAME
    built = first.stat().st_mtime_ns
    assert fonts.prepared_font(tmp_path) == first and first.stat().st_mtime_ns == built
    assert list(first.parent.iterdir()) == [first]  # no temporary file left behind


def test_a_pdf_a_document_embeds_the_font_through_fpdf2(font_path: Path):
    """PDF/A needs what fpdf2's own embedding writes: the shared path steps aside."""
    pdf = fonts.PDF(enforce_compliance="PDF/A-2B")
    pdf.add_shared_font("noto", font_path)
    assert not any(isinstance(f, fonts._SharedFont) for f in pdf.fonts.values())
    pdf.add_page()
    pdf.set_font("noto", size=14)
    pdf.cell(text=TEXTS[0])
    page = PdfReader(io.BytesIO(bytes(pdf.output()))).pages[0]
    (font,) = page["/Resources"]["/Font"].values()
    cid_font = font.get_object()["/DescendantFonts"][0].get_object()
    assert cid_font["/FontDescriptor"]["/FontFile2"].get_object().get_data()
    assert unicodedata.normalize("NFC", page.extract_text()) == TEXTS[0]
