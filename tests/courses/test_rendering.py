"""Rendering is sanitised on every path: an XSS corpus against the Markdown pipeline."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from courses.rendering import render_inline, render_lesson, render_markdown

# A lesson leaves out the fenced blocks of the app's plugins: rendering asks the app.
pytestmark = pytest.mark.usefixtures("in_app_context")

XSS_CORPUS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="javascript:alert(1)">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="https://evil.example"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="evil.swf"></object>',
    '<embed src="evil.swf">',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<a href="javascript:alert(1)">clic</a>',
    '<a href="JaVaScRiPt:alert(1)">clic</a>',
    '<a href="&#106;avascript:alert(1)">clic</a>',
    '<a href="vbscript:msgbox(1)">clic</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">clic</a>',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<img src="https://tracker.example/pixel.gif">',
    '<img src="//tracker.example/pixel.gif">',
    "<body onload=alert(1)>",
    '<div onmouseover="alert(1)">passa qui</div>',
    '<form action="https://evil.example"><input name=p></form>',
    '<button formaction="javascript:alert(1)">x</button>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    '<link rel=stylesheet href="https://evil.example/x.css">',
    "[clic](javascript:alert(1))",
    "[clic](JAVASCRIPT:alert(1))",
    "[clic](javascript&#58;alert(1))",
    "[clic](data:text/html,<script>alert(1)</script>)",
    "![img](javascript:alert(1))",
    "![img](https://tracker.example/x.png)",
    "[clic](<javascript:alert(1)>)",
    "<details open ontoggle=alert(1)>",
    '<video><source onerror="alert(1)"></video>',
    '<a href="https://ok.example" target="_blank" onclick="alert(1)">ok</a>',
    "</div></article><script>alert(1)</script>",
    '<p class="x" id="a" data-x="y" style="position:fixed;top:0">overlay</p>',
    "<<script>script>alert(1)<</script>/script>",
    "<img src=x:alert(1) onerror=eval(src)>",
    "```html\n<script>alert(1)</script>\n```",
]

FORBIDDEN_TAGS = {
    "script",
    "iframe",
    "object",
    "embed",
    "style",
    "svg",
    "math",
    "form",
    "input",
    "button",
    "meta",
    "base",
    "link",
    "video",
    "source",
    "body",
    "html",
}
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:")


class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"tag {tag}")
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on") or name in {"style", "srcdoc", "formaction", "target"}:
                self.problems.append(f"attribute {name}")
            if name in {"href", "src", "xlink:href"} and value.startswith(DANGEROUS_SCHEMES):
                self.problems.append(f"{name}={value}")
            if tag == "img" and name == "src" and ("//" in value or ":" in value):
                self.problems.append(f"remote image {value}")


def audit(html: str) -> list[str]:
    parser = _Audit()
    parser.feed(html)
    parser.close()
    return parser.problems


@pytest.mark.parametrize("payload", XSS_CORPUS)
@pytest.mark.parametrize("renderer", [render_markdown, render_lesson, render_inline])
def test_payload_is_neutralised(payload: str, renderer):
    html = renderer(f"Testo prima.\n\n{payload}\n\nTesto dopo.")
    assert audit(html) == [], html
    assert "Testo dopo" in html  # content after the payload survives


def test_corpus_size():
    assert len(XSS_CORPUS) >= 30


def test_wanted_markdown_survives():
    html = render_markdown(
        '# Titolo\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n!!! note "Nota"\n    testo\n\n'
        "Nota[^1].\n\n[^1]: Piede.\n\n[Sito](https://www.comune.milano.it) e ![Schema](img/s.png)",
        "assets/7/",
    )
    assert '<h2 id="titolo">Titolo</h2>' in html  # lesson headings start at h2
    assert "<table>" in html and "admonition note" in html and "footnote" in html
    assert 'href="https://www.comune.milano.it" rel="noopener noreferrer"' in html
    assert 'src="assets/7/img/s.png"' in html


def test_quiz_block_is_not_in_the_lesson():
    html = render_lesson("Lezione.\n\n```quiz\nquestions:\n  - id: segreta\n```\n")
    assert "segreta" not in html and "Lezione." in html
