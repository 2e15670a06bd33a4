"""Markdown that trainers send takes time in proportion to its size (issue 16).

The finding: the link and image checks of ``courses/format.py`` took 8.5 s on 100,000 "["
on one line, 87 s on 20,000 "[x](" and 41 s on 20,000 "<a ". Python-Markdown and nh3,
which render every lesson and every preview, are quadratic (or recurse past Python's
limit) on other shapes. No test here reads a clock; each claim is checked in one of
three ways, said at each test:

* **a subprocess with a generous timeout**, for what took minutes before and takes
  milliseconds now (the reference patterns);
* **refused by a bound before anything is rendered**: ``Markdown.convert`` is made to
  fail, so a refusal that came only after rendering would fail the test;
* **work counted, not timed**, for what the bounds let through: characters that
  Python-Markdown's link scanner reads, elements the abbreviation step visits, at n and 4n.
"""

from __future__ import annotations

import glob
import io
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from flask import Flask
from markdown import Markdown, inlinepatterns
from markdown.extensions.abbr import AbbrTreeprocessor
from markupsafe import escape

from courses import authoring, format
from lms import db, markdown_limits, rendering
from lms.accounts.models import Role
from lms.errors import FormatError
from lms.rendering import _LinearAbbrTreeprocessor, render_markdown
from tests.conftest import csrf_token, login, post_form
from tests.courses.helpers import course_files

ROOT = Path(__file__).resolve().parents[2]
HEADER = "---\ntitle: Primo\nestimated_minutes: 10\n---\n"  # the body starts on line 5

BRACKETS = "parentesi '[' aperte insieme"
TARGETS = "link aperti con '](' e non chiusi"
TAGS = "tag HTML aperti con '<'"
NESTING = "troppi livelli annidati"
LONG_BLOCK = "paragrafo troppo lungo"
BLOCKS = "troppi paragrafi"
FENCES_OPEN = "aperti con ``` o ~~~ e mai chiusi"
FENCES = "troppi blocchi di codice (```"
HTML_DEPTH = "elementi HTML annidati"
LONG_TAG = "tag HTML troppo lungo"
FOOTNOTES = "troppe note"

#: name: (module body, what the refusal says, line of the body where it is said).
ATTACKS = {
    # the three inputs of the finding
    "100000-brackets": ("[" * 100_000 + "\n", BRACKETS, 1),
    "20000-link-openings": ("[x](" * 20_000 + "\n", TARGETS, 1),
    "20000-tag-openings": ("<a " * 20_000 + "\n", TAGS, 1),
    # Python-Markdown's own quadratic shapes
    "brackets-over-lines": ("Testo.\n\n" + "[\n" * 5_000, BRACKETS, 13),
    "nested-brackets": ("[" * 5_000 + "x" + "](y)" * 5_000 + "\n", BRACKETS, 1),
    "footnote-openings": ("[^" * 20_000 + "\n", BRACKETS, 1),
    "cdata-at-line-starts": ("<![CDATA[x\n" * 5_000, TAGS, 21),
    "end-tag-openings": ("</a " * 20_000 + "\n", TAGS, 1),
    "quoted-attributes": ('<a x="' * 20_000 + '"\n', TAGS, 1),
    "unclosed-fences": ("```x\n" * 5_000, FENCES_OPEN, 21),
    "fenced-blocks": ("```\nx\n```\n\n" * 600, FENCES, 2_001),
    "setext-headings": ("x\n=\n" * 5_000, LONG_BLOCK, 1),
    "long-paragraph": ("parola " * 10_000 + "\n", LONG_BLOCK, 1),
    "tiny-paragraphs": ("x\n\n" * 20_000, BLOCKS, 20_001),
    "footnote-references": ("x[^1] " * 1_001 + "\n\n[^1]: nota\n", FOOTNOTES, 1),
    # RecursionError (a 500) before
    "list-on-one-line": ("- " * 1_000 + "x\n", NESTING, 1),
    "quotes-on-one-line": ("> " * 5_000 + "x\n", NESTING, 1),
    "indented-lists": ("".join("    " * i + "- x\n" for i in range(300)), NESTING, 21),
    "definition-list": ("t\n:   d\n" * 500, LONG_BLOCK, 1),
    # nh3
    "nested-html": ("<div>" * 5_000 + "x" + "</div>" * 5_000 + "\n", HTML_DEPTH, 1),
    "long-tag": ("<span " + "a=b " * 5_000 + ">x</span>\n", LONG_TAG, 1),
}


def forbid_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refusal must come from a bound, before Python-Markdown runs."""

    def refuse(self: Markdown, source: str) -> str:
        raise AssertionError("rendered text beyond the Markdown bounds")

    monkeypatch.setattr(Markdown, "convert", refuse)


@pytest.fixture
def no_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_rendering(monkeypatch)


def module_course(body: str) -> dict[str, bytes]:
    files = course_files(modules=("primo",))
    files["01-primo.md"] = (HEADER + body).encode()
    return files


# -- the reference patterns of courses/format.py (subprocess with a timeout) ----------------

OLD_IMAGE_RE = r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)"
OLD_HTML_SRC_RE = r"""<(?:img|a)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']"""
OLD_LINK_RE = r"(?<!!)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)"


@pytest.mark.slow  # a subprocess with a timeout
def test_reference_patterns_are_linear_on_the_inputs_of_the_finding():
    """Before: 8.5 s + 87 s + 41 s. A subprocess with 20 s for all three fails on the old
    patterns and passes on the new ones in milliseconds; it is not a benchmark."""
    script = textwrap.dedent(
        """
        from courses.format import HTML_SRC_RE, IMAGE_RE, LINK_RE
        for text in ("[" * 100_000, "[x](" * 20_000, "<a " * 20_000):
            for line in text.splitlines():
                IMAGE_RE.findall(line) + HTML_SRC_RE.findall(line) + LINK_RE.findall(line)
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=20
    )
    assert result.stdout.strip() == "ok", result.stderr


LINES = [
    "![Schema della Rete](images/schema-rete.png)",
    '![Schema](<images/a b.png> "Titolo")',
    "Vedi [la scheda](allegati/scheda.pdf) e [il sito](https://example.org/x).",
    "[![logo](images/logo.png)](https://example.org) e [nota [1]](allegati/n.pdf)",
    '<img src="images/x.png" alt="x"> <a class="b" href=\'allegati/y.pdf\'>y</a>',
    '<IMG SRC="images/z.png"> e <a href="#sezione">qui</a>',
    '[testo](allegati/a.pdf "titolo") [vuoto]() ![](images/b.png)',
    "[a](b)[c](d) ![e](f)![g](h) [x] (y) [a](<b>)",
]


def test_reference_patterns_find_what_they_found_before():
    old = [re.compile(OLD_IMAGE_RE), re.compile(OLD_HTML_SRC_RE, re.I), re.compile(OLD_LINK_RE)]
    new = [format.IMAGE_RE, format.HTML_SRC_RE, format.LINK_RE]
    lessons = [Path(p).read_text() for p in sorted(glob.glob(str(ROOT / "content/*/*.md")))]
    for line in LINES + [line for text in lessons for line in text.splitlines()]:
        for before, after in zip(old, new, strict=True):
            assert after.findall(line) == before.findall(line), line


# -- refused before rendering, with file and line ------------------------------------------


@pytest.mark.parametrize("attack", ATTACKS)
@pytest.mark.usefixtures("in_app_context")
def test_service_refuses_before_rendering_with_file_and_line(attack: str, no_rendering: None):
    body, reason, line = ATTACKS[attack]
    with pytest.raises(FormatError) as caught:
        authoring.import_files(db.session, module_course(body), user=None, publish=True)
    found = [str(i) for i in caught.value.issues if reason in i.message]
    assert found and found[0].startswith(f"01-primo.md:{4 + line}: "), [
        str(i) for i in caught.value.issues
    ]


@pytest.mark.parametrize("attack", ["100000-brackets", "nested-html", "indented-lists"])
@pytest.mark.usefixtures("in_app_context")
def test_the_course_introduction_is_bounded_too(attack: str, no_rendering: None):
    body, reason, line = ATTACKS[attack]
    files = course_files()
    files["course.md"] = files["course.md"].replace(b"Introduzione del corso.\n", body.encode())
    with pytest.raises(FormatError) as caught:
        authoring.import_files(db.session, files, user=None, publish=True)
    intro_line = files["course.md"].decode().splitlines().index("---", 1) + 2
    assert any(
        i.file == "course.md" and i.line == intro_line + line - 1 and reason in i.message
        for i in caught.value.issues
    ), [str(i) for i in caught.value.issues]


def test_the_cli_says_why_and_exits_1(app: Flask, tmp_path: Path, no_rendering: None):
    from courses import packaging

    packaging.write_folder(module_course(ATTACKS["20000-link-openings"][0]), tmp_path / "c")
    result = app.test_cli_runner().invoke(args=["lms", "courses", "import", str(tmp_path / "c")])
    assert result.exit_code == 1, result.output
    assert "01-primo.md:5:" in result.output and TARGETS in result.output


@pytest.mark.usefixtures("in_app_context")
def test_a_quiz_question_is_bounded_where_it_is_written(no_rendering: None):
    body = (
        "Lezione.\n\n```quiz\nquestions:\n  - id: q1\n    type: true_false\n"
        f'    text: "{"[" * 3_000}"\n    answer: true\n```\n'
    )
    with pytest.raises(FormatError) as caught:
        authoring.import_files(db.session, module_course(body), user=None, publish=True)
    assert [(i.file, i.line) for i in caught.value.issues if BRACKETS in i.message] == [
        ("01-primo.md", 4 + 7)
    ]


def test_text_beyond_the_bounds_is_shown_escaped_not_rendered(no_rendering: None):
    """A question stored before the bounds is rendered on every attempt page: it is shown
    as written, and Python-Markdown never sees it."""
    html = render_markdown("<b>" + "[" * 3_000)
    assert html.startswith('<pre class="markdown-source">&lt;b&gt;[[[')


def test_the_quiz_block_is_left_out_as_python_markdown_leaves_it_out():
    """YAML in a closed ```quiz block is not Markdown: 600 lines with 500 "[" pass. A line
    that only looks like a fence (Python-Markdown renders what follows as text) does not."""
    questions = "".join(
        f"  - {{id: q{i}, type: true_false, text: 'Vero? [{i}', answer: true}}\n"
        for i in range(200)
    )
    quiz = "```quiz\nquestions:\n" + questions * 3 + "```\n"
    assert markdown_limits.check("Lezione.\n\n" + quiz) == []
    looks_like_one = "```x y\n" + "[\n" * 30 + "```\n"
    assert "<pre>" not in render_markdown("```x y\n[\n```\n")
    assert [e.message for e in markdown_limits.check(looks_like_one)][0].startswith("troppe")


def test_the_starter_courses_are_well_within_the_bounds():
    for path in sorted(glob.glob(str(ROOT / "content/*/*.md"))):
        assert markdown_limits.check(Path(path).read_text()) == [], path


# -- the web: 422 with the message, never a 500 --------------------------------------------


@pytest.fixture
def trainer(app: Flask, make_user, make_course):
    """A trainer signed in, with a course to edit."""
    user = make_user(roles=(Role.TRAINER,))
    make_course(user=user)
    client = app.test_client()
    login(client, user.email)
    return client


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_preview_answers_422_with_the_line(trainer, attack: str, no_rendering: None):
    client = trainer
    token = csrf_token(client, "/courses/author/corso-prova/modules/primo")
    body, reason, line = ATTACKS[attack]
    response = client.post(
        "/courses/author/preview", headers={"X-CSRFToken": token}, json={"markdown": body}
    )
    assert response.status_code == 422
    assert f"riga {line}: " in response.json["error"] and reason in response.json["error"]
    assert 'role="alert"' in response.json["html"]


def _zip(files: dict[str, bytes]) -> io.BytesIO:
    """Stored: a run of one character would trip the compression-ratio check first."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, content in files.items():
            archive.writestr(f"corso/{name}", content)
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize("attack", ["100000-brackets", "20000-link-openings", "20000-tag-openings"])
def test_upload_answers_422_with_file_and_line(trainer, attack: str, no_rendering: None):
    client = trainer
    body, reason, line = ATTACKS[attack]
    response = client.post(
        "/courses/author/upload",
        data={
            "csrf_token": csrf_token(client, "/courses/author/"),
            "archive": (_zip(module_course(body)), "corso.zip"),
            "publish": "y",
        },
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"01-primo.md:{4 + line}:" in html and str(escape(reason)) in html


def test_module_editor_refuses_with_the_message(trainer):
    """Saving renders the draft's other files, so rendering is not forbidden here."""
    client = trainer
    response = post_form(
        client,
        "/courses/author/corso-prova/modules/primo",
        {"title": "Primo", "estimated_minutes": "10", "body": ATTACKS["list-on-one-line"][0]},
    )
    assert response.status_code == 200
    assert NESTING in response.get_data(as_text=True)


# -- what the bounds let through: work counted at n and 4n ---------------------------------


def _link_scan_work(text: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """Characters Python-Markdown's link scanner reads (``getText`` and ``getLink``)."""
    read = [0]
    get_text = inlinepatterns.LinkInlineProcessor.getText
    get_link = inlinepatterns.LinkInlineProcessor.getLink

    def counted_text(self, data, index):
        result = get_text(self, data, index)
        read[0] += result[1] - index
        return result

    def counted_link(self, data, index):
        result = get_link(self, data, index)
        read[0] += result[2] - index if result[3] else len(data) - index
        return result

    with monkeypatch.context() as patch:
        patch.setattr(inlinepatterns.LinkInlineProcessor, "getText", counted_text)
        patch.setattr(inlinepatterns.LinkInlineProcessor, "getLink", counted_link)
        Markdown(extensions=rendering.EXTENSIONS).convert(text)  # no bounds: compare both
    return read[0]


def _at_the_bounds(blocks: int) -> str:
    """Blocks as bad as the bounds allow: "[" open 10 deep, 10 "](" left open, then prose."""
    block = "[" * 9 + "[x](" * 10 + " parola" * 300
    return "\n\n".join([block] * blocks)


def test_link_scanning_at_the_bounds_grows_linearly(monkeypatch: pytest.MonkeyPatch):
    assert markdown_limits.check(_at_the_bounds(40)) == []
    small = _link_scan_work(_at_the_bounds(10), monkeypatch)
    large = _link_scan_work(_at_the_bounds(40), monkeypatch)
    assert large <= 4.2 * small
    # The same blocks run into one paragraph (refused by the bounds) grow with its square.
    one = _link_scan_work(_at_the_bounds(2).replace("\n\n", " "), monkeypatch)
    four = _link_scan_work(_at_the_bounds(8).replace("\n\n", " "), monkeypatch)
    assert markdown_limits.check(_at_the_bounds(8).replace("\n\n", " ")) != []
    assert four >= 12 * one


def _abbreviation_visits(processor_class: type, paragraphs: int) -> int:
    """Child look-ups (``Element.__getitem__``) the abbreviation step makes on a tree of
    ``paragraphs`` elements side by side, each with a tail, as Python-Markdown builds it
    (ElementTree's Python elements, whose look-ups can be counted)."""
    visits = [0]

    class Counted(ElementTree._Element_Py):
        def __getitem__(self, index):
            visits[0] += 1
            return super().__getitem__(index)

    class Processor(processor_class):
        def create_element(self, title, text, tail):
            abbr = Counted("abbr", {"title": title})
            abbr.text, abbr.tail = text, tail
            return abbr

    root = Counted("div")
    for _n in range(paragraphs):
        paragraph = Counted("p")
        paragraph.text, paragraph.tail = "La rete CAV", "\n"
        root.append(paragraph)
    Processor(None, {"CAV": "Centro antiviolenza"}).run(root)
    assert len(root[0]) == 1 and root[0][0].get("title") == "Centro antiviolenza"
    return visits[0]


@pytest.mark.slow  # large inputs
def test_abbreviations_visit_each_element_a_bounded_number_of_times():
    assert _abbreviation_visits(_LinearAbbrTreeprocessor, 4_000) <= 4.2 * _abbreviation_visits(
        _LinearAbbrTreeprocessor, 1_000
    )
    # Python-Markdown's own step looks each element up among its siblings: quadratic.
    assert _abbreviation_visits(AbbrTreeprocessor, 4_000) >= 12 * _abbreviation_visits(
        AbbrTreeprocessor, 1_000
    )


def test_abbreviations_render_as_python_markdown_renders_them():
    def upstream(text: str) -> str:
        md = Markdown(
            extensions=rendering.EXTENSIONS,
            extension_configs={
                "toc": {"permalink": False, "baselevel": 2},
                "footnotes": {"BACKLINK_TEXT": "↩"},
            },
            output_format="html",
        )
        return rendering.sanitise(md.convert(text))

    sample = (
        "*[CAV]: Centro antiviolenza\n*[PS]: Pronto Soccorso\n\n"
        "Il CAV e il PS. Il *CAV*, `CAV`, [CAV](x.pdf) e **PS** CAV.\n\n"
        "- CAV uno\n- due PS CAV\n\n> CAV\n\n| CAV | PS |\n|---|---|\n| PS | CAV |\n"
    )
    lessons = [Path(p).read_text() for p in sorted(glob.glob(str(ROOT / "content/*/*.md")))]
    for text in [sample, *lessons]:
        assert render_markdown(text) == upstream(text)
